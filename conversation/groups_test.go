package conversation_test

import (
	"context"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// A buyer reaches the group the store page named, or the one the order they
// ask about calls for; a full group leaves its buyers waiting without
// holding up another group's.
func TestRoutingByGroup(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	pre, post := ts.agent("pre", 2), ts.agent("post", 2)
	for _, g := range []kefu.Group{
		{ShopID: ts.shop.ID, Slug: "presales", Name: "售前", Scope: kefu.ScopePreSales, Members: []kefu.GroupMember{{AgentID: pre.ID, Weight: 1}}},
		{ShopID: ts.shop.ID, Slug: "aftersales", Name: "售后", Scope: kefu.ScopeAfterSales, Members: []kefu.GroupMember{{AgentID: post.ID, Weight: 1}}},
	} {
		if _, err := ts.st.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	ts.svc.AgentConnected(ctx, pre)
	ts.svc.AgentConnected(ctx, post)

	named := ts.writes("named", kefu.Entry{Group: "aftersales"})
	if named.AgentID != post.ID {
		t.Errorf("data-group=aftersales went to agent %d, want post %d", named.AgentID, post.ID)
	}
	// Orders in after-sales states go to after-sales, others to pre-sales.
	for _, tc := range []struct {
		status string
		want   int64
	}{{"shipped", post.ID}, {"paid", pre.ID}} {
		b := ts.buyer("order_" + tc.status)
		if _, err := ts.st.CreateOrder(ctx, kefu.Order{ShopID: ts.shop.ID, BuyerID: b.ID, OrderNo: "2026-" + tc.status, Status: tc.status,
			AmountCents: 100, Currency: "CNY"}); err != nil {
			t.Fatal(err)
		}
		if c := send(t, ts.svc, ts.st, b, kefu.Entry{OrderNo: "2026-" + tc.status}); c.AgentID != tc.want {
			t.Errorf("a conversation about a %s order went to agent %d, want %d", tc.status, c.AgentID, tc.want)
		}
	}
	// post holds two (cap 2): the next after-sales buyer waits, and a
	// pre-sales buyer behind them is served.
	waits := ts.writes("waits", kefu.Entry{Group: "aftersales"})
	served := ts.writes("served", kefu.Entry{Group: "presales"})
	if waits.Status != kefu.StatusQueued || served.AgentID != pre.ID {
		t.Errorf("full after-sales: its buyer is %s, the pre-sales buyer behind went to %d; want queued and pre %d", waits.Status, served.AgentID, pre.ID)
	}
	// A group the shop does not have is the whole shop: nobody has room, so it waits.
	unknown := ts.writes("unknown", kefu.Entry{Group: "nosuchgroup"})
	if unknown.Status != kefu.StatusQueued || unknown.GroupID != 0 {
		t.Errorf("unknown group: %s in group %d, want queued for the whole shop", unknown.Status, unknown.GroupID)
	}
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(post), named.ID); err != nil {
		t.Fatal(err)
	}
	// The close gave post's slot to the waiting after-sales buyer.
	if c := ts.conv(waits.ID); c.AgentID != post.ID {
		t.Errorf("after a close the waiting after-sales buyer is with %d, want post", c.AgentID)
	}
}

// A buyer who comes back within the shop's sticky window (3 days by
// default) gets the agent who served them, even when another has less load.
func TestRecentAgentTakesTheBuyerBack(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
	b := ts.agent("b", 5)
	x := ts.buyer("x")
	first := send(t, ts.svc, ts.st, x, kefu.Entry{})
	if first.AgentID != a.ID {
		t.Fatalf("first conversation went to %d, want a", first.AgentID)
	}
	// a gets busier, b comes online idle.
	ts.writes("other", kefu.Entry{})
	ts.svc.AgentConnected(ctx, b)
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(a), first.ID); err != nil {
		t.Fatal(err)
	}
	m, _, err := ts.svc.Send(ctx, conversation.BuyerActor(x), 0, "c2", "又是我")
	if err != nil {
		t.Fatal(err)
	}
	if again := ts.conv(m.ConversationID); again.ID == first.ID || again.AgentID != a.ID {
		t.Errorf("the returning buyer's new conversation %d went to %d, want their agent a %d", again.ID, again.AgentID, a.ID)
	}
	// Somebody new goes to the idle agent.
	if c := ts.writes("new", kefu.Entry{}); c.AgentID != b.ID {
		t.Errorf("a new buyer went to %d, want the idle b %d", c.AgentID, b.ID)
	}
}

// A buyer's dedicated agent takes them when they have no recent agent; a VIP
// buyer who arrives later is served before the others waiting.
func TestDedicatedAgentAndVIP(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 2)
	ts.online("b", 2)
	first := ts.writes("first", kefu.Entry{}) // a (lower id at equal load)
	y := ts.buyer("y")
	if _, err := ts.st.SetBuyerRouting(ctx, ts.shop.ID, y.ID, a.ID, false); err != nil {
		t.Fatal(err)
	}
	// b is idle, but y's dedicated agent a has room.
	if c := send(t, ts.svc, ts.st, y, kefu.Entry{}); c.AgentID != a.ID || first.AgentID != a.ID {
		t.Fatalf("dedicated buyer went to %d (first to %d), want a %d", c.AgentID, first.AgentID, a.ID)
	}
	ts.writes("b1", kefu.Entry{})
	ts.writes("b2", kefu.Entry{}) // everyone is full now
	regular := ts.writes("regular", kefu.Entry{})
	v := ts.buyer("vip")
	if _, err := ts.st.SetBuyerRouting(ctx, ts.shop.ID, v.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	vip := send(t, ts.svc, ts.st, v, kefu.Entry{})
	if regular.Status != kefu.StatusQueued || vip.Status != kefu.StatusQueued || vip.Priority <= regular.Priority {
		t.Fatalf("regular %s (priority %d), vip %s (priority %d): want both waiting, the VIP higher", regular.Status, regular.Priority, vip.Status, vip.Priority)
	}
	if pos, err := ts.svc.QueuePositions(ctx, ts.shop.ID); err != nil || pos[vip.ID] != 1 || pos[regular.ID] != 2 {
		t.Fatalf("places %v (%v), want the VIP first", pos, err)
	}
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(a), first.ID); err != nil {
		t.Fatal(err)
	}
	if c := ts.conv(vip.ID); c.AgentID != a.ID {
		t.Errorf("the freed slot went to someone else: VIP is %s with %d", c.Status, c.AgentID)
	}
	if _, err := ts.st.SetBuyerRouting(ctx, ts.shop.ID, v.ID, 999999, true); err == nil {
		t.Error("a dedicated agent who is not the shop's was accepted")
	}
}

// send writes a buyer's first message with entry and returns the
// conversation as it stands after routing.
func send(t *testing.T, svc *conversation.Service, st interface {
	Conversation(context.Context, int64, int64) (kefu.Conversation, error)
}, b kefu.Buyer, entry kefu.Entry) kefu.Conversation {
	t.Helper()
	actor := conversation.BuyerActor(b)
	actor.Entry = entry
	m, _, err := svc.Send(context.Background(), actor, 0, "c1", "在吗")
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Conversation(context.Background(), b.ShopID, m.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func itoa(n int) string { return string(rune('a'+n/26)) + string(rune('a'+n%26)) + "0000000" }

// With nobody of the shop online, a buyer who starts a conversation is told
// to leave a message; with agents online but busy, they just wait in line.
func TestLeaveMessageWhenNobodyIsOnline(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	codes := func(id int64) []string {
		msgs, _, err := ts.st.Messages(ctx, ts.shop.ID, id, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.Code)
		}
		return out
	}
	alone := ts.writes("alone", kefu.Entry{})
	if got := codes(alone.ID); len(got) != 2 || got[1] != kefu.SystemLeaveMessage {
		t.Errorf("nobody online: lines %v, want the buyer's then the leave-message line", got)
	}
	ts.online("a", 1) // takes "alone"
	busy := ts.writes("busy", kefu.Entry{})
	if got := codes(busy.ID); len(got) != 1 || busy.Status != kefu.StatusQueued {
		t.Errorf("an agent online but full: %s with lines %v, want waiting with the buyer's line only", busy.Status, got)
	}
}

// In a shop that serves high-value orders first, a conversation about one
// goes before others waiting, as a VIP's.
func TestHighValueOrderIsServedFirst(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	if err := ts.st.SetShopRouting(ctx, ts.shop.ID, kefu.RoutingSettings{StickyDays: 3, HighValueCents: 100000}); err != nil {
		t.Fatal(err)
	}
	regular := ts.writes("regular", kefu.Entry{})
	for _, tc := range []struct {
		name   string
		amount int64
		want   int
	}{{"small", 99999, 0}, {"big", 100000, kefu.PriorityVIP}} {
		b := ts.buyer(tc.name)
		if _, err := ts.st.CreateOrder(ctx, kefu.Order{ShopID: ts.shop.ID, BuyerID: b.ID, OrderNo: "no-" + tc.name, Status: "paid",
			AmountCents: tc.amount, Currency: "CNY"}); err != nil {
			t.Fatal(err)
		}
		c := send(t, ts.svc, ts.st, b, kefu.Entry{OrderNo: "no-" + tc.name})
		if c.Priority != tc.want {
			t.Errorf("an order of %d: priority %d, want %d", tc.amount, c.Priority, tc.want)
		}
		if tc.want > 0 {
			if pos, err := ts.svc.QueuePositions(ctx, ts.shop.ID); err != nil || pos[c.ID] != 1 || pos[regular.ID] != 2 {
				t.Errorf("places %v (%v), want the high-value one first", pos, err)
			}
		}
	}
}
