package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// hookStore is the real store with hooks to run a competing call at the
// worst moment, or to fail one call the way a dropped database connection
// would. Everything else is the real SQLite store.
type hookStore struct {
	*store.Store
	mu           sync.Mutex
	beforeClose  func()
	beforeAssign func(id int64)
	failAppend   int
	failAssign   int
	lostAcks     int // stored, then reported as failed (a commit whose answer was lost)
}

func (h *hookStore) CloseConversation(ctx context.Context, shopID, id, byAgentID int64, by kefu.ActorRef, farewell kefu.Message,
	committed func(kefu.Change)) (kefu.Conversation, bool, error) {
	h.mu.Lock()
	f := h.beforeClose
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return h.Store.CloseConversation(ctx, shopID, id, byAgentID, by, farewell, committed)
}

func (h *hookStore) TakeConversation(ctx context.Context, shopID, id, agentID int64,
	announce func(string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error) {
	h.mu.Lock()
	f := h.beforeAssign
	h.mu.Unlock()
	if f != nil {
		f(id)
	}
	return h.Store.TakeConversation(ctx, shopID, id, agentID, announce, committed)
}

func (h *hookStore) RouteShop(ctx context.Context, shopID int64, presence func(int64) kefu.Presence, capBonus int,
	decide func([]kefu.AgentLoad, []kefu.Waiting) []kefu.Assignment,
	announce func(string) kefu.Message, committed func(kefu.Change)) ([]kefu.Assignment, error) {
	h.mu.Lock()
	fail := h.failAssign > 0
	if fail {
		h.failAssign--
	}
	h.mu.Unlock()
	if fail {
		return nil, errors.New("injected transient error")
	}
	return h.Store.RouteShop(ctx, shopID, presence, capBonus, decide, announce, committed)
}

func (h *hookStore) Append(ctx context.Context, m kefu.Message, rule kefu.WriteRule, committed func(kefu.Change)) (kefu.Message, bool, error) {
	h.mu.Lock()
	fail := h.failAppend > 0 && m.Sender == kefu.SenderBuyer
	if fail {
		h.failAppend--
	}
	lost := !fail && h.lostAcks > 0 && m.Sender == kefu.SenderBuyer
	if lost {
		h.lostAcks--
	}
	h.mu.Unlock()
	if fail {
		return kefu.Message{}, false, errors.New("injected transient error")
	}
	msg, dup, err := h.Store.Append(ctx, m, rule, committed)
	if lost && err == nil {
		return kefu.Message{}, false, errors.New("injected: stored, but the answer was lost")
	}
	return msg, dup, err
}

type fixture struct {
	st     *hookStore
	svc    *conversation.Service
	shop   kefu.Shop
	agents []kefu.Agent
}

func newFixture(t *testing.T, nAgents int) *fixture {
	ctx := context.Background()
	raw := testdb.SQLite(t, nil)
	hs := &hookStore{Store: raw}
	shop, err := raw.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: hs, shop: shop}
	f.svc = conversation.New(hs, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
	for i := 0; i < nAgents; i++ {
		a, err := raw.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: fmt.Sprint("a", i), Name: fmt.Sprint("a", i), Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: 5})
		if err != nil {
			t.Fatal(err)
		}
		f.agents = append(f.agents, a)
	}
	return f
}

func (f *fixture) buyer(t *testing.T, n int) kefu.Buyer {
	b, err := f.st.VisitorBuyer(context.Background(), f.shop.ID, fmt.Sprintf("v_buyer%04d", n), "b")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) openCount(t *testing.T, agentID int64) int {
	n, err := f.st.ActiveConversations(context.Background(), f.shop.ID, agentID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// events counts the shop's logged events of a type.
func (f *fixture) events(t *testing.T, typ kefu.EventType) int {
	events, err := f.st.Events(context.Background(), f.shop.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// Two closes at once release the agent's slot once and store one notice.
func TestConcurrentClosesReleaseOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1)
	a := f.agents[0]
	f.svc.AgentConnected(ctx, a)
	var convIDs []int64
	for i := 0; i < 2; i++ {
		m, _, err := f.svc.Send(ctx, conversation.BuyerActor(f.buyer(t, i)), 0, "c1", "hi")
		if err != nil {
			t.Fatal(err)
		}
		convIDs = append(convIDs, m.ConversationID)
	}
	var barrier sync.WaitGroup
	barrier.Add(2)
	f.st.beforeClose = func() { barrier.Done(); barrier.Wait() }
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.Close(ctx, conversation.AgentActor(a), convIDs[0]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f.st.beforeClose = nil
	msgs, _, _ := f.st.Messages(ctx, f.shop.ID, convIDs[0], 0, 100)
	closes := 0
	for _, m := range msgs {
		if m.Text == "会话已结束" {
			closes++
		}
	}
	if closes != 1 || f.events(t, kefu.EventClosed) != 1 {
		t.Errorf("stored %d close system messages and %d closed events, want one of each", closes, f.events(t, kefu.EventClosed))
	}
	if n := f.openCount(t, a.ID); n != 1 {
		t.Errorf("agent holds %d conversations, want the other one", n)
	}
}

// Closing a waiting conversation while an agent's arrival assigns it leaves
// no slot held by a closed conversation.
func TestCloseWhileDrainAssignsKeepsCounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1)
	a := f.agents[0]
	m, _, err := f.svc.Send(ctx, conversation.BuyerActor(f.buyer(t, 0)), 0, "c1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	f.st.beforeClose = func() { f.svc.AgentConnected(ctx, a) }
	if _, err := f.svc.Close(ctx, conversation.AgentActor(a), m.ConversationID); err != nil {
		t.Fatal(err)
	}
	f.st.beforeClose = nil
	c, _ := f.st.Conversation(ctx, f.shop.ID, m.ConversationID)
	if c.Status != kefu.StatusClosed || f.openCount(t, a.ID) != 0 {
		t.Errorf("conversation is %s and the agent holds %d, want closed and 0", c.Status, f.openCount(t, a.ID))
	}
}

// A conversation closed while being accepted does not return to the line.
func TestAcceptOfClosedConversationDoesNotRequeue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2)
	a, b := f.agents[0], f.agents[1]
	m, _, err := f.svc.Send(ctx, conversation.BuyerActor(f.buyer(t, 0)), 0, "c1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	once := sync.Once{}
	f.st.beforeAssign = func(id int64) {
		once.Do(func() {
			if _, err := f.svc.Close(ctx, conversation.AgentActor(b), id); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err = f.svc.Accept(ctx, conversation.AgentActor(a), m.ConversationID); !errors.Is(err, kefu.ErrConversationClosed) {
		t.Errorf("accept of a conversation closed meanwhile: %v, want ErrConversationClosed", err)
	}
	f.st.beforeAssign = nil
	if _, _, err := f.svc.Send(ctx, conversation.BuyerActor(f.buyer(t, 1)), 0, "c1", "hi"); err != nil {
		t.Fatal(err)
	}
	if w, _ := f.st.Waiting(ctx, f.shop.ID); len(w) > 0 && w[0].ConversationID == m.ConversationID {
		t.Errorf("closed conversation %d is back at the head of the line", m.ConversationID)
	}
	if n := f.openCount(t, a.ID); n != 0 {
		t.Errorf("agent a holds %d conversations, want 0", n)
	}
}

// A transient failure to store an assignment puts the conversation back at
// the head; the next routing event assigns it and every other it can.
func TestTransientAssignFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1)
	a := f.agents[0]
	f.svc.AgentConnected(ctx, a)
	f.st.failAssign = 1
	m1, _, err := f.svc.Send(ctx, conversation.BuyerActor(f.buyer(t, 0)), 0, "c1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Send(ctx, conversation.BuyerActor(f.buyer(t, 1)), 0, "c1", "hi"); err != nil {
		t.Fatal(err)
	}
	c1, _ := f.st.Conversation(ctx, f.shop.ID, m1.ConversationID)
	if c1.Status != kefu.StatusAssigned {
		t.Errorf("conversation 1 is %s after the next routing event, want assigned", c1.Status)
	}
	if n := f.openCount(t, a.ID); n != 2 {
		t.Errorf("agent holds %d conversations, want 2", n)
	}
}

// slowPresence holds one Disconnect until released, to line up the worst
// interleaving of a console reload.
type slowPresence struct {
	*conversation.MemoryPresence
	mu      sync.Mutex
	armed   bool
	gate    chan struct{}
	entered chan struct{}
}

func (p *slowPresence) Disconnect(ctx context.Context, a kefu.Agent) (kefu.Presence, error) {
	p.mu.Lock()
	armed := p.armed
	p.armed = false
	p.mu.Unlock()
	if armed {
		close(p.entered)
		<-p.gate
	}
	return p.MemoryPresence.Disconnect(ctx, a)
}

// A console reload (new socket connects while the old one's disconnect is
// being applied) leaves the agent online.
func TestReconnectDuringDisconnectKeepsAgentOnline(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1)
	a := f.agents[0]
	sp := &slowPresence{MemoryPresence: conversation.NewMemoryPresence(), gate: make(chan struct{}), entered: make(chan struct{})}
	svc := conversation.New(f.st, sp, conversation.NewMemoryBroker(), nil)
	svc.AgentConnected(ctx, a)
	sp.mu.Lock()
	sp.armed = true
	sp.mu.Unlock()
	done := make(chan struct{})
	go func() { svc.AgentDisconnected(ctx, a); close(done) }()
	<-sp.entered
	connected := make(chan struct{})
	go func() { svc.AgentConnected(ctx, a); close(connected) }()
	close(sp.gate)
	<-done
	<-connected
	if p, _, _ := svc.Presence(ctx, a); p != kefu.PresenceOnline {
		t.Errorf("agent with an open socket is %s", p)
	}
}

// A buyer's first message that failed is retried; whether the failure left
// nothing stored or stored it and lost the answer, the retry succeeds (as a
// duplicate in the second case) and the conversation is routed.
func TestFirstMessageFailureStillRoutesOnRetry(t *testing.T) {
	cases := []struct {
		name    string
		inject  func(*hookStore)
		wantDup bool
	}{
		{"nothing stored", func(h *hookStore) { h.failAppend = 1 }, false},
		{"stored, answer lost", func(h *hookStore) { h.lostAcks = 1 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, 1)
			a := f.agents[0]
			f.svc.AgentConnected(ctx, a)
			buyer := conversation.BuyerActor(f.buyer(t, 0))
			tc.inject(f.st)
			if _, _, err := f.svc.Send(ctx, buyer, 0, "c1", "hi"); err == nil {
				t.Fatal("want the injected error")
			}
			m, dup, err := f.svc.Send(ctx, buyer, 0, "c1", "hi")
			if err != nil || dup != tc.wantDup {
				t.Fatalf("retry: dup=%v err=%v, want dup=%v", dup, err, tc.wantDup)
			}
			c, _ := f.st.Conversation(ctx, f.shop.ID, m.ConversationID)
			if c.Status != kefu.StatusAssigned || c.AgentID != a.ID {
				t.Fatalf("after the retry the conversation is %s (agent %d); want assigned to the online agent %d", c.Status, c.AgentID, a.ID)
			}
		})
	}
}

// A plain agent's close, checked while the conversation was queued, is
// refused if a colleague takes it first.
func TestCloseRefusedWhenColleagueTookItMeanwhile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2)
	a, b := f.agents[0], f.agents[1]
	m, _, err := f.svc.Send(ctx, conversation.BuyerActor(f.buyer(t, 0)), 0, "c1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	f.st.beforeClose = func() {
		f.st.beforeClose = nil
		if _, err := f.svc.Accept(ctx, conversation.AgentActor(a), m.ConversationID); err != nil {
			t.Error(err)
		}
	}
	if _, err := f.svc.Close(ctx, conversation.AgentActor(b), m.ConversationID); !errors.Is(err, kefu.ErrForbidden) {
		t.Errorf("close by a colleague after the accept: %v, want ErrForbidden", err)
	}
	c, _ := f.st.Conversation(ctx, f.shop.ID, m.ConversationID)
	if c.Status != kefu.StatusAssigned || c.AgentID != a.ID {
		t.Errorf("conversation is %s (agent %d), want still assigned to %d", c.Status, c.AgentID, a.ID)
	}
}
