package store

import "context"

// SchemaStatements are the statements of the first n migrations in the
// dialect ("sqlite" or "postgres"), for tests that build an old database by hand.
func SchemaStatements(dialectName string, n int) []string {
	d := sqliteDialect
	if dialectName == postgresDialect.name {
		d = postgresDialect
	}
	var out []string
	for _, m := range migrations[:n] {
		out = append(out, splitStatements(d.expand(m))...)
	}
	return out
}

// TimeType is the dialect's timestamp type.
func TimeType(dialectName string) string {
	if dialectName == postgresDialect.name {
		return postgresDialect.timeType
	}
	return sqliteDialect.timeType
}

// SetWebhookLogCap sets how many delivery attempts of a shop are kept.
func (s *Store) SetWebhookLogCap(n int) { s.webhookLogCap = n }

// CheckSearchIndex runs SQLite's FTS5 integrity check of the search index's
// own structure (nil on PostgreSQL, whose index the database keeps itself).
// The check against the content table (rank 1) does not apply: the index
// leaves kefu's system lines out on purpose.
func (s *Store) CheckSearchIndex(ctx context.Context) error {
	if s.dialect.name != sqliteDialect.name {
		return nil
	}
	return s.db.WithContext(ctx).Exec(`INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`).Error
}

// SearchIndexHolds counts the rows of SQLite's search index that hold
// phrase, read from the index alone (-1 on PostgreSQL).
func (s *Store) SearchIndexHolds(ctx context.Context, phrase string) (int, error) {
	if s.dialect.name != sqliteDialect.name {
		return -1, nil
	}
	var n int
	err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?`, `"`+phrase+`"`).Scan(&n).Error
	return n, err
}

// IndexSearch runs the search indexer's pass now (SQLite; 0 on PostgreSQL)
// and returns how many messages it read.
func (s *Store) IndexSearch(ctx context.Context) (int, error) {
	if s.dialect.name != sqliteDialect.name {
		return 0, nil
	}
	return s.indexSearch(ctx)
}

// StopIndexer ends the background search indexer, so a test decides when
// messages are indexed (IndexSearch).
func (s *Store) StopIndexer() { s.stopIndexer() }

// SearchMark is the id of the newest message the search index covers
// (SQLite; -1 on PostgreSQL).
func (s *Store) SearchMark(ctx context.Context) (int64, error) {
	if s.dialect.name != sqliteDialect.name {
		return -1, nil
	}
	var mark int64
	err := s.db.WithContext(ctx).Raw(`SELECT last_id FROM messages_fts_mark`).Scan(&mark).Error
	return mark, err
}

// Tamper runs a statement on the store's writer connection, as an operator
// or another program would on the database.
func (s *Store) Tamper(ctx context.Context, stmt string, args ...any) error {
	return s.db.WithContext(ctx).Exec(stmt, args...).Error
}

// SetRateLimitsDocument stores a shop's rate limits as a raw document, as
// an older kefu may have saved them.
func (s *Store) SetRateLimitsDocument(ctx context.Context, shopID int64, doc string) error {
	return s.db.WithContext(ctx).Exec(`UPDATE shops SET rate_limits = ? WHERE id = ?`, doc, shopID).Error
}
