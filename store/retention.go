package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kefu/kefu"
)

// purgeBatch bounds the conversations one Purge deletes the messages of, so
// one sweep never holds the writer long; the next sweep goes on.
const purgeBatch = 200

// SetShopRetention sets the shop's retention period in days (0: keep).
func (s *Store) SetShopRetention(ctx context.Context, shopID int64, days int) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	if err := s.db.WithContext(ctx).Exec(`UPDATE shops SET retention_days = ? WHERE id = ?`, days, shopID).Error; err != nil {
		return fmt.Errorf("store: set the retention of shop %d: %w", shopID, err)
	}
	return nil
}

// Purge deletes the messages of conversations closed longer ago than their
// shop's retention period, except those linked to an order not yet over
// (kefu.FinalOrderStatuses) — an order still open or in dispute keeps every word
// said about it. Each conversation's deletion is one transaction with its
// EventPurged; the conversation row stays (reports count it), marked
// purged. It returns how many conversations it purged (at most purgeBatch).
func (s *Store) Purge(ctx context.Context, now time.Time, committed func(kefu.Change)) (int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var due []struct {
		ID      int64
		ShopID  int64
		BuyerID int64
	}
	// The cut-off is per shop; the dialects spell date arithmetic apart, so
	// it is computed here for each shop that keeps transcripts a while.
	var shops []struct {
		ID            int64
		RetentionDays int
	}
	if err := s.rdb.WithContext(ctx).Raw(`SELECT id, retention_days FROM shops WHERE retention_days > 0`).Scan(&shops).Error; err != nil {
		return 0, fmt.Errorf("store: shops with a retention period: %w", err)
	}
	for _, sh := range shops {
		cut := now.Add(-time.Duration(sh.RetentionDays) * 24 * time.Hour).UTC()
		var batch []struct {
			ID      int64
			ShopID  int64
			BuyerID int64
		}
		if err := s.rdb.WithContext(ctx).Raw(`SELECT c.id, c.shop_id, c.buyer_id FROM conversations c
			WHERE c.shop_id = ? AND c.status = 'closed' AND c.closed_at < ? AND c.purged_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM conversation_orders co JOIN orders o ON o.id = co.order_id
				WHERE co.conversation_id = c.id AND co.shop_id = c.shop_id AND o.status NOT IN ?)
			ORDER BY c.id LIMIT ?`, sh.ID, cut, kefu.FinalOrderStatuses, purgeBatch-len(due)).Scan(&batch).Error; err != nil {
			return 0, fmt.Errorf("store: transcripts due in shop %d: %w", sh.ID, err)
		}
		due = append(due, batch...)
		if len(due) >= purgeBatch {
			break
		}
	}
	n := 0
	for _, c := range due {
		_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
			res, err := tx.ExecContext(ctx, s.sql(`DELETE FROM messages WHERE shop_id = $1 AND conversation_id = $2`), c.ShopID, c.ID)
			if err != nil {
				return nil, err
			}
			deleted, err := res.RowsAffected()
			if err != nil {
				return nil, err
			}
			at := now.UTC().Truncate(microsecond)
			if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET purged_at = $1 WHERE shop_id = $2 AND id = $3`), at, c.ShopID, c.ID); err != nil {
				return nil, err
			}
			e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: c.ShopID, Type: kefu.EventPurged, Actor: kefu.SystemActor,
				ConversationID: c.ID, BuyerID: c.BuyerID, Data: kefu.EventData{Count: int(deleted)}, CreatedAt: at})
			if err != nil {
				return nil, err
			}
			return []kefu.Change{{Event: e}}, nil
		}, committed)
		if err != nil {
			return n, fmt.Errorf("store: purge conversation %d: %w", c.ID, err)
		}
		n++
	}
	return n, nil
}
