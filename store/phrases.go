package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

type phraseRow struct {
	ID        int64 `gorm:"primaryKey"`
	ShopID    int64
	AgentID   int64
	Category  string
	Shortcut  string
	Text      string
	Uses      int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (phraseRow) TableName() string { return "quick_phrases" }

func (r phraseRow) phrase() kefu.Phrase {
	return kefu.Phrase{ID: r.ID, ShopID: r.ShopID, AgentID: r.AgentID, Category: r.Category, Shortcut: r.Shortcut,
		Text: r.Text, Uses: r.Uses, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// Phrases lists the shop's quick phrases and agentID's own (0: the shop's
// alone), most used first, then by category and shortcut.
func (s *Store) Phrases(ctx context.Context, shopID, agentID int64) ([]kefu.Phrase, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []phraseRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND agent_id IN ?", shopID, []int64{0, agentID}).
		Order("uses DESC, category, shortcut, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: quick phrases of shop %d: %w", shopID, err)
	}
	out := make([]kefu.Phrase, len(rows))
	for i, r := range rows {
		out[i] = r.phrase()
	}
	return out, nil
}

// Phrase reads one quick phrase of the shop; one not of the shop is
// kefu.ErrNotFound.
func (s *Store) Phrase(ctx context.Context, shopID, id int64) (kefu.Phrase, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var r phraseRow
	err := s.rdb.WithContext(ctx).Where("shop_id = ? AND id = ?", shopID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return kefu.Phrase{}, fmt.Errorf("store: quick phrase %d: %w", id, kefu.ErrNotFound)
	}
	if err != nil {
		return kefu.Phrase{}, fmt.Errorf("store: quick phrase %d: %w", id, err)
	}
	return r.phrase(), nil
}

// SavePhrases stores new quick phrases (ID 0) and changes existing ones of
// the same owner, all in one transaction: a shortcut its owner already uses
// is kefu.ErrConflict (the index of the first in ps is in the error), more
// than the owner may keep kefu.ErrTooMany; either way nothing is stored.
// Changing keeps a phrase's uses. It returns the phrases as stored.
func (s *Store) SavePhrases(ctx context.Context, shopID, agentID int64, ps []kefu.Phrase) ([]kefu.Phrase, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	out := make([]kefu.Phrase, len(ps))
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The count below is right only if no other write of the shop's
		// phrases runs beside this one.
		if err := s.lockShopGorm(tx, phraseLockSpace, shopID); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(microsecond)
		for i, p := range ps {
			row := phraseRow{ID: p.ID, ShopID: shopID, AgentID: agentID, Category: p.Category, Shortcut: p.Shortcut, Text: p.Text,
				CreatedAt: now, UpdatedAt: now}
			var err error
			if p.ID == 0 {
				err = tx.Create(&row).Error
			} else {
				res := tx.Model(&phraseRow{}).Where("shop_id = ? AND agent_id = ? AND id = ?", shopID, agentID, p.ID).
					Updates(map[string]any{"category": p.Category, "shortcut": p.Shortcut, "text": p.Text, "updated_at": now})
				if err = res.Error; err == nil && res.RowsAffected == 0 {
					return fmt.Errorf("quick phrase %d: %w", p.ID, kefu.ErrNotFound)
				}
				if err == nil {
					err = tx.Where("id = ?", p.ID).Take(&row).Error
				}
			}
			if isDuplicate(err) {
				return &kefu.ItemError{Index: i, Err: fmt.Errorf("shortcut %q: %w", p.Shortcut, kefu.ErrConflict)}
			}
			if err != nil {
				return err
			}
			out[i] = row.phrase()
		}
		limit := kefu.MaxPhrasesPerShop
		if agentID != 0 {
			limit = kefu.MaxPhrasesPerAgent
		}
		var n int64
		if err := tx.Model(&phraseRow{}).Where("shop_id = ? AND agent_id = ?", shopID, agentID).Count(&n).Error; err != nil {
			return err
		}
		if n > int64(limit) {
			return fmt.Errorf("%d quick phrases, at most %d: %w", n, limit, kefu.ErrTooMany)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: save quick phrases of shop %d: %w", shopID, err)
	}
	return out, nil
}

// DeletePhrase removes a quick phrase of the owner agentID (0: the shop's).
func (s *Store) DeletePhrase(ctx context.Context, shopID, agentID, id int64) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Where("shop_id = ? AND agent_id = ? AND id = ?", shopID, agentID, id).Delete(&phraseRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete quick phrase %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete quick phrase %d: %w", id, kefu.ErrNotFound)
	}
	return nil
}

// UsePhrase counts one use of a phrase agentID may use: the shop's or their own.
func (s *Store) UsePhrase(ctx context.Context, shopID, agentID, id int64) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Model(&phraseRow{}).Where("shop_id = ? AND agent_id IN ? AND id = ?", shopID, []int64{0, agentID}, id).
		Update("uses", gorm.Expr("uses + 1"))
	if res.Error != nil {
		return fmt.Errorf("store: use quick phrase %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: use quick phrase %d: %w", id, kefu.ErrNotFound)
	}
	return nil
}
