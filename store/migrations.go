package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migrations is the schema history. It is only ever appended to: a released
// step never changes, because databases in the field already ran it. Each
// step runs in its own transaction together with its row in schema_migrations.
//
// SQL is written once for both dialects; {{id}} and {{time}} expand to the
// dialect's auto-increment primary key and timestamp types.
var migrations = []string{
	// 1: the spine — shops, agents, sessions, buyers, conversations, messages, orders.
	`
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE shops (
	id              {{id}},
	slug            TEXT NOT NULL UNIQUE,
	name            TEXT NOT NULL,
	identity_secret TEXT NOT NULL,
	created_at      {{time}} NOT NULL
);
CREATE TABLE shop_origins (
	shop_id BIGINT NOT NULL REFERENCES shops(id),
	origin  TEXT NOT NULL,
	PRIMARY KEY (shop_id, origin)
);
CREATE TABLE agents (
	id             {{id}},
	shop_id        BIGINT NOT NULL REFERENCES shops(id),
	username       TEXT NOT NULL,
	name           TEXT NOT NULL,
	role           TEXT NOT NULL,
	password_hash  TEXT NOT NULL,
	max_concurrent INTEGER NOT NULL DEFAULT 5,
	created_at     {{time}} NOT NULL,
	UNIQUE (shop_id, username)
);
CREATE TABLE agent_sessions (
	token_hash TEXT PRIMARY KEY,
	shop_id    BIGINT NOT NULL REFERENCES shops(id),
	agent_id   BIGINT NOT NULL REFERENCES agents(id),
	created_at {{time}} NOT NULL,
	expires_at {{time}} NOT NULL
);
CREATE INDEX agent_sessions_expiry ON agent_sessions (expires_at);
CREATE TABLE buyers (
	id          {{id}},
	shop_id     BIGINT NOT NULL REFERENCES shops(id),
	visitor_id  TEXT NOT NULL DEFAULT '',
	external_id TEXT NOT NULL DEFAULT '',
	name        TEXT NOT NULL,
	created_at  {{time}} NOT NULL
);
CREATE UNIQUE INDEX buyers_visitor ON buyers (shop_id, visitor_id) WHERE external_id = '';
CREATE UNIQUE INDEX buyers_external ON buyers (shop_id, external_id) WHERE external_id <> '';
CREATE TABLE conversations (
	id             {{id}},
	shop_id        BIGINT NOT NULL REFERENCES shops(id),
	buyer_id       BIGINT NOT NULL REFERENCES buyers(id),
	agent_id       BIGINT REFERENCES agents(id),
	status         TEXT NOT NULL,
	last_seq       BIGINT NOT NULL DEFAULT 0,
	agent_read_seq BIGINT NOT NULL DEFAULT 0,
	buyer_read_seq BIGINT NOT NULL DEFAULT 0,
	created_at     {{time}} NOT NULL,
	queued_at      {{time}} NOT NULL,
	assigned_at    {{time}},
	closed_at      {{time}}
);
CREATE INDEX conversations_shop_status ON conversations (shop_id, status, id);
CREATE INDEX conversations_buyer ON conversations (shop_id, buyer_id, id);
CREATE UNIQUE INDEX conversations_one_open ON conversations (shop_id, buyer_id) WHERE status <> 'closed';
CREATE TABLE messages (
	id              {{id}},
	shop_id         BIGINT NOT NULL REFERENCES shops(id),
	conversation_id BIGINT NOT NULL REFERENCES conversations(id),
	seq             BIGINT NOT NULL,
	kind            TEXT NOT NULL,
	sender          TEXT NOT NULL,
	sender_id       BIGINT NOT NULL DEFAULT 0,
	sender_name     TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL,
	client_msg_id   TEXT NOT NULL DEFAULT '',
	created_at      {{time}} NOT NULL,
	UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_msg ON messages (shop_id, sender, sender_id, client_msg_id) WHERE client_msg_id <> '';
CREATE TABLE orders (
	id           {{id}},
	shop_id      BIGINT NOT NULL REFERENCES shops(id),
	buyer_id     BIGINT NOT NULL REFERENCES buyers(id),
	order_no     TEXT NOT NULL,
	status       TEXT NOT NULL,
	amount_cents BIGINT NOT NULL,
	currency     TEXT NOT NULL DEFAULT 'CNY',
	items        TEXT NOT NULL DEFAULT '[]',
	created_at   {{time}} NOT NULL,
	UNIQUE (shop_id, order_no)
);
CREATE INDEX orders_buyer ON orders (shop_id, buyer_id, id);
`,
	// 2: system messages carry a code clients word in their own language.
	`ALTER TABLE messages ADD COLUMN code TEXT NOT NULL DEFAULT ''`,
	// 3: the event log. Every command writes its events in the transaction
	// of its change (docs/events.md); history from before it is backfilled
	// from the conversations and messages it can be read from. No foreign
	// keys: every id comes from a row the same transaction wrote or
	// checked, and the message path pays for each index and check.
	`
CREATE TABLE events (
	id              {{id}},
	shop_id         BIGINT NOT NULL,
	type            TEXT NOT NULL,
	actor_kind      TEXT NOT NULL,
	actor_id        BIGINT NOT NULL DEFAULT 0,
	conversation_id BIGINT NOT NULL DEFAULT 0,
	buyer_id        BIGINT NOT NULL DEFAULT 0,
	agent_id        BIGINT NOT NULL DEFAULT 0,
	message_id      BIGINT NOT NULL DEFAULT 0,
	seq             BIGINT NOT NULL DEFAULT 0,
	data            TEXT NOT NULL DEFAULT '{}',
	created_at      {{time}} NOT NULL
);
CREATE INDEX events_shop ON events (shop_id, id);
INSERT INTO events (shop_id, type, actor_kind, actor_id, conversation_id, buyer_id, agent_id, message_id, seq, created_at)
SELECT shop_id, type, actor_kind, actor_id, conversation_id, buyer_id, agent_id, message_id, seq, at FROM (
	SELECT shop_id, 'conversation.queued' AS type, 'buyer' AS actor_kind, buyer_id AS actor_id, id AS conversation_id,
		buyer_id, 0 AS agent_id, 0 AS message_id, 0 AS seq, queued_at AS at, 0 AS ord FROM conversations
	UNION ALL
	SELECT shop_id, 'conversation.assigned', 'system', 0, id, buyer_id, COALESCE(agent_id, 0), 0, 0, assigned_at, 1
		FROM conversations WHERE assigned_at IS NOT NULL
	UNION ALL
	SELECT m.shop_id, 'message', m.sender, m.sender_id, m.conversation_id, c.buyer_id, COALESCE(c.agent_id, 0), m.id, m.seq,
		m.created_at, 2 FROM messages m JOIN conversations c ON c.id = m.conversation_id
	UNION ALL
	SELECT shop_id, 'conversation.closed', 'system', 0, id, buyer_id, COALESCE(agent_id, 0), 0, 0, closed_at, 3
		FROM conversations WHERE closed_at IS NOT NULL
) h ORDER BY at, ord, conversation_id, seq
`,
	// 4: routing reads agents' loads from the database; when each agent was
	// last given a conversation breaks ties between equal loads.
	`ALTER TABLE agents ADD COLUMN last_assigned_at {{time}};
UPDATE agents SET last_assigned_at = (SELECT MAX(c.assigned_at) FROM conversations c WHERE c.agent_id = agents.id)`,
	// 5: agent groups (售前, 售后, ...) with weights; a conversation's group and
	// priority; a buyer's dedicated agent and VIP mark; how long a buyer's
	// last agent stays theirs.
	`
CREATE TABLE agent_groups (
	id         {{id}},
	shop_id    BIGINT NOT NULL REFERENCES shops(id),
	slug       TEXT NOT NULL,
	name       TEXT NOT NULL,
	scope      TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL,
	UNIQUE (shop_id, slug)
);
CREATE TABLE agent_group_members (
	shop_id  BIGINT NOT NULL REFERENCES shops(id),
	group_id BIGINT NOT NULL REFERENCES agent_groups(id),
	agent_id BIGINT NOT NULL REFERENCES agents(id),
	weight   INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (group_id, agent_id)
);
CREATE INDEX agent_group_members_shop ON agent_group_members (shop_id, agent_id);
ALTER TABLE conversations ADD COLUMN group_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE buyers ADD COLUMN dedicated_agent_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE buyers ADD COLUMN vip BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE shops ADD COLUMN sticky_days INTEGER NOT NULL DEFAULT 3
`,
	// 6: a routing decision reads the head of each group's line in serving order.
	`CREATE INDEX conversations_line ON conversations (shop_id, status, group_id, priority DESC, queued_at, id)`,
	// 7: the latest transfer's note for the next agent, and who wrote it.
	`ALTER TABLE conversations ADD COLUMN transfer_from BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN transfer_note TEXT NOT NULL DEFAULT ''`,
	// 8: a shop may close conversations that went quiet.
	`ALTER TABLE shops ADD COLUMN auto_close_minutes INTEGER NOT NULL DEFAULT 0`,
	// 9: the slow-reply guard: since when a buyer waits for an answer, when
	// the agent was last nudged about it, and after how long a shop nudges.
	`ALTER TABLE conversations ADD COLUMN awaiting_since {{time}};
ALTER TABLE conversations ADD COLUMN nudged_at {{time}};
CREATE INDEX conversations_awaiting ON conversations (status, awaiting_since);
ALTER TABLE shops ADD COLUMN slow_reply_seconds INTEGER NOT NULL DEFAULT 100`,
	// 10: a shop may make idle agents away.
	`ALTER TABLE shops ADD COLUMN auto_away_minutes INTEGER NOT NULL DEFAULT 0`,
	// 11: a shop may reopen a conversation the buyer writes to soon after its close.
	`ALTER TABLE shops ADD COLUMN reopen_hours INTEGER NOT NULL DEFAULT 0`,
	// 12: a shop may serve conversations about high-value orders first.
	`ALTER TABLE shops ADD COLUMN high_value_cents BIGINT NOT NULL DEFAULT 0`,
	// 13: an owner may disable an agent's account.
	`ALTER TABLE agents ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE`,
	// 14: agents invited into a conversation beside its holder (多方洽谈), as
	// a comma-separated list of agent ids read with the row on every write.
	`ALTER TABLE conversations ADD COLUMN helpers TEXT NOT NULL DEFAULT ''`,
	// 15: a shop may hand a buyer left waiting for an answer to another agent.
	`ALTER TABLE shops ADD COLUMN reassign_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN reassigned_at {{time}}`,
	// 16: a buyer who left the line is counted once per conversation.
	`ALTER TABLE conversations ADD COLUMN abandoned_at {{time}}`,
	// 17: a group may be offered in the widget's menu.
	`ALTER TABLE agent_groups ADD COLUMN in_menu BOOLEAN NOT NULL DEFAULT FALSE`,
	// 18: the bot-first hook: a conversation the shop's assistant answers
	// first, which routing gives only to the buyer's own agents meanwhile.
	`ALTER TABLE conversations ADD COLUMN assistant_first BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX conversations_assistant_first ON conversations (shop_id, status, priority DESC, queued_at, id) WHERE assistant_first`,
	// 19: an agent's own lists (their history above all) by agent.
	`CREATE INDEX conversations_agent ON conversations (shop_id, agent_id, status, id)`,
	// 20: quick phrases (快捷短语), the shop's (agent_id 0) and each agent's own.
	`CREATE TABLE quick_phrases (
	id         {{id}},
	shop_id    BIGINT NOT NULL REFERENCES shops(id),
	agent_id   BIGINT NOT NULL DEFAULT 0,
	category   TEXT NOT NULL DEFAULT '',
	shortcut   TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL,
	uses       BIGINT NOT NULL DEFAULT 0,
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL
);
CREATE INDEX quick_phrases_owner ON quick_phrases (shop_id, agent_id, id);
CREATE UNIQUE INDEX quick_phrases_shortcut ON quick_phrases (shop_id, agent_id, shortcut) WHERE shortcut <> ''`,
	// 21: the shop's assistant (店小蜜): its settings as one JSON document per
	// shop, its keyword rules, the rule and tappable replies of a bot message,
	// the holding reply once per wait, each agent's away reply, and an order's
	// tracking number for the answers that name it.
	`CREATE TABLE assistant_settings (
	shop_id    BIGINT PRIMARY KEY REFERENCES shops(id),
	settings   TEXT NOT NULL,
	updated_at {{time}} NOT NULL
);
CREATE TABLE auto_reply_rules (
	id               {{id}},
	shop_id          BIGINT NOT NULL REFERENCES shops(id),
	name             TEXT NOT NULL,
	match            TEXT NOT NULL,
	patterns         TEXT NOT NULL,
	group_ids        TEXT NOT NULL DEFAULT '',
	priority         INTEGER NOT NULL DEFAULT 0,
	answer           TEXT NOT NULL,
	follow_ups       TEXT NOT NULL DEFAULT '[]',
	handoff          TEXT NOT NULL DEFAULT '',
	handoff_group_id BIGINT NOT NULL DEFAULT 0,
	enabled          BOOLEAN NOT NULL DEFAULT TRUE,
	hits             BIGINT NOT NULL DEFAULT 0,
	created_at       {{time}} NOT NULL,
	updated_at       {{time}} NOT NULL
);
CREATE INDEX auto_reply_rules_shop ON auto_reply_rules (shop_id, id);
ALTER TABLE messages ADD COLUMN rule_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN quick_replies TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN holding_replied BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE agents ADD COLUMN away_reply TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN tracking_no TEXT NOT NULL DEFAULT ''`,
	// 22: a product or order card's fields, as JSON ('' for other messages).
	`ALTER TABLE messages ADD COLUMN card TEXT NOT NULL DEFAULT ''`,
	// 23: transcript search (issue 8 point 5, docs/search.md). Only what
	// people and the bot wrote (text, and cards by their text) is indexed,
	// never kefu's system lines; messages already stored are indexed here. SQLite: an FTS5 table
	// with the trigram tokenizer over messages.text, external content (the
	// text is not stored twice), no per-row sizes (nothing ranks by bm25), kept
	// in sync by triggers: the message path pays for the index inside its own
	// INSERT, with no statement of its own (until step 30 moved that off it). PostgreSQL: pg_trgm and a partial
	// GIN trigram index (fast updates on, so an insert only appends to its
	// pending list). A search without text pages the shop's conversations by
	// id: conversations_shop.
	`{{sqlite}}
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', tokenize='trigram', columnsize=0);
INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages WHERE kind <> 'system';
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.kind <> 'system' BEGIN
	INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind <> 'system' BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, kind ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.kind <> 'system';
	INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.kind <> 'system';
END;
{{end}}{{postgres}}
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_text_trgm ON messages USING gin (text gin_trgm_ops) WHERE kind <> 'system';
{{end}}
CREATE INDEX conversations_shop ON conversations (shop_id, id)`,
	// 24: order ingestion from the shop's platform: its API keys (a hash of
	// the secret, found by a public prefix), every order's status history
	// (an order stored before has its current status as the one entry), when
	// the current status took effect, the shop's order-webhook secret and
	// the signatures of webhook deliveries accepted lately (replays).
	`CREATE TABLE api_keys (
	id           {{id}},
	shop_id      BIGINT NOT NULL REFERENCES shops(id),
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL UNIQUE,
	secret_hash  TEXT NOT NULL,
	created_at   {{time}} NOT NULL,
	last_used_at {{time}},
	revoked_at   {{time}}
);
CREATE INDEX api_keys_shop ON api_keys (shop_id, id);
CREATE TABLE order_status_history (
	id       {{id}},
	shop_id  BIGINT NOT NULL REFERENCES shops(id),
	order_id BIGINT NOT NULL REFERENCES orders(id),
	status   TEXT NOT NULL,
	at       {{time}} NOT NULL
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, at, id);
CREATE TABLE order_webhook_deliveries (
	shop_id     BIGINT NOT NULL REFERENCES shops(id),
	signature   TEXT NOT NULL,
	received_at {{time}} NOT NULL,
	PRIMARY KEY (shop_id, signature)
);
CREATE INDEX order_webhook_deliveries_received ON order_webhook_deliveries (received_at);
ALTER TABLE shops ADD COLUMN order_webhook_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN status_at {{time}};
ALTER TABLE orders ADD COLUMN updated_at {{time}};
UPDATE orders SET status_at = created_at, updated_at = created_at;
INSERT INTO order_status_history (shop_id, order_id, status, at) SELECT shop_id, id, status, created_at FROM orders ORDER BY id`,
	// 25: orders and conversations linked both ways: a conversation links
	// several orders, an order several conversations (an order card links
	// itself; agents link and unlink by hand).
	`CREATE TABLE conversation_orders (
	shop_id         BIGINT NOT NULL REFERENCES shops(id),
	conversation_id BIGINT NOT NULL REFERENCES conversations(id),
	order_id        BIGINT NOT NULL REFERENCES orders(id),
	linked_by_kind  TEXT NOT NULL,
	linked_by_id    BIGINT NOT NULL DEFAULT 0,
	created_at      {{time}} NOT NULL,
	PRIMARY KEY (conversation_id, order_id)
);
CREATE INDEX conversation_orders_order ON conversation_orders (shop_id, order_id, conversation_id)`,
	// 26: a shop's retention period for transcripts, and when one
	// conversation's messages were deleted by it.
	`ALTER TABLE shops ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN purged_at {{time}}`,
	// 27: outbound webhooks: a shop's endpoint, its secret and the sender's
	// place in the shop's event log (with the retries of the event after
	// it), and the log of delivery attempts (7 days, 1,000 per shop).
	`CREATE TABLE webhooks (
	shop_id        BIGINT PRIMARY KEY REFERENCES shops(id),
	url            TEXT NOT NULL,
	events         TEXT NOT NULL,
	enabled        BOOLEAN NOT NULL,
	secret         TEXT NOT NULL,
	after_event_id BIGINT NOT NULL DEFAULT 0,
	attempts       INTEGER NOT NULL DEFAULT 0,
	retry_at       {{time}},
	created_at     {{time}} NOT NULL,
	updated_at     {{time}} NOT NULL
);
CREATE TABLE webhook_deliveries (
	id          {{id}},
	shop_id     BIGINT NOT NULL REFERENCES shops(id),
	event_id    BIGINT NOT NULL,
	type        TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	outcome     TEXT NOT NULL,
	at          {{time}} NOT NULL,
	duration_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_shop ON webhook_deliveries (shop_id, id)`,
	// 28: the tamper-evident chain of each conversation's messages
	// (kefu.ChainHash): every message's link, and on PostgreSQL the
	// conversation's last link, which the message's statement reads and moves
	// under the conversation's row lock. Messages stored before this step
	// have no link; the chain starts after them.
	`ALTER TABLE messages ADD COLUMN hash TEXT NOT NULL DEFAULT ''
{{postgres}};
ALTER TABLE conversations ADD COLUMN chain_head TEXT NOT NULL DEFAULT ''{{end}}`,
	// 29: a shop's overflow policy and surge mode, one JSON document
	// (kefu.OverflowSettings) like the assistant's settings.
	`CREATE TABLE overflow_settings (
	shop_id    BIGINT PRIMARY KEY REFERENCES shops(id),
	settings   TEXT NOT NULL,
	updated_at {{time}} NOT NULL
)`,
	// 30: search indexing off the message's INSERT (issue 9 point 5). On
	// SQLite the insert trigger of step 23 made every message on the hot
	// path pay for its trigrams inside the writer's transaction; now the
	// store's indexer (search_index.go) indexes new messages in batches
	// after their commit. messages_fts_mark holds the highest message id
	// indexed so far: every text message at or below it is in the index,
	// none above. It starts at the newest message, which step 23's trigger
	// indexed. An FTS5 'delete' of a row never indexed corrupts the index,
	// so the delete and update triggers touch only rows at or below the
	// mark; a row above it is indexed later with the text it then has.
	// Search reads the few rows above the mark with LIKE (search.go).
	// PostgreSQL is unchanged: its GIN index with fast updates.
	`{{sqlite}}
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TABLE messages_fts_mark (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	last_id BIGINT NOT NULL
);
INSERT INTO messages_fts_mark (one, last_id) SELECT 1, COALESCE(MAX(id), 0) FROM messages;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.kind <> 'system' AND old.id <= (SELECT last_id FROM messages_fts_mark) BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, kind ON messages
WHEN old.id <= (SELECT last_id FROM messages_fts_mark) BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.kind <> 'system';
	INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.kind <> 'system';
END;
{{end}}`,
	// 31: a shop's rate limits (kefu.RateLimits) as one JSON document; ''
	// is the defaults, so a shop keeps following them until its owner sets
	// its own.
	`ALTER TABLE shops ADD COLUMN rate_limits TEXT NOT NULL DEFAULT ''`,
	// 32: satisfaction ratings (CSAT): a conversation's stars (0: not rated),
	// the buyer's comment, when they rated and when an agent invited them
	// to; and the shop's switch, on for every shop until it turns it off.
	`ALTER TABLE conversations ADD COLUMN rating INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN rating_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN rated_at {{time}};
ALTER TABLE conversations ADD COLUMN rating_invited_at {{time}};
ALTER TABLE shops ADD COLUMN csat_enabled BOOLEAN NOT NULL DEFAULT TRUE`,
	// 33: the report roll-up (docs/reports.md): each conversation's
	// stretches (kefu.ReportSession) and the spans of agents' presence,
	// overflow stages and surge mode, folded from the event log by
	// report.Roller; report_mark holds the last event folded in. Times
	// are microseconds since 1970 (UTC): a report reads 100,000 rows, and
	// integers cost nothing to parse. On SQLite the stretches are kept in
	// the order a report reads them (a range of a shop's starts), and the
	// fold finds a conversation's by the unique index. Rebuilt
	// from the log by emptying them (kefu rebuild-reports). Orders are read
	// by their time for the conversion figures.
	`CREATE TABLE report_sessions (
	shop_id         BIGINT NOT NULL,
	conversation_id BIGINT NOT NULL,
	episode         INTEGER NOT NULL,
	buyer_id        BIGINT NOT NULL,
	group_id        BIGINT NOT NULL DEFAULT 0,
	agent_id        BIGINT NOT NULL DEFAULT 0,
	agent_since     BIGINT,
	started_at      BIGINT NOT NULL,
	line_since      BIGINT,
	assistant_first BOOLEAN NOT NULL DEFAULT FALSE,
	first_buyer_at  BIGINT,
	assigned_at     BIGINT,
	first_reply_at  BIGINT,
	closed_at       BIGINT,
	awaiting_since  BIGINT,
	abandoned       BOOLEAN NOT NULL DEFAULT FALSE,
	left_message    BOOLEAN NOT NULL DEFAULT FALSE,
	transfers       INTEGER NOT NULL DEFAULT 0,
	nudges          INTEGER NOT NULL DEFAULT 0,
	reassigns       INTEGER NOT NULL DEFAULT 0,
	requeues        INTEGER NOT NULL DEFAULT 0,
	buyer_messages  INTEGER NOT NULL DEFAULT 0,
	agent_messages  INTEGER NOT NULL DEFAULT 0,
	bot_messages    INTEGER NOT NULL DEFAULT 0,
	replies         INTEGER NOT NULL DEFAULT 0,
	reply_millis    BIGINT NOT NULL DEFAULT 0,
	stars           INTEGER NOT NULL DEFAULT 0,
{{postgres}}	PRIMARY KEY (conversation_id, episode)
);
CREATE INDEX report_sessions_start ON report_sessions (shop_id, started_at);{{end}}{{sqlite}}	PRIMARY KEY (shop_id, started_at, conversation_id, episode),
	UNIQUE (conversation_id, episode)
) WITHOUT ROWID;{{end}}
CREATE TABLE report_spans (
	shop_id    BIGINT NOT NULL,
	kind       TEXT NOT NULL,
	subject_id BIGINT NOT NULL,
	value      TEXT NOT NULL,
	started_at BIGINT NOT NULL,
	ended_at   BIGINT,
	PRIMARY KEY (shop_id, kind, subject_id, started_at)
);
CREATE TABLE report_mark (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	last_id BIGINT NOT NULL
);
INSERT INTO report_mark (one, last_id) VALUES (1, 0);
CREATE INDEX orders_created ON orders (shop_id, created_at)`,
}

// migrate brings the schema up to date, one transaction per step. Several
// kefu processes may start on one new database at once: each step takes a
// lock (PostgreSQL: an advisory lock; SQLite: the write lock taken at BEGIN
// IMMEDIATE) and re-reads the version inside its transaction, so each step
// runs exactly once.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done := false
		var applied int
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if s.dialect.name == postgresDialect.name {
				if err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, migrationLockID).Error; err != nil {
					return fmt.Errorf("lock: %w", err)
				}
			}
			if err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
				version    INTEGER PRIMARY KEY,
				applied_at ` + s.dialect.timeType + ` NOT NULL)`).Error; err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var current int
			if err := tx.Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current).Error; err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			if current > len(migrations) {
				return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", current, len(migrations))
			}
			if current == len(migrations) {
				done = true
				return nil
			}
			applied = current + 1
			for _, stmt := range splitStatements(s.dialect.expand(migrations[current])) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("migration %d: %w", applied, err)
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, applied, time.Now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if done {
			return nil
		}
	}
}

// migrationLockID is the PostgreSQL advisory lock that serializes migrations.
const migrationLockID = 0x6b656675 // "kefu"

// splitStatements cuts a script at semicolons; our migrations hold no
// semicolons inside string literals. A CREATE TRIGGER runs on to its END:
// the statements of its body are part of it.
func splitStatements(script string) []string {
	var out []string
	var trigger strings.Builder
	for _, stmt := range strings.Split(script, ";") {
		stmt = strings.TrimSpace(stmt)
		if trigger.Len() > 0 || strings.HasPrefix(strings.ToUpper(stmt), "CREATE TRIGGER") {
			trigger.WriteString(stmt)
			if !strings.HasSuffix(strings.ToUpper(stmt), "END") {
				trigger.WriteString(";\n")
				continue
			}
			stmt = trigger.String()
			trigger.Reset()
		}
		if stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// dialect holds the few spellings that differ between SQLite and PostgreSQL.
type dialect struct {
	name     string
	idType   string
	timeType string
}

var (
	sqliteDialect   = dialect{name: "sqlite", idType: "INTEGER PRIMARY KEY AUTOINCREMENT", timeType: "DATETIME"}
	postgresDialect = dialect{name: "postgres", idType: "BIGSERIAL PRIMARY KEY", timeType: "TIMESTAMPTZ"}
)

// expand spells a migration in the dialect: {{id}} and {{time}} become its
// types, and what stands between {{sqlite}} (or {{postgres}}) and {{end}}
// is kept for that dialect only.
func (d dialect) expand(script string) string {
	for _, name := range []string{sqliteDialect.name, postgresDialect.name} {
		open := "{{" + name + "}}"
		for {
			start := strings.Index(script, open)
			if start < 0 {
				break
			}
			end := strings.Index(script[start:], "{{end}}")
			if end < 0 {
				panic("store: migration has " + open + " without {{end}}")
			}
			body := script[start+len(open) : start+end]
			if name != d.name {
				body = ""
			}
			script = script[:start] + body + script[start+end+len("{{end}}"):]
		}
	}
	return strings.NewReplacer("{{id}}", d.idType, "{{time}}", d.timeType).Replace(script)
}
