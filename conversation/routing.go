package conversation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
	"github.com/kefu/kefu/queue"
)

// AgentConnected counts an agent socket; the first one makes the agent's
// chosen presence effective (online unless they chose away), and the line
// moves if they have room.
func (s *Service) AgentConnected(ctx context.Context, a kefu.Agent) kefu.Presence {
	return s.changePresence(ctx, a, false, func() (kefu.Presence, error) { return s.presence.Connect(ctx, a) })
}

// AgentDisconnected uncounts an agent socket; with the last one gone the
// agent is offline for routing, and keeps their conversations.
func (s *Service) AgentDisconnected(ctx context.Context, a kefu.Agent) {
	s.changePresence(ctx, a, false, func() (kefu.Presence, error) { return s.presence.Disconnect(ctx, a) })
}

// SetPresence records the agent's chosen presence. It takes effect while the
// agent has a socket open; offline takes effect at once.
func (s *Service) SetPresence(ctx context.Context, a kefu.Agent, presence kefu.Presence) kefu.Presence {
	return s.changePresence(ctx, a, true, func() (kefu.Presence, error) { return s.presence.Choose(ctx, a, presence) })
}

// changePresence applies a presence change. A change of the agent's
// effective presence is an EventPresence, whose fan-out tells the shop's
// consoles; an explicit choice that changes nothing is still answered with
// a presence frame. Routing follows if the agent may take conversations.
func (s *Service) changePresence(ctx context.Context, a kefu.Agent, chosen bool, change func() (kefu.Presence, error)) kefu.Presence {
	// One change at a time, so the log and the frames show the last change last.
	s.mu.Lock()
	before := s.presence.Effective(a.ShopID, a.ID)
	p, err := change()
	if err != nil {
		s.mu.Unlock()
		s.log.Error("presence", "agent", a.ID, "err", err)
		return kefu.PresenceOffline
	}
	told := false
	if p != before {
		by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: a.ID}
		if err := s.store.RecordPresence(context.WithoutCancel(ctx), a.ShopID, a.ID, p, by, s.committed(nil)); err != nil {
			s.log.Error("record presence", "agent", a.ID, "err", err)
		} else {
			told = true
		}
	}
	if !told && (chosen || p != before) {
		s.publish(ctx, presenceFrame(a.ID, p), ShopTopic(a.ShopID), SupervisorTopic(a.ShopID))
	}
	s.mu.Unlock()
	if p == kefu.PresenceOnline {
		s.drain(context.WithoutCancel(ctx), a.ShopID)
	}
	return p
}

// presenceFrame tells consoles an agent's presence.
func presenceFrame(agentID int64, p kefu.Presence) []byte {
	return protocol.Encode(protocol.PresenceFrame{Type: protocol.TypePresence, AgentID: agentID, Status: string(p)})
}

// AgentActive records that an agent did something on a socket (sent,
// typed, read); one the shop had made away for being idle is online again.
func (s *Service) AgentActive(ctx context.Context, a kefu.Agent) {
	if s.presence.Active(a.ShopID, a.ID) {
		s.SetPresence(ctx, a, kefu.PresenceOnline)
	}
}

// awayIdle makes away the online agents of shops that do so who did nothing
// for the shop's limit, each with an agent.presence event (actor system).
func (s *Service) awayIdle(ctx context.Context, now time.Time) {
	shops, err := s.store.AutoAwayShops(ctx)
	if err != nil {
		s.log.Error("auto-away shops", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for shopID, minutes := range shops {
		for _, a := range s.presence.IdleSince(shopID, now.Add(-time.Duration(minutes)*time.Minute)) {
			if err := s.store.RecordPresence(ctx, a.ShopID, a.AgentID, kefu.PresenceAway, kefu.SystemActor, s.committed(nil)); err != nil {
				s.log.Error("record presence", "agent", a.AgentID, "err", err)
				s.publish(ctx, presenceFrame(a.AgentID, kefu.PresenceAway), ShopTopic(a.ShopID), SupervisorTopic(a.ShopID))
			}
		}
	}
}

// Presence returns an agent's effective presence and how many open
// conversations they hold. A disabled agent is offline, even while their
// last sockets are being closed or their grace period runs.
func (s *Service) Presence(ctx context.Context, a kefu.Agent) (kefu.Presence, int, error) {
	active, err := s.store.ActiveConversations(ctx, a.ShopID, a.ID)
	if err != nil {
		return "", 0, err
	}
	if a.Disabled {
		return kefu.PresenceOffline, active, nil
	}
	return s.presence.Effective(a.ShopID, a.ID), active, nil
}

// BuyerState is what a buyer's socket shows on connect: their latest
// conversation (nil if none) and their place in line.
func (s *Service) BuyerState(ctx context.Context, b kefu.Buyer) (*protocol.Conversation, int, error) {
	conv, err := s.store.LatestConversation(ctx, b.ShopID, b.ID)
	if errors.Is(err, kefu.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	view, err := s.View(ctx, conv)
	if err != nil {
		return nil, 0, err
	}
	view = view.ForBuyer()
	return &view, view.QueuePosition, nil
}

// View is a conversation as clients see it, with its place in line.
func (s *Service) View(ctx context.Context, conv kefu.Conversation) (protocol.Conversation, error) {
	sum, err := s.store.Summarize(ctx, conv)
	if err != nil {
		return protocol.Conversation{}, err
	}
	position := 0
	if conv.Status == kefu.StatusQueued {
		if position, err = s.store.QueuePosition(ctx, conv); err != nil {
			return protocol.Conversation{}, err
		}
	}
	return protocol.ConversationOf(sum, position), nil
}

// QueuePositions returns the place in line (1 = next) of every waiting
// conversation of the shop, by conversation id.
func (s *Service) QueuePositions(ctx context.Context, shopID int64) (map[int64]int, error) {
	line, err := s.store.Waiting(ctx, shopID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(line))
	for i, w := range line {
		out[w.ConversationID] = i + 1
	}
	return out, nil
}

// route handles a conversation that has just started waiting: the line
// moves, and if it still waits, the buyer and the shop's agents are told;
// with lines, the buyer is also told what the line means for them (the
// overflow stage, a left message, nobody online) and the assistant hears
// of the wait. A retried first message routes again without lines: the
// first try told them.
func (s *Service) route(ctx context.Context, conv kefu.Conversation, lines bool) {
	for _, as := range s.drain(ctx, conv.ShopID) {
		if as.ConversationID == conv.ID {
			return // assigned: the frames of the assignment told everyone
		}
	}
	// The message path hands over only its routing state; the frame shows
	// the conversation whole.
	full, err := s.store.Conversation(ctx, conv.ShopID, conv.ID)
	if err != nil {
		s.log.Error("load conversation", "conversation", conv.ID, "err", err)
		return
	}
	if full.Status != kefu.StatusQueued {
		return
	}
	s.publishConversation(ctx, full, false)
	if !lines {
		return
	}
	stage, _ := s.overflow.current(conv.ShopID, s.now())
	if full.Priority == kefu.PriorityLeftMessage {
		s.tellLeftMessage(ctx, full, stage)
		return
	}
	if w, ok := s.assistant.(waitTeller); ok {
		w.waitingLeft(full)
	}
	if notice := stageNotice(stage, full.AssistantFirst); notice != nil && s.presence.AnyOnline(conv.ShopID) {
		notice.ShopID, notice.ConversationID = conv.ShopID, conv.ID
		if _, _, err := s.store.Append(ctx, *notice, kefu.WriteRule{OpenOnly: true}, s.committed(nil)); err != nil {
			s.log.Error("overflow line", "conversation", conv.ID, "err", err)
		}
	}
	if !s.presence.AnyOnline(conv.ShopID) {
		// The leave-message rule (留言): nobody will answer soon, and the
		// buyer is told so instead of watching a place in line.
		line := kefu.Message{ShopID: conv.ShopID, ConversationID: conv.ID, Kind: kefu.KindSystem, Sender: kefu.SenderSystem,
			Text: "当前没有客服在线，请留言，客服上线后会尽快回复您", Code: kefu.SystemLeaveMessage}
		if _, _, err := s.store.Append(ctx, line, kefu.WriteRule{OpenOnly: true}, s.committed(nil)); err != nil {
			s.log.Error("leave-message line", "conversation", conv.ID, "err", err)
		}
	}
}

// routeIfQueued routes a conversation that is still queued, without lines
// (a retried message: route).
func (s *Service) routeIfQueued(ctx context.Context, shopID, convID int64) {
	if conv, err := s.store.Conversation(ctx, shopID, convID); err == nil && conv.Status == kefu.StatusQueued {
		s.route(ctx, conv, false)
	}
}

// Reroute moves the shop's line after a change routing weighs (a cap, a
// group's members).
func (s *Service) Reroute(ctx context.Context, shopID int64) {
	s.drain(context.WithoutCancel(ctx), shopID)
}

// drain assigns the shop's waiting conversations while agents have room,
// decided by the pure core inside the store's per-shop serialization, and
// tells the waiting buyers their new places. A failure is logged: the line
// is in the database and the next event moves it.
func (s *Service) drain(ctx context.Context, shopID int64) []kefu.Assignment {
	capBonus, decide := s.decider(shopID)
	made, err := s.store.RouteShop(ctx, shopID, s.routable(shopID), capBonus, decide, announce, s.committed(nil))
	if err != nil {
		s.log.Error("route", "shop", shopID, "err", err)
		return nil
	}
	return made
}

// routable is presence as routing reads it: online only for an agent who
// may take a conversation now; one in grace (their last socket just closed)
// keeps what they hold but takes nothing new.
func (s *Service) routable(shopID int64) func(agentID int64) kefu.Presence {
	return func(agentID int64) kefu.Presence {
		if s.presence.Routable(shopID, agentID) {
			return kefu.PresenceOnline
		}
		return kefu.PresenceOffline
	}
}

// decider is the pure routing core (queue.Decide) over what the store
// read, for the shop's overflow stage and surge mode as they stand, with
// what surge mode adds to every agent's cap (the store applies it to the
// caps it reads): the buyer's recent agent, then their dedicated agent,
// then the conversation's group by weight and load; higher priority first,
// first come first served within it. The backup group's own members
// (reserve agents) take the shop's line only in the backup stage and above.
func (s *Service) decider(shopID int64) (capBonus int, decide func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment) {
	stage, eff := s.overflow.current(shopID, s.now())
	return eff.CapBonus, func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment {
		return decideFor(agents, waiting, stage, eff)
	}
}

// decideFor is decider's decision for a stage and what the settings put in force.
func decideFor(agents []kefu.AgentLoad, waiting []kefu.Waiting, stage kefu.OverflowStage, eff queue.Effective) []kefu.Assignment {
	backup := eff.Policy.BackupGroupID
	overflowing := eff.Policy.Enabled && stage.Level() >= kefu.StageBackup.Level()
	loads := make([]queue.Agent, len(agents))
	var latest uint64 // the core counts on from the latest assignment
	for i, a := range agents {
		_, inBackup := a.Groups[backup]
		loads[i] = queue.Agent{ID: a.ID, Presence: a.Presence, Active: a.Active, Cap: a.Cap, Groups: a.Groups,
			Reserve: backup != 0 && inBackup && len(a.Groups) == 1}
		if !a.LastAssignedAt.IsZero() {
			loads[i].LastAssigned = uint64(a.LastAssignedAt.UnixMicro())
			latest = max(latest, loads[i].LastAssigned)
		}
	}
	line := make([]queue.Waiter, len(waiting))
	for i, w := range waiting {
		// The store reads the line in serving order: its place is its arrival.
		line[i] = queue.Waiter{ConversationID: w.ConversationID, BuyerID: w.BuyerID, GroupID: w.GroupID, Priority: w.Priority,
			Arrived: uint64(i), LastAgentID: w.LastAgentID, DedicatedAgentID: w.DedicatedAgentID, AvoidAgentID: w.AvoidAgentID,
			GroupOnly: w.GroupOnly, AssistantFirst: w.AssistantFirst, Overflow: overflowing}
	}
	picked := queue.Decide(loads, line, latest)
	out := make([]kefu.Assignment, len(picked))
	for i, p := range picked {
		out[i] = kefu.Assignment{ConversationID: p.ConversationID, BuyerID: p.BuyerID, AgentID: p.AgentID}
	}
	return out
}

// namedLine builds the buyer's system line that names an agent (or a
// group): format holds one %s for the name, code is the line's meaning.
func namedLine(format, code string) func(name string) kefu.Message {
	return func(name string) kefu.Message {
		return kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, SenderName: name,
			Text: fmt.Sprintf(format, name), Code: code}
	}
}

// The buyer's lines a store write fills in with the agent's name.
var (
	// announce: an agent takes their conversation.
	announce = namedLine("客服 %s 为您服务", kefu.SystemAssigned)
	// leftNotice: their agent left.
	leftNotice = namedLine("客服 %s 已离开，正在为您转接其他客服", kefu.SystemRequeued)
	// helperLeft: a helper left the conversation.
	helperLeft = namedLine("客服 %s 已离开会话", kefu.SystemLeft)
	// joinedLine: an invited helper joined.
	joinedLine = namedLine("客服 %s 加入会话，一起为您服务", kefu.SystemJoined)
	// transferredLine: the conversation went to another agent.
	transferredLine = namedLine("已为您转接至客服 %s", kefu.SystemTransferred)
	// toGroupLine: the conversation went to a group's line.
	toGroupLine = namedLine("正在为您转接至 %s，请稍候", kefu.SystemTransferred)
	// reassignedLine: a long wait was handed to another agent.
	reassignedLine = namedLine("让您久等了，已为您转接至客服 %s", kefu.SystemTransferred)
)

// entry is where a buyer's new conversation goes and how soon: the group
// the store page named; else, for a buyer asking about one of their orders,
// the shop's after-sales group (the order has shipped, or is being returned
// or refunded) or pre-sales group; else 0, the whole shop. A group the shop
// does not have is the whole shop too: a store page out of date must not
// keep a buyer from an agent. A conversation about an order of at least the
// shop's high_value_cents is served first, as a VIP's.
func (s *Service) entry(ctx context.Context, shop kefu.Shop, buyerID int64, e kefu.Entry) (group int64, priority int) {
	shopID := shop.ID
	if e.Group != "" {
		g, err := s.store.GroupBySlug(ctx, shopID, e.Group)
		if err == nil {
			group = g.ID
		} else if !errors.Is(err, kefu.ErrNotFound) {
			s.log.Error("entry group", "shop", shopID, "group", e.Group, "err", err)
		}
	}
	if e.OrderNo == "" {
		return group, 0
	}
	o, err := s.store.BuyerOrder(ctx, shopID, buyerID, e.OrderNo)
	if errors.Is(err, kefu.ErrNotFound) {
		return group, 0 // not one of theirs: it weighs nothing
	}
	if err != nil {
		s.log.Error("entry order", "shop", shopID, "buyer", buyerID, "err", err)
		return group, 0
	}
	if shop.HighValueCents > 0 && o.AmountCents >= shop.HighValueCents {
		priority = kefu.PriorityVIP
	}
	if group != 0 {
		return group, priority
	}
	scope := kefu.ScopePreSales
	if kefu.AfterSalesOrder(o.Status) {
		scope = kefu.ScopeAfterSales
	}
	groups, err := s.store.Groups(ctx, shopID)
	if err != nil {
		s.log.Error("entry groups", "shop", shopID, "err", err)
		return 0, priority
	}
	for _, g := range groups {
		if g.Scope == scope {
			return g.ID, priority
		}
	}
	return 0, priority
}

// departures handles agents whose grace ended without a socket: they are
// offline, and their open conversations go back to the front of the line for
// others to take. It runs under s.mu, as every presence change does, so an
// agent who reconnects just as their grace ends is either back before this
// looks or departs whole before their socket counts.
func (s *Service) departures(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone, err := s.presence.Departed(ctx)
	if err != nil {
		s.log.Error("presence departures", "err", err)
		return
	}
	shops := map[int64]bool{}
	for _, a := range gone {
		if err := s.store.RecordPresence(ctx, a.ShopID, a.AgentID, kefu.PresenceOffline, kefu.SystemActor, s.committed(nil)); err != nil {
			s.log.Error("record presence", "agent", a.AgentID, "err", err)
			s.publish(ctx, presenceFrame(a.AgentID, kefu.PresenceOffline), ShopTopic(a.ShopID), SupervisorTopic(a.ShopID))
		}
		if _, err := s.store.RequeueAgent(ctx, a.ShopID, a.AgentID, leftNotice, s.committed(nil)); err != nil {
			s.log.Error("requeue", "agent", a.AgentID, "err", err)
			s.presence.Expect(ctx, a) // tried again when another grace period ends
			continue
		}
		shops[a.ShopID] = true
	}
	for shopID := range shops {
		s.drain(ctx, shopID)
	}
}

// Start prepares the service for a process that starts: every agent who
// holds conversations and has no socket here yet gets a grace period, so
// that one who never comes back (their console closed while kefu was down)
// departs and their buyers are served by others.
func (s *Service) Start(ctx context.Context) error {
	holders, err := s.store.AgentsHoldingConversations(ctx)
	if err != nil {
		return err
	}
	for _, a := range holders {
		if err := s.presence.Expect(ctx, AgentRef{ShopID: a.ShopID, AgentID: a.ID}); err != nil {
			return err
		}
	}
	return nil
}

// Errors of a transfer the caller can correct.
var (
	ErrAgentUnavailable = errors.New("the agent is not online with a free slot")
	ErrNotAssigned      = errors.New("only a conversation an agent holds can be transferred or shared")
)

// Transfer hands a conversation the actor holds (an owner or supervisor:
// any held one) to another agent who is online with a free slot, or to the
// front of a group's line, with a note the next agent sees and the buyer
// never does. The buyer is told where they are going.
func (s *Service) Transfer(ctx context.Context, actor Actor, id int64, to kefu.Transfer) (kefu.Conversation, error) {
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	switch {
	case !mayManage(actor, conv):
		return kefu.Conversation{}, fmt.Errorf("transfer conversation %d: %w", id, ErrForbidden)
	case conv.Status != kefu.StatusAssigned:
		return kefu.Conversation{}, fmt.Errorf("transfer conversation %d (%s): %w", id, conv.Status, ErrNotAssigned)
	case to.ToAgentID == conv.AgentID:
		return kefu.Conversation{}, fmt.Errorf("transfer conversation %d to the agent who holds it: %w", id, ErrAgentUnavailable)
	}
	var line func(string) kefu.Message
	if to.ToAgentID != 0 {
		target, err := s.store.Agent(ctx, actor.ShopID, to.ToAgentID)
		if err != nil {
			return kefu.Conversation{}, err
		}
		active, err := s.store.ActiveConversations(ctx, actor.ShopID, target.ID)
		if err != nil {
			return kefu.Conversation{}, err
		}
		if !s.presence.Routable(actor.ShopID, target.ID) || active >= target.MaxConcurrent {
			return kefu.Conversation{}, fmt.Errorf("transfer conversation %d to agent %d: %w", id, target.ID, ErrAgentUnavailable)
		}
		line = transferredLine
	} else {
		if _, err := s.store.Group(ctx, actor.ShopID, to.ToGroupID); err != nil {
			return kefu.Conversation{}, err
		}
		line = toGroupLine
	}
	from := conv.AgentID
	if actor.supervises() {
		from = 0 // whoever holds it
	}
	by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: actor.ID}
	conv, err = s.store.TransferConversation(ctx, actor.ShopID, id, from, by, to, line, s.committed(nil))
	switch {
	case errors.Is(err, kefu.ErrConflict):
		return kefu.Conversation{}, fmt.Errorf("transfer conversation %d: %w", id, ErrNotAssigned)
	case errors.Is(err, kefu.ErrAgentFull), errors.Is(err, kefu.ErrAgentDisabled):
		return kefu.Conversation{}, fmt.Errorf("transfer conversation %d: %w", id, ErrAgentUnavailable)
	case err != nil:
		return kefu.Conversation{}, err
	}
	// The sender has a free slot now, and a conversation sent to a group waits.
	s.drain(context.WithoutCancel(ctx), actor.ShopID)
	return conv, nil
}

// reopen opens again the buyer's conversation closed less than the shop's
// reopen_hours ago, to its agent when they are online with room; ok is false
// when the shop does not reopen or there is nothing recent to reopen.
func (s *Service) reopen(ctx context.Context, actor Actor, shop kefu.Shop) (kefu.Conversation, bool) {
	if shop.ReopenHours <= 0 {
		return kefu.Conversation{}, false
	}
	routable := func(agentID int64) bool { return s.presence.Routable(actor.ShopID, agentID) }
	line := func(agentName string) kefu.Message {
		text := "会话已重新开启，正在为您转接客服"
		if agentName != "" {
			text = fmt.Sprintf("会话已重新开启，客服 %s 继续为您服务", agentName)
		}
		return kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, SenderName: agentName, Text: text, Code: kefu.SystemReopened}
	}
	conv, ok, err := s.store.ReopenConversation(ctx, actor.ShopID, actor.ID, time.Duration(shop.ReopenHours)*time.Hour, routable, line, s.committed(nil))
	if err != nil {
		s.log.Error("reopen", "buyer", actor.ID, "err", err)
		return kefu.Conversation{}, false
	}
	return conv, ok
}

// TakeOver gives an owner or supervisor a conversation of their shop
// themselves, whatever their load: a waiting one as Accept does, one a
// colleague holds as a transfer to them (the colleague and the buyer are
// told).
func (s *Service) TakeOver(ctx context.Context, actor Actor, id int64) (kefu.Conversation, error) {
	if !actor.supervises() {
		return kefu.Conversation{}, fmt.Errorf("take over conversation %d: %w", id, ErrForbidden)
	}
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	switch {
	case conv.Status == kefu.StatusQueued:
		return s.Accept(ctx, actor, id)
	case conv.Status == kefu.StatusClosed:
		return kefu.Conversation{}, fmt.Errorf("take over conversation %d: %w", id, kefu.ErrConversationClosed)
	case conv.AgentID == actor.ID:
		return conv, nil
	}
	by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: actor.ID}
	conv, err = s.store.TransferConversation(ctx, actor.ShopID, id, 0, by, kefu.Transfer{ToAgentID: actor.ID, TakeOver: true}, transferredLine, s.committed(nil))
	switch {
	case errors.Is(err, kefu.ErrConflict):
		return kefu.Conversation{}, fmt.Errorf("take over conversation %d: %w", id, ErrNotAssigned)
	case errors.Is(err, kefu.ErrAgentDisabled):
		return kefu.Conversation{}, fmt.Errorf("take over conversation %d: %w", id, ErrForbidden)
	}
	if err != nil {
		return kefu.Conversation{}, err
	}
	s.drain(context.WithoutCancel(ctx), actor.ShopID) // the colleague has a free slot
	return conv, nil
}
