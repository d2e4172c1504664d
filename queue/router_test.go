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

// In these tests conversation c always belongs to buyer c+100.
func buyer(convID int64) int64 { return convID + 100 }

// to is the assignment of conversation convID (and its buyer) to agentID.
func to(convID, agentID int64) Assignment {
	return Assignment{ConversationID: convID, BuyerID: buyer(convID), AgentID: agentID}
}

func enqueue(r *Router, shopID, convID int64) func() any {
	return func() any { as, _ := r.Enqueue(shopID, convID, buyer(convID)); return as }
}

func setAgent(r *Router, shopID, agentID int64, p kefu.Presence, cap int) func() any {
	return func() any { return r.SetAgent(shopID, agentID, p, cap) }
}

func release(r *Router, shopID, convID int64) func() any {
	return func() any { return r.Release(shopID, convID) }
}

func requeue(r *Router, shopID, convID int64) func() any {
	return func() any { r.Requeue(shopID, convID); return nil }
}

func take(r *Router, shopID, convID, agentID int64) func() any {
	return func() any { return r.Take(shopID, convID, agentID) }
}

func waitingIDs(r *Router, shopID int64) func() any {
	return func() any {
		var ids []int64
		for _, w := range r.Waiting(shopID) {
			if w.BuyerID != buyer(w.ConversationID) {
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
		{"first is assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"second is assigned", enqueue(r, shop, 2), []Assignment{to(2, 10)}},
		{"third waits", enqueue(r, shop, 3), none()},
		{"fourth waits", enqueue(r, shop, 4), none()},
		{"fifth waits", enqueue(r, shop, 5), none()},
		{"line", waitingIDs(r, shop), []int64{3, 4, 5}},
		{"positions 1..n, 0 when not waiting", positions(r, shop, 3, 4, 5, 1, 99), []int{1, 2, 3, 0, 0}},
		{"enqueuing a waiting conversation again", enqueue(r, shop, 4), none()},
		{"even for another buyer", func() any { as, _ := r.Enqueue(shop, 4, 999); return as }, none()},
		{"line unchanged, buyer kept", waitingIDs(r, shop), []int64{3, 4, 5}},
		{"enqueuing an assigned conversation again", enqueue(r, shop, 1), none()},
		{"it does not join the line", waitingIDs(r, shop), []int64{3, 4, 5}},
		{"agent load", active(r, shop, 10), 2},
		{"release of c1 still frees the one slot", release(r, shop, 1), []Assignment{to(3, 10)}},
		{"load", active(r, shop, 10), 2},
	})
}

// A requeued conversation at the head and an agent with two free slots: one
// Enqueue hands out both, in line order, each with its own buyer.
func TestRouterEnqueueReturnsEveryAssignment(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent with two slots", setAgent(r, shop, 10, kefu.PresenceOnline, 2), none()},
		{"c1 assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c1 could not be stored", requeue(r, shop, 1), nil},
		{"two free slots", active(r, shop, 10), 0},
		{"c2 drains c1 first, then itself", enqueue(r, shop, 2), []Assignment{to(1, 10), to(2, 10)}},
		{"line empty", waitingIDs(r, shop), []int64(nil)},
		{"load", active(r, shop, 10), 2},
		{"both are held: releasing c1 frees one", release(r, shop, 1), none()},
		{"load after c1", active(r, shop, 10), 1},
		{"releasing c2 frees the other", release(r, shop, 2), none()},
		{"load after c2", active(r, shop, 10), 0},
	})
}

func TestRouterSetAgentDrains(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"c1 waits", enqueue(r, shop, 1), none()},
		{"c2 waits", enqueue(r, shop, 2), none()},
		{"c3 waits", enqueue(r, shop, 3), none()},
		{"c4 waits", enqueue(r, shop, 4), none()},
		{"away agent takes nothing", setAgent(r, shop, 10, kefu.PresenceAway, 3), none()},
		{"online agent takes the head of the line", setAgent(r, shop, 10, kefu.PresenceOnline, 3),
			[]Assignment{to(1, 10), to(2, 10), to(3, 10)}},
		{"rest of the line", waitingIDs(r, shop), []int64{4}},
		{"position moved up", positions(r, shop, 4), []int{1}},
		{"second agent, default cap", setAgent(r, shop, 11, kefu.PresenceOnline, 0), []Assignment{to(4, 11)}},
		{"default cap applied", func() any { return r.Agent(shop, 11).Cap }, kefu.DefaultAgentCap},
		{"line empty", waitingIDs(r, shop), []int64(nil)},
		{"raising a cap with nobody waiting", setAgent(r, shop, 10, kefu.PresenceOnline, 4), none()},
		{"zero cap keeps the old one", func() any {
			r.SetAgent(shop, 10, kefu.PresenceOnline, 0)
			return r.Agent(shop, 10).Cap
		}, 4},
		{"least loaded agent gets the next", enqueue(r, shop, 5), []Assignment{to(5, 11)}},
	})
}

func TestRouterRelease(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent with one slot", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"c1 assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c2 waits", enqueue(r, shop, 2), none()},
		{"c3 waits", enqueue(r, shop, 3), none()},
		{"release gives the slot to the head", release(r, shop, 1), []Assignment{to(2, 10)}},
		{"line", waitingIDs(r, shop), []int64{3}},
		{"releasing c1 twice frees nothing more", release(r, shop, 1), none()},
		{"c2 still holds the slot", active(r, shop, 10), 1},
		{"c3 still waits", waitingIDs(r, shop), []int64{3}},
		{"release c2", release(r, shop, 2), []Assignment{to(3, 10)}},
		{"release with nobody waiting", release(r, shop, 3), none()},
		{"slot free", active(r, shop, 10), 0},
		{"releasing c3 again", release(r, shop, 3), none()},
		{"load never negative", active(r, shop, 10), 0},
		{"releasing an unknown conversation", release(r, shop, 99), none()},
	})
}

// Release twice must free one slot, not two, even with room to spare.
func TestRouterReleaseTwice(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent with three slots", setAgent(r, shop, 10, kefu.PresenceOnline, 3), none()},
		{"c1 assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c2 assigned", enqueue(r, shop, 2), []Assignment{to(2, 10)}},
		{"c3 assigned", enqueue(r, shop, 3), []Assignment{to(3, 10)}},
		{"release c1", release(r, shop, 1), none()},
		{"load", active(r, shop, 10), 2},
		{"release c1 again", release(r, shop, 1), none()},
		{"still one slot free", active(r, shop, 10), 2},
		{"c4 takes it", enqueue(r, shop, 4), []Assignment{to(4, 10)}},
		{"c5 waits: the agent is full", enqueue(r, shop, 5), none()},
		{"line", waitingIDs(r, shop), []int64{5}},
	})
}

func TestRouterReleaseWaiting(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"c1 waits", enqueue(r, shop, 1), none()},
		{"c2 waits", enqueue(r, shop, 2), none()},
		{"c3 waits", enqueue(r, shop, 3), none()},
		{"c4 waits", enqueue(r, shop, 4), none()},
		{"release the second", release(r, shop, 2), none()},
		{"others keep their order", waitingIDs(r, shop), []int64{1, 3, 4}},
		{"positions close up", positions(r, shop, 1, 2, 3, 4), []int{1, 0, 2, 3}},
		{"release it again", release(r, shop, 2), none()},
		{"release the head", release(r, shop, 1), none()},
		{"release from another shop", release(r, shop+1, 3), none()},
		{"other shop left it", waitingIDs(r, shop), []int64{3, 4}},
		{"released ones are not assigned", setAgent(r, shop, 10, kefu.PresenceOnline, 5),
			[]Assignment{to(3, 10), to(4, 10)}},
		{"load", active(r, shop, 10), 2},
	})
}

// Releasing a conversation the router does not know changes no count, but
// still drains (here, what a Requeue left waiting).
func TestRouterReleaseUnknown(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent 10, two slots", setAgent(r, shop, 10, kefu.PresenceOnline, 2), none()},
		{"c1 assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c2 assigned", enqueue(r, shop, 2), []Assignment{to(2, 10)}},
		{"agent 11, one slot", setAgent(r, shop, 11, kefu.PresenceOnline, 1), none()},
		{"c3 assigned", enqueue(r, shop, 3), []Assignment{to(3, 11)}},
		{"c4 waits", enqueue(r, shop, 4), none()},
		{"release unknown with nobody free", release(r, shop, 99), none()},
		{"counts", func() any { return []int{r.Agent(shop, 10).Active, r.Agent(shop, 11).Active} }, []int{2, 1}},
		{"line", waitingIDs(r, shop), []int64{4}},
		{"c2 requeued", requeue(r, shop, 2), nil},
		{"line after requeue", waitingIDs(r, shop), []int64{2, 4}},
		{"release unknown drains", release(r, shop, 98), []Assignment{to(2, 10)}},
		{"counts after drain", func() any { return []int{r.Agent(shop, 10).Active, r.Agent(shop, 11).Active} }, []int{2, 1}},
		{"line after drain", waitingIDs(r, shop), []int64{4}},
	})
}

func TestRouterAwayAgent(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"online", setAgent(r, shop, 10, kefu.PresenceOnline, 5), none()},
		{"c1 assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c2 assigned", enqueue(r, shop, 2), []Assignment{to(2, 10)}},
		{"goes away", setAgent(r, shop, 10, kefu.PresenceAway, 5), none()},
		{"keeps current conversations", active(r, shop, 10), 2},
		{"new conversation waits", enqueue(r, shop, 3), none()},
		{"release still frees a slot but assigns nothing", release(r, shop, 1), none()},
		{"load after release", active(r, shop, 10), 1},
		{"still waiting", waitingIDs(r, shop), []int64{3}},
		{"goes offline", setAgent(r, shop, 10, kefu.PresenceOffline, 5), none()},
		{"offline also gets nothing", enqueue(r, shop, 4), none()},
		{"back online takes the line", setAgent(r, shop, 10, kefu.PresenceOnline, 5), []Assignment{to(3, 10), to(4, 10)}},
		{"load", active(r, shop, 10), 3},
	})
}

func TestRouterTake(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"full agent", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"c1 assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c2 waits", enqueue(r, shop, 2), none()},
		{"c3 waits", enqueue(r, shop, 3), none()},
		{"full agent takes c3 by hand", take(r, shop, 3, 10), true},
		{"over cap by choice", active(r, shop, 10), 2},
		{"c3 left the line", waitingIDs(r, shop), []int64{2}},
		{"taking it twice", take(r, shop, 3, 10), false},
		{"taking an assigned conversation", take(r, shop, 1, 11), false},
		{"taking an unknown conversation", take(r, shop, 42, 10), false},
		{"enqueuing a taken conversation", enqueue(r, shop, 3), none()},
		{"load unchanged", active(r, shop, 10), 2},
		{"away agent takes by hand", func() any {
			r.SetAgent(shop, 11, kefu.PresenceAway, 2)
			return r.Take(shop, 2, 11)
		}, true},
		{"line empty", waitingIDs(r, shop), []int64(nil)},
		{"away agent's load", active(r, shop, 11), 1},
		{"a take counts as the latest assignment", func() any {
			return r.Agent(shop, 11).LastAssigned > r.Agent(shop, 10).LastAssigned
		}, true},
		{"releasing the taken c3 frees the taker's slot", release(r, shop, 3), none()},
		{"taker's load", active(r, shop, 10), 1},
		{"releasing c2 frees the away agent's slot", release(r, shop, 2), none()},
		{"away agent's load after release", active(r, shop, 11), 0},
		{"the other agent is untouched", active(r, shop, 10), 1},
	})
}

func TestRouterRestore(t *testing.T) {
	convs := []kefu.Conversation{
		{ID: 1, ShopID: shop, BuyerID: 101, AgentID: 10, Status: kefu.StatusAssigned},
		{ID: 4, ShopID: shop, BuyerID: 104, Status: kefu.StatusQueued},
		{ID: 2, ShopID: shop, BuyerID: 102, AgentID: 10, Status: kefu.StatusAssigned},
		{ID: 3, ShopID: shop, BuyerID: 103, Status: kefu.StatusQueued},
		{ID: 5, ShopID: shop, BuyerID: 105, AgentID: 11, Status: kefu.StatusClosed},
		{ID: 6, ShopID: shop + 1, BuyerID: 106, Status: kefu.StatusQueued},
	}
	r := NewRouter()
	r.Restore(convs)
	runSteps(t, []step{
		{"queued ones wait in the given order", waitingIDs(r, shop), []int64{4, 3}},
		{"other shop's line", waitingIDs(r, shop+1), []int64{6}},
		{"assigned ones count toward their agent", active(r, shop, 10), 2},
		{"closed ones count for nothing", active(r, shop, 11), 0},
		{"restored agent is offline until they say otherwise", func() any { return r.Agent(shop, 10).Presence }, kefu.PresenceOffline},
		{"restoring the same again", func() any { r.Restore(convs); return nil }, nil},
		{"no double count", active(r, shop, 10), 2},
		{"no duplicate in line", waitingIDs(r, shop), []int64{4, 3}},
		{"nor in the other shop", waitingIDs(r, shop+1), []int64{6}},
		{"agent back with one free slot", setAgent(r, shop, 10, kefu.PresenceOnline, 3), []Assignment{to(4, 10)}},
		{"another agent takes the rest", setAgent(r, shop, 11, kefu.PresenceOnline, 5), []Assignment{to(3, 11)}},
		{"other shop untouched", waitingIDs(r, shop+1), []int64{6}},
		{"a restored assignment is known: enqueue ignores it", enqueue(r, shop, 1), none()},
		{"and release frees its agent", release(r, shop, 1), none()},
		{"load after release", active(r, shop, 10), 2},
		{"release it again", release(r, shop, 1), none()},
		{"load unchanged", active(r, shop, 10), 2},
	})
}

func TestRouterRequeue(t *testing.T) {
	r := NewRouter()
	runSteps(t, []step{
		{"agent with one slot", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"c1 assigned", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c2 waits", enqueue(r, shop, 2), none()},
		{"c1 could not be stored", requeue(r, shop, 1), nil},
		{"c1 back at the head with its buyer", waitingIDs(r, shop), []int64{1, 2}},
		{"slot given back", active(r, shop, 10), 0},
		{"requeue does not drain: agent still idle", func() any { return r.Position(shop, 1) }, 1},
		{"requeuing a waiting conversation", requeue(r, shop, 1), nil},
		{"requeuing another waiting one", requeue(r, shop, 2), nil},
		{"requeuing an unknown conversation", requeue(r, shop, 99), nil},
		{"line unchanged", waitingIDs(r, shop), []int64{1, 2}},
		{"load unchanged", active(r, shop, 10), 0},
		{"next drain takes c1 first", setAgent(r, shop, 10, kefu.PresenceOnline, 1), []Assignment{to(1, 10)}},
		{"c2 still waits", waitingIDs(r, shop), []int64{2}},
		{"requeue c1 again", requeue(r, shop, 1), nil},
		{"release of the requeued c1 takes it out of line", release(r, shop, 1), []Assignment{to(2, 10)}},
		{"line empty", waitingIDs(r, shop), []int64(nil)},
		{"load", active(r, shop, 10), 1},
	})
}

func TestRouterShopsAreIndependent(t *testing.T) {
	const other = shop + 1
	r := NewRouter()
	runSteps(t, []step{
		{"agent 10 online in shop 1", setAgent(r, shop, 10, kefu.PresenceOnline, 1), none()},
		{"shop 2's conversation is not given to shop 1's agent", enqueue(r, other, 2), none()},
		{"shop 1 takes its own", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"same agent id in shop 2, away", setAgent(r, other, 10, kefu.PresenceAway, 5), none()},
		{"shop 1's agent 10 still online", func() any { return r.Agent(shop, 10).Presence }, kefu.PresenceOnline},
		{"release in shop 2 frees nothing in shop 1", release(r, other, 1), none()},
		{"requeue in shop 2 moves nothing in shop 1", requeue(r, other, 1), nil},
		{"shop 1's load", active(r, shop, 10), 1},
		{"shop 1's line", waitingIDs(r, shop), []int64(nil)},
		{"shop 2's line", waitingIDs(r, other), []int64{2}},
		{"shop 2's agent online takes shop 2's line", setAgent(r, other, 10, kefu.PresenceOnline, 5), []Assignment{to(2, 10)}},
		{"shop 1 unchanged", active(r, shop, 10), 1},
	})
}

func TestRouterRoundRobin(t *testing.T) {
	r := NewRouter()
	r.SetAgent(shop, 10, kefu.PresenceOnline, 5)
	r.SetAgent(shop, 11, kefu.PresenceOnline, 5)
	runSteps(t, []step{
		{"c1 to the lower id", enqueue(r, shop, 1), []Assignment{to(1, 10)}},
		{"c2 to the idle agent", enqueue(r, shop, 2), []Assignment{to(2, 11)}},
		{"c3 to the one assigned longest ago", enqueue(r, shop, 3), []Assignment{to(3, 10)}},
		{"agent 10 frees a slot", release(r, shop, 1), none()},
		{"equal load: c4 to the one assigned longest ago, not the lower id", enqueue(r, shop, 4), []Assignment{to(4, 11)}},
		{"c5 to the less loaded", enqueue(r, shop, 5), []Assignment{to(5, 10)}},
	})
}

// TestRouterConcurrent checks the router's accounting under concurrent use
// (run with -race): however Enqueue, Release (some twice), SetAgent and Take
// interleave, each agent's load is the number of conversations it holds,
// automatic assignment never goes over cap, and nothing is lost or doubled.
func TestRouterConcurrent(t *testing.T) {
	const goroutines, each = 8, 60
	const taker = 13 // away throughout: holds only what it takes by hand
	r := NewRouter()
	caps := map[int64]int{10: 7, 11: 11, 12: 5}
	for id, c := range caps {
		r.SetAgent(shop, id, kefu.PresenceOnline, c)
	}
	r.SetAgent(shop, taker, kefu.PresenceAway, 1)

	var mu sync.Mutex
	holder := map[int64]int64{} // conversation -> agent, as the router answered
	released := map[int64]bool{}
	record := func(as []Assignment) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range as {
			if a.BuyerID != buyer(a.ConversationID) {
				t.Errorf("%+v: wrong buyer", a)
			}
			if prev, ok := holder[a.ConversationID]; ok {
				t.Errorf("conversation %d assigned to %d, already held by %d", a.ConversationID, a.AgentID, prev)
			}
			holder[a.ConversationID] = a.AgentID
		}
	}
	checkCaps := func() {
		for id, c := range caps {
			if a := r.Agent(shop, id); a.Active > c {
				t.Errorf("agent %d: load %d over cap %d", id, a.Active, c)
			}
		}
	}

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			agent := int64(10 + g%3)
			for i := range each {
				conv := int64(g*each + i + 1)
				as, added := r.Enqueue(shop, conv, buyer(conv))
				if !added {
					t.Errorf("conversation %d was not added on its first Enqueue", conv)
				}
				record(as)
				if as, added := r.Enqueue(shop, conv, buyer(conv)); as != nil || added {
					t.Errorf("enqueuing %d twice assigned %+v", conv, as)
				}
				switch {
				case i%3 == 0 && i >= 2: // release an earlier one...
					record(r.Release(shop, conv-2))
					mu.Lock()
					released[conv-2] = true
					mu.Unlock()
				case i%3 == 1 && i >= 3: // ...and the same one again
					record(r.Release(shop, conv-3))
				}
				if i%5 == 0 {
					p := kefu.PresenceOnline
					if i%10 == 0 {
						p = kefu.PresenceAway
					}
					record(r.SetAgent(shop, agent, p, caps[agent]))
				}
				if i%7 == 0 && i >= 1 && r.Take(shop, conv-1, taker) {
					record([]Assignment{{ConversationID: conv - 1, BuyerID: buyer(conv - 1), AgentID: taker}})
				}
				r.Position(shop, conv)
				checkCaps()
			}
		})
	}
	wg.Wait()
	for id, c := range caps {
		record(r.SetAgent(shop, id, kefu.PresenceOnline, c))
	}
	checkCaps()

	held := map[int64]int{}
	var wantWaiting []int64
	for conv := int64(1); conv <= goroutines*each; conv++ {
		agent, ok := holder[conv]
		switch {
		case released[conv]:
		case ok:
			held[agent]++
		default:
			wantWaiting = append(wantWaiting, conv)
		}
	}
	for id := range caps {
		if got := r.Agent(shop, id).Active; got != held[id] {
			t.Errorf("agent %d: load %d, holds %d", id, got, held[id])
		}
	}
	if got := r.Agent(shop, taker).Active; got != held[taker] {
		t.Errorf("taker: load %d, took %d", got, held[taker])
	}
	waiting := map[int64]bool{}
	for _, w := range r.Waiting(shop) {
		if waiting[w.ConversationID] {
			t.Errorf("conversation %d waits twice", w.ConversationID)
		}
		waiting[w.ConversationID] = true
	}
	if len(waiting) != len(wantWaiting) {
		t.Errorf("%d waiting, want %d", len(waiting), len(wantWaiting))
	}
	for _, conv := range wantWaiting {
		if !waiting[conv] {
			t.Errorf("conversation %d neither held nor waiting", conv)
		}
	}
	if len(waiting) > 0 {
		for id, c := range caps {
			if a := r.Agent(shop, id); a.Active != c {
				t.Errorf("%d waiting while agent %d has load %d of %d", len(waiting), id, a.Active, c)
			}
		}
	}
}
