package conversation_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testdb"
)

// recorder is a consumer of committed changes, added with one argument to
// New and nothing else.
type recorder struct {
	mu      sync.Mutex
	changes []kefu.Change
}

func (r *recorder) Consume(c conversation.Committed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c.Change)
}

func (r *recorder) types() []kefu.EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []kefu.EventType
	for _, c := range r.changes {
		out = append(out, c.Event.Type)
	}
	return out
}

// A consumer given to New hears of every change the service commits, in
// commit order, with the same events the log holds.
func TestConsumerHearsEveryCommittedChange(t *testing.T) {
	ctx := context.Background()
	st := testdb.SQLite(t, nil)
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: "a", Name: "小王", Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: 5})
	if err != nil {
		t.Fatal(err)
	}
	buyer, err := st.VisitorBuyer(ctx, shop.ID, "v_consumer01", "b")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	svc := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil, rec)
	clock := testclock.New(time.Date(2026, 11, 11, 10, 0, 0, 0, time.UTC))
	svc.SetClock(clock.Now)

	m, _, err := svc.Send(ctx, conversation.BuyerActor(buyer), 0, "c1", "在吗")
	if err != nil {
		t.Fatal(err)
	}
	svc.AgentConnected(ctx, agent) // online, and routing assigns the waiting conversation
	if _, _, err := svc.Send(ctx, conversation.AgentActor(agent), m.ConversationID, "a1", "在的"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, conversation.AgentActor(agent), m.ConversationID); err != nil {
		t.Fatal(err)
	}

	// Nobody online at the first message: the leave-message line follows it.
	want := []kefu.EventType{kefu.EventQueued, kefu.EventMessage, kefu.EventMessage, kefu.EventPresence, kefu.EventAssigned,
		kefu.EventMessage, kefu.EventMessage, kefu.EventMessage, kefu.EventClosed}
	if got := rec.types(); !slices.Equal(got, want) {
		t.Fatalf("consumer heard %v, want %v", got, want)
	}
	logged, err := st.Events(ctx, shop.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range logged {
		if got := rec.changes[i].Event; got.ID != ev.ID || got.Type != ev.Type {
			t.Errorf("change %d heard as event %d %s, the log holds %d %s", i, got.ID, got.Type, ev.ID, ev.Type)
		}
	}
	if len(logged) != len(want) {
		t.Errorf("the log holds %d events, want %d", len(logged), len(want))
	}
	if p := rec.changes[3].Event; p.AgentID != agent.ID || p.Data.Presence != kefu.PresenceOnline {
		t.Errorf("presence event %+v, want agent %d online", p, agent.ID)
	}
	// A second socket of the agent changes nothing, and writes nothing.
	svc.AgentConnected(ctx, agent)
	if n := len(rec.types()); n != len(want) {
		t.Errorf("a second socket wrote %d events", n-len(want))
	}
	svc.AgentDisconnected(ctx, agent)
	svc.AgentDisconnected(ctx, agent)
	// In grace nothing changes; once it ends the agent is offline.
	if n := len(rec.types()); n != len(want) {
		t.Errorf("the last socket closing wrote %d events within the grace period", n-len(want))
	}
	clock.Advance(conversation.DefaultPresenceGrace)
	svc.Tick(ctx)
	if got := rec.types(); got[len(got)-1] != kefu.EventPresence || rec.changes[len(got)-1].Event.Data.Presence != kefu.PresenceOffline {
		t.Errorf("after the grace the consumer heard %v, want the agent offline last", got)
	}
}
