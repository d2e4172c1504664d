package store

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
