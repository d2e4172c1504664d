package queue

import (
	"sort"
	"sync"

	"github.com/kefu/kefu"
)

// Router holds live routing state for every shop in this process: which
// agents are online, which conversation each agent holds, and the waiting
// line. It is the in-process implementation; state is rebuilt from the store
// at start (Restore) and lost on exit, which is safe because conversations
// and assignments are persisted by the caller. A multi-node deployment needs
// a shared implementation (Redis), which a later issue adds behind the same
// methods.
//
// Every method is idempotent about conversations: enqueueing one that is
// waiting or assigned, or releasing one twice, changes nothing. So a caller
// that lost a race (two closes, a close during an assignment) cannot make the
// counts drift from the database.
type Router struct {
	mu      sync.Mutex
	shops   map[int64]*shopState
	counter uint64
}

type shopState struct {
	agents   map[int64]*AgentLoad
	waiting  []Waiter           // oldest first
	assigned map[int64]assignee // by conversation id
}

type assignee struct {
	agentID int64
	buyerID int64
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
		s = &shopState{agents: map[int64]*AgentLoad{}, assigned: map[int64]assignee{}}
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

func (s *shopState) known(convID int64) bool {
	if _, ok := s.assigned[convID]; ok {
		return true
	}
	return s.index(convID) >= 0
}

func (s *shopState) index(convID int64) int {
	for i, w := range s.waiting {
		if w.ConversationID == convID {
			return i
		}
	}
	return -1
}

// Restore loads open conversations: assigned ones count toward their agent's
// load, queued ones join the line in the given order (oldest first).
func (r *Router) Restore(convs []kefu.Conversation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range convs {
		s := r.shop(c.ShopID)
		if s.known(c.ID) {
			continue
		}
		switch c.Status {
		case kefu.StatusAssigned:
			s.assigned[c.ID] = assignee{agentID: c.AgentID, buyerID: c.BuyerID}
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

// Enqueue puts a new conversation at the end of the line and returns every
// assignment that became possible, this conversation's included if an agent
// had room. A conversation already waiting or assigned is left as it is:
// added is false and nothing is returned.
func (r *Router) Enqueue(shopID, convID, buyerID int64) (assignments []Assignment, added bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	if s.known(convID) {
		return nil, false
	}
	s.waiting = append(s.waiting, Waiter{ConversationID: convID, BuyerID: buyerID})
	return r.drain(s), true
}

// Take gives a waiting conversation to an agent who picked it by hand,
// whatever their load. It reports false if the conversation was not waiting.
func (r *Router) Take(shopID, convID, agentID int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	i := s.index(convID)
	if i < 0 {
		return false
	}
	w := s.waiting[i]
	s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
	r.assign(s, convID, w.BuyerID, agentID)
	return true
}

// Release forgets a conversation that closed (or vanished): its agent's
// slot is freed, or it leaves the line. It returns the waiting conversations
// that can now be assigned. Releasing an unknown conversation only drains.
func (r *Router) Release(shopID, convID int64) []Assignment {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	if as, ok := s.assigned[convID]; ok {
		delete(s.assigned, convID)
		if a := s.agents[as.agentID]; a != nil && a.Active > 0 {
			a.Active--
		}
	} else if i := s.index(convID); i >= 0 {
		s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
	}
	return r.drain(s)
}

// Requeue undoes an assignment the caller could not store (a transient
// error), putting the conversation back at the head of the line. It does not
// drain: the caller retries on the next routing event.
func (r *Router) Requeue(shopID, convID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shop(shopID)
	as, ok := s.assigned[convID]
	if !ok {
		return
	}
	delete(s.assigned, convID)
	if a := s.agents[as.agentID]; a != nil && a.Active > 0 {
		a.Active--
	}
	s.waiting = append([]Waiter{{ConversationID: convID, BuyerID: as.buyerID}}, s.waiting...)
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
	return r.shop(shopID).index(convID) + 1
}

// Agent returns what the router knows of one agent.
func (r *Router) Agent(shopID, agentID int64) AgentLoad {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.shop(shopID).agent(agentID)
}

// assign records that agentID holds convID. r.mu is held.
func (r *Router) assign(s *shopState, convID, buyerID, agentID int64) {
	r.counter++
	a := s.agent(agentID)
	a.Active++
	a.LastAssigned = r.counter
	s.assigned[convID] = assignee{agentID: agentID, buyerID: buyerID}
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
	for i := range out {
		// Drain assigns from the head of the line, in order.
		out[i].BuyerID = s.waiting[i].BuyerID
		r.assign(s, out[i].ConversationID, out[i].BuyerID, out[i].AgentID)
	}
	s.waiting = append([]Waiter(nil), s.waiting[len(out):]...)
	return out
}
