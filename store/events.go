package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

type eventRow struct {
	ID             int64 `gorm:"primaryKey"`
	ShopID         int64
	Type           string
	ActorKind      string
	ActorID        int64
	ConversationID int64
	BuyerID        int64
	AgentID        int64
	MessageID      int64
	Seq            int64
	Data           string
	CreatedAt      time.Time
}

func (eventRow) TableName() string { return "events" }

func (r eventRow) event() kefu.Event {
	e := kefu.Event{ID: r.ID, ShopID: r.ShopID, Type: kefu.EventType(r.Type),
		Actor: kefu.ActorRef{Kind: kefu.SenderKind(r.ActorKind), ID: r.ActorID}, ConversationID: r.ConversationID, BuyerID: r.BuyerID, AgentID: r.AgentID,
		MessageID: r.MessageID, Seq: r.Seq, CreatedAt: r.CreatedAt}
	// Data is written only by insertEvent, from EventData.
	_ = json.Unmarshal([]byte(r.Data), &e.Data)
	return e
}

// Events returns up to limit events of the shop with an id above afterID, in
// id order: the log a consumer that keeps its place (a webhook sender, a
// report roll-up) reads from.
func (s *Store) Events(ctx context.Context, shopID, afterID int64, limit int) ([]kefu.Event, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if limit <= 0 || limit > kefu.MaxPageSize {
		limit = kefu.MaxPageSize
	}
	var rows []eventRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND id > ?", shopID, afterID).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list events of shop %d: %w", shopID, err)
	}
	out := make([]kefu.Event, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, nil
}

// insertEventSQL writes one event. Parameters: 1 shop, 2 type, 3 actor kind,
// 4 actor id, 5 conversation, 6 buyer, 7 agent, 8 message, 9 seq, 10 data,
// 11 time.
const insertEventSQL = `INSERT INTO events (shop_id, type, actor_kind, actor_id, conversation_id, buyer_id, agent_id,
	message_id, seq, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`

// insertEvent writes e in tx, stamped with the store's clock unless it has a
// time, and returns it with its id.
func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, e kefu.Event) (kefu.Event, error) {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now().UTC().Truncate(microsecond)
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return kefu.Event{}, fmt.Errorf("store: encode %s event: %w", e.Type, err)
	}
	if err := tx.QueryRowContext(ctx, s.sql(insertEventSQL), e.ShopID, string(e.Type), string(e.Actor.Kind), e.Actor.ID,
		e.ConversationID, e.BuyerID, e.AgentID, e.MessageID, e.Seq, string(data), e.CreatedAt).Scan(&e.ID); err != nil {
		return kefu.Event{}, fmt.Errorf("store: write %s event: %w", e.Type, err)
	}
	return e, nil
}

// insertEventGorm is insertEvent for a gorm transaction (the commands
// outside conversations: orders, API keys). No consumer is told of these at
// the commit; they are in the log.
func (s *Store) insertEventGorm(tx *gorm.DB, e kefu.Event) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now().UTC().Truncate(microsecond)
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", e.Type, err)
	}
	if err := tx.Exec(`INSERT INTO events (shop_id, type, actor_kind, actor_id, conversation_id, buyer_id, agent_id,
	message_id, seq, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ShopID, string(e.Type), string(e.Actor.Kind), e.Actor.ID,
		e.ConversationID, e.BuyerID, e.AgentID, e.MessageID, e.Seq, string(data), e.CreatedAt).Error; err != nil {
		return fmt.Errorf("write %s event: %w", e.Type, err)
	}
	return nil
}

// sql spells a statement written with PostgreSQL's $N parameters for the
// store's database: SQLite numbers them ?N.
func (s *Store) sql(query string) string {
	if s.dialect.name == postgresDialect.name {
		return query
	}
	return strings.ReplaceAll(query, "$", "?")
}

// messageEvent is the event a stored message writes beside it.
func messageEvent(m kefu.Message, conv kefu.Conversation) kefu.Event {
	return kefu.Event{ShopID: m.ShopID, Type: kefu.EventMessage, Actor: kefu.ActorRef{Kind: m.Sender, ID: m.SenderID},
		ConversationID: m.ConversationID, BuyerID: conv.BuyerID, AgentID: conv.AgentID, MessageID: m.ID, Seq: m.Seq,
		Data: kefu.EventData{}, CreatedAt: m.CreatedAt}
}

// RecordPresence writes an agent's change of effective presence to the
// shop's log (EventPresence); by is the agent, or kefu itself when a grace
// period ended. Presence itself lives outside the database
// (conversation.Presence); the log keeps its history for reports.
// committed, if not nil, is told the change after the commit.
func (s *Store) RecordPresence(ctx context.Context, shopID, agentID int64, p kefu.Presence, by kefu.ActorRef, committed func(kefu.Change)) error {
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventPresence,
			Actor: by, AgentID: agentID, Data: kefu.EventData{Presence: p}})
		if err != nil {
			return nil, err
		}
		return []kefu.Change{{Event: e}}, nil
	}, committed)
	if err != nil {
		return fmt.Errorf("store: record presence of agent %d: %w", agentID, err)
	}
	return nil
}
