package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the driver libtnb/sqlite wraps, to build an old database by hand

	"github.com/kefu/kefu"
)

// A database left at schema version 1, holding an agent, a conversation and
// a message, is brought up to date by Open, and what it held is still there.
func TestMigrationsUpgradeADatabaseHoldingData(t *testing.T) {
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kefu.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	stmts := append(splitStatements(sqliteDialect.expand(migrations[0])),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at DATETIME NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, '2026-11-01 00:00:00')`,
		`INSERT INTO shops (id, slug, name, identity_secret, created_at) VALUES (1, 'old', 'Old', 's', '2026-11-01 00:00:00')`,
		`INSERT INTO agents (id, shop_id, username, name, role, password_hash, created_at) VALUES (1, 1, 'boss', 'Boss', 'owner', 'h', '2026-11-01 00:00:00')`,
		`INSERT INTO buyers (id, shop_id, visitor_id, name, created_at) VALUES (1, 1, 'v_oldvisitor', 'b', '2026-11-01 00:00:00')`,
		`INSERT INTO conversations (id, shop_id, buyer_id, status, last_seq, created_at, queued_at) VALUES (1, 1, 1, 'queued', 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')`,
		`INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, text, client_msg_id, created_at) VALUES (1, 1, 1, 'text', 'buyer', 1, 'from before', 'c1', '2026-11-01 00:00:00')`,
		`INSERT INTO orders (shop_id, buyer_id, order_no, status, amount_cents, created_at) VALUES (1, 1, 'OLD-1', 'paid', 100, '2026-11-01 00:00:00')`,
	)
	for _, stmt := range stmts {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	raw.Close()

	st, err := Open(context.Background(), Config{DataDir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("open a version-1 database: %v", err)
	}
	defer st.Close()
	var version int
	st.db.Raw(`SELECT MAX(version) FROM schema_migrations`).Scan(&version)
	if version != len(migrations) {
		t.Fatalf("schema version %d after Open, want %d", version, len(migrations))
	}
	msgs, _, err := st.Messages(context.Background(), 1, 1, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "from before" || msgs[0].Code != "" {
		t.Fatalf("old message after the upgrade: %+v, %v", msgs, err)
	}
	// The event log starts with the history it could be read from.
	events, err := st.Events(context.Background(), 1, 0, 0)
	if err != nil || len(events) != 2 || events[0].Type != kefu.EventQueued || events[0].ConversationID != 1 ||
		events[1].Type != kefu.EventMessage || events[1].MessageID != msgs[0].ID || events[1].Seq != 1 ||
		events[1].Actor != (kefu.ActorRef{Kind: kefu.SenderBuyer, ID: 1}) {
		t.Fatalf("events after the upgrade: %+v, %v", events, err)
	}
	// Agents from before accounts could be disabled are enabled, and can be
	// disabled now (column 13).
	boss, err := st.Agent(context.Background(), 1, 1)
	if err != nil || boss.Disabled || boss.Role != kefu.RoleOwner {
		t.Fatalf("old agent after the upgrade: %+v, %v", boss, err)
	}
	yes := true
	disable := kefu.AgentChange{Disabled: &yes}
	if _, err := st.UpdateAgent(context.Background(), 1, 1, disable, kefu.SystemActor,
		func(_, _ kefu.Agent) error { return nil }, nil, nil, nil); !errors.Is(err, kefu.ErrLastOwner) {
		t.Fatalf("disable the old shop's only owner: %v, want ErrLastOwner", err)
	}
	if _, err := st.CreateAgent(context.Background(), kefu.Agent{ShopID: 1, Username: "second", Name: "S", Role: kefu.RoleOwner, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if up, err := st.UpdateAgent(context.Background(), 1, 1, disable, kefu.SystemActor,
		func(_, _ kefu.Agent) error { return nil }, nil, nil, nil); err != nil || !up.Agent.Disabled {
		t.Fatalf("disable the old owner beside a new one: %+v, %v", up, err)
	}
	// An order from before the status history has its status as the one
	// entry, in force since the order was placed (migration 24).
	old, err := st.Order(context.Background(), 1, "OLD-1")
	placed := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err != nil || old.Status != "paid" || !old.StatusAt.Equal(placed) || len(old.History) != 1 ||
		old.History[0].Status != "paid" || !old.History[0].At.Equal(placed) {
		t.Fatalf("old order after the upgrade: %+v, %v", old, err)
	}
	// A shop from before ratings asks for them, and its conversations are
	// not rated (migration 32).
	if shop, err := st.Shop(context.Background(), 1); err != nil || !shop.CSATEnabled {
		t.Fatalf("old shop after the upgrade: %+v, %v", shop, err)
	}
	if conv, err := st.Conversation(context.Background(), 1, 1); err != nil || conv.Rating != 0 || conv.RatingComment != "" ||
		conv.RatedAt != nil || conv.RatingInvitedAt != nil {
		t.Fatalf("old conversation after the upgrade: %+v, %v", conv, err)
	}
	// The new column works for new messages.
	stored, _, err := st.AppendMessage(context.Background(), kefu.Message{ShopID: 1, ConversationID: 1,
		Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "会话已结束", Code: kefu.SystemClosed})
	if err != nil || stored.Code != "closed" || stored.Seq != 2 {
		t.Fatalf("system message after the upgrade: %+v, %v", stored, err)
	}
}
