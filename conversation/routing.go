package conversation

import (
	"context"
	"errors"
	"fmt"

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
		if err := s.store.RecordPresence(context.WithoutCancel(ctx), a.ShopID, a.ID, p, s.committed(nil)); err != nil {
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

// Presence returns an agent's effective presence and how many open
// conversations they hold.
func (s *Service) Presence(ctx context.Context, a kefu.Agent) (kefu.Presence, int, error) {
	active, err := s.store.ActiveConversations(ctx, a.ShopID, a.ID)
	if err != nil {
		return "", 0, err
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
// moves, and if it still waits, the buyer and the shop's agents are told.
func (s *Service) route(ctx context.Context, conv kefu.Conversation) {
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
	if full.Status == kefu.StatusQueued {
		s.publishConversation(ctx, full, false)
		s.publishPositions(ctx, conv.ShopID)
	}
}

// routeIfQueued routes a conversation that is still queued.
func (s *Service) routeIfQueued(ctx context.Context, shopID, convID int64) {
	if conv, err := s.store.Conversation(ctx, shopID, convID); err == nil && conv.Status == kefu.StatusQueued {
		s.route(ctx, conv)
	}
}

// drain assigns the shop's waiting conversations while agents have room,
// decided by the pure core inside the store's per-shop serialization, and
// tells the waiting buyers their new places. A failure is logged: the line
// is in the database and the next event moves it.
func (s *Service) drain(ctx context.Context, shopID int64) []kefu.Assignment {
	presence := func(agentID int64) kefu.Presence { return s.presence.Effective(shopID, agentID) }
	made, err := s.store.RouteShop(ctx, shopID, presence, decide, announce, s.committed(nil))
	if err != nil {
		s.log.Error("route", "shop", shopID, "err", err)
		return nil
	}
	if len(made) > 0 {
		s.publishPositions(ctx, shopID)
	}
	return made
}

// decide is the pure routing core (queue.Drain) over what the store read.
func decide(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment {
	loads := make([]queue.AgentLoad, len(agents))
	var latest uint64 // the core counts on from the latest assignment
	for i, a := range agents {
		loads[i] = queue.AgentLoad{ID: a.ID, Presence: a.Presence, Active: a.Active, Cap: a.Cap}
		if !a.LastAssignedAt.IsZero() {
			loads[i].LastAssigned = uint64(a.LastAssignedAt.UnixMicro())
			latest = max(latest, loads[i].LastAssigned)
		}
	}
	ids := make([]int64, len(waiting))
	for i, w := range waiting {
		ids[i] = w.ConversationID
	}
	picked := queue.Drain(loads, ids, latest)
	out := make([]kefu.Assignment, len(picked))
	for i, p := range picked {
		// Drain assigns from the head of the line, in order.
		out[i] = kefu.Assignment{ConversationID: p.ConversationID, BuyerID: waiting[i].BuyerID, AgentID: p.AgentID}
	}
	return out
}

// announce is the buyer's line when an agent takes their conversation.
func announce(agentName string) kefu.Message {
	return kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, SenderName: agentName,
		Text: fmt.Sprintf("客服 %s 为您服务", agentName), Code: kefu.SystemAssigned}
}

// publishPositions tells every waiting buyer of the shop their place in line.
func (s *Service) publishPositions(ctx context.Context, shopID int64) {
	line, err := s.store.Waiting(ctx, shopID)
	if err != nil {
		s.log.Error("read the line", "shop", shopID, "err", err)
		return
	}
	for i, w := range line {
		s.publish(ctx, protocol.Encode(protocol.Queue{Type: protocol.TypeQueue, ConversationID: w.ConversationID, Position: i + 1}),
			BuyerTopic(w.BuyerID))
	}
}
