package conversation_test

import (
	"context"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testdb"
)

// A buyer reaches the group the store page named, or the one the order they
// ask about calls for; their recent agent takes them back; a full group
// leaves its buyers waiting without holding up another group's.
func TestRoutingByGroup(t *testing.T) {
	ctx := context.Background()
	st := testdb.SQLite(t, nil)
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	agent := func(name string) kefu.Agent {
		a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: name, Name: name, Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: 2})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	pre, post := agent("pre"), agent("post")
	if _, err := st.CreateGroup(ctx, kefu.Group{ShopID: shop.ID, Slug: "presales", Name: "售前", Scope: kefu.ScopePreSales,
		Members: []kefu.GroupMember{{AgentID: pre.ID, Weight: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateGroup(ctx, kefu.Group{ShopID: shop.ID, Slug: "aftersales", Name: "售后", Scope: kefu.ScopeAfterSales,
		Members: []kefu.GroupMember{{AgentID: post.ID, Weight: 1}}}); err != nil {
		t.Fatal(err)
	}
	svc := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
	svc.AgentConnected(ctx, pre)
	svc.AgentConnected(ctx, post)

	n := 0
	write := func(entry kefu.Entry) (kefu.Buyer, kefu.Conversation) {
		t.Helper()
		n++
		b, err := st.VisitorBuyer(ctx, shop.ID, "v_group"+itoa(n), "b")
		if err != nil {
			t.Fatal(err)
		}
		return b, send(t, svc, st, b, entry)
	}
	withOrder := func(status string) kefu.Entry {
		t.Helper()
		return kefu.Entry{OrderNo: "2026-" + status}
	}

	_, named := write(kefu.Entry{Group: "aftersales"})
	if named.AgentID != post.ID {
		t.Errorf("data-group=aftersales went to agent %d, want post %d", named.AgentID, post.ID)
	}
	// Orders in after-sales states go to after-sales, others to pre-sales.
	for _, tc := range []struct {
		status string
		want   int64
	}{{"shipped", post.ID}, {"paid", pre.ID}} {
		n++
		b, err := st.VisitorBuyer(ctx, shop.ID, "v_group"+itoa(n), "b")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateOrder(ctx, kefu.Order{ShopID: shop.ID, BuyerID: b.ID, OrderNo: "2026-" + tc.status, Status: tc.status,
			AmountCents: 100, Currency: "CNY"}); err != nil {
			t.Fatal(err)
		}
		if c := send(t, svc, st, b, withOrder(tc.status)); c.AgentID != tc.want {
			t.Errorf("a conversation about a %s order went to agent %d, want %d", tc.status, c.AgentID, tc.want)
		}
	}
	// post holds two (cap 2): the next after-sales buyer waits, and a
	// pre-sales buyer behind them is served.
	_, waits := write(kefu.Entry{Group: "aftersales"})
	_, served := write(kefu.Entry{Group: "presales"})
	if waits.Status != kefu.StatusQueued || served.AgentID != pre.ID {
		t.Errorf("full after-sales: its buyer is %s, the pre-sales buyer behind went to %d; want queued and pre %d", waits.Status, served.AgentID, pre.ID)
	}
	// A group the shop does not have is the whole shop: nobody has room, so it waits.
	_, unknown := write(kefu.Entry{Group: "nosuchgroup"})
	if unknown.Status != kefu.StatusQueued || unknown.GroupID != 0 {
		t.Errorf("unknown group: %s in group %d, want queued for the whole shop", unknown.Status, unknown.GroupID)
	}
	closer := conversation.AgentActor(post)
	if _, err := svc.Close(ctx, closer, named.ID); err != nil {
		t.Fatal(err)
	}
	// The close gave post's slot to the waiting after-sales buyer.
	if c, _ := st.Conversation(ctx, shop.ID, waits.ID); c.AgentID != post.ID {
		t.Errorf("after a close the waiting after-sales buyer is with %d, want post", c.AgentID)
	}
}

// A buyer who comes back within the shop's sticky window (3 days by
// default) gets the agent who served them, even when another has less load.
func TestRecentAgentTakesTheBuyerBack(t *testing.T) {
	ctx := context.Background()
	st := testdb.SQLite(t, nil)
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var agents []kefu.Agent
	for _, name := range []string{"a", "b"} {
		a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: name, Name: name, Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: 5})
		if err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
	}
	svc := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
	svc.AgentConnected(ctx, agents[0])
	buyer := func(n int) kefu.Buyer {
		b, err := st.VisitorBuyer(ctx, shop.ID, "v_sticky"+itoa(n), "b")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	x := buyer(0)
	first := send(t, svc, st, x, kefu.Entry{})
	if first.AgentID != agents[0].ID {
		t.Fatalf("first conversation went to %d, want a", first.AgentID)
	}
	// a gets busier, b comes online idle.
	send(t, svc, st, buyer(1), kefu.Entry{})
	svc.AgentConnected(ctx, agents[1])
	if _, err := svc.Close(ctx, conversation.AgentActor(agents[0]), first.ID); err != nil {
		t.Fatal(err)
	}
	actor := conversation.BuyerActor(x)
	m, _, err := svc.Send(ctx, actor, 0, "c2", "又是我")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := st.Conversation(ctx, shop.ID, m.ConversationID)
	if again.ID == first.ID || again.AgentID != agents[0].ID {
		t.Errorf("the returning buyer's new conversation %d went to %d, want their agent a %d", again.ID, again.AgentID, agents[0].ID)
	}
	// Somebody new goes to the idle agent.
	if c := send(t, svc, st, buyer(2), kefu.Entry{}); c.AgentID != agents[1].ID {
		t.Errorf("a new buyer went to %d, want the idle b %d", c.AgentID, agents[1].ID)
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

// A buyer's dedicated agent takes them when they have no recent agent; a VIP
// buyer who arrives later is served before the others waiting.
func TestDedicatedAgentAndVIP(t *testing.T) {
	ctx := context.Background()
	st := testdb.SQLite(t, nil)
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var agents []kefu.Agent
	for _, name := range []string{"a", "b"} {
		a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: name, Name: name, Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: 2})
		if err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
	}
	a, b := agents[0], agents[1]
	svc := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
	svc.AgentConnected(ctx, a)
	svc.AgentConnected(ctx, b)
	buyer := func(n int) kefu.Buyer {
		bb, err := st.VisitorBuyer(ctx, shop.ID, "v_vip"+itoa(n), "b")
		if err != nil {
			t.Fatal(err)
		}
		return bb
	}
	first := send(t, svc, st, buyer(0), kefu.Entry{}) // a (lower id at equal load)
	y := buyer(1)
	if _, err := st.SetBuyerRouting(ctx, shop.ID, y.ID, a.ID, false); err != nil {
		t.Fatal(err)
	}
	// b is idle, but y's dedicated agent a has room.
	if c := send(t, svc, st, y, kefu.Entry{}); c.AgentID != a.ID || first.AgentID != a.ID {
		t.Fatalf("dedicated buyer went to %d (first to %d), want a %d", c.AgentID, first.AgentID, a.ID)
	}
	send(t, svc, st, buyer(2), kefu.Entry{}) // b
	send(t, svc, st, buyer(3), kefu.Entry{}) // b: everyone is full now
	regular := send(t, svc, st, buyer(4), kefu.Entry{})
	v := buyer(5)
	if _, err := st.SetBuyerRouting(ctx, shop.ID, v.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	vip := send(t, svc, st, v, kefu.Entry{})
	if regular.Status != kefu.StatusQueued || vip.Status != kefu.StatusQueued || vip.Priority <= regular.Priority {
		t.Fatalf("regular %s (priority %d), vip %s (priority %d): want both waiting, the VIP higher", regular.Status, regular.Priority, vip.Status, vip.Priority)
	}
	if pos, err := svc.QueuePositions(ctx, shop.ID); err != nil || pos[vip.ID] != 1 || pos[regular.ID] != 2 {
		t.Fatalf("places %v (%v), want the VIP first", pos, err)
	}
	if _, err := svc.Close(ctx, conversation.AgentActor(a), first.ID); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Conversation(ctx, shop.ID, vip.ID); c.AgentID != a.ID {
		t.Errorf("the freed slot went to someone else: VIP is %s with %d", c.Status, c.AgentID)
	}
	if _, err := st.SetBuyerRouting(ctx, shop.ID, v.ID, 999999, true); err == nil {
		t.Error("a dedicated agent who is not the shop's was accepted")
	}
}
