package queue

import (
	"fmt"
	"slices"
	"testing"

	"github.com/kefu/kefu"
)

func online(id int64, active, cap int, lastAssigned uint64) AgentLoad {
	return AgentLoad{ID: id, Presence: kefu.PresenceOnline, Active: active, Cap: cap, LastAssigned: lastAssigned}
}

func TestPickAgent(t *testing.T) {
	cases := []struct {
		name   string
		agents []AgentLoad
		want   int64 // 0: nobody
	}{
		{"no agents", nil, 0},
		{"offline and away agents are skipped", []AgentLoad{
			{ID: 1, Presence: kefu.PresenceOffline, Cap: 5},
			{ID: 2, Presence: kefu.PresenceAway, Cap: 5},
			online(3, 4, 5, 0),
		}, 3},
		{"nobody online", []AgentLoad{
			{ID: 1, Presence: kefu.PresenceOffline, Cap: 5},
			{ID: 2, Presence: kefu.PresenceAway, Cap: 5},
		}, 0},
		{"unknown presence is not online", []AgentLoad{{ID: 1, Presence: "busy", Cap: 5}}, 0},
		{"full agents are skipped even when least busy", []AgentLoad{
			online(1, 3, 3, 0),
			online(2, 4, 5, 0),
		}, 2},
		{"over capacity after a manual take", []AgentLoad{online(1, 6, 5, 0)}, 0},
		{"zero capacity", []AgentLoad{online(1, 0, 0, 0)}, 0},
		{"everyone full", []AgentLoad{online(1, 5, 5, 0), online(2, 2, 2, 0)}, 0},
		{"least active first", []AgentLoad{
			online(1, 2, 5, 0),
			online(2, 1, 5, 9),
			online(3, 3, 5, 0),
		}, 2},
		{"least active beats larger free share", []AgentLoad{
			online(1, 1, 2, 0),  // half free
			online(2, 2, 10, 0), // 80% free, but busier
		}, 1},
		{"equal load: larger free share", []AgentLoad{
			online(1, 2, 3, 0), // a third free
			online(2, 2, 6, 9), // two thirds free
		}, 2},
		{"equal share, different caps", []AgentLoad{
			online(1, 1, 2, 5),
			online(2, 1, 2, 3),
		}, 2},
		{"free share beats older last assignment", []AgentLoad{
			online(1, 1, 2, 0),
			online(2, 1, 4, 100),
		}, 2},
		{"equal load and share: longest since last assignment", []AgentLoad{
			online(1, 1, 5, 7),
			online(2, 1, 5, 3),
			online(3, 1, 5, 5),
		}, 2},
		{"older last assignment beats lower id", []AgentLoad{
			online(1, 0, 5, 5),
			online(2, 0, 5, 1),
		}, 2},
		{"all equal: lowest id", []AgentLoad{
			online(9, 1, 5, 2),
			online(4, 1, 5, 2),
			online(7, 1, 5, 2),
		}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The answer must not depend on the order agents are listed in.
			orders := map[string][]AgentLoad{"as given": tc.agents, "reversed": reversed(tc.agents)}
			for order, agents := range orders {
				got, ok := PickAgent(agents)
				if ok != (tc.want != 0) || got != tc.want {
					t.Errorf("%s: PickAgent = %d, %v; want %d, %v", order, got, ok, tc.want, tc.want != 0)
				}
			}
		})
	}
}

func TestDrain(t *testing.T) {
	cases := []struct {
		name    string
		agents  []AgentLoad
		waiting []int64
		counter uint64
		want    []Assignment
	}{
		{"nobody waiting", []AgentLoad{online(1, 0, 5, 0)}, nil, 0, nil},
		{"no agents", nil, []int64{1, 2}, 0, nil},
		{"nobody online", []AgentLoad{{ID: 1, Presence: kefu.PresenceAway, Cap: 5}}, []int64{1}, 0, nil},
		{"first come first served", []AgentLoad{online(1, 0, 5, 0)}, []int64{30, 10, 20},
			0, []Assignment{{ConversationID: 30, AgentID: 1}, {ConversationID: 10, AgentID: 1}, {ConversationID: 20, AgentID: 1}}},
		{"stops when no room is left", []AgentLoad{online(1, 0, 2, 0)}, []int64{1, 2, 3, 4},
			0, []Assignment{{ConversationID: 1, AgentID: 1}, {ConversationID: 2, AgentID: 1}}},
		{"spreads across agents", []AgentLoad{online(1, 0, 2, 0), online(2, 0, 2, 0)}, []int64{1, 2, 3, 4, 5},
			0, []Assignment{{ConversationID: 1, AgentID: 1}, {ConversationID: 2, AgentID: 2}, {ConversationID: 3, AgentID: 1}, {ConversationID: 4, AgentID: 2}}},
		{"fills the least loaded first", []AgentLoad{online(1, 2, 5, 0), online(2, 0, 5, 0)}, []int64{1, 2, 3},
			0, []Assignment{{ConversationID: 1, AgentID: 2}, {ConversationID: 2, AgentID: 2}, {ConversationID: 3, AgentID: 1}}},
		{"skips full and away agents", []AgentLoad{
			online(1, 3, 3, 0),
			{ID: 2, Presence: kefu.PresenceAway, Cap: 5},
			online(3, 1, 2, 0),
		}, []int64{1, 2}, 0, []Assignment{{ConversationID: 1, AgentID: 3}}},
		// Agent 2 is assigned at counter 11, after agent 1's 10: agent 1 is next.
		{"continues the caller's counter", []AgentLoad{online(1, 1, 5, 10), online(2, 0, 5, 3)}, []int64{1, 2},
			10, []Assignment{{ConversationID: 1, AgentID: 2}, {ConversationID: 2, AgentID: 1}}},
		// Agent 2 then agent 1 get one each; agent 1's is the later, so agent 2 is next.
		{"each assignment is later than the last", []AgentLoad{online(1, 0, 5, 5), online(2, 0, 5, 0)}, []int64{1, 2, 3},
			5, []Assignment{{ConversationID: 1, AgentID: 2}, {ConversationID: 2, AgentID: 1}, {ConversationID: 3, AgentID: 2}}},
		{"agents listed out of order", []AgentLoad{online(3, 0, 1, 0), online(1, 0, 1, 0), online(2, 0, 1, 0)}, []int64{7, 8, 9, 10},
			0, []Assignment{{ConversationID: 7, AgentID: 1}, {ConversationID: 8, AgentID: 2}, {ConversationID: 9, AgentID: 3}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			agents, waiting := slices.Clone(tc.agents), slices.Clone(tc.waiting)
			got := Drain(agents, waiting, tc.counter)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Drain = %v, want %v", got, tc.want)
			}
			if !slices.Equal(agents, tc.agents) {
				t.Errorf("Drain changed its agents: %v, was %v", agents, tc.agents)
			}
			if !slices.Equal(waiting, tc.waiting) {
				t.Errorf("Drain changed its waiting line: %v, was %v", waiting, tc.waiting)
			}
		})
	}
}

func TestDrainNeverOverfills(t *testing.T) {
	for caps := range 4 {
		t.Run(fmt.Sprint("caps from ", caps), func(t *testing.T) {
			agents := []AgentLoad{online(1, 0, caps, 0), online(2, 1, caps+1, 0), online(3, 0, caps+2, 4)}
			waiting := make([]int64, 20)
			for i := range waiting {
				waiting[i] = int64(i + 1)
			}
			room := 0
			for _, a := range agents {
				room += a.Cap - a.Active
			}
			got := Drain(agents, waiting, 0)
			if len(got) != room {
				t.Errorf("%d assignments, want %d (all free slots)", len(got), room)
			}
			load := map[int64]int{}
			for i, as := range got {
				if as.ConversationID != waiting[i] {
					t.Errorf("assignment %d is conversation %d, want %d (queue order)", i, as.ConversationID, waiting[i])
				}
				load[as.AgentID]++
			}
			for _, a := range agents {
				if a.Active+load[a.ID] > a.Cap {
					t.Errorf("agent %d holds %d, cap %d", a.ID, a.Active+load[a.ID], a.Cap)
				}
			}
		})
	}
}

func reversed(agents []AgentLoad) []AgentLoad {
	out := slices.Clone(agents)
	slices.Reverse(out)
	return out
}
