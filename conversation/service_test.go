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
	"github.com/kefu/kefu/queue"
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

func (h *hookStore) AssignConversation(ctx context.Context, shopID, id, agentID int64, by kefu.ActorRef,
	announce func(string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error) {
	h.mu.Lock()
	f := h.beforeAssign
	fail := h.failAssign > 0
	if fail {
		h.failAssign--
	}
	h.mu.Unlock()
	if f != nil {
		f(id)
	}
	if fail {
		return kefu.Conversation{}, errors.New("injected transient error")
	}
	return h.Store.AssignConversation(ctx, shopID, id, agentID, by, announce, committed)
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
	router *queue.Router
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
	f := &fixture{st: hs, router: queue.NewRouter(), shop: shop}
	f.svc = conversation.New(hs, f.router, conversation.NewMemoryBroker(), nil)
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
	convs, err := f.st.OpenConversations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range convs {
		if c.Status == kefu.StatusAssigned && c.AgentID == agentID {
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
	if active, stored := f.router.Agent(f.shop.ID, a.ID).Active, f.openCount(t, a.ID); active != stored {
		t.Errorf("router counts %d active conversations, the store %d", active, stored)
	}
	if closes != 1 {
		t.Errorf("stored %d close system messages", closes)
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
	if active, stored := f.router.Agent(f.shop.ID, a.ID).Active, f.openCount(t, a.ID); active != stored {
		t.Errorf("router counts %d active conversations, the store %d", active, stored)
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
	if w := f.router.Waiting(f.shop.ID); len(w) > 0 && w[0].ConversationID == m.ConversationID {
		t.Errorf("closed conversation %d is back at the head of the line", m.ConversationID)
	}
	if active := f.router.Agent(f.shop.ID, a.ID).Active; active != f.openCount(t, a.ID) {
		t.Errorf("agent a holds %d in the router, %d in the store", active, f.openCount(t, a.ID))
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
	if active, stored := f.router.Agent(f.shop.ID, a.ID).Active, f.openCount(t, a.ID); active != stored || stored != 2 {
		t.Errorf("router counts %d, store %d; want both 2", active, stored)
	}
}

// slowRouter holds one SetAgent(offline) until released, to line up the
// worst interleaving of a console reload.
type slowRouter struct {
	*queue.Router
	mu      sync.Mutex
	armed   bool
	gate    chan struct{}
	entered chan struct{}
}

func (r *slowRouter) SetAgent(shopID, agentID int64, p kefu.Presence, cap int) []queue.Assignment {
	r.mu.Lock()
	armed := r.armed && p == kefu.PresenceOffline
	if armed {
		r.armed = false
	}
	r.mu.Unlock()
	if armed {
		close(r.entered)
		<-r.gate
	}
	return r.Router.SetAgent(shopID, agentID, p, cap)
}

// A console reload (new socket connects while the old one's disconnect is
// being applied) leaves the agent online.
func TestReconnectDuringDisconnectKeepsAgentOnline(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1)
	a := f.agents[0]
	sr := &slowRouter{Router: f.router, gate: make(chan struct{}), entered: make(chan struct{})}
	svc := conversation.New(f.st, sr, conversation.NewMemoryBroker(), nil)
	svc.AgentConnected(ctx, a)
	sr.mu.Lock()
	sr.armed = true
	sr.mu.Unlock()
	done := make(chan struct{})
	go func() { svc.AgentDisconnected(ctx, a); close(done) }()
	<-sr.entered
	connected := make(chan struct{})
	go func() { svc.AgentConnected(ctx, a); close(connected) }()
	close(sr.gate)
	<-done
	<-connected
	if p, _ := svc.Presence(a); p != kefu.PresenceOnline {
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
