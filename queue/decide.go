// Package queue decides which agent takes a conversation. The decision is a
// pure core (this file): it reads a snapshot of agents and the waiting line
// and returns assignments, with no I/O and no clock, so later rules (groups,
// sticky agent, VIP, order state) can be added and tested exhaustively.
// The state it decides on is read by the store inside the shop's routing
// serialization (store.RouteShop), never kept here.
package queue

import (
	"sort"

	"github.com/kefu/kefu"
)

// AgentLoad is what routing knows about one agent.
type AgentLoad struct {
	ID       int64
	Presence kefu.Presence
	Active   int // open conversations assigned now
	Cap      int // most open conversations at once
	// LastAssigned orders agents that are otherwise equal: the one who got a
	// conversation least recently goes first (a round robin among equals).
	// It is a counter, not a time, to keep the core clock-free.
	LastAssigned uint64
}

// HasRoom reports whether the agent can take another conversation now.
func (a AgentLoad) HasRoom() bool {
	return a.Presence == kefu.PresenceOnline && a.Active < a.Cap
}

// Assignment gives a conversation to an agent. BuyerID is filled in by the
// caller (the pure core does not need it).
type Assignment struct {
	ConversationID int64
	BuyerID        int64
	AgentID        int64
}

// PickAgent chooses the agent for a new conversation: online with a free
// slot, fewest active conversations first, then the larger share of free
// capacity, then the longest since their last assignment, then the lowest id.
func PickAgent(agents []AgentLoad) (int64, bool) {
	best := -1
	for i, a := range agents {
		if !a.HasRoom() {
			continue
		}
		if best < 0 || better(a, agents[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	return agents[best].ID, true
}

func better(a, b AgentLoad) bool {
	if a.Active != b.Active {
		return a.Active < b.Active
	}
	// Same load: the agent with more free slots relative to their cap.
	// Compare (cap-active)/cap without division.
	if l, r := (a.Cap-a.Active)*b.Cap, (b.Cap-b.Active)*a.Cap; l != r {
		return l > r
	}
	if a.LastAssigned != b.LastAssigned {
		return a.LastAssigned < b.LastAssigned
	}
	return a.ID < b.ID
}

// Drain assigns waiting conversations, first come first served, while any
// agent has room. It returns the assignments in queue order; agents is not
// modified.
func Drain(agents []AgentLoad, waiting []int64, counter uint64) []Assignment {
	if len(waiting) == 0 {
		return nil
	}
	loads := make([]AgentLoad, len(agents))
	copy(loads, agents)
	// A stable order makes the result independent of map iteration upstream.
	sort.Slice(loads, func(i, j int) bool { return loads[i].ID < loads[j].ID })
	var out []Assignment
	for _, conv := range waiting {
		id, ok := PickAgent(loads)
		if !ok {
			break
		}
		for i := range loads {
			if loads[i].ID == id {
				counter++
				loads[i].Active++
				loads[i].LastAssigned = counter
			}
		}
		out = append(out, Assignment{ConversationID: conv, AgentID: id})
	}
	return out
}
