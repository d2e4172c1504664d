package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

type overflowRow struct {
	ShopID    int64 `gorm:"primaryKey"`
	Settings  string
	UpdatedAt time.Time
}

func (overflowRow) TableName() string { return "overflow_settings" }

// decodeOverflow reads a stored document over the defaults, so a setting
// added later needs no migration.
func decodeOverflow(shopID int64, doc string) (kefu.OverflowSettings, error) {
	o := kefu.DefaultOverflowSettings()
	if err := json.Unmarshal([]byte(doc), &o); err != nil {
		return kefu.OverflowSettings{}, fmt.Errorf("store: overflow settings of shop %d: %w", shopID, err)
	}
	return o, nil
}

// OverflowSettings reads the shop's overflow policy and surge mode; a shop
// that never saved any gets kefu.DefaultOverflowSettings (both off).
func (s *Store) OverflowSettings(ctx context.Context, shopID int64) (kefu.OverflowSettings, error) {
	o := kefu.DefaultOverflowSettings()
	if err := s.readSettings(ctx, "overflow_settings", shopID, &o); err != nil {
		return kefu.OverflowSettings{}, fmt.Errorf("store: overflow settings of shop %d: %w", shopID, err)
	}
	return o, nil
}

// AllOverflowSettings reads the overflow settings of every shop that saved
// some, by shop id (the others have overflow and surge off).
func (s *Store) AllOverflowSettings(ctx context.Context) (map[int64]kefu.OverflowSettings, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []overflowRow
	if err := s.rdb.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: overflow settings: %w", err)
	}
	out := make(map[int64]kefu.OverflowSettings, len(rows))
	for _, r := range rows {
		o, err := decodeOverflow(r.ShopID, r.Settings)
		if err != nil {
			return nil, err
		}
		out[r.ShopID] = o
	}
	return out, nil
}

// SetOverflowSettings replaces the shop's overflow policy and surge mode.
// A backup group that is not the shop's is kefu.ErrNotFound, and nothing is
// stored.
func (s *Store) SetOverflowSettings(ctx context.Context, shopID int64, o kefu.OverflowSettings) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	now := s.now().UTC().Truncate(microsecond)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, g := range []int64{o.Policy.BackupGroupID, o.Surge.Profile.Overflow.BackupGroupID} {
			if g == 0 {
				continue
			}
			var n int64
			if err := tx.Table("agent_groups").Where("shop_id = ? AND id = ?", shopID, g).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("backup group %d: %w", g, kefu.ErrNotFound)
			}
		}
		return writeSettings(tx, "overflow_settings", shopID, o, now)
	})
	if err != nil {
		return fmt.Errorf("store: save overflow settings of shop %d: %w", shopID, err)
	}
	return nil
}

// RecordShopEvent writes an event about the shop as a whole (an overflow
// stage, surge mode) to its log, by kefu itself. committed, if not nil, is
// told the change after the commit.
func (s *Store) RecordShopEvent(ctx context.Context, shopID int64, typ kefu.EventType, data kefu.EventData, committed func(kefu.Change)) (kefu.Event, error) {
	var out kefu.Event
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: typ, Actor: kefu.SystemActor, Data: data})
		if err != nil {
			return nil, err
		}
		out = e
		return []kefu.Change{{Event: e}}, nil
	}, committed)
	if err != nil {
		return kefu.Event{}, fmt.Errorf("store: record %s of shop %d: %w", typ, shopID, err)
	}
	return out, nil
}
