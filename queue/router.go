package queue

import (
	"sort"
	"sync"

	"github.com/kefu/kefu"
)

// Router holds live routing state for every shop in this process: which
// agents are online, how many conversations each holds, and the waiting line.
// It is the in-process implementation; state is rebuilt from the store at
// start (Restore) and lost on exit, which is safe because conversations and
// assignments are persisted by the caller. A multi-node deployment needs a
// shared implementation (Redis), which a later issue adds behind the same
// methods.
type Router struct {
	mu      sync.Mutex
	shops   map[int64]*shopState
	counter uint64
}

type shopState struct {
	agents  map[int64]*AgentLoad
	waiting []Waiter // oldest first
}

// Waiter is a conversation waiting for an agent.
type Waiter struct {
	ConversationID int64
	BuyerID        int64
}

// NewRouter returns an empty router.
func NewRouter() *Router {
	return &Router{shops: map[int64]*shopState{}}
}

func (r *Router) shop(id int64) *shopState {
	s := r.shops[id]
	if s == nil {
		s = &shopState{agents: map[int64]*AgentLoad{}}
		r.shops[id] = s
	}
	return s
}

func (s *shopState) agent(id int64) *AgentLoad {
	a := s.agents[id]
	if a == nil {
		a = &AgentLoad{ID: id, Presence: kefu.PresenceOffline, Cap: kefu.DefaultAgentCap}
		s.agents[id] = a
	}
	return a
}

// Restore loads open conversations: assigned ones count toward their agent's
// load, queued ones join the line in the given order (oldest first).
func (r *Router) Restore(convs []kefu.Conversation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range convs {
		s := r.shop(c.ShopID)
		switch c.Status {
		case kefu.StatusAssigned:
			s.agent(c.AgentID).Active++
		case kefu.StatusQueued:
			s.waiting = append(s.waiting, Waiter{ConversationID: c.ID, BuyerID: c.BuyerID})
		}
	}
}

// SetAgent records an agent's presence and cap, and returns the waiting
// conversations that can now be assigned (already counted as assigned).
func (r *Router) SetAgent(shopID, agentID int64, presence kefu.Presence, cap int) []Assignment {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	a := s.agent(agentID)
	a.Presence = presence
	if cap > 0 {
		a.Cap = cap
	}
	return r.drain(s)
}

// Enqueue routes a new conversation: it is assigned at once when an agent has
// room (ok true), otherwise it joins the end of the line.
func (r *Router) Enqueue(shopID, convID, buyerID int64) (agentID int64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	for _, w := range s.waiting {
		if w.ConversationID == convID {
			return 0, false
		}
	}
	s.waiting = append(s.waiting, Waiter{ConversationID: convID, BuyerID: buyerID})
	for _, as := range r.drain(s) {
		if as.ConversationID == convID {
			return as.AgentID, true
		}
	}
	return 0, false
}

// Take gives a waiting conversation to an agent who picked it by hand,
// whatever their load. It reports false if the conversation was not waiting.
func (r *Router) Take(shopID, convID, agentID int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	if !s.remove(convID) {
		return false
	}
	r.counter++
	a := s.agent(agentID)
	a.Active++
	a.LastAssigned = r.counter
	return true
}

// Release frees the agent's slot held by a conversation that closed, and
// returns waiting conversations that can now be assigned.
func (r *Router) Release(shopID, agentID int64) []Assignment {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	if a := s.agents[agentID]; a != nil && a.Active > 0 {
		a.Active--
	}
	return r.drain(s)
}

// Unassign undoes an assignment the caller could not store, putting the
// conversation back at the head of the line.
func (r *Router) Unassign(shopID, convID, buyerID, agentID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	if a := s.agents[agentID]; a != nil && a.Active > 0 {
		a.Active--
	}
	s.waiting = append([]Waiter{{ConversationID: convID, BuyerID: buyerID}}, s.waiting...)
}

// Remove takes a conversation out of the line (closed while waiting).
func (r *Router) Remove(shopID, convID int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shop(shopID).remove(convID)
}

// Waiting returns the shop's waiting conversations, oldest first.
func (r *Router) Waiting(shopID int64) []Waiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Waiter(nil), r.shop(shopID).waiting...)
}

// Position returns a conversation's place in line (1 = next), or 0 if it is not waiting.
func (r *Router) Position(shopID, convID int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, w := range r.shop(shopID).waiting {
		if w.ConversationID == convID {
			return i + 1
		}
	}
	return 0
}

// Agent returns what the router knows of one agent.
func (r *Router) Agent(shopID, agentID int64) AgentLoad {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.shop(shopID).agent(agentID)
}

// drain assigns from the head of the line while agents have room. r.mu is held.
func (r *Router) drain(s *shopState) []Assignment {
	if len(s.waiting) == 0 {
		return nil
	}
	loads := make([]AgentLoad, 0, len(s.agents))
	for _, a := range s.agents {
		loads = append(loads, *a)
	}
	sort.Slice(loads, func(i, j int) bool { return loads[i].ID < loads[j].ID })
	ids := make([]int64, len(s.waiting))
	for i, w := range s.waiting {
		ids[i] = w.ConversationID
	}
	out := Drain(loads, ids, r.counter)
	for _, as := range out {
		r.counter++
		a := s.agents[as.AgentID]
		a.Active++
		a.LastAssigned = r.counter
	}
	s.waiting = append([]Waiter(nil), s.waiting[len(out):]...)
	return out
}

func (s *shopState) remove(convID int64) bool {
	for i, w := range s.waiting {
		if w.ConversationID == convID {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			return true
		}
	}
	return false
}
