package conversation_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// testShop is one shop on a fresh SQLite store, with a service on a clock
// the test sets.
type testShop struct {
	t      *testing.T
	st     *store.Store
	shop   kefu.Shop
	clock  *testclock.Clock
	broker conversation.MemoryBroker
	svc    *conversation.Service
}

func newTestShop(t *testing.T) *testShop { return newTestShopOn(t, testdb.SQLite) }

// newTestShopOn is newTestShop on the store open makes (testdb.SQLite,
// testdb.Postgres).
func newTestShopOn(t *testing.T, open func(testing.TB, func() time.Time) *store.Store) *testShop {
	t.Helper()
	clock := testclock.New(time.Date(2026, 11, 11, 10, 0, 0, 0, time.UTC))
	st := open(t, clock.Now)
	shop, err := st.CreateShop(context.Background(), kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testShop{t: t, st: st, shop: shop, clock: clock, broker: conversation.NewMemoryBroker()}
	ts.svc = conversation.New(st, conversation.NewMemoryPresence(), ts.broker, nil)
	ts.svc.SetClock(clock.Now)
	return ts
}

// agent adds a plain agent with the given cap.
func (ts *testShop) agent(name string, cap int) kefu.Agent {
	ts.t.Helper()
	a, err := ts.st.CreateAgent(context.Background(), kefu.Agent{ShopID: ts.shop.ID, Username: name, Name: name,
		Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: cap})
	if err != nil {
		ts.t.Fatal(err)
	}
	return a
}

// online adds an agent and opens a socket of theirs.
func (ts *testShop) online(name string, cap int) kefu.Agent {
	a := ts.agent(name, cap)
	ts.svc.AgentConnected(context.Background(), a)
	return a
}

// buyer adds a visitor.
func (ts *testShop) buyer(name string) kefu.Buyer {
	ts.t.Helper()
	b, err := ts.st.VisitorBuyer(context.Background(), ts.shop.ID, "v_"+name+"_0000", "b")
	if err != nil {
		ts.t.Fatal(err)
	}
	return b
}

// writes has a new buyer write their first message with entry and returns
// the conversation as it stands after routing.
func (ts *testShop) writes(name string, entry kefu.Entry) kefu.Conversation {
	ts.t.Helper()
	return send(ts.t, ts.svc, ts.st, ts.buyer(name), entry)
}

// conv reloads a conversation.
func (ts *testShop) conv(id int64) kefu.Conversation {
	ts.t.Helper()
	c, err := ts.st.Conversation(context.Background(), ts.shop.ID, id)
	if err != nil {
		ts.t.Fatal(err)
	}
	return c
}
