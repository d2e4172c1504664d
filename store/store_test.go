package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to tamper with a closed store's database
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", to tamper with a closed store's file

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// start is where every test clock begins: whole seconds, so round trips
// through either database compare exactly.
var start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// backend opens a fresh, empty store of one kind.
type backend struct {
	name string
	open func(t testing.TB, now func() time.Time) *store.Store
}

func backends() []backend {
	return []backend{
		{"sqlite", testdb.SQLite},
		{"postgres", testdb.Postgres},
	}
}

// env is one test's store and the clock it runs on.
type env struct {
	st    *store.Store
	clock *testclock.Clock
	ctx   context.Context
}

// TestStore runs the one shared suite against every backend, so SQLite and
// PostgreSQL are held to the same behaviour.
func TestStore(t *testing.T) {
	suite := []struct {
		name string
		run  func(t *testing.T, e env)
	}{
		{"Shops", testShops},
		{"Agents", testAgents},
		{"UpdateAgent", testUpdateAgent},
		{"Sessions", testSessions},
		{"Buyers", testBuyers},
		{"Conversations", testConversations},
		{"MarkRead", testMarkRead},
		{"Messages", testMessages},
		{"MessagePaging", testMessagePaging},
		{"ConcurrentAppends", testConcurrentAppends},
		{"ConcurrentRetries", testConcurrentRetries},
		{"ListConversations", testListConversations},
		{"Events", testEvents},
		{"Ratings", testRatings},
		{"Orders", testOrders},
		{"Secret", testSecret},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					clock := testclock.New(start)
					tc.run(t, env{st: b.open(t, clock.Now), clock: clock, ctx: t.Context()})
				})
			}
		})
	}
}

func testShops(t *testing.T, e env) {
	acme, err := e.st.CreateShop(e.ctx, kefu.Shop{Slug: "acme", Name: "Acme", IdentitySecret: "s3cret",
		Origins: []string{"https://b.example", "https://a.example", "https://a.example"}})
	if err != nil {
		t.Fatalf("create shop: %v", err)
	}
	if acme.ID == 0 || !acme.CreatedAt.Equal(start) {
		t.Fatalf("created shop = %+v, want an id and CreatedAt %v", acme, start)
	}
	other, err := e.st.CreateShop(e.ctx, kefu.Shop{Slug: "other", Name: "Other", Origins: []string{"https://other.example"}})
	if err != nil {
		t.Fatalf("create other shop: %v", err)
	}

	t.Run("load", func(t *testing.T) {
		loads := []struct {
			name string
			load func() (kefu.Shop, error)
		}{
			{"by slug", func() (kefu.Shop, error) { return e.st.ShopBySlug(e.ctx, "acme") }},
			{"by id", func() (kefu.Shop, error) { return e.st.Shop(e.ctx, acme.ID) }},
		}
		for _, tc := range loads {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.load()
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if got.ID != acme.ID || got.Slug != "acme" || got.Name != "Acme" || got.IdentitySecret != "s3cret" || !got.CreatedAt.Equal(start) {
					t.Errorf("loaded %+v, want %+v", got, acme)
				}
				// Stored once each, listed in order.
				if want := []string{"https://a.example", "https://b.example"}; !slices.Equal(got.Origins, want) {
					t.Errorf("origins = %q, want %q", got.Origins, want)
				}
			})
		}
	})

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name string
			do   func() error
			want error
		}{
			{"taken slug", func() error {
				_, err := e.st.CreateShop(e.ctx, kefu.Shop{Slug: "acme", Name: "Acme again"})
				return err
			}, kefu.ErrConflict},
			{"unknown slug", func() error { _, err := e.st.ShopBySlug(e.ctx, "nope"); return err }, kefu.ErrNotFound},
			// PostgreSQL cannot even compare with these; no shop has one on either store.
			{"slug with NUL", func() error { _, err := e.st.ShopBySlug(e.ctx, "ac\x00me"); return err }, kefu.ErrNotFound},
			{"slug not UTF-8", func() error { _, err := e.st.ShopBySlug(e.ctx, "ac\xffme"); return err }, kefu.ErrNotFound},
			{"unknown id", func() error { _, err := e.st.Shop(e.ctx, other.ID+1000); return err }, kefu.ErrNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.do(); !errors.Is(err, tc.want) {
					t.Errorf("err = %v, want %v", err, tc.want)
				}
			})
		}
	})

	t.Run("set origins replaces", func(t *testing.T) {
		steps := []struct {
			name string
			set  []string
			want []string
		}{
			{"one new", []string{"https://c.example"}, []string{"https://c.example"}},
			{"two with a repeat", []string{"https://e.example", "https://d.example", "https://e.example"}, []string{"https://d.example", "https://e.example"}},
			{"none", nil, nil},
			{"back to one", []string{"https://a.example"}, []string{"https://a.example"}},
		}
		for _, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				if err := e.st.SetShopOrigins(e.ctx, acme.ID, step.set); err != nil {
					t.Fatalf("set origins: %v", err)
				}
				got, err := e.st.Shop(e.ctx, acme.ID)
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if len(got.Origins) != len(step.want) || !slices.Equal(got.Origins, step.want) {
					t.Errorf("origins = %q, want %q", got.Origins, step.want)
				}
			})
		}
		got, err := e.st.Shop(e.ctx, other.ID)
		if err != nil {
			t.Fatalf("load other shop: %v", err)
		}
		if want := []string{"https://other.example"}; !slices.Equal(got.Origins, want) {
			t.Errorf("other shop's origins = %q, want %q untouched", got.Origins, want)
		}
	})
}

func testAgents(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	alice, err := e.st.CreateAgent(e.ctx, kefu.Agent{ShopID: shopA.ID, Username: "alice", Name: "Alice", Role: kefu.RoleOwner, PasswordHash: "hash-a"})
	if err != nil {
		t.Fatalf("create alice: %v", err)
	}
	if alice.ID == 0 || alice.MaxConcurrent != kefu.DefaultAgentCap || !alice.CreatedAt.Equal(start) {
		t.Errorf("alice = %+v, want an id, MaxConcurrent %d and CreatedAt %v", alice, kefu.DefaultAgentCap, start)
	}

	t.Run("create", func(t *testing.T) {
		cases := []struct {
			name    string
			agent   kefu.Agent
			wantErr error
			wantCap int
		}{
			{"taken username in the same shop", kefu.Agent{ShopID: shopA.ID, Username: "alice", Name: "Alice 2", Role: kefu.RoleAgent}, kefu.ErrConflict, 0},
			{"same username in another shop", kefu.Agent{ShopID: shopB.ID, Username: "alice", Name: "Alice B", Role: kefu.RoleAgent, MaxConcurrent: 3}, nil, 3},
			{"new username", kefu.Agent{ShopID: shopA.ID, Username: "bob", Name: "Bob", Role: kefu.RoleSupervisor, MaxConcurrent: 8}, nil, 8},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := e.st.CreateAgent(e.ctx, tc.agent)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if err != nil {
					return
				}
				if got.ID == 0 || got.ShopID != tc.agent.ShopID || got.Username != tc.agent.Username || got.Role != tc.agent.Role || got.MaxConcurrent != tc.wantCap {
					t.Errorf("created %+v from %+v, want cap %d", got, tc.agent, tc.wantCap)
				}
			})
		}
	})

	aliceB, err := e.st.AgentByUsername(e.ctx, shopB.ID, "alice")
	if err != nil {
		t.Fatalf("load shop b's alice: %v", err)
	}
	if aliceB.ID == alice.ID {
		t.Fatalf("both shops' alice have id %d", alice.ID)
	}

	t.Run("load", func(t *testing.T) {
		cases := []struct {
			name    string
			load    func() (kefu.Agent, error)
			wantID  int64
			wantErr error
		}{
			{"by username", func() (kefu.Agent, error) { return e.st.AgentByUsername(e.ctx, shopA.ID, "alice") }, alice.ID, nil},
			{"by username in other shop", func() (kefu.Agent, error) { return e.st.AgentByUsername(e.ctx, shopB.ID, "alice") }, aliceB.ID, nil},
			{"unknown username", func() (kefu.Agent, error) { return e.st.AgentByUsername(e.ctx, shopA.ID, "nobody") }, 0, kefu.ErrNotFound},
			{"username with NUL", func() (kefu.Agent, error) { return e.st.AgentByUsername(e.ctx, shopA.ID, "alice\x00") }, 0, kefu.ErrNotFound},
			{"username not UTF-8", func() (kefu.Agent, error) { return e.st.AgentByUsername(e.ctx, shopA.ID, "al\xffice") }, 0, kefu.ErrNotFound},
			{"by id", func() (kefu.Agent, error) { return e.st.Agent(e.ctx, shopA.ID, alice.ID) }, alice.ID, nil},
			{"id of another shop's agent", func() (kefu.Agent, error) { return e.st.Agent(e.ctx, shopB.ID, alice.ID) }, 0, kefu.ErrNotFound},
			{"id of another shop's agent, other way", func() (kefu.Agent, error) { return e.st.Agent(e.ctx, shopA.ID, aliceB.ID) }, 0, kefu.ErrNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.load()
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if got.ID != tc.wantID {
					t.Errorf("agent id = %d, want %d", got.ID, tc.wantID)
				}
			})
		}
		got, err := e.st.Agent(e.ctx, shopA.ID, alice.ID)
		if err != nil {
			t.Fatalf("load alice: %v", err)
		}
		if got != alice {
			// CreatedAt may differ in location only; compare it apart.
			if !got.CreatedAt.Equal(alice.CreatedAt) {
				t.Errorf("alice CreatedAt = %v, want %v", got.CreatedAt, alice.CreatedAt)
			}
			got.CreatedAt = alice.CreatedAt
			if got != alice {
				t.Errorf("loaded %+v, want %+v", got, alice)
			}
		}
	})

	t.Run("list is per shop", func(t *testing.T) {
		cases := []struct {
			shop int64
			want []string
		}{
			{shopA.ID, []string{"alice", "bob"}},
			{shopB.ID, []string{"alice"}},
		}
		for _, tc := range cases {
			t.Run(fmt.Sprint("shop ", tc.shop), func(t *testing.T) {
				agents, err := e.st.Agents(e.ctx, tc.shop)
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				var names []string
				for _, a := range agents {
					if a.ShopID != tc.shop {
						t.Errorf("agent %+v listed in shop %d", a, tc.shop)
					}
					names = append(names, a.Username)
				}
				if !slices.Equal(names, tc.want) {
					t.Errorf("usernames = %q, want %q", names, tc.want)
				}
			})
		}
	})
}

func testSessions(t *testing.T, e env) {
	shop := mustShop(t, e, "a")
	agent := mustAgent(t, e, shop.ID, "alice")
	expires := start.Add(time.Hour)
	for _, hash := range []string{"keep", "drop"} {
		if err := e.st.CreateSession(e.ctx, shop.ID, agent.ID, hash, expires); err != nil {
			t.Fatalf("create session %s: %v", hash, err)
		}
	}
	if err := e.st.DeleteSession(e.ctx, "drop"); err != nil {
		t.Fatalf("delete session: %v", err)
	}

	steps := []struct {
		name    string
		advance time.Duration
		hash    string
		wantErr error
	}{
		{"valid", 0, "keep", nil},
		{"unknown token", 0, "never-issued", kefu.ErrNotFound},
		{"deleted", 0, "drop", kefu.ErrNotFound},
		{"a minute before expiry", 59 * time.Minute, "keep", nil},
		{"at expiry", time.Minute, "keep", kefu.ErrNotFound},
		{"after expiry", time.Hour, "keep", kefu.ErrNotFound},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			e.clock.Advance(step.advance)
			got, exp, err := e.st.SessionAgent(e.ctx, step.hash)
			if !errors.Is(err, step.wantErr) {
				t.Fatalf("err = %v, want %v", err, step.wantErr)
			}
			if err != nil {
				return
			}
			if got.ID != agent.ID || got.ShopID != shop.ID || !exp.Equal(expires) {
				t.Errorf("session = agent %d shop %d expires %v, want agent %d shop %d expires %v",
					got.ID, got.ShopID, exp, agent.ID, shop.ID, expires)
			}
		})
	}
}

func testBuyers(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	visitor, err := e.st.VisitorBuyer(e.ctx, shopA.ID, "v1", "Visitor 1")
	if err != nil {
		t.Fatalf("visitor: %v", err)
	}
	if visitor.ID == 0 || visitor.Identified() || visitor.Name != "Visitor 1" || visitor.VisitorID != "v1" {
		t.Fatalf("visitor = %+v", visitor)
	}
	identified, err := e.st.IdentifiedBuyer(e.ctx, shopA.ID, "u1", "v1", "Alice")
	if err != nil {
		t.Fatalf("identified: %v", err)
	}
	if identified.ID == visitor.ID {
		t.Fatalf("identified buyer u1 and anonymous visitor v1 share id %d", visitor.ID)
	}
	if !identified.Identified() || identified.ExternalID != "u1" || identified.Name != "Alice" {
		t.Fatalf("identified = %+v", identified)
	}

	steps := []struct {
		name     string
		get      func() (kefu.Buyer, error)
		wantID   int64
		wantName string
		wantErr  error
	}{
		{"visitor again keeps the first name", func() (kefu.Buyer, error) {
			return e.st.VisitorBuyer(e.ctx, shopA.ID, "v1", "Someone else")
		}, visitor.ID, "Visitor 1", nil},
		{"identified again without a name", func() (kefu.Buyer, error) {
			return e.st.IdentifiedBuyer(e.ctx, shopA.ID, "u1", "v2", "")
		}, identified.ID, "Alice", nil},
		{"identified again with the same name", func() (kefu.Buyer, error) {
			return e.st.IdentifiedBuyer(e.ctx, shopA.ID, "u1", "v1", "Alice")
		}, identified.ID, "Alice", nil},
		{"identified again with a new name renames", func() (kefu.Buyer, error) {
			return e.st.IdentifiedBuyer(e.ctx, shopA.ID, "u1", "v1", "Alicia")
		}, identified.ID, "Alicia", nil},
		{"rename is stored", func() (kefu.Buyer, error) { return e.st.Buyer(e.ctx, shopA.ID, identified.ID) }, identified.ID, "Alicia", nil},
		{"visitor untouched by rename", func() (kefu.Buyer, error) { return e.st.Buyer(e.ctx, shopA.ID, visitor.ID) }, visitor.ID, "Visitor 1", nil},
		{"buyer of another shop", func() (kefu.Buyer, error) { return e.st.Buyer(e.ctx, shopB.ID, visitor.ID) }, 0, "", kefu.ErrNotFound},
		{"unknown buyer", func() (kefu.Buyer, error) { return e.st.Buyer(e.ctx, shopA.ID, identified.ID+1000) }, 0, "", kefu.ErrNotFound},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			got, err := step.get()
			if !errors.Is(err, step.wantErr) {
				t.Fatalf("err = %v, want %v", err, step.wantErr)
			}
			if got.ID != step.wantID || got.Name != step.wantName {
				t.Errorf("buyer = %+v, want id %d name %q", got, step.wantID, step.wantName)
			}
		})
	}

	t.Run("same ids in another shop are other buyers", func(t *testing.T) {
		vb, err := e.st.VisitorBuyer(e.ctx, shopB.ID, "v1", "Visitor B")
		if err != nil {
			t.Fatalf("visitor in shop b: %v", err)
		}
		ib, err := e.st.IdentifiedBuyer(e.ctx, shopB.ID, "u1", "v1", "Alice B")
		if err != nil {
			t.Fatalf("identified in shop b: %v", err)
		}
		for _, b := range []kefu.Buyer{vb, ib} {
			if b.ShopID != shopB.ID || b.ID == visitor.ID || b.ID == identified.ID {
				t.Errorf("shop b buyer %+v collides with shop a's", b)
			}
		}
		got, err := e.st.Buyer(e.ctx, shopA.ID, identified.ID)
		if err != nil || got.Name != "Alicia" {
			t.Errorf("shop a's u1 = %+v, %v; want name Alicia", got, err)
		}
	})
}

func testConversations(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	agentA := mustAgent(t, e, shopA.ID, "alice")
	agentB := mustAgent(t, e, shopB.ID, "bob")
	buyer := mustVisitor(t, e, shopA.ID, "v1")

	first, created, err := e.st.OpenConversation(e.ctx, shopA.ID, buyer.ID, nil)
	if err != nil || !created {
		t.Fatalf("open = %+v, created %v, err %v; want a new conversation", first, created, err)
	}
	if first.Status != kefu.StatusQueued || first.AgentID != 0 || first.LastSeq != 0 || !first.QueuedAt.Equal(start) || first.AssignedAt != nil || first.ClosedAt != nil {
		t.Errorf("new conversation = %+v, want queued at %v", first, start)
	}

	t.Run("open again returns the same", func(t *testing.T) {
		for i := range 3 {
			again, created, err := e.st.OpenConversation(e.ctx, shopA.ID, buyer.ID, nil)
			if err != nil || created || again.ID != first.ID {
				t.Errorf("open #%d = id %d, created %v, err %v; want id %d, not created", i, again.ID, created, err, first.ID)
			}
		}
	})

	t.Run("scoped to shop", func(t *testing.T) {
		if _, err := e.st.Conversation(e.ctx, shopB.ID, first.ID); !errors.Is(err, kefu.ErrNotFound) {
			t.Errorf("conversation of shop a loaded in shop b: err = %v, want ErrNotFound", err)
		}
		if _, _, err := e.st.CloseConversation(e.ctx, shopB.ID, first.ID, 0, kefu.SystemActor, farewell, nil); !errors.Is(err, kefu.ErrNotFound) {
			t.Errorf("close from shop b: err = %v, want ErrNotFound", err)
		}
		got, err := e.st.Conversation(e.ctx, shopA.ID, first.ID)
		if err != nil || got.Status != kefu.StatusQueued {
			t.Errorf("after shop b's close = %+v, %v; want still queued", got, err)
		}
	})

	t.Run("assign", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		cases := []struct {
			name      string
			shop      int64
			agent     int64
			wantErr   error
			wantAgent int64
		}{
			{"agent of another shop", shopA.ID, agentB.ID, kefu.ErrNotFound, 0},
			{"unknown agent", shopA.ID, agentB.ID + 1000, kefu.ErrNotFound, 0},
			{"from another shop", shopB.ID, agentB.ID, kefu.ErrNotFound, 0},
			{"agent of the shop", shopA.ID, agentA.ID, nil, agentA.ID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.st.AssignConversation(e.ctx, tc.shop, first.ID, tc.agent, kefu.SystemActor, announce, nil)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				got, err := e.st.Conversation(e.ctx, shopA.ID, first.ID)
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if got.AgentID != tc.wantAgent {
					t.Errorf("agent = %d, want %d", got.AgentID, tc.wantAgent)
				}
				if tc.wantErr != nil {
					if got.Status != kefu.StatusQueued || got.AssignedAt != nil {
						t.Errorf("failed assign changed the conversation: %+v", got)
					}
					return
				}
				if got.Status != kefu.StatusAssigned || got.AssignedAt == nil || !got.AssignedAt.Equal(start.Add(time.Minute)) {
					t.Errorf("assigned = %+v, want assigned at %v", got, start.Add(time.Minute))
				}
			})
		}
		again, created, err := e.st.OpenConversation(e.ctx, shopA.ID, buyer.ID, nil)
		if err != nil || created || again.ID != first.ID || again.AgentID != agentA.ID {
			t.Errorf("open while assigned = %+v, created %v, err %v; want the assigned conversation %d", again, created, err, first.ID)
		}
	})

	var second kefu.Conversation
	t.Run("close then open starts a new one", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		closedAt := e.clock.Now()
		closed, changed, err := e.st.CloseConversation(e.ctx, shopA.ID, first.ID, 0, kefu.SystemActor, farewell, nil)
		if err != nil || !changed {
			t.Fatalf("close: changed=%v, %v", changed, err)
		}
		if closed.Status != kefu.StatusClosed || closed.Open() || closed.ClosedAt == nil || !closed.ClosedAt.Equal(closedAt) {
			t.Fatalf("closed = %+v, want closed at %v", closed, closedAt)
		}
		e.clock.Advance(time.Minute)
		again, changed, err := e.st.CloseConversation(e.ctx, shopA.ID, first.ID, 0, kefu.SystemActor, farewell, nil)
		if err != nil || changed || again.ClosedAt == nil || !again.ClosedAt.Equal(closedAt) {
			t.Errorf("closing twice = %+v, changed=%v, %v; want unchanged with ClosedAt kept at %v", again, changed, err, closedAt)
		}
		if _, err := e.st.AssignConversation(e.ctx, shopA.ID, first.ID, agentA.ID, kefu.SystemActor, announce, nil); !errors.Is(err, kefu.ErrConversationClosed) {
			t.Errorf("assign closed conversation: err = %v, want ErrConversationClosed", err)
		}
		var created bool
		second, created, err = e.st.OpenConversation(e.ctx, shopA.ID, buyer.ID, nil)
		if err != nil || !created || second.ID == first.ID || second.Status != kefu.StatusQueued {
			t.Fatalf("open after close = %+v, created %v, err %v; want a new queued conversation", second, created, err)
		}
		latest, err := e.st.LatestConversation(e.ctx, shopA.ID, buyer.ID)
		if err != nil || latest.ID != second.ID {
			t.Errorf("latest = %d, %v; want %d", latest.ID, err, second.ID)
		}
		if _, err := e.st.LatestConversation(e.ctx, shopB.ID, buyer.ID); !errors.Is(err, kefu.ErrNotFound) {
			t.Errorf("latest from shop b: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("each shop's line is its own", func(t *testing.T) {
		buyerB := mustVisitor(t, e, shopB.ID, "vb")
		e.clock.Advance(time.Minute)
		third, _, err := e.st.OpenConversation(e.ctx, shopB.ID, buyerB.ID, nil)
		if err != nil {
			t.Fatalf("open in shop b: %v", err)
		}
		for _, tc := range []struct {
			shop int64
			want int64
		}{{shopA.ID, second.ID}, {shopB.ID, third.ID}} {
			line, err := e.st.Waiting(e.ctx, tc.shop)
			if err != nil || len(line) != 1 || line[0].ConversationID != tc.want {
				t.Errorf("line of shop %d = %+v (%v), want conversation %d alone", tc.shop, line, err, tc.want)
			}
		}
	})
}

func testMarkRead(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	buyer := mustVisitor(t, e, shopA.ID, "v1")
	conv := mustConversation(t, e, shopA.ID, buyer.ID)
	// System messages move neither side's read mark.
	for i := range 3 {
		mustAppend(t, e, kefu.Message{ShopID: shopA.ID, ConversationID: conv.ID, Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: fmt.Sprint("note ", i)})
	}

	steps := []struct {
		name       string
		reader     kefu.SenderKind
		seq        int64
		wantAgent  int64
		wantBuyer  int64
		wantErr    error
		otherShops bool
	}{
		{"agent reads to 2", kefu.SenderAgent, 2, 2, 0, nil, false},
		{"agent never goes backwards", kefu.SenderAgent, 1, 2, 0, nil, false},
		{"agent never passes the last seq", kefu.SenderAgent, 4, 2, 0, nil, false},
		{"agent zero is ignored", kefu.SenderAgent, 0, 2, 0, nil, false},
		{"buyer reads to 3", kefu.SenderBuyer, 3, 2, 3, nil, false},
		{"buyer never goes backwards", kefu.SenderBuyer, 2, 2, 3, nil, false},
		{"buyer never passes the last seq", kefu.SenderBuyer, 100, 2, 3, nil, false},
		{"agent reads to the end", kefu.SenderAgent, 3, 3, 3, nil, false},
		{"from another shop", kefu.SenderAgent, 3, 0, 0, kefu.ErrNotFound, true},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			shop := shopA.ID
			if step.otherShops {
				shop = shopB.ID
			}
			got, err := e.st.MarkRead(e.ctx, shop, conv.ID, step.reader, step.seq)
			if !errors.Is(err, step.wantErr) {
				t.Fatalf("err = %v, want %v", err, step.wantErr)
			}
			if err != nil {
				return
			}
			if got.AgentReadSeq != step.wantAgent || got.BuyerReadSeq != step.wantBuyer || got.LastSeq != 3 {
				t.Errorf("read seqs agent %d buyer %d last %d, want agent %d buyer %d last 3",
					got.AgentReadSeq, got.BuyerReadSeq, got.LastSeq, step.wantAgent, step.wantBuyer)
			}
		})
	}
}

func testMessages(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	alice := mustAgent(t, e, shopA.ID, "alice")
	bob := mustAgent(t, e, shopA.ID, "bob")
	buyer := mustVisitor(t, e, shopA.ID, "v1")
	conv := mustConversation(t, e, shopA.ID, buyer.ID)

	fromBuyer := func(clientID, text string) kefu.Message {
		return kefu.Message{ShopID: shopA.ID, ConversationID: conv.ID, Kind: kefu.KindText, Sender: kefu.SenderBuyer,
			SenderID: buyer.ID, SenderName: buyer.Name, Text: text, ClientMsgID: clientID}
	}
	fromAgent := func(a kefu.Agent, clientID, text string) kefu.Message {
		return kefu.Message{ShopID: shopA.ID, ConversationID: conv.ID, Kind: kefu.KindText, Sender: kefu.SenderAgent,
			SenderID: a.ID, SenderName: a.Name, Text: text, ClientMsgID: clientID}
	}
	system := func(text string) kefu.Message {
		return kefu.Message{ShopID: shopA.ID, ConversationID: conv.ID, Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: text}
	}

	ids := map[int64]int64{} // seq → id of what was stored
	steps := []struct {
		name      string
		close     bool // close the conversation before this step
		msg       kefu.Message
		wantErr   error
		wantSeq   int64
		wantDup   bool
		wantText  string
		wantCount int
	}{
		{"first buyer message", false, fromBuyer("c1", "你好"), nil, 1, false, "你好", 1},
		{"same client id from an agent", false, fromAgent(alice, "c1", "hello"), nil, 2, false, "hello", 2},
		{"same client id from another agent", false, fromAgent(bob, "c1", "hi too"), nil, 3, false, "hi too", 3},
		{"system message without client id", false, system("bob joined"), nil, 4, false, "bob joined", 4},
		{"retry of the buyer message", false, fromBuyer("c1", "changed on retry"), nil, 1, true, "你好", 4},
		{"retry of alice's message", false, fromAgent(alice, "c1", "changed"), nil, 2, true, "hello", 4},
		{"new buyer message", false, fromBuyer("c2", "订单呢?"), nil, 5, false, "订单呢?", 5},
		// The close stores its farewell line as seq 6.
		{"buyer to a closed conversation", true, fromBuyer("c3", "still there?"), kefu.ErrConversationClosed, 0, false, "", 6},
		{"agent to a closed conversation", false, fromAgent(alice, "c3", "bye"), kefu.ErrConversationClosed, 0, false, "", 6},
		{"retry to a closed conversation is still answered", false, fromBuyer("c2", "订单呢?"), nil, 5, true, "订单呢?", 6},
		{"system message to a closed conversation", false, system("closed"), nil, 7, false, "closed", 7},
		{"conversation of another shop", false, func() kefu.Message { m := system("x"); m.ShopID = shopB.ID; return m }(), kefu.ErrNotFound, 0, false, "", 7},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.close {
				if _, _, err := e.st.CloseConversation(e.ctx, shopA.ID, conv.ID, 0, kefu.SystemActor, farewell, nil); err != nil {
					t.Fatalf("close: %v", err)
				}
			}
			e.clock.Advance(time.Second)
			got, dup, err := e.st.AppendMessage(e.ctx, step.msg)
			if !errors.Is(err, step.wantErr) {
				t.Fatalf("err = %v, want %v", err, step.wantErr)
			}
			if err == nil {
				if got.Seq != step.wantSeq || dup != step.wantDup || got.Text != step.wantText {
					t.Errorf("stored seq %d dup %v text %q, want seq %d dup %v text %q", got.Seq, dup, got.Text, step.wantSeq, step.wantDup, step.wantText)
				}
				if step.wantDup {
					if got.ID != ids[step.wantSeq] {
						t.Errorf("duplicate answered with id %d, want the first one's %d", got.ID, ids[step.wantSeq])
					}
				} else {
					if got.ID == 0 || got.ShopID != shopA.ID || got.ConversationID != conv.ID || got.Kind != step.msg.Kind ||
						got.Sender != step.msg.Sender || got.SenderID != step.msg.SenderID || got.SenderName != step.msg.SenderName ||
						got.ClientMsgID != step.msg.ClientMsgID || !got.CreatedAt.Equal(e.clock.Now()) {
						t.Errorf("stored %+v from %+v at %v", got, step.msg, e.clock.Now())
					}
					ids[got.Seq] = got.ID
				}
			}
			msgs, _, err := e.st.Messages(e.ctx, shopA.ID, conv.ID, 0, kefu.MaxPageSize)
			if err != nil {
				t.Fatalf("messages: %v", err)
			}
			if len(msgs) != step.wantCount {
				t.Errorf("conversation holds %d messages, want %d", len(msgs), step.wantCount)
			}
			c, err := e.st.Conversation(e.ctx, shopA.ID, conv.ID)
			if err != nil {
				t.Fatalf("load conversation: %v", err)
			}
			if c.LastSeq != int64(step.wantCount) {
				t.Errorf("last seq = %d, want %d", c.LastSeq, step.wantCount)
			}
		})
	}

	t.Run("history matches what was stored", func(t *testing.T) {
		msgs, more, err := e.st.Messages(e.ctx, shopA.ID, conv.ID, 0, 0)
		if err != nil || more {
			t.Fatalf("messages: more %v, err %v", more, err)
		}
		wantTexts := []string{"你好", "hello", "hi too", "bob joined", "订单呢?", "会话已结束", "closed"}
		ids[6] = msgs[5].ID // the close's own line
		for i, m := range msgs {
			if m.Seq != int64(i+1) || m.ID != ids[m.Seq] || m.Text != wantTexts[i] {
				t.Errorf("message %d = seq %d id %d text %q, want seq %d id %d text %q", i, m.Seq, m.ID, m.Text, i+1, ids[int64(i+1)], wantTexts[i])
			}
		}
		found, err := e.st.MessageByClientID(e.ctx, shopA.ID, kefu.SenderAgent, bob.ID, "c1")
		if err != nil || found.ID != ids[3] {
			t.Errorf("bob's c1 = id %d, %v; want %d", found.ID, err, ids[3])
		}
		if _, err := e.st.MessageByClientID(e.ctx, shopB.ID, kefu.SenderAgent, bob.ID, "c1"); !errors.Is(err, kefu.ErrNotFound) {
			t.Errorf("bob's c1 from shop b: err = %v, want ErrNotFound", err)
		}
		other, more, err := e.st.Messages(e.ctx, shopB.ID, conv.ID, 0, 0)
		if err != nil || len(other) != 0 || more {
			t.Errorf("shop b reads shop a's messages: %d messages, more %v, err %v", len(other), more, err)
		}
	})

	t.Run("sending moves the sender's read mark", func(t *testing.T) {
		b2 := mustVisitor(t, e, shopA.ID, "v2")
		c2 := mustConversation(t, e, shopA.ID, b2.ID)
		sends := []struct {
			sender               kefu.SenderKind
			wantAgent, wantBuyer int64
		}{
			{kefu.SenderBuyer, 0, 1},
			{kefu.SenderBuyer, 0, 2},
			{kefu.SenderAgent, 3, 2},
			{kefu.SenderSystem, 3, 2},
			{kefu.SenderBuyer, 3, 5},
		}
		for i, s := range sends {
			mustAppend(t, e, kefu.Message{ShopID: shopA.ID, ConversationID: c2.ID, Kind: kefu.KindText, Sender: s.sender, Text: fmt.Sprint("m", i)})
			got, err := e.st.Conversation(e.ctx, shopA.ID, c2.ID)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if got.AgentReadSeq != s.wantAgent || got.BuyerReadSeq != s.wantBuyer {
				t.Errorf("after %s message %d: agent read %d buyer read %d, want %d and %d", s.sender, i+1, got.AgentReadSeq, got.BuyerReadSeq, s.wantAgent, s.wantBuyer)
			}
		}
	})
}

func testMessagePaging(t *testing.T, e env) {
	shop := mustShop(t, e, "a")
	conv := mustConversation(t, e, shop.ID, mustVisitor(t, e, shop.ID, "v1").ID)
	for i := range 7 {
		mustAppend(t, e, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: fmt.Sprint(i + 1)})
	}
	cases := []struct {
		name     string
		afterSeq int64
		limit    int
		wantSeqs []int64
		wantMore bool
	}{
		{"first page", 0, 3, []int64{1, 2, 3}, true},
		{"second page", 3, 3, []int64{4, 5, 6}, true},
		{"last page", 6, 3, []int64{7}, false},
		{"past the end", 7, 3, nil, false},
		{"exactly all", 0, 7, []int64{1, 2, 3, 4, 5, 6, 7}, false},
		{"one short of all", 0, 6, []int64{1, 2, 3, 4, 5, 6}, true},
		{"page ending at the last", 2, 5, []int64{3, 4, 5, 6, 7}, false},
		{"no limit means the default page", 0, 0, []int64{1, 2, 3, 4, 5, 6, 7}, false},
		{"one at a time", 4, 1, []int64{5}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, more, err := e.st.Messages(e.ctx, shop.ID, conv.ID, tc.afterSeq, tc.limit)
			if err != nil {
				t.Fatalf("messages: %v", err)
			}
			var seqs []int64
			for _, m := range msgs {
				seqs = append(seqs, m.Seq)
			}
			if !slices.Equal(seqs, tc.wantSeqs) || more != tc.wantMore {
				t.Errorf("seqs %v more %v, want %v more %v", seqs, more, tc.wantSeqs, tc.wantMore)
			}
		})
	}
}

func testConcurrentAppends(t *testing.T, e env) {
	const writers, each = 8, 25
	shop := mustShop(t, e, "a")
	conv := mustConversation(t, e, shop.ID, mustVisitor(t, e, shop.ID, "v1").ID)
	begin := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-begin
			for i := range each {
				_, dup, err := e.st.AppendMessage(e.ctx, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText,
					Sender: kefu.SenderAgent, SenderID: int64(w + 1), Text: fmt.Sprintf("%d/%d", w, i), ClientMsgID: fmt.Sprintf("w%d-%d", w, i)})
				if err != nil || dup {
					t.Errorf("writer %d message %d: dup %v, err %v", w, i, dup, err)
					return
				}
			}
		})
	}
	close(begin)
	wg.Wait()

	msgs, more, err := e.st.Messages(e.ctx, shop.ID, conv.ID, 0, kefu.MaxPageSize)
	if err != nil {
		t.Fatalf("messages: %v", err)
	}
	if len(msgs) != writers*each || more {
		t.Fatalf("got %d messages (more %v), want %d", len(msgs), more, writers*each)
	}
	lastOf := map[int64]int{} // writer → index of their last message seen
	seenID := map[int64]bool{}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: seqs have a gap or a repeat", i, m.Seq)
		}
		if seenID[m.ID] {
			t.Errorf("id %d stored twice", m.ID)
		}
		seenID[m.ID] = true
		var w, n int
		if _, err := fmt.Sscanf(m.Text, "%d/%d", &w, &n); err != nil {
			t.Fatalf("message text %q: %v", m.Text, err)
		}
		// Each writer waits for its message before sending the next, so its
		// messages keep their order.
		if prev, ok := lastOf[int64(w)]; ok && n != prev+1 || !ok && n != 0 {
			t.Errorf("writer %d: message %d follows %d", w, n, prev)
		}
		lastOf[int64(w)] = n
	}
	c, err := e.st.Conversation(e.ctx, shop.ID, conv.ID)
	if err != nil || c.LastSeq != writers*each {
		t.Errorf("conversation last seq %d, err %v; want %d", c.LastSeq, err, writers*each)
	}
}

func testConcurrentRetries(t *testing.T, e env) {
	const rounds, retries = 5, 8
	shop := mustShop(t, e, "a")
	buyer := mustVisitor(t, e, shop.ID, "v1")
	conv := mustConversation(t, e, shop.ID, buyer.ID)
	for round := range rounds {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			begin := make(chan struct{})
			type result struct {
				msg kefu.Message
				dup bool
				err error
			}
			results := make([]result, retries)
			var wg sync.WaitGroup
			for i := range retries {
				wg.Go(func() {
					<-begin
					m, dup, err := e.st.AppendMessage(e.ctx, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText,
						Sender: kefu.SenderBuyer, SenderID: buyer.ID, Text: fmt.Sprint("try ", i), ClientMsgID: fmt.Sprint("retry-", round)})
					results[i] = result{m, dup, err}
				})
			}
			close(begin)
			wg.Wait()

			fresh := 0
			for i, r := range results {
				if r.err != nil {
					t.Fatalf("retry %d: %v", i, r.err)
				}
				if !r.dup {
					fresh++
				}
				if r.msg.ID != results[0].msg.ID || r.msg.Seq != int64(round+1) {
					t.Errorf("retry %d answered id %d seq %d; retry 0 got id %d, want seq %d", i, r.msg.ID, r.msg.Seq, results[0].msg.ID, round+1)
				}
			}
			if fresh != 1 {
				t.Errorf("%d retries stored a new message, want exactly 1", fresh)
			}
			msgs, _, err := e.st.Messages(e.ctx, shop.ID, conv.ID, 0, kefu.MaxPageSize)
			if err != nil {
				t.Fatalf("messages: %v", err)
			}
			if len(msgs) != round+1 {
				t.Errorf("conversation holds %d messages after %d rounds, want %d", len(msgs), round+1, round+1)
			}
			// A losing retry must not burn a seq.
			c, err := e.st.Conversation(e.ctx, shop.ID, conv.ID)
			if err != nil || c.LastSeq != int64(round+1) {
				t.Errorf("last seq %d, err %v; want %d", c.LastSeq, err, round+1)
			}
		})
	}
}

func testListConversations(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	alice := mustAgent(t, e, shopA.ID, "alice")
	bob := mustAgent(t, e, shopA.ID, "bob")
	carol := mustAgent(t, e, shopB.ID, "carol")
	b1 := mustVisitor(t, e, shopA.ID, "v1")
	b2 := mustVisitor(t, e, shopA.ID, "v2")
	b3 := mustVisitor(t, e, shopA.ID, "v3")
	bB := mustVisitor(t, e, shopB.ID, "v1")

	say := func(c kefu.Conversation, sender kefu.SenderKind, text string) {
		t.Helper()
		mustAppend(t, e, kefu.Message{ShopID: c.ShopID, ConversationID: c.ID, Kind: kefu.KindText, Sender: sender, Text: text})
	}
	assign := func(c kefu.Conversation, agent kefu.Agent) {
		t.Helper()
		if _, err := e.st.AssignConversation(e.ctx, c.ShopID, c.ID, agent.ID, kefu.SystemActor, announce, nil); err != nil {
			t.Fatalf("assign: %v", err)
		}
	}

	c1 := mustConversation(t, e, shopA.ID, b1.ID) // closed, one unread buyer message
	say(c1, kefu.SenderBuyer, "old")
	if _, _, err := e.st.CloseConversation(e.ctx, shopA.ID, c1.ID, 0, kefu.SystemActor, farewell, nil); err != nil {
		t.Fatalf("close: %v", err)
	}
	c2 := mustConversation(t, e, shopA.ID, b1.ID) // alice's, two buyer messages after her reply
	assign(c2, alice)
	say(c2, kefu.SenderBuyer, "hi")
	say(c2, kefu.SenderBuyer, "anyone?")
	say(c2, kefu.SenderAgent, "hello")
	say(c2, kefu.SenderBuyer, "order?")
	say(c2, kefu.SenderBuyer, "#123")
	say(c2, kefu.SenderSystem, "note")
	c3 := mustConversation(t, e, shopA.ID, b2.ID) // queued
	say(c3, kefu.SenderBuyer, "q")
	c4 := mustConversation(t, e, shopA.ID, b3.ID) // bob's, silent
	assign(c4, bob)
	cB := mustConversation(t, e, shopB.ID, bB.ID) // shop b's, carol's
	assign(cB, carol)
	say(cB, kefu.SenderBuyer, "shop b")

	cases := []struct {
		name   string
		shop   int64
		filter kefu.ConversationFilter
		want   []int64
	}{
		{"all, newest first", shopA.ID, kefu.ConversationFilter{}, []int64{c4.ID, c3.ID, c2.ID, c1.ID}},
		{"queued", shopA.ID, kefu.ConversationFilter{Statuses: []kefu.ConversationStatus{kefu.StatusQueued}}, []int64{c3.ID}},
		{"assigned", shopA.ID, kefu.ConversationFilter{Statuses: []kefu.ConversationStatus{kefu.StatusAssigned}}, []int64{c4.ID, c2.ID}},
		{"open", shopA.ID, kefu.ConversationFilter{Statuses: []kefu.ConversationStatus{kefu.StatusQueued, kefu.StatusAssigned}}, []int64{c4.ID, c3.ID, c2.ID}},
		{"closed", shopA.ID, kefu.ConversationFilter{Statuses: []kefu.ConversationStatus{kefu.StatusClosed}}, []int64{c1.ID}},
		{"alice's", shopA.ID, kefu.ConversationFilter{AgentID: alice.ID}, []int64{c2.ID}},
		{"bob's", shopA.ID, kefu.ConversationFilter{AgentID: bob.ID}, []int64{c4.ID}},
		{"another shop's agent", shopA.ID, kefu.ConversationFilter{AgentID: carol.ID}, nil},
		{"buyer's", shopA.ID, kefu.ConversationFilter{BuyerID: b1.ID}, []int64{c2.ID, c1.ID}},
		{"buyer's assigned", shopA.ID, kefu.ConversationFilter{BuyerID: b1.ID, Statuses: []kefu.ConversationStatus{kefu.StatusAssigned}}, []int64{c2.ID}},
		{"another shop's buyer", shopA.ID, kefu.ConversationFilter{BuyerID: bB.ID}, nil},
		{"limit", shopA.ID, kefu.ConversationFilter{Limit: 2}, []int64{c4.ID, c3.ID}},
		{"other shop", shopB.ID, kefu.ConversationFilter{}, []int64{cB.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list, err := e.st.ListConversations(e.ctx, tc.shop, tc.filter)
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			var ids []int64
			for _, s := range list {
				ids = append(ids, s.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("ids = %v, want %v", ids, tc.want)
			}
		})
	}

	t.Run("summaries", func(t *testing.T) {
		list, err := e.st.ListConversations(e.ctx, shopA.ID, kefu.ConversationFilter{})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		byID := map[int64]kefu.ConversationSummary{}
		for _, s := range list {
			byID[s.ID] = s
		}
		cases := []struct {
			name      string
			id        int64
			buyer     kefu.Buyer
			agentName string
			unread    int64
			last      string // "" for no last message
			lastSeq   int64
		}{
			// Closing and assigning each store a line of kefu's own.
			{"closed", c1.ID, b1, "", 1, "会话已结束", 2},
			{"unread after the agent's reply, system not counted", c2.ID, b1, alice.Name, 2, "note", 7},
			{"queued", c3.ID, b2, "", 1, "q", 1},
			{"silent", c4.ID, b3, bob.Name, 0, "客服 Bob 为您服务", 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s, ok := byID[tc.id]
				if !ok {
					t.Fatalf("conversation %d not listed", tc.id)
				}
				if s.Buyer.ID != tc.buyer.ID || s.Buyer.Name != tc.buyer.Name || s.AgentName != tc.agentName || s.Unread != tc.unread || s.LastSeq != tc.lastSeq {
					t.Errorf("summary buyer %d %q agent %q unread %d last seq %d, want buyer %d %q agent %q unread %d last seq %d",
						s.Buyer.ID, s.Buyer.Name, s.AgentName, s.Unread, s.LastSeq, tc.buyer.ID, tc.buyer.Name, tc.agentName, tc.unread, tc.lastSeq)
				}
				switch {
				case tc.last == "" && s.LastMessage != nil:
					t.Errorf("last message = %+v, want none", *s.LastMessage)
				case tc.last != "" && s.LastMessage == nil:
					t.Errorf("no last message, want %q", tc.last)
				case tc.last != "" && (s.LastMessage.Text != tc.last || s.LastMessage.Seq != tc.lastSeq || s.LastMessage.ConversationID != tc.id):
					t.Errorf("last message = %+v, want %q at seq %d", *s.LastMessage, tc.last, tc.lastSeq)
				}
			})
		}
	})

	t.Run("reading clears unread", func(t *testing.T) {
		if _, err := e.st.MarkRead(e.ctx, shopA.ID, c2.ID, kefu.SenderAgent, 6); err != nil {
			t.Fatalf("mark read: %v", err)
		}
		conv, err := e.st.Conversation(e.ctx, shopA.ID, c2.ID)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		s, err := e.st.Summarize(e.ctx, conv)
		if err != nil {
			t.Fatalf("summarize: %v", err)
		}
		if s.ID != c2.ID || s.Unread != 0 || s.AgentName != alice.Name || s.LastMessage == nil || s.LastMessage.Text != "note" {
			t.Errorf("summary after read = %+v, want c2 with nothing unread", s)
		}
	})
}

func testOrders(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	b1 := mustVisitor(t, e, shopA.ID, "v1")
	b2 := mustVisitor(t, e, shopA.ID, "v2")
	bB := mustVisitor(t, e, shopB.ID, "v1")
	items := []kefu.OrderItem{{Title: "蓝色T恤", Quantity: 2, PriceCents: 4999}, {Title: "socks", Quantity: 1, PriceCents: 999}}

	// Stored out of order: the list sorts by when the order was placed.
	type placedOrder struct {
		no      string
		at      time.Time // zero: now
		items   []kefu.OrderItem
		cur     string
		wantCur string
	}
	placed := []placedOrder{
		{"A-2", start.Add(-time.Hour), items, "USD", "USD"},
		{"A-1", start.Add(-2 * time.Hour), items[:1], "", "CNY"},
		{"A-3", time.Time{}, nil, "", "CNY"},
	}
	for _, p := range placed {
		o, err := e.st.CreateOrder(e.ctx, kefu.Order{ShopID: shopA.ID, BuyerID: b1.ID, OrderNo: p.no, Status: "paid",
			AmountCents: 10999, Currency: p.cur, Items: p.items, CreatedAt: p.at})
		if err != nil {
			t.Fatalf("create order %s: %v", p.no, err)
		}
		if o.ID == 0 || o.Currency != p.wantCur {
			t.Errorf("created %+v, want an id and currency %s", o, p.wantCur)
		}
	}

	t.Run("create", func(t *testing.T) {
		cases := []struct {
			name    string
			order   kefu.Order
			wantErr error
		}{
			{"taken order number", kefu.Order{ShopID: shopA.ID, BuyerID: b2.ID, OrderNo: "A-1", Status: "paid"}, kefu.ErrConflict},
			{"same number in another shop", kefu.Order{ShopID: shopB.ID, BuyerID: bB.ID, OrderNo: "A-1", Status: "paid"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := e.st.CreateOrder(e.ctx, tc.order); !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
			})
		}
	})

	t.Run("list", func(t *testing.T) {
		cases := []struct {
			name    string
			shop    int64
			buyer   int64
			wantNos []string
		}{
			{"newest first", shopA.ID, b1.ID, []string{"A-3", "A-2", "A-1"}},
			{"buyer without orders", shopA.ID, b2.ID, nil},
			{"buyer of another shop", shopB.ID, b1.ID, nil},
			{"other shop's own", shopB.ID, bB.ID, []string{"A-1"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				orders, err := e.st.BuyerOrders(e.ctx, tc.shop, tc.buyer)
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				var nos []string
				for _, o := range orders {
					nos = append(nos, o.OrderNo)
				}
				if !slices.Equal(nos, tc.wantNos) {
					t.Errorf("orders = %q, want %q", nos, tc.wantNos)
				}
			})
		}
	})

	t.Run("round trip", func(t *testing.T) {
		orders, err := e.st.BuyerOrders(e.ctx, shopA.ID, b1.ID)
		if err != nil || len(orders) != 3 {
			t.Fatalf("list: %d orders, %v", len(orders), err)
		}
		for _, o := range orders {
			i := slices.IndexFunc(placed, func(p placedOrder) bool { return p.no == o.OrderNo })
			if i < 0 {
				t.Fatalf("listed order %s was never placed", o.OrderNo)
			}
			p := placed[i]
			wantAt := p.at
			if wantAt.IsZero() {
				wantAt = start
			}
			if o.ShopID != shopA.ID || o.BuyerID != b1.ID || o.Status != "paid" || o.AmountCents != 10999 || o.Currency != p.wantCur || !o.CreatedAt.Equal(wantAt) {
				t.Errorf("order %s = %+v, want currency %s placed %v", o.OrderNo, o, p.wantCur, wantAt)
			}
			if len(o.Items) != len(p.items) || (len(p.items) > 0 && !slices.Equal(o.Items, p.items)) {
				t.Errorf("order %s items = %+v, want %+v", o.OrderNo, o.Items, p.items)
			}
		}
	})
}

func testSecret(t *testing.T, e env) {
	first, err := e.st.Secret(e.ctx, "session")
	if err != nil {
		t.Fatalf("secret: %v", err)
	}
	if len(first) != 32 {
		t.Errorf("secret is %d bytes, want 32", len(first))
	}
	cases := []struct {
		key      string
		wantSame bool
	}{
		{"session", true},
		{"session", true},
		{"widget", false},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			got, err := e.st.Secret(e.ctx, tc.key)
			if err != nil {
				t.Fatalf("secret: %v", err)
			}
			if same := string(got) == string(first); same != tc.wantSame {
				t.Errorf("secret %q equal to the first: %v, want %v", tc.key, same, tc.wantSame)
			}
		})
	}
}

// location is where a backend keeps a database that outlives one Store, for
// tests that close and open it again.
type location struct {
	name   string
	config func(t *testing.T) store.Config // a new, empty database
	driver string                          // database/sql driver to reach it directly
	dsn    func(cfg store.Config) string
}

func locations() []location {
	return []location{
		{"sqlite", func(t *testing.T) store.Config { return store.Config{DataDir: t.TempDir()} },
			"sqlite", func(cfg store.Config) string { return filepath.Join(cfg.DataDir, "kefu.db") }},
		{"postgres", func(t *testing.T) store.Config { return store.Config{DatabaseURL: testdb.PostgresURL(t)} },
			"pgx", func(cfg store.Config) string { return cfg.DatabaseURL }},
	}
}

// TestReopen closes a store holding data and opens it again: the data is
// there, migrations do not trip on it, and new writes continue where the old
// ones stopped.
func TestReopen(t *testing.T) {
	for _, tc := range locations() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			cfg := tc.config(t)
			cfg.Now = testclock.New(start).Now

			st, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			e := env{st: st, ctx: ctx}
			shop := mustShop(t, e, "acme")
			agent := mustAgent(t, e, shop.ID, "alice")
			conv := mustConversation(t, e, shop.ID, mustVisitor(t, e, shop.ID, "v1").ID)
			first := mustAppend(t, e, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText, Sender: kefu.SenderBuyer, Text: "before restart", ClientMsgID: "c1"})
			secret, err := st.Secret(ctx, "session")
			if err != nil {
				t.Fatalf("secret: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}

			for i := range 2 {
				st, err := store.Open(ctx, cfg)
				if err != nil {
					t.Fatalf("reopen #%d: %v", i+1, err)
				}
				e := env{st: st, ctx: ctx}
				if got, err := st.ShopBySlug(ctx, "acme"); err != nil || got.ID != shop.ID || !slices.Equal(got.Origins, shop.Origins) {
					t.Errorf("reopen #%d: shop = %+v, %v; want %+v", i+1, got, err, shop)
				}
				if got, err := st.AgentByUsername(ctx, shop.ID, "alice"); err != nil || got.ID != agent.ID {
					t.Errorf("reopen #%d: agent = %+v, %v; want id %d", i+1, got, err, agent.ID)
				}
				if got, err := st.Secret(ctx, "session"); err != nil || string(got) != string(secret) {
					t.Errorf("reopen #%d: secret changed (err %v)", i+1, err)
				}
				if got, dup, err := st.AppendMessage(ctx, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText,
					Sender: kefu.SenderBuyer, Text: "retry", ClientMsgID: "c1"}); err != nil || !dup || got.ID != first.ID {
					t.Errorf("reopen #%d: retry of c1 = id %d dup %v err %v; want duplicate of %d", i+1, got.ID, dup, err, first.ID)
				}
				next := mustAppend(t, e, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText, Sender: kefu.SenderBuyer, Text: "after restart"})
				if next.Seq != int64(i+2) {
					t.Errorf("reopen #%d: new message seq %d, want %d", i+1, next.Seq, i+2)
				}
				if err := st.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
			}
		})
	}
}

// TestOpenRefusesNewerSchema: a binary must not run on a schema written by a
// newer one, whose tables it does not know.
func TestOpenRefusesNewerSchema(t *testing.T) {
	for _, tc := range locations() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			cfg := tc.config(t)
			st, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			st.Close()
			db, err := sql.Open(tc.driver, tc.dsn(cfg))
			if err != nil {
				t.Fatalf("open raw: %v", err)
			}
			_, err = db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (999, CURRENT_TIMESTAMP)`)
			db.Close()
			if err != nil {
				t.Fatalf("record a future migration: %v", err)
			}
			st, err = store.Open(ctx, cfg)
			if err == nil {
				st.Close()
				t.Fatal("opened a database whose schema is newer than the binary")
			}
			if !strings.Contains(err.Error(), "newer") {
				t.Errorf("err = %v, want it to say the schema is newer", err)
			}
		})
	}
}

// TestOpenConcurrently starts several stores on one new database at once, as
// replicas of a deployment do: each must either migrate or see the schema
// another migrated, never fail half-way.
func TestOpenConcurrently(t *testing.T) {
	const instances = 4
	for _, tc := range locations() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.config(t)
			begin := make(chan struct{})
			errs := make([]error, instances)
			var wg sync.WaitGroup
			for i := range instances {
				wg.Go(func() {
					<-begin
					st, err := store.Open(t.Context(), cfg)
					if err != nil {
						errs[i] = err
						return
					}
					errs[i] = st.Close()
				})
			}
			close(begin)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
				}
			}
			st, err := store.Open(t.Context(), cfg)
			if err != nil {
				t.Fatalf("open after the race: %v", err)
			}
			defer st.Close()
			if _, err := st.CreateShop(t.Context(), kefu.Shop{Slug: "after", Name: "After"}); err != nil {
				t.Errorf("schema unusable after concurrent opens: %v", err)
			}
		})
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	cases := []struct {
		name string
		url  string
	}{
		{"mysql with password", "mysql://root:hunter2@db.example/kefu"},
		{"sqlserver with password", "sqlserver://sa:hunter2@db.example:1433?database=kefu"},
		{"mysql DSN without a scheme", "root:hunter2@tcp(db.example:3306)/kefu"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.Open(t.Context(), store.Config{DatabaseURL: tc.url})
			if err == nil {
				st.Close()
				t.Fatal("opened an unsupported database URL")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func mustShop(t *testing.T, e env, slug string) kefu.Shop {
	t.Helper()
	s, err := e.st.CreateShop(e.ctx, kefu.Shop{Slug: slug, Name: "Shop " + slug, IdentitySecret: "secret-" + slug})
	if err != nil {
		t.Fatalf("create shop %s: %v", slug, err)
	}
	return s
}

func mustAgent(t *testing.T, e env, shopID int64, username string) kefu.Agent {
	t.Helper()
	a, err := e.st.CreateAgent(e.ctx, kefu.Agent{ShopID: shopID, Username: username, Name: strings.ToUpper(username[:1]) + username[1:],
		Role: kefu.RoleAgent, PasswordHash: "hash"})
	if err != nil {
		t.Fatalf("create agent %s: %v", username, err)
	}
	return a
}

func mustVisitor(t *testing.T, e env, shopID int64, visitorID string) kefu.Buyer {
	t.Helper()
	b, err := e.st.VisitorBuyer(e.ctx, shopID, visitorID, "Visitor "+visitorID)
	if err != nil {
		t.Fatalf("visitor %s: %v", visitorID, err)
	}
	return b
}

func mustConversation(t *testing.T, e env, shopID, buyerID int64) kefu.Conversation {
	t.Helper()
	c, created, err := e.st.OpenConversation(e.ctx, shopID, buyerID, nil)
	if err != nil || !created {
		t.Fatalf("open conversation of buyer %d: created %v, err %v", buyerID, created, err)
	}
	return c
}

func mustAppend(t *testing.T, e env, m kefu.Message) kefu.Message {
	t.Helper()
	got, dup, err := e.st.AppendMessage(e.ctx, m)
	if err != nil || dup {
		t.Fatalf("append %q: dup %v, err %v", m.Text, dup, err)
	}
	return got
}

// farewell and announce are the system lines tests close and assign with.
var farewell = kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "会话已结束", Code: kefu.SystemClosed}

func announce(agentName string) kefu.Message {
	return kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, SenderName: agentName, Text: "客服 " + agentName + " 为您服务", Code: kefu.SystemAssigned}
}
