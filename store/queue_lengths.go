package store

import (
	"context"
	"fmt"
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
