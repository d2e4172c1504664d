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
