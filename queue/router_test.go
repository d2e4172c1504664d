package queue

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/kefu/kefu"
)

// step is one call on a router and what it must answer.
type step struct {
	name string
	do   func() any
	want any
}

// enqueued is what Enqueue answers.
type enqueued struct {
	AgentID int64
	OK      bool
}

// runSteps runs steps in order on one router; each is a subtest, so a
// failure names the call that went wrong.
func runSteps(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if got := s.do(); !same(got, s.want) {
				t.Errorf("got %+v, want %+v", got, s.want)
			}
		})
	}
}

// same is reflect.DeepEqual, except that nil and empty slices are the same answer.
func same(got, want any) bool {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Kind() == reflect.Slice && w.Kind() == reflect.Slice && g.Type() == w.Type() && g.Len() == 0 && w.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(got, want)
}

const shop = 1

func enqueue(r *Router, shopID, convID int64) func() any {
	return func() any {
		id, ok := r.Enqueue(shopID, convID, convID+100)
		return enqueued{id, ok}
	}
}

func setAgent(r *Router, shopID, agentID int64, p kefu.Presence, cap int) func() any {
	return func() any { return r.SetAgent(shopID, agentID, p, cap) }
}

func release(r *Router, shopID, agentID int64) func() any {
	return func() any { return r.Release(shopID, agentID) }
}

func waitingIDs(r *Router, shopID int64) func() any {
	return func() any {
		var ids []int64
		for _, w := range r.Waiting(shopID) {
			if w.BuyerID != w.ConversationID+100 {
				return fmt.Sprintf("conversation %d waits for buyer %d", w.ConversationID, w.BuyerID)
			}
			ids = append(ids, w.ConversationID)
		}
		return ids
	}
}

func positions(r *Router, shopID int64, convIDs ...int64) func() any {
	return func() any {
		var out []int
		for _, id := range convIDs {
			out = append(out, r.Position(shopID, id))
		}
		return out
	}
}

func active(r *Router, shopID, agentID int64) func() any {
	return func() any { return r.Agent(shopID, agentID).Active }
}

func none() []Assignment { return nil }

func TestRouterEnqueue(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent comes online to an empty line", setAgent(r, shop, 10, kefu.PresenceOnline, 2), none()},
		{"first is assigned", enqueue(r, shop, 1), enqueued{10, true}},
		{"second is assigned", enqueue(r, shop, 2), enqueued{10, true}},
		{"third waits", enqueue(r, shop, 3), enqueued{0, false}},
		{"fourth waits", enqueue(r, shop, 4), enqueued{0, false}},
		{"fifth waits", enqueue(r, shop, 5), enqueued{0, false}},
		{"line", waitingIDs(r, shop), []int64{3, 4, 5}},
		{"positions 1..n, 0 when not waiting", positions(r, shop, 3, 4, 5, 1, 99), []int{1, 2, 3, 0, 0}},
		{"enqueuing a waiting conversation again", enqueue(r, shop, 4), enqueued{0, false}},
		{"line unchanged", waitingIDs(r, shop), []int64{3, 4, 5}},
		{"agent load", active(r, shop, 10), 2},
	})
}

func TestRouterSetAgentDrains(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"c1 waits", enqueue(r, shop, 1), enqueued{0, false}},
		{"c2 waits", enqueue(r, shop, 2), enqueued{0, false}},
		{"c3 waits", enqueue(r, shop, 3), enqueued{0, false}},
		{"c4 waits", enqueue(r, shop, 4), enqueued{0, false}},
		{"away agent takes nothing", setAgent(r, shop, 10, kefu.PresenceAway, 3), none()},
		{"online agent takes the head of the line", setAgent(r, shop, 10, kefu.PresenceOnline, 3),
			[]Assignment{{1, 10}, {2, 10}, {3, 10}}},
		{"rest of the line", waitingIDs(r, shop), []int64{4}},
		{"position moved up", positions(r, shop, 4), []int{1}},
		{"second agent, default cap", setAgent(r, shop, 11, kefu.PresenceOnline, 0), []Assignment{{4, 11}}},
		{"default cap applied", func() any { return r.Agent(shop, 11).Cap }, kefu.DefaultAgentCap},
		{"line empty", waitingIDs(r, shop), []int64(nil)},
		{"raising a cap with nobody waiting", setAgent(r, shop, 10, kefu.PresenceOnline, 4), none()},
		{"zero cap keeps the old one", func() any {
			r.SetAgent(shop, 10, kefu.PresenceOnline, 0)
			return r.Agent(shop, 10).Cap
		}, 4},
		{"least loaded agent gets the next", enqueue(r, shop, 5), enqueued{11, true}},
	})
}

func TestRouterRelease(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent with one slot", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"c1 assigned", enqueue(r, shop, 1), enqueued{10, true}},
		{"c2 waits", enqueue(r, shop, 2), enqueued{0, false}},
		{"c3 waits", enqueue(r, shop, 3), enqueued{0, false}},
		{"release gives the slot to the head", release(r, shop, 10), []Assignment{{2, 10}}},
		{"line", waitingIDs(r, shop), []int64{3}},
		{"release again", release(r, shop, 10), []Assignment{{3, 10}}},
		{"release with nobody waiting", release(r, shop, 10), none()},
		{"slot free", active(r, shop, 10), 0},
		{"releasing a free agent", release(r, shop, 10), none()},
		{"load never negative", active(r, shop, 10), 0},
		{"releasing an unknown agent", release(r, shop, 99), none()},
	})
}

func TestRouterAwayAgent(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"online", setAgent(r, shop, 10, kefu.PresenceOnline, 5), none()},
		{"c1 assigned", enqueue(r, shop, 1), enqueued{10, true}},
		{"c2 assigned", enqueue(r, shop, 2), enqueued{10, true}},
		{"goes away", setAgent(r, shop, 10, kefu.PresenceAway, 5), none()},
		{"keeps current conversations", active(r, shop, 10), 2},
		{"new conversation waits", enqueue(r, shop, 3), enqueued{0, false}},
		{"release still frees a slot but assigns nothing", release(r, shop, 10), none()},
		{"load after release", active(r, shop, 10), 1},
		{"still waiting", waitingIDs(r, shop), []int64{3}},
		{"goes offline", setAgent(r, shop, 10, kefu.PresenceOffline, 5), none()},
		{"offline also gets nothing", enqueue(r, shop, 4), enqueued{0, false}},
		{"back online takes the line", setAgent(r, shop, 10, kefu.PresenceOnline, 5), []Assignment{{3, 10}, {4, 10}}},
		{"load", active(r, shop, 10), 3},
	})
}

func TestRouterTake(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"full agent", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"c1 assigned", enqueue(r, shop, 1), enqueued{10, true}},
		{"c2 waits", enqueue(r, shop, 2), enqueued{0, false}},
		{"c3 waits", enqueue(r, shop, 3), enqueued{0, false}},
		{"full agent takes c3 by hand", func() any { return r.Take(shop, 3, 10) }, true},
		{"over cap by choice", active(r, shop, 10), 2},
		{"c3 left the line", waitingIDs(r, shop), []int64{2}},
		{"taking it twice", func() any { return r.Take(shop, 3, 10) }, false},
		{"taking an unknown conversation", func() any { return r.Take(shop, 42, 10) }, false},
		{"away agent takes by hand", func() any {
			r.SetAgent(shop, 11, kefu.PresenceAway, 2)
			return r.Take(shop, 2, 11)
		}, true},
		{"line empty", waitingIDs(r, shop), []int64(nil)},
		{"away agent's load", active(r, shop, 11), 1},
		{"a take counts as the latest assignment", func() any {
			return r.Agent(shop, 11).LastAssigned > r.Agent(shop, 10).LastAssigned
		}, true},
	})
}

func TestRouterRemove(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"c1 waits", enqueue(r, shop, 1), enqueued{0, false}},
		{"c2 waits", enqueue(r, shop, 2), enqueued{0, false}},
		{"c3 waits", enqueue(r, shop, 3), enqueued{0, false}},
		{"remove the middle", func() any { return r.Remove(shop, 2) }, true},
		{"line", waitingIDs(r, shop), []int64{1, 3}},
		{"positions close up", positions(r, shop, 1, 2, 3), []int{1, 0, 2}},
		{"remove again", func() any { return r.Remove(shop, 2) }, false},
		{"remove from another shop", func() any { return r.Remove(shop+1, 1) }, false},
		{"other shop left it", waitingIDs(r, shop), []int64{1, 3}},
		{"removed one is not assigned", setAgent(r, shop, 10, kefu.PresenceOnline, 5), []Assignment{{1, 10}, {3, 10}}},
	})
}

func TestRouterRestore(t *testing.T) {
	r := NewRouter()
	r.Restore([]kefu.Conversation{
		{ID: 1, ShopID: shop, BuyerID: 101, AgentID: 10, Status: kefu.StatusAssigned},
		{ID: 4, ShopID: shop, BuyerID: 104, Status: kefu.StatusQueued},
		{ID: 2, ShopID: shop, BuyerID: 102, AgentID: 10, Status: kefu.StatusAssigned},
		{ID: 3, ShopID: shop, BuyerID: 103, Status: kefu.StatusQueued},
		{ID: 5, ShopID: shop, BuyerID: 105, AgentID: 11, Status: kefu.StatusClosed},
		{ID: 6, ShopID: shop + 1, BuyerID: 106, Status: kefu.StatusQueued},
	})
	runSteps(t, []step{
		{"queued ones wait in the given order", waitingIDs(r, shop), []int64{4, 3}},
		{"other shop's line", waitingIDs(r, shop+1), []int64{6}},
		{"assigned ones count toward their agent", active(r, shop, 10), 2},
		{"closed ones count for nothing", active(r, shop, 11), 0},
		{"restored agent is offline until they say otherwise", func() any { return r.Agent(shop, 10).Presence }, kefu.PresenceOffline},
		{"agent back with one free slot", setAgent(r, shop, 10, kefu.PresenceOnline, 3), []Assignment{{4, 10}}},
		{"another agent takes the rest", setAgent(r, shop, 11, kefu.PresenceOnline, 5), []Assignment{{3, 11}}},
		{"other shop untouched", waitingIDs(r, shop+1), []int64{6}},
	})
}

func TestRouterUnassign(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent with one slot", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"c1 assigned", enqueue(r, shop, 1), enqueued{10, true}},
		{"c2 waits", enqueue(r, shop, 2), enqueued{0, false}},
		{"c1 could not be stored", func() any { r.Unassign(shop, 1, 101, 10); return nil }, nil},
		{"c1 back at the head", waitingIDs(r, shop), []int64{1, 2}},
		{"slot given back", active(r, shop, 10), 0},
		{"next drain takes c1 first", setAgent(r, shop, 10, kefu.PresenceOnline, 1), []Assignment{{1, 10}}},
		{"c2 still waits", waitingIDs(r, shop), []int64{2}},
	})
}

func TestRouterShopsAreIndependent(t *testing.T) {
	const other = shop + 1
	r := NewRouter()
	runSteps(t, []step{
		{"agent 10 online in shop 1", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"shop 2's conversation is not given to shop 1's agent", enqueue(r, other, 1), enqueued{0, false}},
		{"shop 1 takes its own", enqueue(r, shop, 1), enqueued{10, true}},
		{"same agent id in shop 2, away", setAgent(r, other, 10, kefu.PresenceAway, 5), none()},
		{"shop 1's agent 10 still online", func() any { return r.Agent(shop, 10).Presence }, kefu.PresenceOnline},
		{"release in shop 2 frees nothing in shop 1", release(r, other, 10), none()},
		{"shop 1's load", active(r, shop, 10), 1},
		{"shop 1's line", waitingIDs(r, shop), []int64(nil)},
		{"shop 2's line", waitingIDs(r, other), []int64{1}},
		{"shop 2's agent online takes shop 2's line", setAgent(r, other, 10, kefu.PresenceOnline, 5), []Assignment{{1, 10}}},
		{"shop 1 unchanged", active(r, shop, 10), 1},
	})
}

func TestRouterRoundRobin(t *testing.T) {
	r := NewRouter()
	r.SetAgent(shop, 10, kefu.PresenceOnline, 5)
	r.SetAgent(shop, 11, kefu.PresenceOnline, 5)
	runSteps(t, []step{
		{"c1 to the lower id", enqueue(r, shop, 1), enqueued{10, true}},
		{"c2 to the idle agent", enqueue(r, shop, 2), enqueued{11, true}},
		{"c3 to the one assigned longest ago", enqueue(r, shop, 3), enqueued{10, true}},
		{"agent 10 frees a slot", release(r, shop, 10), none()},
		{"equal load: c4 to the one assigned longest ago, not the lower id", enqueue(r, shop, 4), enqueued{11, true}},
		{"c5 to the less loaded", enqueue(r, shop, 5), enqueued{10, true}},
	})
}

// TestRouterConcurrent checks the router's accounting under concurrent use
// (run with -race): however calls interleave, every free slot is filled once
// and the rest wait.
func TestRouterConcurrent(t *testing.T) {
	const goroutines, each = 8, 50
	r := NewRouter()
	caps := map[int64]int{10: 30, 11: 50, 12: 20}
	slots := 0
	for id, c := range caps {
		r.SetAgent(shop, id, kefu.PresenceOnline, c)
		slots += c
	}
	var mu sync.Mutex
	assigned := map[int64]int{}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				conv := int64(g*each + i + 1)
				if agent, ok := r.Enqueue(shop, conv, conv+100); ok {
					mu.Lock()
					assigned[agent]++
					mu.Unlock()
				}
				r.Position(shop, conv)
			}
		})
	}
	wg.Wait()

	total := 0
	for id, c := range caps {
		if assigned[id] != c || r.Agent(shop, id).Active != c {
			t.Errorf("agent %d: %d assigned, load %d, want both %d", id, assigned[id], r.Agent(shop, id).Active, c)
		}
		total += assigned[id]
	}
	if want := goroutines*each - slots; len(r.Waiting(shop)) != want || total != slots {
		t.Errorf("%d assigned and %d waiting, want %d and %d", total, len(r.Waiting(shop)), slots, want)
	}
}
