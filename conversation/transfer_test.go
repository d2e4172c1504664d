package conversation_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

func (ts *testShop) group(slug string, members ...kefu.Agent) kefu.Group {
	ts.t.Helper()
	g := kefu.Group{ShopID: ts.shop.ID, Slug: slug, Name: slug}
	for _, m := range members {
		g.Members = append(g.Members, kefu.GroupMember{AgentID: m.ID, Weight: 1})
	}
	g, err := ts.st.CreateGroup(context.Background(), g)
	if err != nil {
		ts.t.Fatal(err)
	}
	return g
}

func (ts *testShop) transfer(by kefu.Agent, convID int64, to kefu.Transfer) kefu.Conversation {
	ts.t.Helper()
	c, err := ts.svc.Transfer(context.Background(), conversation.AgentActor(by), convID, to)
	if err != nil {
		ts.t.Fatal(err)
	}
	return c
}

// Handing a conversation to a colleague frees the sender's slot at once: the
// next buyer of a group the sender serves gets it.
func TestTransferToAnAgentMovesTheLine(t *testing.T) {
	ts := newTestShop(t)
	a := ts.online("a", 1)
	g := ts.group("g", a)
	x := ts.writes("x", kefu.Entry{})
	z := ts.writes("z", kefu.Entry{Group: "g"})
	b := ts.online("b", 1)
	if x.AgentID != a.ID || ts.conv(z.ID).Status != kefu.StatusQueued {
		t.Fatalf("x with %d, z %s; want a's and waiting", x.AgentID, ts.conv(z.ID).Status)
	}
	ts.transfer(a, x.ID, kefu.Transfer{ToAgentID: b.ID})
	if c := ts.conv(z.ID); c.AgentID != a.ID || c.GroupID != g.ID {
		t.Errorf("after a handed x over, z is %s with %d, want a's", c.Status, c.AgentID)
	}
}

// A conversation sent to a group goes to the group's members, not to the
// buyer's agent of the last days outside it; and once the agent who took it
// leaves, the transfer is over: its note is gone and its sender may take it.
func TestGroupTransferStaysInTheGroupAndEndsWithTheNextDeparture(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	d := ts.online("d", 5)
	buyer := ts.buyer("x")
	first := send(t, ts.svc, ts.st, buyer, kefu.Entry{})
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(d), first.ID); err != nil {
		t.Fatal(err)
	}
	a := ts.online("a", 5)
	c := ts.online("c", 1)
	ts.group("aftersales", c)
	// The buyer is back: d, their agent of the last days, takes them.
	m, _, err := ts.svc.Send(ctx, conversation.BuyerActor(buyer), 0, "c2", "还是我")
	if err != nil {
		t.Fatal(err)
	}
	again := ts.conv(m.ConversationID)
	if again.AgentID != d.ID {
		t.Fatalf("the returning buyer went to %d, want d", again.AgentID)
	}
	g, _ := ts.st.GroupBySlug(ctx, ts.shop.ID, "aftersales")
	ts.transfer(d, again.ID, kefu.Transfer{ToGroupID: g.ID, Note: "退货"})
	if got := ts.conv(again.ID); got.AgentID != c.ID {
		t.Fatalf("sent to after-sales, the conversation went to %d, want its member c (not the buyer's agent d)", got.AgentID)
	}
	// c leaves: the conversation goes back to after-sales' line, the
	// transfer over (its note was for c), and the buyer is told its place.
	buyerSock := &frameRecorder{}
	ts.broker.Subscribe(conversation.BuyerTopic(buyer.ID), buyerSock)
	ts.svc.AgentDisconnected(ctx, c)
	ts.clock.Advance(conversation.DefaultPresenceGrace)
	ts.svc.Tick(ctx)
	if got := ts.conv(again.ID); got.Status != kefu.StatusQueued || got.GroupID != g.ID || got.TransferNote != "" || got.TransferFromAgentID != 0 {
		t.Errorf("after c left: %s in group %d, note %q from %d; want waiting for after-sales, the transfer over", got.Status, got.GroupID, got.TransferNote, got.TransferFromAgentID)
	}
	buyerSock.mu.Lock()
	defer buyerSock.mu.Unlock()
	told := false
	for _, f := range buyerSock.frames {
		var cf struct {
			Type         string `json:"type"`
			Conversation struct {
				Status        string `json:"status"`
				QueuePosition int    `json:"queue_position"`
			} `json:"conversation"`
		}
		if json.Unmarshal(f, &cf) == nil && cf.Type == "conversation" && cf.Conversation.Status == "queued" {
			told = cf.Conversation.QueuePosition == 1
		}
	}
	if !told {
		t.Error("the buyer's conversation frame after the requeue does not say they are first in line")
	}
	_ = a
}

// A group's conversation that its buyer's own agent (outside the group)
// takes leaves the group's slot to the next in the group's line at once.
func TestOwnAgentLeavesTheGroupSlotToTheNext(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	x := ts.online("x", 5)
	w1 := ts.buyer("w1")
	first := send(t, ts.svc, ts.st, w1, kefu.Entry{})
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(x), first.ID); err != nil {
		t.Fatal(err)
	}
	ts.svc.AgentDisconnected(ctx, x)
	m := ts.agent("m", 1)
	ts.group("g", m)
	actor := conversation.BuyerActor(w1)
	actor.Entry = kefu.Entry{Group: "g"}
	m1, _, err := ts.svc.Send(ctx, actor, 0, "c2", "又来了")
	if err != nil {
		t.Fatal(err)
	}
	c1 := ts.conv(m1.ConversationID)
	if c1.ID == first.ID || c1.Status != kefu.StatusQueued {
		t.Fatalf("w1's second conversation %d is %s", c1.ID, c1.Status)
	}
	c2 := ts.writes("w2", kefu.Entry{Group: "g"})
	// x comes back and m comes online in one move: one decision sees both.
	ts.svc.AgentConnected(ctx, x)
	ts.svc.AgentConnected(ctx, m)
	if a, b := ts.conv(c1.ID), ts.conv(c2.ID); a.AgentID != x.ID || b.AgentID != m.ID {
		t.Errorf("w1 with %d, w2 with %d; want w1 back with x and w2 in m's slot", a.AgentID, b.AgentID)
	}
}

// An agent who chose offline keeps their conversations while their console
// is open; once it is closed past the grace period, others serve them.
func TestOfflineAgentWhoLeavesHandsTheirBuyersOn(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
	x := ts.writes("x", kefu.Entry{})
	ts.svc.SetPresence(ctx, a, kefu.PresenceOffline)
	b := ts.online("b", 5)
	ts.clock.Advance(conversation.DefaultPresenceGrace)
	ts.svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != a.ID {
		t.Fatalf("offline with the console open, a lost the conversation to %d", c.AgentID)
	}
	ts.svc.AgentDisconnected(ctx, a)
	ts.clock.Advance(conversation.DefaultPresenceGrace)
	ts.svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != b.ID {
		t.Errorf("after a closed the console the conversation is with %d, want b", c.AgentID)
	}
}

// An agent who held conversations when kefu stopped and does not come back
// after the start departs when the grace period ends.
func TestAgentNotBackAfterAStartDeparts(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
	x := ts.writes("x", kefu.Entry{})
	// A new process on the same database: nobody's socket is here.
	svc := conversation.New(ts.st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
	svc.SetClock(ts.clock.Now)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	b := ts.agent("b", 5)
	svc.AgentConnected(ctx, b)
	ts.clock.Advance(conversation.DefaultPresenceGrace)
	svc.Tick(ctx)
	if c := ts.conv(x.ID); c.AgentID != b.ID {
		t.Errorf("a never came back; the conversation is with %d, want b", c.AgentID)
	}
	_ = a
}

// In a shop that reopens, a buyer who writes again soon after a close gets
// the same conversation back, with the same agent if they have room; after
// the window, a new one.
func TestBuyerWritingSoonAfterACloseReopens(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	if err := ts.st.SetShopRouting(ctx, ts.shop.ID, kefu.RoutingSettings{StickyDays: 3, ReopenHours: 2}); err != nil {
		t.Fatal(err)
	}
	a := ts.online("a", 5)
	buyer := ts.buyer("x")
	say := func(id string) kefu.Conversation {
		t.Helper()
		m, _, err := ts.svc.Send(ctx, conversation.BuyerActor(buyer), 0, id, "在吗")
		if err != nil {
			t.Fatal(err)
		}
		return ts.conv(m.ConversationID)
	}
	first := say("c1")
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(a), first.ID); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(30 * time.Minute)
	again := say("c2")
	if again.ID != first.ID || again.Status != kefu.StatusAssigned || again.AgentID != a.ID {
		t.Fatalf("30 minutes after the close: conversation %d %s with %d, want %d again with a", again.ID, again.Status, again.AgentID, first.ID)
	}
	// Away: the reopened conversation waits for whoever has room.
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(a), first.ID); err != nil {
		t.Fatal(err)
	}
	ts.svc.SetPresence(ctx, a, kefu.PresenceAway)
	b := ts.online("b", 5)
	third := say("c3")
	if third.ID != first.ID || third.AgentID != b.ID {
		t.Fatalf("with a away: conversation %d with %d, want %d reopened and given to b", third.ID, third.AgentID, first.ID)
	}
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(b), first.ID); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(3 * time.Hour)
	if late := say("c4"); late.ID == first.ID {
		t.Fatalf("3 hours after the close the buyer's message reopened %d, want a new conversation", late.ID)
	}
	events, err := ts.st.Events(ctx, ts.shop.ID, 0, kefu.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	reopened := 0
	for _, e := range events {
		if e.Type == kefu.EventReopened {
			reopened++
		}
	}
	if reopened != 2 {
		t.Errorf("%d reopened events, want 2", reopened)
	}
}
