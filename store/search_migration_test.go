package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // to build an old PostgreSQL database by hand
	_ "modernc.org/sqlite"             // to build an old SQLite database by hand

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// A database from before transcript search (schema 22) that already holds
// messages has them indexed by migration 23: old text is found, old system
// lines are not, and new messages are indexed as they are stored.
func TestSearchMigrationIndexesOldMessages(t *testing.T) {
	const before = 22
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (raw *sql.DB, cfg store.Config, d string)
	}{
		{"sqlite", func(t *testing.T) (*sql.DB, store.Config, string) {
			dir := t.TempDir()
			raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kefu.db"))
			if err != nil {
				t.Fatal(err)
			}
			return raw, store.Config{DataDir: dir}, "sqlite"
		}},
		{"postgres", func(t *testing.T) (*sql.DB, store.Config, string) {
			url := testdb.PostgresURL(t)
			raw, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			return raw, store.Config{DatabaseURL: url}, "postgres"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, cfg, d := tc.open(t)
			stmts := append(store.SchemaStatements(d, before),
				`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at `+store.TimeType(d)+` NOT NULL)`,
				`INSERT INTO schema_migrations VALUES (22, '2026-11-01 00:00:00')`,
				`INSERT INTO shops (id, slug, name, identity_secret, created_at) VALUES (1, 'old', 'Old', 's', '2026-11-01 00:00:00')`,
				`INSERT INTO buyers (id, shop_id, visitor_id, name, created_at) VALUES (1, 1, 'v_oldvisitor', 'b', '2026-11-01 00:00:00')`,
				`INSERT INTO conversations (id, shop_id, buyer_id, status, last_seq, created_at, queued_at) VALUES (1, 1, 1, 'queued', 2, '2026-11-01 00:00:00', '2026-11-01 00:00:00')`,
				`INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, text, created_at) VALUES (1, 1, 1, 'text', 'buyer', 1, '什么时候发货呀', '2026-11-01 00:00:00')`,
				`INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, text, created_at) VALUES (1, 1, 2, 'system', 'system', 0, '系统通知发货时间', '2026-11-01 00:00:00')`,
			)
			for _, stmt := range stmts {
				if _, err := raw.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			raw.Close()
			st, err := store.Open(context.Background(), store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, Now: func() time.Time {
				return time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
			}})
			if err != nil {
				t.Fatalf("open a version-22 database: %v", err)
			}
			defer st.Close()
			find := func(text string) int {
				t.Helper()
				page, err := st.SearchConversations(context.Background(), 1, kefu.SearchFilter{Text: text})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, h := range page.Hits {
					n += len(h.Snippets)
				}
				return n
			}
			if n := find("时候发货"); n != 1 {
				t.Errorf("old message: %d snippets, want 1", n)
			}
			if n := find("通知发货"); n != 0 {
				t.Errorf("old system line found (%d)", n)
			}
			if _, _, err := st.AppendMessage(context.Background(), kefu.Message{ShopID: 1, ConversationID: 1, Kind: kefu.KindText,
				Sender: kefu.SenderBuyer, SenderID: 1, Text: "顺丰快递到哪里了"}); err != nil {
				t.Fatal(err)
			}
			if n := find("快递到哪"); n != 1 {
				t.Errorf("new message: %d snippets, want 1", n)
			}
		})
	}
}
