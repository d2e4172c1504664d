package conversation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// BenchmarkRouting measures routing decisions for one shop with a long line:
// 1,000 buyers wait behind 10 agents whose 50 slots are full; each operation
// closes one conversation, which frees a slot, and the decision that follows
// (read the loads and the head of the line inside the shop's lock, decide,
// store the assignment with its line and events) gives the slot to the next
// buyer. It fails unless every operation assigned exactly one.
func BenchmarkRouting(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{
		{"sqlite", func(t testing.TB) *store.Store { return testdb.SQLite(t, nil) }},
		{"postgres", func(t testing.TB) *store.Store { return testdb.Postgres(t, nil) }},
	} {
		b.Run(db.name, func(b *testing.B) {
			ctx := context.Background()
			st := db.open(b)
			shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "bench", Name: "bench", IdentitySecret: "x"})
			if err != nil {
				b.Fatal(err)
			}
			owner, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: "owner", Name: "owner", Role: kefu.RoleOwner, PasswordHash: "-"})
			if err != nil {
				b.Fatal(err)
			}
			svc := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
			const agents, cap, waiting = 10, 5, 1000
			var convs []int64
			for i := 0; i < agents*cap+waiting+b.N; i++ {
				buyer, err := st.VisitorBuyer(ctx, shop.ID, fmt.Sprintf("v_route%06d", i), "b")
				if err != nil {
					b.Fatal(err)
				}
				m, _, err := svc.Send(ctx, conversation.BuyerActor(buyer), 0, "c1", "在吗")
				if err != nil {
					b.Fatal(err)
				}
				convs = append(convs, m.ConversationID)
			}
			for i := 0; i < agents; i++ {
				a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: fmt.Sprint("a", i), Name: fmt.Sprint("a", i),
					Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: cap})
				if err != nil {
					b.Fatal(err)
				}
				svc.AgentConnected(ctx, a)
			}
			closer := conversation.AgentActor(owner)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// The line is served in order, so conversation i is held and
				// agents*cap+i is next.
				if _, err := svc.Close(ctx, closer, convs[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			line, err := st.Waiting(ctx, shop.ID)
			if err != nil {
				b.Fatal(err)
			}
			if len(line) != waiting || line[0].ConversationID != convs[agents*cap+b.N] {
				b.Fatalf("%d waiting after %d decisions, want %d with conversation %d next", len(line), b.N, waiting, convs[agents*cap+b.N])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}
