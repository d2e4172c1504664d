package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/history"
)

// importParams bounds the parameters of one multi-row INSERT: below
// SQLite's 32,766 and PostgreSQL's 65,535.
const importParams = 30000

// ImportHistory stores a generated past (internal/history) in the shop: its
// buyers, orders with their status history, conversations, messages (each
// with its link of the tamper-evident chain, as the message path computes
// it), order links and events, in one transaction of multi-row INSERTs.
// The rows get ids from the database, in the history's order, so the
// imported events' ids ascend with their times; the history's local ids
// are mapped to them. Agents and groups are named by their real ids. On
// SQLite the search indexer picks the messages up after the commit, as it
// does the message writer's.
//
// It writes beside the message writer, not through it: meant for a shop
// nobody uses yet (the demo's first start, benchmarks). A generated buyer's
// id or order number the shop already has fails the import as a whole.
func (s *Store) ImportHistory(ctx context.Context, shopID int64, h history.History) error {
	tx, err := s.sqlW.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: import history of shop %d: %w", shopID, err)
	}
	defer tx.Rollback()
	im := historyImport{s: s, tx: tx, ctx: ctx, shopID: shopID, h: h}
	if err := im.run(); err != nil {
		return fmt.Errorf("store: import history of shop %d: %w", shopID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: import history of shop %d: %w", shopID, err)
	}
	s.nudgeIndexer()
	return nil
}

type historyImport struct {
	s      *Store
	tx     *sql.Tx
	ctx    context.Context
	shopID int64
	h      history.History
	// The real ids of the local ids 1..n (index 0 unused).
	buyers, orders, convs, msgs []int64
}

func (im *historyImport) run() error {
	h := im.h
	var err error
	if im.buyers, err = im.ids("buyers", len(h.Buyers)); err != nil {
		return err
	}
	if err := im.insert("buyers", []string{"id", "shop_id", "visitor_id", "external_id", "name", "created_at"}, len(h.Buyers),
		func(i int, a []any) []any {
			b := h.Buyers[i]
			return append(a, im.buyers[b.ID], im.shopID, b.VisitorID, b.ExternalID, b.Name, utc(b.CreatedAt))
		}); err != nil {
		return err
	}
	if err := im.importOrders(); err != nil {
		return err
	}
	if im.convs, err = im.ids("conversations", len(h.Conversations)); err != nil {
		return err
	}
	if im.msgs, err = im.ids("messages", len(h.Messages)); err != nil {
		return err
	}
	msgs, heads, err := im.chain()
	if err != nil {
		return err
	}
	if err := im.importConversations(heads); err != nil {
		return err
	}
	if err := im.importMessages(msgs); err != nil {
		return err
	}
	if err := im.insert("conversation_orders", []string{"shop_id", "conversation_id", "order_id", "linked_by_kind", "linked_by_id", "created_at"},
		len(h.Links), func(i int, a []any) []any {
			l := h.Links[i]
			return append(a, im.shopID, im.convs[l.ConversationID], im.orders[l.OrderID], string(l.By.Kind), im.actor(l.By), utc(l.At))
		}); err != nil {
		return err
	}
	return im.importEvents()
}

func (im *historyImport) importOrders() error {
	h := im.h
	var err error
	if im.orders, err = im.ids("orders", len(h.Orders)); err != nil {
		return err
	}
	items := make([]string, len(h.Orders))
	statuses := 0
	for i, o := range h.Orders {
		b, err := json.Marshal(orderItems(o.Items))
		if err != nil {
			return fmt.Errorf("encode items of order %s: %w", o.OrderNo, err)
		}
		items[i] = string(b)
		statuses += len(o.History)
	}
	if err := im.insert("orders", []string{"id", "shop_id", "buyer_id", "order_no", "status", "amount_cents", "currency", "items",
		"tracking_no", "created_at", "status_at", "updated_at"}, len(h.Orders), func(i int, a []any) []any {
		o := h.Orders[i]
		return append(a, im.orders[o.ID], im.shopID, im.buyers[o.BuyerID], o.OrderNo, o.Status, o.AmountCents, o.Currency, items[i],
			o.TrackingNo, utc(o.CreatedAt), utc(o.StatusAt), utc(o.UpdatedAt))
	}); err != nil {
		return err
	}
	type status struct {
		order int64
		kefu.OrderStatusChange
	}
	all := make([]status, 0, statuses)
	for _, o := range h.Orders {
		for _, c := range o.History {
			all = append(all, status{im.orders[o.ID], c})
		}
	}
	ids, err := im.ids("order_status_history", len(all))
	if err != nil {
		return err
	}
	return im.insert("order_status_history", []string{"id", "shop_id", "order_id", "status", "at"}, len(all), func(i int, a []any) []any {
		return append(a, ids[i+1], im.shopID, all[i].order, all[i].Status, utc(all[i].At))
	})
}

// importConversations writes the conversations; on PostgreSQL each keeps
// its chain's last link (migration 28), heads.
func (im *historyImport) importConversations(heads map[int64]string) error {
	h := im.h
	cols := []string{"id", "shop_id", "buyer_id", "agent_id", "group_id", "priority", "transfer_from", "transfer_note", "helpers",
		"awaiting_since", "nudged_at", "abandoned_at", "assistant_first", "status", "last_seq", "agent_read_seq", "buyer_read_seq",
		"created_at", "queued_at", "assigned_at", "closed_at", "rating", "rating_comment", "rated_at"}
	if im.s.dialect.name == postgresDialect.name {
		cols = append(cols, "chain_head")
	}
	return im.insert("conversations", cols, len(h.Conversations), func(i int, a []any) []any {
		c := h.Conversations[i]
		var agent any
		if c.AgentID != 0 {
			agent = c.AgentID
		}
		id := im.convs[c.ID]
		a = append(a, id, im.shopID, im.buyers[c.BuyerID], agent, c.GroupID, c.Priority, c.TransferFromAgentID, c.TransferNote,
			formatIDs(c.HelperIDs), utcp(c.AwaitingSince), utcp(c.NudgedAt), utcp(c.AbandonedAt), c.AssistantFirst, string(c.Status),
			c.LastSeq, c.AgentReadSeq, c.BuyerReadSeq, utc(c.CreatedAt), utc(c.QueuedAt), utcp(c.AssignedAt), utcp(c.ClosedAt),
			c.Rating, c.RatingComment, utcp(c.RatedAt))
		if im.s.dialect.name == postgresDialect.name {
			a = append(a, heads[id])
		}
		return a
	})
}

// chain is the history's messages under their ids, each with its link of
// the tamper-evident chain computed as the message path does (append.go),
// and the last link of each conversation.
func (im *historyImport) chain() ([]kefu.Message, map[int64]string, error) {
	h := im.h
	type link struct {
		seq  int64
		hash string
	}
	chains := make(map[int64]link, len(h.Conversations))
	msgs := make([]kefu.Message, len(h.Messages))
	for i, m := range h.Messages {
		m.ID, m.ShopID, m.ConversationID = im.msgs[m.ID], im.shopID, im.convs[m.ConversationID]
		m.CreatedAt = utc(m.CreatedAt)
		if m.Sender == kefu.SenderBuyer {
			m.SenderID = im.buyers[m.SenderID]
		}
		c := chains[m.ConversationID]
		if m.Seq != c.seq+1 {
			return nil, nil, fmt.Errorf("message %d of conversation %d has seq %d after %d", i+1, m.ConversationID, m.Seq, c.seq)
		}
		m.Hash = kefu.ChainHash(c.hash, m.Seq, kefu.MessageDigest(m))
		chains[m.ConversationID] = link{m.Seq, m.Hash}
		msgs[i] = m
	}
	heads := make(map[int64]string, len(chains))
	for id, c := range chains {
		heads[id] = c.hash
	}
	return msgs, heads, nil
}

// importMessages writes the chained messages.
func (im *historyImport) importMessages(msgs []kefu.Message) error {
	return im.insert("messages", []string{"id", "shop_id", "conversation_id", "seq", "kind", "sender", "sender_id", "sender_name", "text",
		"code", "client_msg_id", "created_at", "rule_id", "quick_replies", "card", "hash"}, len(msgs), func(i int, a []any) []any {
		m := msgs[i]
		return append(a, m.ID, m.ShopID, m.ConversationID, m.Seq, string(m.Kind), string(m.Sender), m.SenderID, m.SenderName, m.Text,
			m.Code, m.ClientMsgID, m.CreatedAt, m.RuleID, quickReplies(m.QuickReplies), cardJSON(m.Card), m.Hash)
	})
}

func (im *historyImport) importEvents() error {
	h := im.h
	ids, err := im.ids("events", len(h.Events))
	if err != nil {
		return err
	}
	return im.insert("events", []string{"id", "shop_id", "type", "actor_kind", "actor_id", "conversation_id", "buyer_id", "agent_id",
		"message_id", "seq", "data", "created_at"}, len(h.Events), func(i int, a []any) []any {
		e := h.Events[i]
		data := e.DataJSON
		if data == "" {
			data = "{}"
		}
		return append(a, ids[i+1], im.shopID, string(e.Type), string(e.Actor.Kind), im.actor(e.Actor), im.convs[e.ConversationID],
			im.buyers[e.BuyerID], e.AgentID, im.msgs[e.MessageID], e.Seq, data, utc(e.CreatedAt))
	})
}

// actor is the real id of who caused a change: a buyer's local id mapped.
func (im *historyImport) actor(a kefu.ActorRef) int64 {
	if a.Kind == kefu.SenderBuyer {
		return im.buyers[a.ID]
	}
	return a.ID
}

// ids takes n new ids of table, ascending, as its own inserts would: the
// result's index i holds the id of local id i (index 0 is 0, so a local id
// 0, "none", maps to 0). SQLite: the ids after the largest used, the
// transaction holding the write lock; PostgreSQL: taken from the table's
// sequence, so writers beside the import never collide with it.
func (im *historyImport) ids(table string, n int) ([]int64, error) {
	out := make([]int64, n+1)
	if n == 0 {
		return out, nil
	}
	if im.s.dialect.name == postgresDialect.name {
		rows, err := im.tx.QueryContext(im.ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
		if err != nil {
			return nil, fmt.Errorf("take ids of %s: %w", table, err)
		}
		defer rows.Close()
		i := 1
		for rows.Next() {
			if err := rows.Scan(&out[i]); err != nil {
				return nil, err
			}
			i++
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		slices.Sort(out[1:])
		return out, nil
	}
	var top int64
	if err := im.tx.QueryRowContext(im.ctx, `SELECT MAX(COALESCE((SELECT MAX(id) FROM `+table+`), 0),
		COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))`, table).Scan(&top); err != nil {
		return nil, fmt.Errorf("take ids of %s: %w", table, err)
	}
	for i := 1; i <= n; i++ {
		out[i] = top + int64(i)
	}
	return out, nil
}

// insert writes n rows into table, as many in one statement as the
// parameter bound allows; row appends the values of row i to a.
func (im *historyImport) insert(table string, cols []string, n int, row func(i int, a []any) []any) error {
	if n == 0 {
		return nil
	}
	per := importParams / len(cols)
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, per*len(cols))
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		var err error
		if end-start == per {
			if full == nil {
				if full, err = im.tx.PrepareContext(im.ctx, im.insertSQL(table, cols, per)); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(im.ctx, args...)
		} else {
			_, err = im.tx.ExecContext(im.ctx, im.insertSQL(table, cols, end-start), args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// insertSQL is a multi-row INSERT of rows rows.
func (im *historyImport) insertSQL(table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	p := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			p++
			if im.s.dialect.name == postgresDialect.name {
				b.WriteString("$" + strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// utc is t as the store keeps times: UTC, to the microsecond.
func utc(t time.Time) time.Time { return t.UTC().Truncate(microsecond) }

// utcp is utc for a time that may be absent (NULL).
func utcp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}
