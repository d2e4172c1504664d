package store

import (
	"context"
	"fmt"
	"time"
)

// The search indexer (SQLite only, migration 30, docs/search.md). The
// message writer commits a message without indexing it; the indexer then
// adds every text message above messages_fts_mark to messages_fts and moves
// the mark, in one transaction per batch. It is woken after each commit of
// the writer and by a ticker, which catches messages written any other way
// (a command, another kefu process on the same file). Search reads the
// messages above the mark with LIKE, so nothing committed is ever missing
// from its results.
const (
	indexBatch = 2000        // messages indexed per transaction at most
	indexEvery = time.Second // the backstop when no commit wakes the indexer
)

// nudgeIndexer wakes the indexer without ever waiting for it: one pending
// wake-up is enough, as a pass indexes everything above the mark. On
// PostgreSQL nobody reads it; the one wake-up stays in the buffer.
func (s *Store) nudgeIndexer() {
	select {
	case s.indexWake <- struct{}{}:
	default:
	}
}

// startIndexer starts the indexer goroutine; stopIndexer ends it.
func (s *Store) startIndexer() {
	ctx, cancel := context.WithCancel(context.Background())
	s.indexStop = cancel
	s.indexer.Add(1)
	go func() {
		defer s.indexer.Done()
		s.runIndexer(ctx)
	}()
}

// stopIndexer ends the indexer and waits for it. A pass in progress is
// rolled back: the mark moves only with the rows it indexed.
func (s *Store) stopIndexer() {
	if s.indexStop != nil {
		s.indexStop()
	}
	s.indexer.Wait()
}

func (s *Store) runIndexer(ctx context.Context) {
	tick := time.NewTicker(indexEvery)
	defer tick.Stop()
	for {
		// The first pass, at Open, indexes what the last run left above
		// the mark. A failure (a busy file, the deadline) leaves the mark
		// where it was; the next wake-up tries again, and search still
		// reads the rows above the mark.
		s.indexSearch(ctx)
		select {
		case <-ctx.Done():
			return
		case <-s.indexWake:
		case <-tick.C:
		}
	}
}

// indexSearch indexes every text message above the mark, a batch per
// transaction, and returns how many messages it read (system lines
// included, which move the mark unindexed). The mark is read and moved
// inside the transaction, which holds SQLite's write lock from its BEGIN
// (IMMEDIATE), so two passes, in this process or another, never index a
// row twice, and no uncommitted message can sit below the new mark.
func (s *Store) indexSearch(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.indexNextBatch(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: index messages for search: %w", err)
		}
		if n < indexBatch {
			return total, nil
		}
	}
}

// indexNextBatch indexes up to indexBatch messages above the mark in one
// transaction and returns how many it read.
func (s *Store) indexNextBatch(ctx context.Context) (int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	tx, err := s.sqlW.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var mark int64
	if err := tx.QueryRowContext(ctx, `SELECT last_id FROM messages_fts_mark`).Scan(&mark); err != nil {
		return 0, err
	}
	// The batch is the next indexBatch messages by id; the new mark is the
	// last of them, so a run of system lines moves it too.
	var n int
	var top int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?) b`,
		mark, indexBatch).Scan(&n, &top); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (rowid, text)
		SELECT id, text FROM messages WHERE id > ? AND id <= ? AND kind <> 'system' ORDER BY id`, mark, top); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages_fts_mark SET last_id = ?`, top); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}
