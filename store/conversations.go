package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu/kefu"
)

type conversationRow struct {
	ID           int64 `gorm:"primaryKey"`
	ShopID       int64
	BuyerID      int64
	AgentID      *int64
	Status       string
	LastSeq      int64
	AgentReadSeq int64
	BuyerReadSeq int64
	CreatedAt    time.Time
	QueuedAt     time.Time
	AssignedAt   *time.Time
	ClosedAt     *time.Time
}

func (conversationRow) TableName() string { return "conversations" }

func (r conversationRow) conversation() kefu.Conversation {
	c := kefu.Conversation{ID: r.ID, ShopID: r.ShopID, BuyerID: r.BuyerID, Status: kefu.ConversationStatus(r.Status),
		LastSeq: r.LastSeq, AgentReadSeq: r.AgentReadSeq, BuyerReadSeq: r.BuyerReadSeq,
		CreatedAt: r.CreatedAt, QueuedAt: r.QueuedAt, AssignedAt: r.AssignedAt, ClosedAt: r.ClosedAt}
	if r.AgentID != nil {
		c.AgentID = *r.AgentID
	}
	return c
}

func rowOf(c kefu.Conversation) conversationRow {
	r := conversationRow{ID: c.ID, ShopID: c.ShopID, BuyerID: c.BuyerID, Status: string(c.Status), LastSeq: c.LastSeq,
		AgentReadSeq: c.AgentReadSeq, BuyerReadSeq: c.BuyerReadSeq, CreatedAt: c.CreatedAt, QueuedAt: c.QueuedAt,
		AssignedAt: c.AssignedAt, ClosedAt: c.ClosedAt}
	if c.AgentID != 0 {
		id := c.AgentID
		r.AgentID = &id
	}
	return r
}

// OpenConversation returns the buyer's open conversation, or starts a queued
// one. created says whether it is new.
func (s *Store) OpenConversation(ctx context.Context, shopID, buyerID int64) (kefu.Conversation, bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	db := s.db.WithContext(ctx)
	for attempt := 0; attempt < 2; attempt++ {
		var row conversationRow
		err := s.rdb.WithContext(ctx).Where("shop_id = ? AND buyer_id = ? AND status <> ?", shopID, buyerID, kefu.StatusClosed).Limit(1).Find(&row).Error
		if err != nil {
			return kefu.Conversation{}, false, fmt.Errorf("store: find open conversation of buyer %d: %w", buyerID, err)
		}
		if row.ID != 0 {
			return row.conversation(), false, nil
		}
		if err := s.requireBuyer(ctx, shopID, buyerID); err != nil {
			return kefu.Conversation{}, false, err
		}
		now := s.now().UTC()
		row = conversationRow{ShopID: shopID, BuyerID: buyerID, Status: string(kefu.StatusQueued), CreatedAt: now, QueuedAt: now}
		err = db.Create(&row).Error
		if err == nil {
			return row.conversation(), true, nil
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

// OpenConversations lists every conversation not closed, in all shops, oldest
// queued first: what the router rebuilds its state from at start.
func (s *Store) OpenConversations(ctx context.Context) ([]kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []conversationRow
	if err := s.rdb.WithContext(ctx).Where("status <> ?", kefu.StatusClosed).Order("queued_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list open conversations: %w", err)
	}
	out := make([]kefu.Conversation, len(rows))
	for i, r := range rows {
		out[i] = r.conversation()
	}
	return out, nil
}

// AssignConversation gives an open conversation to an agent of the same
// shop. A closed conversation is kefu.ErrConversationClosed.
func (s *Store) AssignConversation(ctx context.Context, shopID, id, agentID int64) (kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	now := s.now().UTC()
	res := s.db.WithContext(ctx).Exec(`UPDATE conversations SET status = ?, agent_id = ?, assigned_at = ?
		WHERE shop_id = ? AND id = ? AND status <> ?
		AND EXISTS (SELECT 1 FROM agents WHERE agents.shop_id = ? AND agents.id = ?)`,
		kefu.StatusAssigned, agentID, now, shopID, id, kefu.StatusClosed, shopID, agentID)
	if res.Error != nil {
		return kefu.Conversation{}, fmt.Errorf("store: assign conversation %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		conv, err := s.Conversation(ctx, shopID, id)
		if err == nil && conv.Status == kefu.StatusClosed {
			return kefu.Conversation{}, fmt.Errorf("store: assign conversation %d: %w", id, kefu.ErrConversationClosed)
		}
		return kefu.Conversation{}, fmt.Errorf("store: assign conversation %d to agent %d: %w", id, agentID, kefu.ErrNotFound)
	}
	return s.Conversation(ctx, shopID, id)
}

// CloseConversation closes a conversation. changed is false when it was
// already closed: of two concurrent closes exactly one changes it, so only
// that caller undoes its routing. A non-zero byAgentID may close only a
// conversation waiting in the queue or held by that agent; otherwise
// kefu.ErrForbidden.
func (s *Store) CloseConversation(ctx context.Context, shopID, id, byAgentID int64) (conv kefu.Conversation, changed bool, err error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Exec(`UPDATE conversations SET status = ?, closed_at = ?
		WHERE shop_id = ? AND id = ? AND status <> ? AND (? = 0 OR status = ? OR agent_id = ?)`,
		kefu.StatusClosed, s.now().UTC(), shopID, id, kefu.StatusClosed, byAgentID, kefu.StatusQueued, byAgentID)
	if res.Error != nil {
		return kefu.Conversation{}, false, fmt.Errorf("store: close conversation %d: %w", id, res.Error)
	}
	conv, err = s.Conversation(ctx, shopID, id)
	if err == nil && res.RowsAffected == 0 && conv.Status != kefu.StatusClosed {
		return kefu.Conversation{}, false, fmt.Errorf("store: close conversation %d: held by agent %d: %w", id, conv.AgentID, kefu.ErrForbidden)
	}
	return conv, res.RowsAffected > 0, err
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
		q = q.Where("agent_id = ?", f.AgentID)
	}
	if f.BuyerID != 0 {
		q = q.Where("buyer_id = ?", f.BuyerID)
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
	CreatedAt      time.Time
}

func (messageRow) TableName() string { return "messages" }

func (r messageRow) message() kefu.Message {
	return kefu.Message{ID: r.ID, ShopID: r.ShopID, ConversationID: r.ConversationID, Seq: r.Seq, Kind: kefu.MessageKind(r.Kind),
		Sender: kefu.SenderKind(r.Sender), SenderID: r.SenderID, SenderName: r.SenderName, Text: r.Text, Code: r.Code,
		ClientMsgID: r.ClientMsgID, CreatedAt: r.CreatedAt}
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
