package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu/kefu"
)

// QueueLengths returns how many conversations wait in each shop's line (the
// line Waiting reads: queued, not waiting for the shop's assistant), for the
// shops with any. One grouped count over the conversations_shop_status
// index; metrics reads it at most every few seconds, never per message.
func (s *Store) QueueLengths(ctx context.Context) (map[int64]int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	db, err := s.rdb.DB()
	if err != nil {
		return nil, fmt.Errorf("store: queue lengths: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT shop_id, COUNT(*) FROM conversations
		WHERE status = 'queued' AND NOT assistant_first GROUP BY shop_id`)
	if err != nil {
		return nil, fmt.Errorf("store: queue lengths: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var shopID int64
		var n int
		if err := rows.Scan(&shopID, &n); err != nil {
			return nil, fmt.Errorf("store: queue lengths: %w", err)
		}
		out[shopID] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue lengths: %w", err)
	}
	return out, nil
}

// LiveLine returns how many buyers of the shop wait for a person now (not
// the assistant's, not left messages) and since when the longest has
// waited (zero with nobody waiting): the reports' live board.
func (s *Store) LiveLine(ctx context.Context, shopID int64) (int, time.Time, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	db, err := s.rdb.DB()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: live line of shop %d: %w", shopID, err)
	}
	const waiting = `FROM conversations WHERE shop_id = $1 AND status = 'queued' AND NOT assistant_first AND priority > $2`
	var n int
	if err := db.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) `+waiting), shopID, kefu.PriorityLeftMessage).Scan(&n); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: live line of shop %d: %w", shopID, err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var since time.Time
	if err := db.QueryRowContext(ctx, s.sql(`SELECT queued_at `+waiting+` ORDER BY queued_at LIMIT 1`), shopID, kefu.PriorityLeftMessage).
		Scan(&since); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: live line of shop %d: %w", shopID, err)
	}
	return n, since.UTC(), nil
}
