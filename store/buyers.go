package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu/kefu"
)

type buyerRow struct {
	ID               int64 `gorm:"primaryKey"`
	ShopID           int64
	VisitorID        string
	ExternalID       string
	Name             string
	DedicatedAgentID int64
	VIP              bool `gorm:"column:vip"`
	CreatedAt        time.Time
}

func (buyerRow) TableName() string { return "buyers" }

func (r buyerRow) buyer() kefu.Buyer {
	return kefu.Buyer{ID: r.ID, ShopID: r.ShopID, VisitorID: r.VisitorID, ExternalID: r.ExternalID, Name: r.Name,
		DedicatedAgentID: r.DedicatedAgentID, VIP: r.VIP, CreatedAt: r.CreatedAt}
}

// VisitorBuyer returns the anonymous buyer with this visitor id, creating it
// (named name) on first sight.
func (s *Store) VisitorBuyer(ctx context.Context, shopID int64, visitorID, name string) (kefu.Buyer, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return s.upsertBuyer(ctx, buyerRow{ShopID: shopID, VisitorID: visitorID, Name: name},
		"shop_id = ? AND visitor_id = ? AND external_id = ''", shopID, visitorID)
}

// IdentifiedBuyer returns the buyer the shop knows as externalID, creating it
// on first sight (named kefu.IdentifiedBuyerName if name is empty); a
// non-empty name replaces the stored one.
func (s *Store) IdentifiedBuyer(ctx context.Context, shopID int64, externalID, visitorID, name string) (kefu.Buyer, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	createName := name
	if createName == "" {
		createName = kefu.IdentifiedBuyerName(externalID)
	}
	b, err := s.upsertBuyer(ctx, buyerRow{ShopID: shopID, ExternalID: externalID, VisitorID: visitorID, Name: createName},
		"shop_id = ? AND external_id = ?", shopID, externalID)
	if err != nil || name == "" || b.Name == name {
		return b, err
	}
	if err := s.db.WithContext(ctx).Exec(`UPDATE buyers SET name = ? WHERE shop_id = ? AND id = ?`, name, shopID, b.ID).Error; err != nil {
		return kefu.Buyer{}, fmt.Errorf("store: rename buyer %d: %w", b.ID, err)
	}
	b.Name = name
	return b, nil
}

func (s *Store) upsertBuyer(ctx context.Context, row buyerRow, where string, args ...any) (kefu.Buyer, error) {
	db := s.db.WithContext(ctx)
	var found buyerRow
	for attempt := 0; attempt < 2; attempt++ {
		err := s.rdb.WithContext(ctx).Where(where, args...).Limit(1).Find(&found).Error
		if err != nil {
			return kefu.Buyer{}, fmt.Errorf("store: load buyer: %w", err)
		}
		if found.ID != 0 {
			return found.buyer(), nil
		}
		row.CreatedAt = s.now().UTC()
		err = db.Create(&row).Error
		if err == nil {
			return row.buyer(), nil
		}
		if !isDuplicate(err) {
			return kefu.Buyer{}, fmt.Errorf("store: create buyer: %w", err)
		}
		// Another request created it first; read theirs.
		row.ID = 0
	}
	return kefu.Buyer{}, fmt.Errorf("store: create buyer: %w", kefu.ErrConflict)
}

// Buyer loads a buyer of the shop.
func (s *Store) Buyer(ctx context.Context, shopID, id int64) (kefu.Buyer, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row buyerRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND id = ?", shopID, id).Take(&row).Error; err != nil {
		return kefu.Buyer{}, notFound(err, "load buyer", id)
	}
	return row.buyer(), nil
}

// SetBuyerRouting sets a buyer's dedicated agent (0: none) and VIP mark. A
// dedicated agent who is not an agent of the shop is kefu.ErrNotFound.
func (s *Store) SetBuyerRouting(ctx context.Context, shopID, buyerID, dedicatedAgentID int64, vip bool) (kefu.Buyer, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Exec(`UPDATE buyers SET dedicated_agent_id = ?, vip = ? WHERE shop_id = ? AND id = ?
		AND (? = 0 OR EXISTS (SELECT 1 FROM agents WHERE agents.shop_id = ? AND agents.id = ?))`,
		dedicatedAgentID, vip, shopID, buyerID, dedicatedAgentID, shopID, dedicatedAgentID)
	if res.Error != nil {
		return kefu.Buyer{}, fmt.Errorf("store: set routing of buyer %d: %w", buyerID, res.Error)
	}
	if res.RowsAffected == 0 {
		return kefu.Buyer{}, fmt.Errorf("store: set routing of buyer %d (agent %d): %w", buyerID, dedicatedAgentID, kefu.ErrNotFound)
	}
	return s.Buyer(ctx, shopID, buyerID)
}
