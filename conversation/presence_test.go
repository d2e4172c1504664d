package conversation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// A dropped connection that comes back within the grace period changes
// nothing; an agent who stays away past it is offline and their buyers go
// back to the front of the line, to another agent at once if one has room.
func TestPresenceGraceAndDeparture(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	st, shop, svc, clock := ts.st, ts.shop, ts.svc, ts.clock
	a, b := ts.online("a", 5), ts.agent("b", 5)
	var held []int64
	for _, name := range []string{"one", "two"} {
		c := ts.writes(name, kefu.Entry{})
		if c.AgentID != a.ID {
			t.Fatalf("conversation %d went to %d, want a", c.ID, c.AgentID)
		}
		held = append(held, c.ID)
	}
	eventsSoFar := func() int {
		ev, err := st.Events(ctx, shop.ID, 0, kefu.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}

	// A blip: the socket drops and is back within the grace period.
	before := eventsSoFar()
	svc.AgentDisconnected(ctx, a)
	clock.Advance(10 * time.Second)
	svc.Tick(ctx)
	if p, _, _ := svc.Presence(ctx, a); p != kefu.PresenceOnline {
		t.Errorf("in grace the agent shows %s, want online", p)
	}
	// Meanwhile a new buyer does not go to the agent who dropped.
	svc.AgentConnected(ctx, b)
	if c := ts.writes("new", kefu.Entry{}); c.AgentID != b.ID {
		t.Errorf("a new buyer during a's grace went to %d, want b", c.AgentID)
	}
	svc.AgentConnected(ctx, a)
	clock.Advance(time.Minute)
	svc.Tick(ctx)
	for _, id := range held {
		if c, _ := st.Conversation(ctx, shop.ID, id); c.AgentID != a.ID || c.Status != kefu.StatusAssigned {
			t.Errorf("after a blip conversation %d is %s with %d, want still a's", id, c.Status, c.AgentID)
		}
	}
	// b's presence and the new buyer's conversation were written; a's blip wrote nothing.
	if n := eventsSoFar() - before; n != 1+4 {
		t.Errorf("the blip and what happened meanwhile wrote %d events, want 5 (b online; the new buyer's start, message, assignment, line)", n)
	}

	// A departure: gone past the grace period.
	svc.AgentDisconnected(ctx, a)
	clock.Advance(conversation.DefaultPresenceGrace)
	svc.Tick(ctx)
	if p, _, _ := svc.Presence(ctx, a); p != kefu.PresenceOffline {
		t.Errorf("after the grace the agent shows %s, want offline", p)
	}
	for _, id := range held {
		c, _ := st.Conversation(ctx, shop.ID, id)
		if c.AgentID != b.ID || c.Status != kefu.StatusAssigned || c.Priority != kefu.PriorityReturned {
			t.Errorf("after a left, conversation %d is %s with %d (priority %d), want b's, returned", id, c.Status, c.AgentID, c.Priority)
		}
		msgs, _, _ := st.Messages(ctx, shop.ID, id, 0, 10)
		var codes []string
		for _, m := range msgs {
			codes = append(codes, m.Code)
		}
		if len(codes) < 3 || codes[len(codes)-2] != kefu.SystemRequeued || codes[len(codes)-1] != kefu.SystemAssigned {
			t.Errorf("conversation %d's lines: %v, want the departure notice, then the new agent's", id, codes)
		}
	}
}

// A shop that closes quiet conversations closes, as kefu itself, an assigned
// one whose last message is older than its limit, and the freed slot goes to
// the next buyer in line.
func TestQuietConversationsClose(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	st, shop, svc, clock := ts.st, ts.shop, ts.svc, ts.clock
	if err := st.SetShopRouting(ctx, shop.ID, kefu.RoutingSettings{StickyDays: kefu.DefaultStickyDays, AutoCloseMinutes: 10}); err != nil {
		t.Fatal(err)
	}
	a := ts.online("a", 1)
	first := ts.writes("first", kefu.Entry{})
	next := ts.writes("next", kefu.Entry{})
	if first.AgentID != a.ID || next.Status != kefu.StatusQueued {
		t.Fatalf("first %s with %d, next %s; want a's and waiting", first.Status, first.AgentID, next.Status)
	}
	clock.Advance(9 * time.Minute)
	svc.Tick(ctx)
	if c, _ := st.Conversation(ctx, shop.ID, first.ID); c.Status != kefu.StatusAssigned {
		t.Fatalf("closed after 9 quiet minutes of 10: %s", c.Status)
	}
	clock.Advance(2 * time.Minute)
	svc.Tick(ctx)
	if c, _ := st.Conversation(ctx, shop.ID, first.ID); c.Status != kefu.StatusClosed {
		t.Fatalf("open after 11 quiet minutes of 10: %s", c.Status)
	}
	if c, _ := st.Conversation(ctx, shop.ID, next.ID); c.AgentID != a.ID {
		t.Errorf("the freed slot went to %d, want the waiting buyer with a", c.AgentID)
	}
	events, err := st.Events(ctx, shop.ID, 0, kefu.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	closedBySystem := false
	for _, e := range events {
		if e.Type == kefu.EventClosed && e.ConversationID == first.ID && e.Actor == kefu.SystemActor {
			closedBySystem = true
		}
	}
	if !closedBySystem {
		t.Error("no closed event with kefu itself as the actor")
	}
}

// A buyer waiting 100 s (the shop's slow-reply limit) for an answer nudges
// their agent, once per wait; an answer ends the wait.
func TestSlowReplyGuardNudgesOncePerWait(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
	agentSock := &frameRecorder{}
	ts.broker.Subscribe(conversation.AgentTopic(a.ID), agentSock)
	b := ts.buyer("b")
	c := send(t, ts.svc, ts.st, b, kefu.Entry{})
	nudges := func() int {
		agentSock.mu.Lock()
		defer agentSock.mu.Unlock()
		n := 0
		for _, f := range agentSock.frames {
			if strings.Contains(string(f), `"type":"nudge"`) {
				n++
			}
		}
		agentSock.frames = nil
		return n
	}
	ts.clock.Advance(99 * time.Second)
	ts.svc.Tick(ctx)
	if n := nudges(); n != 0 {
		t.Fatalf("nudged after 99 s: %d", n)
	}
	ts.clock.Advance(2 * time.Second)
	ts.svc.Tick(ctx)
	ts.svc.Tick(ctx)
	if n := nudges(); n != 1 {
		t.Fatalf("after 101 s and two ticks: %d nudges, want 1", n)
	}
	// The agent answers; the buyer writes again; a new wait, a new nudge.
	if _, _, err := ts.svc.Send(ctx, conversation.AgentActor(a), c.ID, "a1", "在的"); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(200 * time.Second)
	ts.svc.Tick(ctx)
	if n := nudges(); n != 0 {
		t.Fatalf("nudged with nothing waiting for an answer: %d", n)
	}
	if _, _, err := ts.svc.Send(ctx, conversation.BuyerActor(b), c.ID, "c2", "还在吗"); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(101 * time.Second)
	ts.svc.Tick(ctx)
	if n := nudges(); n != 1 {
		t.Fatalf("a second wait: %d nudges, want 1", n)
	}
}

// In a shop that makes idle agents away, an agent who did nothing for its
// limit takes no new buyers until they do something, and is back at once.
func TestIdleAgentIsAwayUntilTheyAct(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	if err := ts.st.SetShopRouting(ctx, ts.shop.ID, kefu.RoutingSettings{StickyDays: 3, SlowReplySeconds: 0, AutoAwayMinutes: 10}); err != nil {
		t.Fatal(err)
	}
	a := ts.online("a", 5)
	ts.clock.Advance(9 * time.Minute)
	ts.svc.Tick(ctx)
	if p, _, _ := ts.svc.Presence(ctx, a); p != kefu.PresenceOnline {
		t.Fatalf("after 9 idle minutes of 10: %s", p)
	}
	ts.clock.Advance(2 * time.Minute)
	ts.svc.Tick(ctx)
	if p, _, _ := ts.svc.Presence(ctx, a); p != kefu.PresenceAway {
		t.Fatalf("after 11 idle minutes: %s, want away", p)
	}
	waits := ts.writes("b", kefu.Entry{})
	if waits.Status != kefu.StatusQueued {
		t.Fatalf("a new buyer went to the idle agent: %s with %d", waits.Status, waits.AgentID)
	}
	ts.svc.AgentActive(ctx, a)
	if p, _, _ := ts.svc.Presence(ctx, a); p != kefu.PresenceOnline {
		t.Fatalf("after doing something: %s, want online", p)
	}
	if c := ts.conv(waits.ID); c.AgentID != a.ID {
		t.Errorf("back online, a did not get the waiting buyer: %s with %d", c.Status, c.AgentID)
	}
	// Away by choice is not undone by activity.
	ts.svc.SetPresence(ctx, a, kefu.PresenceAway)
	ts.svc.AgentActive(ctx, a)
	if p, _, _ := ts.svc.Presence(ctx, a); p != kefu.PresenceAway {
		t.Errorf("chose away, did something: %s, want still away", p)
	}
}
