package queue

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/kefu/kefu"
)

// staff is an online agent in the given groups, with weight 1 in each.
func staff(id int64, active, cap int, groups ...int64) Agent {
	a := Agent{ID: id, Presence: kefu.PresenceOnline, Active: active, Cap: cap}
	if len(groups) > 0 {
		a.Groups = map[int64]int{}
		for _, g := range groups {
			a.Groups[g] = 1
		}
	}
	return a
}

// weighted is an online agent with the given weight in each group.
func weighted(id int64, active, cap int, groups map[int64]int) Agent {
	return Agent{ID: id, Presence: kefu.PresenceOnline, Active: active, Cap: cap, Groups: groups}
}

func lastAssigned(a Agent, n uint64) Agent { a.LastAssigned = n; return a }

func withPresence(a Agent, p kefu.Presence) Agent { a.Presence = p; return a }

// waiter is conversation conv asking for the group, from buyer buyerOf(conv),
// arrived in the order of conversation ids.
func waiter(conv, group int64) Waiter {
	return Waiter{ConversationID: conv, BuyerID: buyerOf(conv), GroupID: group, Arrived: uint64(conv)}
}

func buyerOf(conv int64) int64 { return 1000 + conv }

func stickyTo(w Waiter, agent int64) Waiter { w.LastAgentID = agent; return w }

func dedicatedTo(w Waiter, agent int64) Waiter { w.DedicatedAgentID = agent; return w }

func vip(w Waiter, priority int) Waiter { w.Priority = priority; return w }

func arrivedAt(w Waiter, n uint64) Waiter { w.Arrived = n; return w }

// to is the assignment of conversation conv (of buyer buyerOf(conv)) to an agent.
func to(conv, agent int64) Assignment {
	return Assignment{ConversationID: conv, BuyerID: buyerOf(conv), AgentID: agent}
}

func TestDecide(t *testing.T) {
	const (
		g7 = 7
		g8 = 8
	)
	cases := []struct {
		name    string
		agents  []Agent
		waiting []Waiter
		counter uint64
		want    []Assignment
	}{
		// Empty inputs.
		{name: "nobody waiting", agents: []Agent{staff(1, 0, 5)}},
		{name: "no agents", waiting: []Waiter{waiter(1, 0), waiter(2, g7)}},
		{name: "nothing at all"},
		{name: "a group without members: waits", agents: []Agent{staff(1, 0, 5), staff(2, 0, 5, g8)},
			waiting: []Waiter{waiter(1, g7)}},

		// Group scoping.
		{name: "no group: anyone, fewest active first", agents: []Agent{staff(1, 3, 5, g7), staff(2, 1, 5)},
			waiting: []Waiter{waiter(1, 0)}, want: []Assignment{to(1, 2)}},
		{name: "group: only its members, however idle the others", agents: []Agent{staff(1, 0, 5), staff(2, 3, 5, g7), staff(3, 0, 5, g8)},
			waiting: []Waiter{waiter(1, g7)}, want: []Assignment{to(1, 2)}},
		{name: "each waiter within its own group", agents: []Agent{staff(1, 0, 5, g8), staff(2, 0, 5, g7), staff(3, 0, 5, g7, g8)},
			waiting: []Waiter{waiter(1, g7), waiter(2, g8), waiter(3, g7)},
			want:    []Assignment{to(1, 2), to(2, 1), to(3, 3)}},

		// Bot-first: the assistant answers unless the buyer's own agents can.
		{name: "assistant first: the sticky agent still takes it", agents: []Agent{staff(1, 0, 5), staff(2, 0, 5)},
			waiting: []Waiter{assistantFirst(stickyTo(waiter(1, 0), 2))}, want: []Assignment{to(1, 2)}},
		{name: "assistant first: the dedicated agent still takes it", agents: []Agent{staff(1, 0, 5, g7), staff(2, 0, 5)},
			waiting: []Waiter{assistantFirst(dedicatedTo(waiter(1, g7), 2))}, want: []Assignment{to(1, 2)}},
		{name: "assistant first: never the group, and the next waiter is served", agents: []Agent{staff(1, 0, 1, g7)},
			waiting: []Waiter{assistantFirst(waiter(1, g7)), waiter(2, g7)}, want: []Assignment{to(2, 1)}},

		// The agent who handed a conversation over never gets it back.
		{name: "avoided agent: the next of the group", agents: []Agent{staff(1, 0, 5, g7), staff(2, 3, 5, g7)},
			waiting: []Waiter{avoid(waiter(1, g7), 1)}, want: []Assignment{to(1, 2)}},
		{name: "avoided agent even when sticky", agents: []Agent{staff(1, 0, 5, g7), staff(2, 3, 5, g7)},
			waiting: []Waiter{avoid(stickyTo(waiter(1, g7), 1), 1)}, want: []Assignment{to(1, 2)}},
		{name: "only the avoided agent has room: back to them rather than nobody", agents: []Agent{staff(1, 0, 5, g7), staff(2, 5, 5, g7)},
			waiting: []Waiter{avoid(waiter(1, g7), 1)}, want: []Assignment{to(1, 1)}},
		{name: "sent to a group: a sticky agent outside it is passed over", agents: []Agent{staff(1, 0, 5), staff(2, 3, 5, g7)},
			waiting: []Waiter{groupOnly(stickyTo(waiter(1, g7), 1))}, want: []Assignment{to(1, 2)}},
		{name: "sent to a group: a sticky agent inside it is kept", agents: []Agent{staff(1, 4, 5, g7), staff(2, 0, 5, g7)},
			waiting: []Waiter{groupOnly(stickyTo(waiter(1, g7), 1))}, want: []Assignment{to(1, 1)}},

		// Sticky (last agent) and dedicated agent.
		{name: "sticky beats the group", agents: []Agent{staff(1, 0, 5, g7), staff(2, 2, 5)},
			waiting: []Waiter{stickyTo(waiter(1, g7), 2)}, want: []Assignment{to(1, 2)}},
		{name: "sticky beats a less loaded agent", agents: []Agent{staff(1, 0, 5), staff(2, 4, 5)},
			waiting: []Waiter{stickyTo(waiter(1, 0), 2)}, want: []Assignment{to(1, 2)}},
		{name: "sticky agent full: the group", agents: []Agent{staff(1, 3, 5, g7), staff(2, 5, 5, g7)},
			waiting: []Waiter{stickyTo(waiter(1, g7), 2)}, want: []Assignment{to(1, 1)}},
		{name: "sticky agent away: the group", agents: []Agent{staff(1, 3, 5, g7), withPresence(staff(2, 0, 5, g7), kefu.PresenceAway)},
			waiting: []Waiter{stickyTo(waiter(1, g7), 2)}, want: []Assignment{to(1, 1)}},
		{name: "sticky agent over cap after manual takes: the group", agents: []Agent{staff(1, 3, 5, g7), staff(2, 7, 5, g7)},
			waiting: []Waiter{stickyTo(waiter(1, g7), 2)}, want: []Assignment{to(1, 1)}},
		{name: "sticky agent not of the shop: the group", agents: []Agent{staff(1, 3, 5, g7)},
			waiting: []Waiter{stickyTo(waiter(1, g7), 99)}, want: []Assignment{to(1, 1)}},
		{name: "sticky agent takes their buyers until full", agents: []Agent{staff(1, 0, 5, g7), staff(2, 3, 5, g7)},
			waiting: []Waiter{stickyTo(waiter(1, g7), 2), stickyTo(waiter(2, g7), 2), stickyTo(waiter(3, g7), 2)},
			want:    []Assignment{to(1, 2), to(2, 2), to(3, 1)}},
		{name: "dedicated when the sticky agent has no room", agents: []Agent{staff(1, 0, 5, g7), staff(2, 5, 5), staff(3, 4, 5)},
			waiting: []Waiter{stickyTo(dedicatedTo(waiter(1, g7), 3), 2)}, want: []Assignment{to(1, 3)}},
		{name: "sticky before dedicated", agents: []Agent{staff(2, 4, 5), staff(3, 0, 5)},
			waiting: []Waiter{stickyTo(dedicatedTo(waiter(1, 0), 3), 2)}, want: []Assignment{to(1, 2)}},
		{name: "dedicated outside the group", agents: []Agent{staff(1, 0, 5, g7), staff(3, 2, 5)},
			waiting: []Waiter{dedicatedTo(waiter(1, g7), 3)}, want: []Assignment{to(1, 3)}},
		{name: "dedicated agent offline: the group", agents: []Agent{staff(1, 1, 5, g7), withPresence(staff(3, 0, 5), kefu.PresenceOffline)},
			waiting: []Waiter{dedicatedTo(waiter(1, g7), 3)}, want: []Assignment{to(1, 1)}},
		{name: "own agents without room and the group full: waits",
			agents:  []Agent{staff(1, 5, 5, g7), staff(2, 5, 5), withPresence(staff(3, 0, 5), kefu.PresenceAway), staff(4, 0, 5, g8)},
			waiting: []Waiter{stickyTo(dedicatedTo(waiter(1, g7), 3), 2)}},

		// Weights.
		{name: "weight 2 takes two for one of weight 1",
			agents:  []Agent{weighted(1, 0, 10, map[int64]int{g7: 1}), weighted(2, 0, 10, map[int64]int{g7: 2})},
			waiting: []Waiter{waiter(1, g7), waiter(2, g7), waiter(3, g7), waiter(4, g7), waiter(5, g7), waiter(6, g7)},
			want:    []Assignment{to(1, 2), to(2, 1), to(3, 2), to(4, 2), to(5, 1), to(6, 2)}},
		// Agent 1's weight 3 is for group 7; in group 8 it is 1 and agent 1 is busier.
		{name: "a weight counts only in its group",
			agents:  []Agent{weighted(1, 2, 10, map[int64]int{g7: 3, g8: 1}), weighted(2, 1, 10, map[int64]int{g8: 1})},
			waiting: []Waiter{waiter(1, g8)}, want: []Assignment{to(1, 2)}},
		{name: "no group: weights do not count",
			agents:  []Agent{weighted(1, 1, 10, map[int64]int{g7: 5}), weighted(2, 0, 10, map[int64]int{g7: 1})},
			waiting: []Waiter{waiter(1, 0)}, want: []Assignment{to(1, 2)}},
		{name: "a weight below 1 counts as 1",
			agents:  []Agent{weighted(1, 0, 10, map[int64]int{g7: 0}), weighted(2, 1, 10, map[int64]int{g7: 1})},
			waiting: []Waiter{waiter(1, g7)}, want: []Assignment{to(1, 1)}},

		// Ties.
		{name: "lower load per weight beats a larger free share",
			agents:  []Agent{weighted(1, 1, 2, map[int64]int{g7: 1}), weighted(2, 2, 10, map[int64]int{g7: 1})},
			waiting: []Waiter{waiter(1, g7)}, want: []Assignment{to(1, 1)}},
		// (3+1)/2 = (1+1)/1; agent 2 has 2/3 free, agent 1 half.
		{name: "equal load per weight: larger free share, before an older last assignment",
			agents:  []Agent{weighted(1, 3, 6, map[int64]int{g7: 2}), lastAssigned(weighted(2, 1, 3, map[int64]int{g7: 1}), 9)},
			waiting: []Waiter{waiter(1, g7)}, want: []Assignment{to(1, 2)}},
		{name: "equal load and share: least recently assigned",
			agents:  []Agent{lastAssigned(staff(1, 1, 5, g7), 7), lastAssigned(staff(2, 1, 5, g7), 3), lastAssigned(staff(3, 1, 5, g7), 5)},
			waiting: []Waiter{waiter(1, g7)}, want: []Assignment{to(1, 2)}},
		{name: "all equal: lowest id",
			agents:  []Agent{lastAssigned(staff(9, 1, 5, g7), 2), lastAssigned(staff(4, 1, 5, g7), 2), lastAssigned(staff(7, 1, 5, g7), 2)},
			waiting: []Waiter{waiter(1, g7)}, want: []Assignment{to(1, 4)}},

		// The order of the line.
		{name: "higher priority first, though it arrived later", agents: []Agent{staff(1, 0, 1)},
			waiting: []Waiter{waiter(1, 0), vip(waiter(2, 0), 1)}, want: []Assignment{to(2, 1)}},
		{name: "higher priority first across groups", agents: []Agent{staff(1, 0, 1, g7, g8)},
			waiting: []Waiter{waiter(1, g7), vip(waiter(2, g8), 2)}, want: []Assignment{to(2, 1)}},
		{name: "earlier arrival first, whatever the conversation id", agents: []Agent{staff(1, 0, 1)},
			waiting: []Waiter{arrivedAt(waiter(1, 0), 5), arrivedAt(waiter(2, 0), 3)}, want: []Assignment{to(2, 1)}},
		{name: "same arrival: lower conversation id first", agents: []Agent{staff(1, 0, 1)},
			waiting: []Waiter{arrivedAt(waiter(2, 0), 3), arrivedAt(waiter(1, 0), 3)}, want: []Assignment{to(1, 1)}},
		{name: "assignments in the order decided", agents: []Agent{staff(1, 0, 5)},
			waiting: []Waiter{waiter(1, 0), vip(waiter(2, 0), 2), vip(waiter(3, 0), 1)},
			want:    []Assignment{to(2, 1), to(3, 1), to(1, 1)}},

		// A full group and FIFO within a group.
		{name: "a full group does not block another group", agents: []Agent{staff(1, 5, 5, g7), staff(2, 0, 5, g8)},
			waiting: []Waiter{waiter(1, g7), waiter(2, g8)}, want: []Assignment{to(2, 2)}},
		{name: "a group filled mid-line does not block another group", agents: []Agent{staff(1, 0, 1, g7), staff(2, 0, 5, g8)},
			waiting: []Waiter{waiter(1, g7), waiter(2, g7), waiter(3, g8)}, want: []Assignment{to(1, 1), to(3, 2)}},
		{name: "FIFO within a group: the earlier waiter takes the last slot", agents: []Agent{staff(1, 4, 5, g7)},
			waiting: []Waiter{waiter(2, g7), waiter(1, g7)}, want: []Assignment{to(1, 1)}},
		{name: "FIFO within a group beats a later waiter's sticky agent", agents: []Agent{staff(1, 4, 5, g7), staff(2, 0, 5)},
			waiting: []Waiter{waiter(1, g7), stickyTo(waiter(2, g7), 1)}, want: []Assignment{to(1, 1)}},
		{name: "FIFO within a group beats a later waiter's dedicated agent", agents: []Agent{staff(1, 4, 5, g7), staff(2, 0, 5)},
			waiting: []Waiter{waiter(1, g7), dedicatedTo(waiter(2, g7), 1)}, want: []Assignment{to(1, 1)}},
		{name: "group full: a later waiter is still served by its own agent outside the group", agents: []Agent{staff(1, 5, 5, g7), staff(2, 0, 5), staff(3, 1, 5)},
			waiting: []Waiter{waiter(1, g7), stickyTo(waiter(2, g7), 2), dedicatedTo(waiter(3, g7), 3), waiter(4, g7)},
			want:    []Assignment{to(2, 2), to(3, 3)}},
		{name: "FIFO within a group of the same priority", agents: []Agent{staff(1, 3, 5, g7)},
			waiting: []Waiter{waiter(1, g7), vip(waiter(2, g7), 1), vip(waiter(3, g7), 1)}, want: []Assignment{to(2, 1), to(3, 1)}},
		{name: "an earlier waiter of no group takes a group's last slot", agents: []Agent{staff(1, 4, 5, g7)},
			waiting: []Waiter{waiter(1, 0), waiter(2, g7)}, want: []Assignment{to(1, 1)}},

		// Presence and capacity.
		{name: "offline and away agents take nothing",
			agents:  []Agent{withPresence(staff(1, 0, 5, g7), kefu.PresenceOffline), withPresence(staff(2, 0, 5, g7), kefu.PresenceAway), staff(3, 4, 5, g7)},
			waiting: []Waiter{waiter(1, g7), waiter(2, 0)}, want: []Assignment{to(1, 3)}},
		{name: "unknown presence is not online", agents: []Agent{withPresence(staff(1, 0, 5), "busy")},
			waiting: []Waiter{waiter(1, 0)}},
		{name: "over cap after manual takes: none more", agents: []Agent{staff(1, 7, 5, g7), staff(2, 4, 5, g7)},
			waiting: []Waiter{waiter(1, g7), waiter(2, g7), waiter(3, 0)}, want: []Assignment{to(1, 2)}},
		{name: "zero capacity", agents: []Agent{staff(1, 0, 0)}, waiting: []Waiter{waiter(1, 0)}},

		// Each assignment counts before the next.
		{name: "spreads across agents", agents: []Agent{staff(1, 0, 2), staff(2, 0, 2)},
			waiting: []Waiter{waiter(1, 0), waiter(2, 0), waiter(3, 0), waiter(4, 0), waiter(5, 0)},
			want:    []Assignment{to(1, 1), to(2, 2), to(3, 1), to(4, 2)}},
		// Agent 2 is assigned at counter 11, after agent 1's 10: agent 1 is next.
		{name: "continues the caller's counter", agents: []Agent{lastAssigned(staff(1, 1, 5), 10), lastAssigned(staff(2, 0, 5), 3)},
			waiting: []Waiter{waiter(1, 0), waiter(2, 0)}, counter: 10, want: []Assignment{to(1, 2), to(2, 1)}},
		{name: "a sticky assignment counts too", agents: []Agent{staff(1, 0, 2), staff(2, 1, 2)},
			waiting: []Waiter{stickyTo(waiter(1, 0), 1), waiter(2, 0)}, want: []Assignment{to(1, 1), to(2, 2)}},
		{name: "a conversation listed twice is decided once", agents: []Agent{staff(1, 0, 5)},
			waiting: []Waiter{waiter(1, 0), waiter(1, 0)}, want: []Assignment{to(1, 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The answer must not depend on the order of either slice.
			for _, order := range []struct {
				name    string
				agents  []Agent
				waiting []Waiter
			}{
				{"as given", tc.agents, tc.waiting},
				{"agents reversed", reversedOf(tc.agents), tc.waiting},
				{"line reversed", tc.agents, reversedOf(tc.waiting)},
			} {
				agents, waiting := cloneAgents(order.agents), slices.Clone(order.waiting)
				got := Decide(agents, waiting, tc.counter)
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s: Decide = %v, want %v", order.name, got, tc.want)
				}
				if !reflect.DeepEqual(agents, order.agents) {
					t.Errorf("%s: Decide changed its agents: %v, was %v", order.name, agents, order.agents)
				}
				if !slices.Equal(waiting, order.waiting) {
					t.Errorf("%s: Decide changed its line: %v, was %v", order.name, waiting, order.waiting)
				}
			}
		})
	}
}

// cloneAgents copies agents deeply, group maps included.
func cloneAgents(agents []Agent) []Agent {
	out := slices.Clone(agents)
	for i := range out {
		out[i].Groups = maps.Clone(out[i].Groups)
	}
	return out
}

func reversedOf[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func avoid(w Waiter, agentID int64) Waiter {
	w.AvoidAgentID = agentID
	return w
}

func groupOnly(w Waiter) Waiter {
	w.GroupOnly = true
	return w
}

func assistantFirst(w Waiter) Waiter { w.AssistantFirst = true; return w }
