// Package queue decides which agent takes a conversation. The decision is a
// pure core (this file): it reads a snapshot of agents and the waiting line
// and returns assignments, with no I/O and no clock, so its rules can be
// tested exhaustively: Decide, the Wangwang order (sticky agent, dedicated
// agent, groups by weight and load, priority). The state it decides on is read by the store inside the
// shop's routing serialization (store.RouteShop), never kept here.
package queue

import (
	"cmp"
	"slices"

	"github.com/kefu/kefu"
)

// Assignment gives a conversation to an agent.
type Assignment struct {
	ConversationID int64
	BuyerID        int64
	AgentID        int64
}

// Agent is what routing knows about one agent for a decision.
type Agent struct {
	ID       int64
	Presence kefu.Presence // only kefu.PresenceOnline takes new conversations
	Active   int           // open conversations held now (may exceed Cap after manual takes)
	Cap      int           // most open conversations at once
	// LastAssigned orders agents that are otherwise equal: larger is more
	// recent, and the least recent goes first (a round robin among equals).
	// It is a counter, not a time, to keep the core clock-free.
	LastAssigned uint64
	// Groups maps each group the agent is in to the agent's weight there
	// (>= 1): in a group, an agent of weight 2 takes about two conversations
	// for every one an agent of weight 1 takes.
	Groups map[int64]int
	// Reserve: the agent is in the shop's backup group only (an outsourced
	// team, 外包客服). They take conversations of the backup group itself,
	// and Overflow waiters no agent of their own group has room for.
	Reserve bool
}

func (a Agent) hasRoom() bool {
	return a.Presence == kefu.PresenceOnline && a.Active < a.Cap
}

// inGroup reports whether the agent may take a conversation of the group
// through the group (group 0 asks for no group: everyone but reserve agents
// may).
func (a Agent) inGroup(group int64) bool {
	if group == 0 {
		return !a.Reserve
	}
	_, ok := a.Groups[group]
	return ok
}

// weight is the agent's weight for a conversation of the group. Group 0
// weighs everyone alike; a weight below 1 would invert or void the load
// comparison, so it counts as 1.
func (a Agent) weight(group int64) int {
	if group == 0 {
		return 1
	}
	return max(a.Groups[group], 1)
}

// Waiter is a conversation waiting in the shop's line.
type Waiter struct {
	ConversationID   int64
	BuyerID          int64
	GroupID          int64  // 0: no group asked for; any agent of the shop may take it
	Priority         int    // higher is served first (VIP buyer, high-value order)
	Arrived          uint64 // arrival order: smaller arrived earlier
	LastAgentID      int64  // the buyer's last agent (within the shop's sticky window), 0 if none
	DedicatedAgentID int64  // the buyer's dedicated agent (专属客服), 0 if none
	AvoidAgentID     int64  // the agent who handed it over (a transfer): given it back only if nobody else can take it
	GroupOnly        bool   // sent to its group by a transfer: no sticky or dedicated agent outside the group
	// AssistantFirst: the shop's assistant answers it first (bot-first):
	// only the buyer's last or dedicated agent may take it now.
	AssistantFirst bool
	// Overflow: the shop is in its backup stage or above, so reserve agents
	// take the waiter when no other agent of its group has room.
	Overflow bool
}

// servedFirst orders the line: higher priority first, then first come first
// served, the conversation id making the order total.
func servedFirst(a, b Waiter) int {
	return cmp.Or(
		cmp.Compare(b.Priority, a.Priority),
		cmp.Compare(a.Arrived, b.Arrived),
		cmp.Compare(a.ConversationID, b.ConversationID),
	)
}

// Decide assigns waiting conversations while agents have room and returns
// the assignments in the order they were decided. This is the Wangwang
// order of assignment:
//
//   - Waiters are decided one at a time, highest Priority first, then by
//     Arrived, then by ConversationID, so the result does not depend on the
//     order of either slice. A conversation is listed once; listed twice,
//     it is decided once, at its first place in that order.
//   - An agent has room when online and holding fewer than Cap
//     conversations.
//   - The buyer goes back to their last agent (LastAgentID) if that agent has
//     room, whether or not they are in the waiter's group; else to their
//     dedicated agent (DedicatedAgentID) if that one has room.
//   - Else, an AssistantFirst waiter stays waiting: the shop's assistant
//     answers it until the buyer asks for a person (Wangwang's bot-first
//     step, after the buyer's own agents and before the group).
//   - Else, of the agents with room in the waiter's group (every agent with
//     room when GroupID is 0), the one with the lowest (Active+1)/weight is
//     chosen; ties go to the larger share of free capacity, then to the least
//     recently assigned, then to the lowest ID. The +1 counts the
//     conversation being placed, so from an even start the heavier agent
//     goes first.
//   - Reserve agents (the backup group's own members) are not in group 0:
//     they take a waiter of the backup group itself or, when the waiter is
//     Overflow (the shop's backup stage) and no other agent of its group has
//     room, by the same load order among the reserve agents.
//   - A waiter with no such agent stays waiting and the next waiters are
//     still decided: a full group does not hold up another group.
//   - Each assignment counts against its agent (Active+1, LastAssigned set to
//     the next counter value) before the next waiter is decided.
//   - A waiter goes to its AvoidAgentID (the agent who just handed it over)
//     only when no other agent of its group has room, and never as its
//     sticky or dedicated agent. A GroupOnly waiter (sent to its group by a
//     transfer) goes to its sticky or dedicated agent only if they are in
//     the group.
//
// FIFO within a group needs no rule of its own. Room only shrinks during a
// decision, so once a waiter is left waiting, its own agents and every agent
// of its group stay without room to the end: no later waiter, by any step,
// can take a slot the earlier one could have had. A later waiter of that
// group is still served when its last or dedicated agent has room; that
// agent is then outside the group, so the earlier waiter loses nothing, and
// holding the buyer back would only leave an agent idle. The other way
// round, when a group's last slot belongs to a later waiter's last agent, the
// earlier waiter of the group takes it at its turn: a sticky or dedicated
// agent is the waiter's preference when its turn comes, never a reservation
// ahead of the line.
//
// Agent IDs must be unique. Neither slice is modified.
func Decide(agents []Agent, waiting []Waiter, counter uint64) []Assignment {
	if len(waiting) == 0 {
		return nil
	}
	work := slices.Clone(agents) // Groups maps are shared, only read
	byID := make(map[int64]int, len(work))
	for i, a := range work {
		byID[a.ID] = i
	}
	line := slices.Clone(waiting)
	slices.SortStableFunc(line, servedFirst)
	decided := make(map[int64]bool, len(line))
	var out []Assignment
	for _, w := range line {
		if decided[w.ConversationID] {
			continue
		}
		decided[w.ConversationID] = true
		i, ok := choose(work, byID, w)
		if !ok {
			continue
		}
		counter++
		work[i].Active++
		work[i].LastAssigned = counter
		out = append(out, Assignment{ConversationID: w.ConversationID, BuyerID: w.BuyerID, AgentID: work[i].ID})
	}
	return out
}

// choose returns the index of the agent who takes the waiter now: the
// buyer's last agent, their dedicated agent, then the best of the group.
func choose(agents []Agent, byID map[int64]int, w Waiter) (int, bool) {
	for _, own := range []int64{w.LastAgentID, w.DedicatedAgentID} {
		i, ok := byID[own]
		if ok && own != 0 && own != w.AvoidAgentID && agents[i].hasRoom() && (!w.GroupOnly || agents[i].inGroup(w.GroupID)) {
			return i, true
		}
	}
	if w.AssistantFirst {
		return -1, false
	}
	best, avoided := -1, -1
	for i, a := range agents {
		if !a.hasRoom() || !a.inGroup(w.GroupID) {
			continue
		}
		if w.AvoidAgentID != 0 && a.ID == w.AvoidAgentID {
			avoided = i
			continue
		}
		if best < 0 || preferred(a, agents[best], w.GroupID) {
			best = i
		}
	}
	if best < 0 && w.Overflow {
		// The backup stage: the reserve agents take what the group cannot.
		for i, a := range agents {
			if a.Reserve && a.hasRoom() && a.ID != w.AvoidAgentID && (best < 0 || preferred(a, agents[best], 0)) {
				best = i
			}
		}
	}
	if best < 0 {
		// Nobody else can take it: back to the one who handed it over
		// rather than nobody.
		best = avoided
	}
	return best, best >= 0
}

// preferred reports whether a should take a conversation of the group
// before b: the lower load for their weight, then the larger share of free
// slots, then the one assigned least recently, then the lower id.
func preferred(a, b Agent, group int64) bool {
	// Lowest (active+1)/weight, compared without division.
	if l, r := (a.Active+1)*b.weight(group), (b.Active+1)*a.weight(group); l != r {
		return l < r
	}
	if l, r := (a.Cap-a.Active)*b.Cap, (b.Cap-b.Active)*a.Cap; l != r {
		return l > r
	}
	if a.LastAssigned != b.LastAssigned {
		return a.LastAssigned < b.LastAssigned
	}
	return a.ID < b.ID
}
