package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kefu/kefu"
)

type conversationRow struct {
	ID              int64 `gorm:"primaryKey"`
	ShopID          int64
	BuyerID         int64
	AgentID         *int64
	GroupID         int64
	Priority        int
	TransferFrom    int64
	TransferNote    string
	Helpers         string // agent ids, comma-separated: see kefu.Conversation.HelperIDs
	AwaitingSince   *time.Time
	AssistantFirst  bool
	Status          string
	LastSeq         int64
	AgentReadSeq    int64
	BuyerReadSeq    int64
	CreatedAt       time.Time
	QueuedAt        time.Time
	AssignedAt      *time.Time
	ClosedAt        *time.Time
	Rating          int
	RatingComment   string
	RatedAt         *time.Time
	RatingInvitedAt *time.Time
}

func (conversationRow) TableName() string { return "conversations" }

func (r conversationRow) conversation() kefu.Conversation {
	c := kefu.Conversation{ID: r.ID, ShopID: r.ShopID, BuyerID: r.BuyerID, GroupID: r.GroupID, Priority: r.Priority,
		TransferFromAgentID: r.TransferFrom, TransferNote: r.TransferNote, AwaitingSince: r.AwaitingSince,
		Status: kefu.ConversationStatus(r.Status), LastSeq: r.LastSeq, AgentReadSeq: r.AgentReadSeq, BuyerReadSeq: r.BuyerReadSeq,
		CreatedAt: r.CreatedAt, QueuedAt: r.QueuedAt, AssignedAt: r.AssignedAt, ClosedAt: r.ClosedAt, HelperIDs: parseIDs(r.Helpers),
		AssistantFirst: r.AssistantFirst, Rating: r.Rating, RatingComment: r.RatingComment, RatedAt: r.RatedAt, RatingInvitedAt: r.RatingInvitedAt}
	if r.AgentID != nil {
		c.AgentID = *r.AgentID
	}
	return c
}

func rowOf(c kefu.Conversation) conversationRow {
	r := conversationRow{ID: c.ID, ShopID: c.ShopID, BuyerID: c.BuyerID, GroupID: c.GroupID, Priority: c.Priority,
		TransferFrom: c.TransferFromAgentID, TransferNote: c.TransferNote, AwaitingSince: c.AwaitingSince, Status: string(c.Status), LastSeq: c.LastSeq,
		AgentReadSeq: c.AgentReadSeq, BuyerReadSeq: c.BuyerReadSeq, CreatedAt: c.CreatedAt, QueuedAt: c.QueuedAt,
		AssignedAt: c.AssignedAt, ClosedAt: c.ClosedAt, Helpers: formatIDs(c.HelperIDs), AssistantFirst: c.AssistantFirst,
		Rating: c.Rating, RatingComment: c.RatingComment, RatedAt: c.RatedAt, RatingInvitedAt: c.RatingInvitedAt}
	if c.AgentID != 0 {
		id := c.AgentID
		r.AgentID = &id
	}
	return r
}

// OpenConversation returns the buyer's open conversation, or starts a queued
// one for the whole shop. See StartConversation.
func (s *Store) OpenConversation(ctx context.Context, shopID, buyerID int64, committed func(kefu.Change)) (kefu.Conversation, bool, error) {
	return s.StartConversation(ctx, shopID, buyerID, 0, 0, false, nil, nil, committed)
}

// StartConversation returns the buyer's open conversation, or starts a
// queued one routed to groupID (0: the whole shop; a group the shop does not
// have counts as 0) at priority, with its EventQueued. A VIP buyer's
// conversation gets at least kefu.PriorityVIP. assistantFirst leaves it to the
// shop's assistant unless the buyer's own agents take it (bot-first; see
// kefu.Waiting). opening, if not nil, is stored as a new conversation's
// first message in the same transaction (the assistant's welcome). admit,
// if not nil, is asked before a new one is written, never when the buyer's
// open conversation is returned; its error is returned and nothing is
// written. created says whether it is new; committed, if not nil, is told the new
// conversation's changes after the commit.
func (s *Store) StartConversation(ctx context.Context, shopID, buyerID, groupID int64, priority int, assistantFirst bool,
	opening *kefu.Message, admit func() error, committed func(kefu.Change)) (kefu.Conversation, bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	for attempt := 0; attempt < 2; attempt++ {
		var row conversationRow
		err := s.rdb.WithContext(ctx).Where("shop_id = ? AND buyer_id = ? AND status <> ?", shopID, buyerID, kefu.StatusClosed).Limit(1).Find(&row).Error
		if err != nil {
			return kefu.Conversation{}, false, fmt.Errorf("store: find open conversation of buyer %d: %w", buyerID, err)
		}
		if row.ID != 0 {
			return row.conversation(), false, nil
		}
		if admit != nil && attempt == 0 {
			if err := admit(); err != nil {
				return kefu.Conversation{}, false, err
			}
		}
		var conv kefu.Conversation
		_, err = s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
			var vip bool
			err := tx.QueryRowContext(ctx, s.sql(`SELECT vip FROM buyers WHERE shop_id = $1 AND id = $2`), shopID, buyerID).Scan(&vip)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("buyer %d of shop %d: %w", buyerID, shopID, kefu.ErrNotFound)
			}
			if err != nil {
				return nil, err
			}
			if groupID, err = s.groupOrShop(ctx, tx, shopID, groupID); err != nil {
				return nil, err
			}
			now := s.now().UTC().Truncate(microsecond)
			conv = kefu.Conversation{ShopID: shopID, BuyerID: buyerID, GroupID: groupID, Status: kefu.StatusQueued, CreatedAt: now, QueuedAt: now}
			conv.Priority, conv.AssistantFirst = priority, assistantFirst
			if vip {
				conv.Priority = max(conv.Priority, kefu.PriorityVIP)
			}
			if err := tx.QueryRowContext(ctx, s.sql(`INSERT INTO conversations (shop_id, buyer_id, group_id, priority, status, last_seq,
				agent_read_seq, buyer_read_seq, created_at, queued_at, assistant_first) VALUES ($1, $2, $3, $4, $5, 0, 0, 0, $6, $6, $7) RETURNING id`),
				shopID, buyerID, groupID, conv.Priority, string(kefu.StatusQueued), now, assistantFirst).Scan(&conv.ID); err != nil {
				return nil, err
			}
			e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventQueued,
				Actor: kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyerID}, ConversationID: conv.ID, BuyerID: buyerID,
				Data: kefu.EventData{GroupID: groupID, AssistantFirst: assistantFirst}, CreatedAt: now})
			if err != nil {
				return nil, err
			}
			changes := []kefu.Change{{Event: e, Conversation: conv}}
			if opening != nil {
				m := *opening
				m.ShopID, m.ConversationID = shopID, conv.ID
				ch, err := s.appendIn(ctx, tx, m)
				if err != nil {
					return nil, err
				}
				conv.LastSeq = ch.Conversation.LastSeq
				changes = append(changes, ch)
			}
			return changes, nil
		}, committed)
		if err == nil {
			return conv, true, nil
		}
		if errors.Is(err, kefu.ErrNotFound) {
			return kefu.Conversation{}, false, fmt.Errorf("store: start conversation: %w", err)
		}
		if !isDuplicate(err) {
			return kefu.Conversation{}, false, fmt.Errorf("store: start conversation of buyer %d: %w", buyerID, err)
		}
	}
	return kefu.Conversation{}, false, fmt.Errorf("store: start conversation of buyer %d: %w", buyerID, kefu.ErrConflict)
}

// Conversation loads a conversation of the shop.
func (s *Store) Conversation(ctx context.Context, shopID, id int64) (kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row conversationRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND id = ?", shopID, id).Take(&row).Error; err != nil {
		return kefu.Conversation{}, notFound(err, "load conversation", id)
	}
	return row.conversation(), nil
}

// LatestConversation loads the buyer's most recent conversation, open or closed.
func (s *Store) LatestConversation(ctx context.Context, shopID, buyerID int64) (kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row conversationRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND buyer_id = ?", shopID, buyerID).Order("id DESC").Take(&row).Error; err != nil {
		return kefu.Conversation{}, notFound(err, "load latest conversation of buyer", buyerID)
	}
	return row.conversation(), nil
}

// AssignConversation gives an open conversation to an agent of the same
// shop, whatever it held before and whatever the agent's load (an owner's
// hand, not routing: RouteShop and TakeConversation are routing's), and stores announce(the agent's name) as its
// next message, with their events (EventAssigned, EventMessage), in one
// transaction inside the shop's routing serialization. by is who assigned
// it. A closed conversation is kefu.ErrConversationClosed. committed, if not
// nil, is told both changes after the commit.
func (s *Store) AssignConversation(ctx context.Context, shopID, id, agentID int64, by kefu.ActorRef,
	announce func(agentName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error) {
	var conv kefu.Conversation
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		var changes []kefu.Change
		var err error
		changes, conv, err = s.assignIn(ctx, tx, shopID, id, agentID, by, announce, false)
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: assign conversation %d to agent %d: %w", id, agentID, err)
	}
	return conv, nil
}

// assignIn gives conversation id to agentID inside tx, with the agent's
// announcement line, and returns both changes. queuedOnly refuses a
// conversation that is not waiting (kefu.ErrConflict, or
// kefu.ErrConversationClosed); a disabled agent is kefu.ErrForbidden.
func (s *Store) assignIn(ctx context.Context, tx *sql.Tx, shopID, id, agentID int64, by kefu.ActorRef,
	announce func(agentName string) kefu.Message, queuedOnly bool) ([]kefu.Change, kefu.Conversation, error) {
	var name string
	var disabled bool
	err := tx.QueryRowContext(ctx, s.sql(`SELECT name, disabled FROM agents WHERE shop_id = $1 AND id = $2`), shopID, agentID).Scan(&name, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kefu.Conversation{}, fmt.Errorf("agent %d: %w", agentID, kefu.ErrNotFound)
	}
	if err != nil {
		return nil, kefu.Conversation{}, err
	}
	if disabled {
		// An agent disabled a moment ago may still have a socket open.
		return nil, kefu.Conversation{}, fmt.Errorf("agent %d is disabled: %w", agentID, kefu.ErrForbidden)
	}
	now := s.now().UTC().Truncate(microsecond)
	from := "status <> 'closed'"
	if queuedOnly {
		from = "status = 'queued'"
	}
	// A person has it now: whatever the shop's assistant was answering first
	// is over.
	res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET status = $1, agent_id = $2, assigned_at = $3, assistant_first = FALSE, holding_replied = FALSE
		WHERE shop_id = $4 AND id = $5 AND `+from), string(kefu.StatusAssigned), agentID, now, shopID, id)
	if err != nil {
		return nil, kefu.Conversation{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = s.whyNotOpen(ctx, tx, shopID, id)
		}
		return nil, kefu.Conversation{}, err
	}
	if _, err := tx.ExecContext(ctx, s.sql(`UPDATE agents SET last_assigned_at = $1 WHERE shop_id = $2 AND id = $3`), now, shopID, agentID); err != nil {
		return nil, kefu.Conversation{}, err
	}
	conv, err := s.conversationIn(ctx, tx, shopID, id)
	if err != nil {
		return nil, kefu.Conversation{}, err
	}
	if conv.Helps(agentID) {
		// A helper given the conversation (a take-over) holds it now.
		conv.HelperIDs = without(conv.HelperIDs, agentID)
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET helpers = $1 WHERE shop_id = $2 AND id = $3`),
			formatIDs(conv.HelperIDs), shopID, id); err != nil {
			return nil, kefu.Conversation{}, err
		}
	}
	e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventAssigned, Actor: by,
		ConversationID: id, BuyerID: conv.BuyerID, AgentID: agentID, CreatedAt: now})
	if err != nil {
		return nil, kefu.Conversation{}, err
	}
	assigned := kefu.Change{Event: e, Conversation: conv}
	m := announce(name)
	m.ShopID, m.ConversationID = shopID, id
	msg, err := s.appendIn(ctx, tx, m)
	if err != nil {
		return nil, kefu.Conversation{}, err
	}
	conv.LastSeq = msg.Conversation.LastSeq
	if assigned.Summary, err = s.summaryIn(ctx, tx, conv, name, msg.Message); err != nil {
		return nil, kefu.Conversation{}, err
	}
	return []kefu.Change{assigned, msg}, conv, nil
}

// CloseConversation closes a conversation and stores farewell as its last
// message, with their events (EventMessage, then EventClosed), in one
// transaction. changed is false when it was already closed: of two
// concurrent closes exactly one changes it, so only that caller undoes its
// routing. A non-zero byAgentID may close only a conversation waiting in the
// queue or held by that agent; otherwise kefu.ErrForbidden. by is who closed
// it. committed, if not nil, is told both changes after the commit.
func (s *Store) CloseConversation(ctx context.Context, shopID, id, byAgentID int64, by kefu.ActorRef, farewell kefu.Message,
	committed func(kefu.Change)) (conv kefu.Conversation, changed bool, err error) {
	_, err = s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		// A close frees a slot or shortens the line: it changes what a
		// routing decision reads, so it waits for one in progress.
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		now := s.now().UTC().Truncate(microsecond)
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET status = 'closed', closed_at = $1
			WHERE shop_id = $2 AND id = $3 AND status <> 'closed' AND ($4 = 0 OR status = 'queued' OR agent_id = $4)`),
			now, shopID, id, byAgentID)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if conv, err = s.conversationIn(ctx, tx, shopID, id); err != nil {
			return nil, err
		}
		if n == 0 {
			if conv.Status != kefu.StatusClosed {
				return nil, fmt.Errorf("held by agent %d: %w", conv.AgentID, kefu.ErrForbidden)
			}
			return nil, nil
		}
		changed = true
		var agentName string
		if conv.AgentID != 0 {
			if err := tx.QueryRowContext(ctx, s.sql(`SELECT name FROM agents WHERE shop_id = $1 AND id = $2`), shopID, conv.AgentID).
				Scan(&agentName); err != nil {
				return nil, err
			}
		}
		var changes []kefu.Change
		conv, changes, err = s.lineThenEvent(ctx, tx, farewell,
			kefu.Event{ShopID: shopID, Type: kefu.EventClosed, Actor: by, ConversationID: id, AgentID: conv.AgentID, CreatedAt: now}, agentName)
		if err != nil || len(conv.HelperIDs) == 0 {
			return changes, err
		}
		// The helpers hear the farewell and the close (the changes' state
		// names them, so the fan-out tells them); then they are let go, and
		// the closed conversation as lists show it has none.
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET helpers = '' WHERE shop_id = $1 AND id = $2`), shopID, id); err != nil {
			return nil, err
		}
		conv.HelperIDs = nil
		last := &changes[len(changes)-1]
		if last.Summary != nil {
			sum := *last.Summary
			sum.HelperIDs = nil
			last.Summary = &sum
		}
		return changes, nil
	}, committed)
	if err != nil {
		return kefu.Conversation{}, false, fmt.Errorf("store: close conversation %d: %w", id, err)
	}
	return conv, changed, nil
}

// groupOrShop is groupID if it names a group of the shop, else 0 (the
// whole shop): a store page or a rule out of date must not keep a buyer
// from an agent.
func (s *Store) groupOrShop(ctx context.Context, tx *sql.Tx, shopID, groupID int64) (int64, error) {
	if groupID == 0 {
		return 0, nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM agent_groups WHERE shop_id = $1 AND id = $2`), shopID, groupID).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	return groupID, nil
}

// appendIn stores a message of kefu's own inside a command's transaction,
// with its event, and returns its change.
func (s *Store) appendIn(ctx context.Context, tx *sql.Tx, m kefu.Message) (kefu.Change, error) {
	r, err := s.appendOne(ctx, s.appendStmts.in(ctx, tx), &appendRequest{msg: m})
	if err != nil {
		return kefu.Change{}, err
	}
	if !r.stored {
		return kefu.Change{}, fmt.Errorf("append to conversation %d: %w", m.ConversationID, kefu.ErrNotFound)
	}
	return kefu.Change{Event: r.event, Conversation: r.conv, Message: &r.msg}, nil
}

// lineThenEvent is how a command that changed a conversation ends: it
// stores m (kefu's line about the change) as the conversation's next
// message, then e, and returns the conversation after both and their
// changes in that order, e's carrying the conversation as a list shows it
// (agentName its agent's; its place if it waits), so its frame shows the
// line as the last message.
func (s *Store) lineThenEvent(ctx context.Context, tx *sql.Tx, m kefu.Message, e kefu.Event, agentName string) (kefu.Conversation, []kefu.Change, error) {
	m.ShopID, m.ConversationID = e.ShopID, e.ConversationID
	msg, err := s.appendIn(ctx, tx, m)
	if err != nil {
		return kefu.Conversation{}, nil, err
	}
	conv, err := s.conversationIn(ctx, tx, e.ShopID, e.ConversationID)
	if err != nil {
		return kefu.Conversation{}, nil, err
	}
	e.BuyerID = conv.BuyerID
	if e, err = s.insertEvent(ctx, tx, e); err != nil {
		return kefu.Conversation{}, nil, err
	}
	change := kefu.Change{Event: e, Conversation: conv}
	if change.Summary, err = s.summaryIn(ctx, tx, conv, agentName, msg.Message); err != nil {
		return kefu.Conversation{}, nil, err
	}
	if conv.Status == kefu.StatusQueued {
		if err := tx.QueryRowContext(ctx, s.sql(queuePositionSQL), conv.ShopID, conv.ID).Scan(&change.Position); err != nil {
			return kefu.Conversation{}, nil, err
		}
	}
	return conv, []kefu.Change{msg, change}, nil
}

// conversationIn reads a conversation inside tx.
func (s *Store) conversationIn(ctx context.Context, tx *sql.Tx, shopID, id int64) (kefu.Conversation, error) {
	var r conversationRow
	err := tx.QueryRowContext(ctx, s.sql(`SELECT id, shop_id, buyer_id, agent_id, group_id, priority, transfer_from, transfer_note, helpers,
		awaiting_since, status, last_seq, agent_read_seq, buyer_read_seq, created_at, queued_at, assigned_at, closed_at, assistant_first,
		rating, rating_comment, rated_at, rating_invited_at
		FROM conversations WHERE shop_id = $1 AND id = $2`), shopID, id).
		Scan(&r.ID, &r.ShopID, &r.BuyerID, &r.AgentID, &r.GroupID, &r.Priority, &r.TransferFrom, &r.TransferNote, &r.Helpers, &r.AwaitingSince,
			&r.Status, &r.LastSeq, &r.AgentReadSeq, &r.BuyerReadSeq, &r.CreatedAt, &r.QueuedAt, &r.AssignedAt, &r.ClosedAt, &r.AssistantFirst,
			&r.Rating, &r.RatingComment, &r.RatedAt, &r.RatingInvitedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return kefu.Conversation{}, fmt.Errorf("conversation %d: %w", id, kefu.ErrNotFound)
	}
	if err != nil {
		return kefu.Conversation{}, err
	}
	return r.conversation(), nil
}

// summaryIn is conv as a list shows it, read inside a command's transaction
// that just stored last as its last message.
func (s *Store) summaryIn(ctx context.Context, tx *sql.Tx, conv kefu.Conversation, agentName string, last *kefu.Message) (*kefu.ConversationSummary, error) {
	sum := &kefu.ConversationSummary{Conversation: conv, AgentName: agentName, LastMessage: last}
	var b buyerRow
	if err := tx.QueryRowContext(ctx, s.sql(`SELECT id, shop_id, visitor_id, external_id, name, created_at FROM buyers
		WHERE shop_id = $1 AND id = $2`), conv.ShopID, conv.BuyerID).Scan(&b.ID, &b.ShopID, &b.VisitorID, &b.ExternalID, &b.Name, &b.CreatedAt); err != nil {
		return nil, fmt.Errorf("load buyer %d: %w", conv.BuyerID, err)
	}
	sum.Buyer = b.buyer()
	if err := tx.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM messages WHERE shop_id = $1 AND conversation_id = $2
		AND seq > $3 AND sender = 'buyer'`), conv.ShopID, conv.ID, conv.AgentReadSeq).Scan(&sum.Unread); err != nil {
		return nil, fmt.Errorf("count unread: %w", err)
	}
	return sum, nil
}

// whyNotOpen explains an update of an open conversation that changed no row.
func (s *Store) whyNotOpen(ctx context.Context, tx *sql.Tx, shopID, id int64) error {
	conv, err := s.conversationIn(ctx, tx, shopID, id)
	if err != nil {
		return err
	}
	if conv.Status == kefu.StatusClosed {
		return fmt.Errorf("conversation %d: %w", id, kefu.ErrConversationClosed)
	}
	return fmt.Errorf("conversation %d: %w", id, kefu.ErrConflict)
}

// MarkRead records that one side has read up to seq. It never moves backwards
// nor past the last message.
func (s *Store) MarkRead(ctx context.Context, shopID, id int64, reader kefu.SenderKind, seq int64) (kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	column := "agent_read_seq"
	if reader == kefu.SenderBuyer {
		column = "buyer_read_seq"
	}
	err := s.db.WithContext(ctx).Exec(`UPDATE conversations SET `+column+` = ? WHERE shop_id = ? AND id = ? AND `+column+` < ? AND last_seq >= ?`,
		seq, shopID, id, seq, seq).Error
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: mark conversation %d read: %w", id, err)
	}
	return s.Conversation(ctx, shopID, id)
}

// ListConversations lists the shop's conversations, newest first (the queue
// alone: oldest first), with buyer, agent name, unread count and last message.
func (s *Store) ListConversations(ctx context.Context, shopID int64, f kefu.ConversationFilter) ([]kefu.ConversationSummary, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if f.Limit <= 0 || f.Limit > kefu.MaxPageSize {
		f.Limit = kefu.MaxPageSize
	}
	q := s.rdb.WithContext(ctx).Where("shop_id = ?", shopID)
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.AgentID != 0 {
		// Closed conversations have no helpers: their lists (history, the
		// long ones) keep to the agent_id index.
		if len(f.Statuses) == 1 && f.Statuses[0] == kefu.StatusClosed {
			q = q.Where("agent_id = ?", f.AgentID)
		} else {
			q = q.Where("(agent_id = ? OR (helpers <> '' AND ',' || helpers || ',' LIKE ?))", f.AgentID, "%,"+strconv.FormatInt(f.AgentID, 10)+",%")
		}
	}
	if f.BeforeID != 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.BuyerID != 0 {
		q = q.Where("buyer_id = ?", f.BuyerID)
	}
	if f.OrderNo != "" {
		q = q.Where(`id IN (SELECT co.conversation_id FROM conversation_orders co JOIN orders o ON o.id = co.order_id
			WHERE co.shop_id = ? AND o.shop_id = ? AND o.order_no = ?)`, shopID, shopID, f.OrderNo)
	}
	// The queue reads oldest first (the order buyers are served in); every
	// other list newest first.
	order := "id DESC"
	if len(f.Statuses) == 1 && f.Statuses[0] == kefu.StatusQueued {
		order = "id ASC"
	}
	var rows []conversationRow
	if err := q.Order(order).Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list conversations of shop %d: %w", shopID, err)
	}
	return s.summarize(ctx, shopID, rows)
}

// Summarize wraps one conversation the way ListConversations does.
// c is taken as it is (callers hold it fresh from the store); only the
// details around it are read.
func (s *Store) Summarize(ctx context.Context, c kefu.Conversation) (kefu.ConversationSummary, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	list, err := s.summarize(ctx, c.ShopID, []conversationRow{rowOf(c)})
	if err != nil {
		return kefu.ConversationSummary{}, err
	}
	return list[0], nil
}

// summarize adds buyer, agent name, unread count and last message to rows,
// with one query for each kind of detail whatever the number of rows.
func (s *Store) summarize(ctx context.Context, shopID int64, rows []conversationRow) ([]kefu.ConversationSummary, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	buyerIDs := make([]int64, 0, len(rows))
	agentIDs := []int64{}
	for i, r := range rows {
		ids[i] = r.ID
		buyerIDs = append(buyerIDs, r.BuyerID)
		if r.AgentID != nil {
			agentIDs = append(agentIDs, *r.AgentID)
		}
	}
	db := s.rdb.WithContext(ctx)

	var buyers []buyerRow
	if err := db.Where("shop_id = ? AND id IN ?", shopID, buyerIDs).Find(&buyers).Error; err != nil {
		return nil, fmt.Errorf("store: summarize conversations: load buyers: %w", err)
	}
	buyerByID := map[int64]kefu.Buyer{}
	for _, b := range buyers {
		buyerByID[b.ID] = b.buyer()
	}
	agentName := map[int64]string{}
	if len(agentIDs) > 0 {
		var agents []agentRow
		if err := db.Select("id", "name").Where("shop_id = ? AND id IN ?", shopID, agentIDs).Find(&agents).Error; err != nil {
			return nil, fmt.Errorf("store: summarize conversations: load agents: %w", err)
		}
		for _, a := range agents {
			agentName[a.ID] = a.Name
		}
	}
	var last []messageRow
	if err := db.Raw(`SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id AND m.seq = c.last_seq
		WHERE c.shop_id = ? AND c.id IN ?`, shopID, ids).Scan(&last).Error; err != nil {
		return nil, fmt.Errorf("store: summarize conversations: load last messages: %w", err)
	}
	lastByConv := map[int64]kefu.Message{}
	for _, m := range last {
		lastByConv[m.ConversationID] = m.message()
	}
	var unread []struct {
		ConversationID int64
		N              int64
	}
	if err := db.Raw(`SELECT m.conversation_id, COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.shop_id = ? AND c.id IN ? AND m.sender = ? AND m.seq > c.agent_read_seq GROUP BY m.conversation_id`,
		shopID, ids, kefu.SenderBuyer).Scan(&unread).Error; err != nil {
		return nil, fmt.Errorf("store: summarize conversations: count unread: %w", err)
	}
	unreadByConv := map[int64]int64{}
	for _, u := range unread {
		unreadByConv[u.ConversationID] = u.N
	}
	out := make([]kefu.ConversationSummary, len(rows))
	for i, r := range rows {
		c := r.conversation()
		out[i] = kefu.ConversationSummary{Conversation: c, Buyer: buyerByID[c.BuyerID], AgentName: agentName[c.AgentID],
			Unread: unreadByConv[c.ID]}
		if m, ok := lastByConv[c.ID]; ok {
			out[i].LastMessage = &m
		}
	}
	return out, nil
}

type messageRow struct {
	ID             int64 `gorm:"primaryKey"`
	ShopID         int64
	ConversationID int64
	Seq            int64
	Kind           string
	Sender         string
	SenderID       int64
	SenderName     string
	Text           string
	Code           string
	ClientMsgID    string
	RuleID         int64
	QuickReplies   string
	Card           string
	CreatedAt      time.Time
	Hash           string
}

func (messageRow) TableName() string { return "messages" }

func (r messageRow) message() kefu.Message {
	return kefu.Message{ID: r.ID, ShopID: r.ShopID, ConversationID: r.ConversationID, Seq: r.Seq, Kind: kefu.MessageKind(r.Kind),
		Sender: kefu.SenderKind(r.Sender), SenderID: r.SenderID, SenderName: r.SenderName, Text: r.Text, Code: r.Code,
		ClientMsgID: r.ClientMsgID, RuleID: r.RuleID, QuickReplies: parseQuickReplies(r.QuickReplies), Card: parseCard(r.Card),
		CreatedAt: r.CreatedAt, Hash: r.Hash}
}

// MessageByClientID finds the message a sender stored under a client message id.
func (s *Store) MessageByClientID(ctx context.Context, shopID int64, sender kefu.SenderKind, senderID int64, clientMsgID string) (kefu.Message, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return s.messageByClientID(ctx, kefu.Message{ShopID: shopID, Sender: sender, SenderID: senderID, ClientMsgID: clientMsgID})
}

func (s *Store) messageByClientID(ctx context.Context, m kefu.Message) (kefu.Message, error) {
	var row messageRow
	// The client_msg_id <> '' term lets the planner use the partial unique index.
	err := s.rdb.WithContext(ctx).Where("shop_id = ? AND sender = ? AND sender_id = ? AND client_msg_id = ? AND client_msg_id <> ''",
		m.ShopID, m.Sender, m.SenderID, m.ClientMsgID).Take(&row).Error
	if err != nil {
		return kefu.Message{}, notFound(err, "load message by client id", m.ClientMsgID)
	}
	return row.message(), nil
}

// Messages returns up to limit messages of a conversation with seq > afterSeq,
// in seq order, and whether more follow.
func (s *Store) Messages(ctx context.Context, shopID, conversationID, afterSeq int64, limit int) ([]kefu.Message, bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if limit <= 0 || limit > kefu.MaxPageSize {
		limit = kefu.DefaultPageSize
	}
	var rows []messageRow
	err := s.rdb.WithContext(ctx).Where("shop_id = ? AND conversation_id = ? AND seq > ?", shopID, conversationID, afterSeq).
		Order("seq").Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return nil, false, fmt.Errorf("store: list messages of conversation %d: %w", conversationID, err)
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]kefu.Message, len(rows))
	for i, r := range rows {
		out[i] = r.message()
	}
	return out, more, nil
}

// requireBuyer fails with kefu.ErrNotFound unless the buyer belongs to the shop.
func (s *Store) requireBuyer(ctx context.Context, shopID, buyerID int64) error {
	var n int64
	if err := s.rdb.WithContext(ctx).Raw(`SELECT COUNT(*) FROM buyers WHERE shop_id = ? AND id = ?`, shopID, buyerID).Scan(&n).Error; err != nil {
		return fmt.Errorf("store: check buyer %d: %w", buyerID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: buyer %d of shop %d: %w", buyerID, shopID, kefu.ErrNotFound)
	}
	return nil
}

// parseIDs reads a comma-separated list of ids (the helpers column).
func parseIDs(s string) []int64 {
	if s == "" {
		return nil
	}
	var ids []int64
	for _, f := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// formatIDs writes ids as parseIDs reads them.
func formatIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}
