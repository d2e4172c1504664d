package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// A shop's settings that grow (the assistant's, overflow and surge mode)
// are one JSON document per shop in a table of their own (shop_id,
// settings, updated_at): a setting added later needs no migration, as a
// field the document lacks keeps its default.

// readSettings decodes the shop's document of table over into, which holds
// the defaults; a shop that never saved one keeps them.
func (s *Store) readSettings(ctx context.Context, table string, shopID int64, into any) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	var docs []string
	if err := s.rdb.WithContext(ctx).Table(table).Where("shop_id = ?", shopID).Limit(1).Pluck("settings", &docs).Error; err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	return json.Unmarshal([]byte(docs[0]), into)
}

// writeSettings stores v as the shop's document of table, in db (a
// transaction or the store's writer).
func writeSettings(db *gorm.DB, table string, shopID int64, v any, now time.Time) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return db.Exec(`INSERT INTO `+table+` (shop_id, settings, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`, shopID, string(b), now).Error
}
