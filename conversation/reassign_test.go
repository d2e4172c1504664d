package conversation_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// In a shop that hands long waits on, a buyer left unanswered for
// reassign_seconds goes to another agent with a free slot, once per wait, with
// a line telling them and an event; with nobody else free it stays; an answer
// ends the wait.
func TestLongWaitIsReassignedOnce(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	if err := ts.st.SetShopRouting(ctx, ts.shop.ID, kefu.RoutingSettings{SlowReplySeconds: 100, ReassignSeconds: 180}); err != nil {
		t.Fatal(err)
	}
	a := ts.online("a", 5)
	x := ts.writes("x", kefu.Entry{})
	if x.AgentID != a.ID {
		t.Fatalf("x went to %d, want a", x.AgentID)
	}
	// Nobody else is online at 180 s: x stays with a, and that was the try
	// for this wait.
	ts.clock.Advance(181 * time.Second)
	ts.svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != a.ID {
		t.Fatalf("with nobody else free, x went to %d", c.AgentID)
	}
	b := ts.online("b", 1)
	ts.clock.Advance(time.Second)
	ts.svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != a.ID {
		t.Fatalf("a second try in the same wait moved x to %d", c.AgentID)
	}

	// A new wait: a answers, the buyer writes again, and 180 s later b (free) takes it.
	if _, _, err := ts.svc.Send(ctx, conversation.AgentActor(a), x.ID, "a1", "稍等"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.svc.Send(ctx, conversation.BuyerActor(kefu.Buyer{ID: x.BuyerID, ShopID: ts.shop.ID}), x.ID, "x2", "还在吗"); err != nil {
		t.Fatal(err)
	}
	aSock := &frameRecorder{}
	ts.broker.Subscribe(conversation.AgentTopic(a.ID), aSock)
	ts.clock.Advance(179 * time.Second)
	ts.svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != a.ID {
		t.Fatalf("moved before 180 s, to %d", c.AgentID)
	}
	ts.clock.Advance(2 * time.Second)
	ts.svc.Tick(ctx)
	c := ts.conv(x.ID)
	if c.AgentID != b.ID || c.TransferFromAgentID != a.ID {
		t.Fatalf("after 181 s x is with %d (from %d), want b, from a", c.AgentID, c.TransferFromAgentID)
	}
	if f, ok := lastConversationFrame(t, aSock, x.ID); !ok || f.Status != "assigned" {
		t.Errorf("a was not told x moved: %+v %v", f, ok)
	}
	msgs, _, err := ts.st.Messages(ctx, ts.shop.ID, x.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if last := msgs[len(msgs)-1]; last.Code != kefu.SystemTransferred || last.SenderName != "b" {
		t.Errorf("the buyer's last line: %+v, want transferred to b", last)
	}
	events, err := ts.st.Events(ctx, ts.shop.ID, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == kefu.EventReassigned {
			n++
			if e.AgentID != b.ID || e.Data.FromAgentID != a.ID || e.Data.Reason != "slow_reply" || e.Actor != kefu.SystemActor {
				t.Errorf("event %+v", e)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d reassigned events, want 1", n)
	}
	// b is now full (cap 1); still waiting, x is not handed back.
	ts.clock.Advance(10 * time.Minute)
	ts.svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != b.ID {
		t.Errorf("x moved again in the same wait, to %d", c.AgentID)
	}
}

// A waiting buyer who closes every widget and stays away a minute left the
// line: counted once (an event), while the conversation keeps waiting; a
// reload (back within the minute) or a buyer already served is not.
func TestBuyerWhoLeavesTheLineIsCountedOnce(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 1)
	served := ts.writes("served", kefu.Entry{})
	leaver := ts.buyer("leaver")
	waiting := send(t, ts.svc, ts.st, leaver, kefu.Entry{})
	reloader := ts.buyer("reloader")
	send(t, ts.svc, ts.st, reloader, kefu.Entry{})
	if ts.conv(served.ID).AgentID != a.ID || ts.conv(waiting.ID).Status != kefu.StatusQueued {
		t.Fatalf("want served assigned and the others waiting")
	}
	servedBuyer := kefu.Buyer{ID: served.BuyerID, ShopID: ts.shop.ID}
	for _, b := range []kefu.Buyer{servedBuyer, leaver, reloader} {
		ts.svc.BuyerConnected(b)
		ts.svc.BuyerConnected(b) // two tabs
		ts.svc.BuyerDisconnected(b)
	}
	ts.svc.BuyerDisconnected(leaver)
	ts.svc.BuyerDisconnected(servedBuyer)
	ts.svc.BuyerDisconnected(reloader)
	ts.clock.Advance(30 * time.Second)
	ts.svc.BuyerConnected(reloader) // back within the minute
	ts.clock.Advance(conversation.AbandonGrace)
	ts.svc.Tick(ctx)
	ts.svc.Tick(ctx)
	events, err := ts.st.Events(ctx, ts.shop.ID, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	var left []int64
	for _, e := range events {
		if e.Type == kefu.EventAbandoned {
			left = append(left, e.ConversationID)
			if e.Actor != (kefu.ActorRef{Kind: kefu.SenderBuyer, ID: leaver.ID}) || e.Data.Reason != "buyer_left" {
				t.Errorf("event %+v", e)
			}
		}
	}
	if len(left) != 1 || left[0] != waiting.ID {
		t.Fatalf("abandoned: %v, want only the leaver's conversation %d", left, waiting.ID)
	}
	if c := ts.conv(waiting.ID); c.Status != kefu.StatusQueued {
		t.Errorf("the leaver's conversation is %s, want still waiting", c.Status)
	}
	// Gone again, later: still counted once.
	ts.svc.BuyerConnected(leaver)
	ts.svc.BuyerDisconnected(leaver)
	ts.clock.Advance(2 * conversation.AbandonGrace)
	ts.svc.Tick(ctx)
	if events, _ = ts.st.Events(ctx, ts.shop.ID, 0, 500); countType(events, kefu.EventAbandoned) != 1 {
		t.Errorf("%d abandoned events after a second departure, want 1", countType(events, kefu.EventAbandoned))
	}
}

func countType(events []kefu.Event, typ kefu.EventType) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// An agent whose console just dropped (in grace) is not handed a long wait.
func TestLongWaitIsNotHandedToAnAgentInGrace(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	if err := ts.st.SetShopRouting(ctx, ts.shop.ID, kefu.RoutingSettings{ReassignSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	a := ts.online("a", 5)
	x := ts.writes("x", kefu.Entry{})
	b := ts.online("b", 5)
	ts.clock.Advance(50 * time.Second)
	ts.svc.AgentDisconnected(ctx, b) // b's grace runs until 80 s
	ts.clock.Advance(11 * time.Second)
	ts.svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != a.ID {
		t.Fatalf("x went to %d, an agent in grace; want it kept by a", c.AgentID)
	}
}
