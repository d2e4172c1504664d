// Package conversation is kefu's conversation service: it stores every
// message before anyone hears of it, routes new conversations to agents, and
// fans events out to the buyer's and agents' sockets through a Broker.
// Sockets, REST handlers and tests all go through it.
package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Errors the service returns besides kefu.ErrNotFound and kefu.ErrConversationClosed.
var (
	ErrForbidden = kefu.ErrForbidden
	ErrNotQueued = errors.New("conversation is not waiting in the queue")
)

// Store is what the service needs from storage.
type Store interface {
	StartConversation(ctx context.Context, shopID, buyerID, groupID int64, priority int, assistantFirst bool,
		opening *kefu.Message, admit func() error, committed func(kefu.Change)) (kefu.Conversation, bool, error)
	GroupBySlug(ctx context.Context, shopID int64, slug string) (kefu.Group, error)
	Groups(ctx context.Context, shopID int64) ([]kefu.Group, error)
	LatestOrders(ctx context.Context, shopID, buyerID int64, n int) ([]kefu.Order, error)
	Conversation(ctx context.Context, shopID, id int64) (kefu.Conversation, error)
	LatestConversation(ctx context.Context, shopID, buyerID int64) (kefu.Conversation, error)
	RouteShop(ctx context.Context, shopID int64, presence func(agentID int64) kefu.Presence, capBonus int,
		decide func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment,
		announce func(agentName string) kefu.Message, committed func(kefu.Change)) ([]kefu.Assignment, error)
	TakeConversation(ctx context.Context, shopID, id, agentID int64,
		announce func(agentName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error)
	Waiting(ctx context.Context, shopID int64) ([]kefu.Waiting, error)
	QueuePosition(ctx context.Context, conv kefu.Conversation) (int, error)
	ActiveConversations(ctx context.Context, shopID, agentID int64) (int, error)
	RecordPresence(ctx context.Context, shopID, agentID int64, p kefu.Presence, by kefu.ActorRef, committed func(kefu.Change)) error
	RequeueAgent(ctx context.Context, shopID, agentID int64, notice func(agentName string) kefu.Message, committed func(kefu.Change)) (int, error)
	UpdateAgent(ctx context.Context, shopID, agentID int64, ch kefu.AgentChange, by kefu.ActorRef, allow func(viewer, before kefu.Agent) error,
		notice, helperLeft func(agentName string) kefu.Message, committed func(kefu.Change)) (kefu.AgentUpdate, error)
	QuietConversations(ctx context.Context, now time.Time, shorter map[int64]int) ([]kefu.Conversation, error)
	SlowReplies(ctx context.Context, now time.Time) ([]kefu.Conversation, error)
	LongWaits(ctx context.Context, now time.Time) ([]kefu.Conversation, error)
	Abandon(ctx context.Context, shopID, buyerID int64, committed func(kefu.Change)) (bool, error)
	ReassignConversation(ctx context.Context, conv kefu.Conversation, presence func(agentID int64) kefu.Presence, capBonus int,
		decide func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment,
		line func(agentName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, bool, error)
	AutoAwayShops(ctx context.Context) (map[int64]int, error)
	Shop(ctx context.Context, id int64) (kefu.Shop, error)
	ReopenConversation(ctx context.Context, shopID, buyerID int64, within time.Duration, routable func(agentID int64) bool,
		line func(agentName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, bool, error)
	Nudge(ctx context.Context, conv kefu.Conversation, committed func(kefu.Change)) (bool, error)
	AgentsHoldingConversations(ctx context.Context) ([]kefu.Agent, error)
	TransferConversation(ctx context.Context, shopID, id, fromAgentID int64, by kefu.ActorRef, to kefu.Transfer,
		line func(targetName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error)
	InviteAgent(ctx context.Context, shopID, id, holderID, helperID int64, by kefu.ActorRef,
		line func(helperName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error)
	LeaveConversation(ctx context.Context, shopID, id, helperID int64, by kefu.ActorRef,
		line func(helperName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error)
	Agent(ctx context.Context, shopID, id int64) (kefu.Agent, error)
	Group(ctx context.Context, shopID, id int64) (kefu.Group, error)
	CloseConversation(ctx context.Context, shopID, id, byAgentID int64, by kefu.ActorRef, farewell kefu.Message,
		committed func(kefu.Change)) (kefu.Conversation, bool, error)
	MarkRead(ctx context.Context, shopID, id int64, reader kefu.SenderKind, seq int64) (kefu.Conversation, error)
	Append(ctx context.Context, m kefu.Message, rule kefu.WriteRule, committed func(kefu.Change)) (kefu.Message, bool, error)
	MessageByClientID(ctx context.Context, shopID int64, sender kefu.SenderKind, senderID int64, clientMsgID string) (kefu.Message, error)
	Messages(ctx context.Context, shopID, conversationID, afterSeq int64, limit int) ([]kefu.Message, bool, error)
	Summarize(ctx context.Context, c kefu.Conversation) (kefu.ConversationSummary, error)
	LinkOrder(ctx context.Context, shopID, conversationID int64, orderNo string, by kefu.ActorRef,
		committed func(kefu.Change)) (kefu.Order, bool, error)
	UnlinkOrder(ctx context.Context, shopID, conversationID int64, orderNo string, by kefu.ActorRef,
		committed func(kefu.Change)) (bool, error)
	ConversationOrders(ctx context.Context, shopID, conversationID int64) ([]kefu.Order, error)
	BuyerOrder(ctx context.Context, shopID, buyerID int64, orderNo string) (kefu.Order, error)
	Purge(ctx context.Context, now time.Time, committed func(kefu.Change)) (int, error)
	AllOverflowSettings(ctx context.Context) (map[int64]kefu.OverflowSettings, error)
	RateConversation(ctx context.Context, shopID, id, buyerID int64, stars int, comment string,
		committed func(kefu.Change)) (kefu.Conversation, error)
	InviteRating(ctx context.Context, shopID, id int64, by kefu.ActorRef, line kefu.Message,
		committed func(kefu.Change)) (kefu.Conversation, error)
	RecordShopEvent(ctx context.Context, shopID int64, typ kefu.EventType, data kefu.EventData, committed func(kefu.Change)) (kefu.Event, error)
}

// Actor is who asks: a buyer or an agent, always inside one shop.
type Actor struct {
	Kind   kefu.SenderKind // buyer or agent
	ID     int64
	ShopID int64
	Name   string
	Role   kefu.Role // agents only
	// Socket is the socket the actor writes on, if any. Send delivers the
	// ack of a message to it: a stored message's right behind its frame at
	// the commit (after routing, for a conversation that waits), a
	// duplicate's at once. The caller sends only refusals.
	Socket Subscriber
	// Entry is how a buyer came (the store page's group, the order they ask
	// about); it routes a conversation their message starts.
	Entry kefu.Entry
	// Address is the client's address (the socket's), for the admission
	// of a conversation their message starts; "" when not known.
	Address string
}

// BuyerActor is the actor for a buyer.
func BuyerActor(b kefu.Buyer) Actor {
	return Actor{Kind: kefu.SenderBuyer, ID: b.ID, ShopID: b.ShopID, Name: b.Name}
}

// AgentActor is the actor for an agent.
func AgentActor(a kefu.Agent) Actor {
	return Actor{Kind: kefu.SenderAgent, ID: a.ID, ShopID: a.ShopID, Name: a.Name, Role: a.Role}
}

// Service runs conversations.
//
// It keeps no routing state of its own: who holds what and who waits is in
// the store, and every decision is taken inside the store's per-shop
// serialization (RouteShop), so several processes on one database route one
// shop without putting an agent over cap or a conversation with two agents.
// Only presence (which sockets are open) lives beside it, in Presence.
type Service struct {
	store     Store
	presence  Presence
	broker    Broker
	consumers []Consumer // of committed changes, the fan-out first
	log       *slog.Logger
	now       func() time.Time
	line      *line
	overflow  *overflow
	buyers    *buyerSockets
	assistant Assistant // the bot-first hook; nil: none
	admission Admission // asked before a new conversation; nil: none
	lastSweep time.Time // of quiet conversations; Tick's goroutine only

	// mu orders presence changes with the presence frames that tell them,
	// so consoles see the last change last.
	mu sync.Mutex
}

// New returns a service. Every change the service commits is told to the
// socket fan-out, then to each of consumers in order.
func New(store Store, presence Presence, broker Broker, log *slog.Logger, consumers ...Consumer) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := newLine()
	return &Service{store: store, presence: presence, broker: broker, log: log, now: time.Now, line: l, overflow: newOverflow(), buyers: newBuyerSockets(),
		consumers: append([]Consumer{fanOut{broker: broker, log: log}, l}, consumers...)}
}

// SetClock makes the service, and its presence if it keeps time, read time
// from now (tests); time.Now otherwise.
func (s *Service) SetClock(now func() time.Time) {
	s.now = now
	if p, ok := s.presence.(interface{ SetClock(func() time.Time) }); ok {
		p.SetClock(now)
	}
}

// Broker returns the broker sockets subscribe to.
func (s *Service) Broker() Broker { return s.broker }

// Send stores a text message from the actor and delivers it. A buyer may pass
// conversationID 0 (or a closed one): the message goes to their open
// conversation, which is started and routed if there is none. A retried
// clientMsgID returns the first message with duplicate set.
//
// With actor.Socket set, the ack has been delivered to that socket when
// Send returns without an error (see Actor.Socket).
//
// The usual case costs one write and no read: the store checks, in the
// statement that writes, that the conversation is open and the sender's
// (the buyer's own, or held by the agent), and that the client id is new.
// Only a refusal is looked into.
func (s *Service) Send(ctx context.Context, actor Actor, conversationID int64, clientMsgID, text string) (kefu.Message, bool, error) {
	if e := protocol.ValidateClientMsgID(clientMsgID); e != nil {
		return kefu.Message{}, false, e
	}
	if e := protocol.ValidateText(text); e != nil {
		return kefu.Message{}, false, e
	}
	msg := kefu.Message{ShopID: actor.ShopID, ConversationID: conversationID, Kind: kefu.KindText, Sender: actor.Kind,
		SenderID: actor.ID, SenderName: actor.Name, Text: text, ClientMsgID: clientMsgID}
	if actor.Kind == kefu.SenderBuyer {
		return s.buyerSend(ctx, actor, msg)
	}
	return s.agentSend(ctx, actor, msg)
}

// sent is what the writer saw at the commit of one message.
type sent struct {
	conv kefu.Conversation
	ack  []byte // the ack, when it is to be delivered after routing
	// started: the message started its conversation (after the
	// assistant's welcome, if any).
	started bool
}

// appendAndPublish stores msg under rule; the consumers hear of it at its
// commit, in commit order, so every socket gets a conversation's messages in
// seq order. via is the socket it was sent on, if any: a message to a
// waiting conversation routes it, and its ack, held by the fan-out, follows
// the frames routing causes (docs/protocol.md).
func (s *Service) appendAndPublish(ctx context.Context, msg kefu.Message, rule kefu.WriteRule, via Subscriber) (kefu.Message, bool, sent, error) {
	var at sent
	origin := &Origin{Socket: via}
	tell := s.committed(origin)
	stored, dup, err := s.store.Append(ctx, msg, rule, func(ch kefu.Change) {
		at.conv = ch.Conversation
		tell(ch)
	})
	at.ack = origin.HeldAck
	return stored, dup, at, err
}

// deliverAck gives the sending socket (if any) the ack it is still owed for
// msg: a duplicate's, or one held back for routing. Any other stored
// message's ack went out at the commit, right behind its frame.
func deliverAck(via Subscriber, msg kefu.Message, dup bool, at sent) {
	switch {
	case via == nil:
	case dup:
		via.Deliver(protocol.Encode(protocol.Ack{Type: protocol.TypeAck, ClientMsgID: msg.ClientMsgID,
			Message: protocol.MessageOf(msg), Duplicate: true}))
	case at.ack != nil:
		via.Deliver(at.ack)
	}
}

func (s *Service) buyerSend(ctx context.Context, actor Actor, msg kefu.Message) (kefu.Message, bool, error) {
	rule := writeRule(actor)
	if msg.ConversationID != 0 {
		stored, dup, at, err := s.appendAndPublish(ctx, msg, rule, actor.Socket)
		switch {
		case err == nil:
			s.afterBuyerSend(ctx, actor.Socket, stored, dup, at)
			return stored, dup, nil
		case !errors.Is(err, kefu.ErrConversationClosed):
			// Another buyer's conversation, or none, is not_found.
			return kefu.Message{}, false, err
		}
		// Closed: the store found no earlier message under this client id,
		// so it goes to their open conversation, a new one if need be.
	} else {
		// A retry is answered before a conversation is opened for it, even if
		// the conversation it went to has closed since.
		prev, err := s.store.MessageByClientID(ctx, actor.ShopID, actor.Kind, actor.ID, msg.ClientMsgID)
		if err == nil {
			s.afterBuyerSend(ctx, actor.Socket, prev, true, sent{})
			return prev, true, nil
		} else if !errors.Is(err, kefu.ErrNotFound) {
			return kefu.Message{}, false, err
		}
	}
	// One read of the shop's settings for what a new conversation weighs.
	shop, err := s.store.Shop(ctx, actor.ShopID)
	if err != nil {
		return kefu.Message{}, false, err
	}
	if conv, ok := s.reopen(ctx, actor, shop); ok {
		msg.ConversationID = conv.ID
		stored, dup, at, err := s.appendAndPublish(ctx, msg, rule, actor.Socket)
		if err == nil {
			if at.conv.Status == kefu.StatusQueued {
				s.drain(context.WithoutCancel(ctx), actor.ShopID)
			}
			s.afterBuyerSend(ctx, actor.Socket, stored, dup, at)
			return stored, dup, nil
		}
		if !errors.Is(err, kefu.ErrConversationClosed) {
			return kefu.Message{}, false, err
		}
		// Closed again in between: a new one.
	}
	group, priority := s.entry(ctx, shop, actor.ID, actor.Entry)
	leftMessage, botFirst := s.overflowStart(actor.ShopID, priority)
	if leftMessage {
		priority = kefu.PriorityLeftMessage
	}
	first := !leftMessage && (s.assistantFirst(ctx, shop, actor) || (botFirst && s.assistantAnswers(ctx, shop)))
	welcome := s.welcome(ctx, shop, actor.ID)
	for attempt := 0; ; attempt++ {
		conv, created, err := s.store.StartConversation(ctx, actor.ShopID, actor.ID, group, priority, first, welcome,
			func() error { return s.admit(ctx, actor) }, s.committed(nil))
		if err != nil {
			return kefu.Message{}, false, err
		}
		if created && conv.Priority == kefu.PriorityLeftMessage {
			s.attachOrder(ctx, actor, conv.ID)
		}
		msg.ConversationID = conv.ID
		stored, dup, at, err := s.appendAndPublish(ctx, msg, rule, actor.Socket)
		if errors.Is(err, kefu.ErrConversationClosed) && attempt == 0 {
			// Closed between our read and our write: start a new one.
			continue
		}
		if err != nil {
			return kefu.Message{}, false, err
		}
		at.started = created
		s.afterBuyerSend(ctx, actor.Socket, stored, dup, at)
		return stored, dup, nil
	}
}

// afterBuyerSend routes the conversation if it is waiting, then acks. The
// message is stored: this happens even if the caller's deadline has passed.
// A conversation's first message (the first after the welcome) routes it; so does the retry of one whose
// conversation still waits (the first try may have been stored and then
// failed before routing).
func (s *Service) afterBuyerSend(ctx context.Context, via Subscriber, msg kefu.Message, dup bool, at sent) {
	ctx = context.WithoutCancel(ctx)
	switch {
	case dup:
		s.routeIfQueued(ctx, msg.ShopID, msg.ConversationID)
	case at.conv.Status == kefu.StatusQueued && (at.started || at.conv.LastSeq == 1):
		s.route(ctx, at.conv, true)
	}
	deliverAck(via, msg, dup, at)
}

func (s *Service) agentSend(ctx context.Context, actor Actor, msg kefu.Message) (kefu.Message, bool, error) {
	rule := writeRule(actor)
	stored, dup, at, err := s.appendAndPublish(ctx, msg, rule, actor.Socket)
	if err == nil {
		deliverAck(actor.Socket, stored, dup, at)
	}
	if err == nil || !refused(err) {
		return stored, dup, err
	}
	// Refused and not a retry: say why, or pick up a waiting conversation.
	conv, err := s.Conversation(ctx, actor, msg.ConversationID)
	if err != nil {
		return kefu.Message{}, false, err
	}
	switch {
	case conv.Status == kefu.StatusClosed:
		return kefu.Message{}, false, fmt.Errorf("conversation %d: %w", conv.ID, kefu.ErrConversationClosed)
	case conv.Status == kefu.StatusQueued:
		// Answering a waiting buyer picks the conversation up.
		if conv, err = s.Accept(ctx, actor, conv.ID); err != nil {
			return kefu.Message{}, false, err
		}
	case !mayWrite(actor, conv):
		return kefu.Message{}, false, fmt.Errorf("conversation %d belongs to another agent: %w", conv.ID, ErrForbidden)
	}
	stored, dup, at, err = s.appendAndPublish(ctx, msg, rule, actor.Socket)
	if err == nil {
		deliverAck(actor.Socket, stored, dup, at)
	}
	return stored, dup, err
}

// refused reports the errors by which the store refuses a write rule.
func refused(err error) bool {
	return errors.Is(err, kefu.ErrConversationClosed) || errors.Is(err, kefu.ErrNotFound) ||
		errors.Is(err, kefu.ErrForbidden) || errors.Is(err, kefu.ErrConflict)
}

// Conversation returns a conversation the actor may see: a buyer their own;
// an agent the ones they hold or held, and the queue; owners and supervisors
// everything in their shop.
func (s *Service) Conversation(ctx context.Context, actor Actor, id int64) (kefu.Conversation, error) {
	conv, err := s.store.Conversation(ctx, actor.ShopID, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	if err := mayRead(actor, conv); err != nil {
		return kefu.Conversation{}, err
	}
	return conv, nil
}

// Page is a stretch of a conversation's messages and where the conversation ends.
type Page struct {
	Messages []kefu.Message
	HasMore  bool
	// LastSeq is the conversation's last seq when the page was read (at least
	// the page's last): a client holding more has state from somewhere else.
	LastSeq int64
}

// Sync returns the messages after afterSeq of a conversation the actor may see.
func (s *Service) Sync(ctx context.Context, actor Actor, id, afterSeq int64, limit int) (Page, error) {
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return Page{}, err
	}
	msgs, more, err := s.store.Messages(ctx, actor.ShopID, id, afterSeq, limit)
	if err != nil {
		return Page{}, err
	}
	last := conv.LastSeq
	if n := len(msgs); n > 0 {
		// Messages stored after the conversation was read are in the page.
		last = max(last, msgs[n-1].Seq)
	}
	return Page{Messages: msgs, HasMore: more, LastSeq: last}, nil
}

// Read records that the actor has seen the conversation up to seq and tells
// the other side.
//
// An agent previewing a queued conversation does not mark it read: the read
// mark belongs to whoever takes it.
func (s *Service) Read(ctx context.Context, actor Actor, id, seq int64) (kefu.Conversation, error) {
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	if actor.Kind == kefu.SenderAgent && !mayWrite(actor, conv) {
		return conv, nil
	}
	conv, err = s.store.MarkRead(ctx, actor.ShopID, id, actor.Kind, seq)
	if err != nil {
		return kefu.Conversation{}, err
	}
	readSeq := conv.AgentReadSeq
	if actor.Kind == kefu.SenderBuyer {
		readSeq = conv.BuyerReadSeq
	}
	frame := protocol.Encode(protocol.Read{Type: protocol.TypeRead, ConversationID: id, Reader: string(actor.Kind), Seq: readSeq})
	s.publishToBoth(conv, frame)
	return conv, nil
}

// Typing tells the other side the actor is typing. A buyer may pass 0 for
// their open conversation; with none, nothing happens.
func (s *Service) Typing(ctx context.Context, actor Actor, id int64) error {
	var conv kefu.Conversation
	var err error
	if id == 0 && actor.Kind == kefu.SenderBuyer {
		conv, err = s.store.LatestConversation(ctx, actor.ShopID, actor.ID)
		if errors.Is(err, kefu.ErrNotFound) {
			return nil
		}
	} else {
		conv, err = s.Conversation(ctx, actor, id)
	}
	if err != nil || !conv.Open() || (actor.Kind == kefu.SenderAgent && !mayWrite(actor, conv)) {
		return err
	}
	frame := protocol.Encode(protocol.Typing{Type: protocol.TypeTyping, ConversationID: conv.ID, Sender: string(actor.Kind), Name: actor.Name})
	if actor.Kind == kefu.SenderBuyer {
		s.publish(ctx, frame, agentTopics(conv)...)
	} else {
		s.publish(ctx, frame, BuyerTopic(conv.BuyerID))
	}
	return nil
}

// Accept gives a waiting conversation to the agent who picked it, whatever
// their load.
func (s *Service) Accept(ctx context.Context, actor Actor, id int64) (kefu.Conversation, error) {
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	switch {
	case actor.Kind != kefu.SenderAgent:
		return kefu.Conversation{}, ErrForbidden
	case conv.Status == kefu.StatusClosed:
		return kefu.Conversation{}, fmt.Errorf("accept conversation %d: %w", id, kefu.ErrConversationClosed)
	case conv.Status != kefu.StatusQueued:
		return kefu.Conversation{}, fmt.Errorf("accept conversation %d: %w", id, ErrNotQueued)
	}
	conv, err = s.store.TakeConversation(ctx, actor.ShopID, id, actor.ID, announce, s.committed(nil))
	switch {
	case errors.Is(err, kefu.ErrConflict):
		return kefu.Conversation{}, fmt.Errorf("accept conversation %d: %w", id, ErrNotQueued)
	case err != nil:
		return kefu.Conversation{}, err
	}
	return conv, nil
}

// Close ends a conversation. An agent closes their own; owners and
// supervisors close any in their shop.
func (s *Service) Close(ctx context.Context, actor Actor, id int64) (kefu.Conversation, error) {
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	if !mayClose(actor, conv) {
		return kefu.Conversation{}, fmt.Errorf("close conversation %d: %w", id, ErrForbidden)
	}
	// The ownership rule is checked again by the store in the same statement:
	// a colleague may have taken the conversation since it was read.
	byAgent := closeHolder(actor)
	farewell := kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "会话已结束", Code: kefu.SystemClosed}
	closed, changed, err := s.store.CloseConversation(ctx, actor.ShopID, id, byAgent,
		kefu.ActorRef{Kind: kefu.SenderAgent, ID: actor.ID}, farewell, s.committed(nil))
	if err != nil || !changed {
		// Already closed, perhaps by a colleague a moment ago.
		return closed, err
	}
	s.drain(ctx, actor.ShopID) // a slot is free, or the line is shorter
	return closed, nil
}

func (s *Service) publishToBoth(conv kefu.Conversation, frame []byte) {
	s.publish(context.Background(), frame, conversationTopics(conv)...)
}

// publishConversation tells the buyer and the agents concerned that a
// conversation changed. Leaving the queue is told to the whole shop, which
// saw it waiting, so every console can drop it from its queue list.
func (s *Service) publishConversation(ctx context.Context, conv kefu.Conversation, leftQueue bool) {
	view, err := s.View(ctx, conv)
	if err != nil {
		s.log.Error("summarize conversation", "conversation", conv.ID, "err", err)
		return
	}
	fanOut{broker: s.broker, log: s.log}.conversation(conv, view, leftQueue)
}

// publish hands a frame that is not a committed change (typing, read marks,
// presence, places in line) to the broker; one it could not carry is logged.
func (s *Service) publish(ctx context.Context, frame []byte, topics ...string) {
	if err := s.broker.Publish(ctx, frame, nil, topics...); err != nil {
		s.log.Error("publish", "topics", topics, "err", err)
	}
}
