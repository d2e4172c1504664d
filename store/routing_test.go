package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// Two stores on one database are two kefu processes. The first one's
// routing decision is held after it read the agent's load, for as long as
// the second one's decision takes or a second at most. With the shop's
// routing serialization the second waits for the first, reads its
// assignments and fills only what is left; without it, both fill the
// agent's cap and the agent ends up over it.
func TestRouteShopIsSerializedAcrossStores(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			cfg := store.Config{DataDir: t.TempDir()}
			if backend == "postgres" {
				cfg = store.Config{DatabaseURL: testdb.PostgresURL(t)}
			}
			first, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			second, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close()

			shop, err := first.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
			if err != nil {
				t.Fatal(err)
			}
			const cap = 2
			agent, err := first.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: "a", Name: "A", Role: kefu.RoleAgent,
				PasswordHash: "-", MaxConcurrent: cap})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2*cap; i++ {
				b, err := first.VisitorBuyer(ctx, shop.ID, fmt.Sprintf("v_serial%02d", i), "b")
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := first.OpenConversation(ctx, shop.ID, b.ID, nil); err != nil {
					t.Fatal(err)
				}
			}
			// The line's head, as each decision reads it, goes to the agent.
			takeAll := func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment {
				var out []kefu.Assignment
				for _, w := range waiting[:min(len(waiting), agents[0].Cap-agents[0].Active)] {
					out = append(out, kefu.Assignment{ConversationID: w.ConversationID, BuyerID: w.BuyerID, AgentID: agents[0].ID})
				}
				return out
			}
			online := func(int64) kefu.Presence { return kefu.PresenceOnline }

			secondDone := make(chan struct{})
			secondStarted := make(chan struct{})
			var hold sync.Once
			held := func(int64) kefu.Presence {
				// Held once, in the first decision, after the loads were read.
				hold.Do(func() {
					close(secondStarted)
					select {
					case <-secondDone:
					case <-time.After(time.Second):
					}
				})
				return kefu.PresenceOnline
			}
			firstDone := make(chan error, 1)
			go func() {
				_, err := first.RouteShop(ctx, shop.ID, held, 0, takeAll, announce, nil)
				firstDone <- err
			}()
			<-secondStarted
			if _, err := second.RouteShop(ctx, shop.ID, online, 0, takeAll, announce, nil); err != nil {
				t.Fatalf("second process's routing: %v", err)
			}
			close(secondDone)
			if err := <-firstDone; err != nil {
				t.Fatalf("first process's routing: %v", err)
			}
			if n, err := first.ActiveConversations(ctx, shop.ID, agent.ID); err != nil || n != cap {
				t.Fatalf("agent holds %d conversations (%v), want their cap %d", n, err, cap)
			}
			line, err := first.Waiting(ctx, shop.ID)
			if err != nil || len(line) != cap {
				t.Fatalf("%d conversations still wait (%v), want %d", len(line), err, cap)
			}
		})
	}
}
