package conversation_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// countingSocket stands in for a socket's non-blocking buffer.
type countingSocket struct{ frames atomic.Int64 }

func (s *countingSocket) Deliver([]byte) { s.frames.Add(1) }

type relayEnv struct {
	svc    *conversation.Service
	broker conversation.MemoryBroker
	agent  kefu.Agent
	buyers []kefu.Buyer
	convs  []int64
	agentS *countingSocket
}

func newRelayEnv(b *testing.B, st *store.Store, buyers int) *relayEnv {
	ctx := context.Background()
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "bench", Name: "bench", IdentitySecret: "x"})
	if err != nil {
		b.Fatal(err)
	}
	agent, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: "a", Name: "a", Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: buyers})
	if err != nil {
		b.Fatal(err)
	}
	e := &relayEnv{broker: conversation.NewMemoryBroker(), agent: agent, agentS: &countingSocket{}}
	e.svc = conversation.New(st, conversation.NewMemoryPresence(), e.broker, nil)
	e.broker.Subscribe(conversation.AgentTopic(agent.ID), e.agentS)
	e.svc.AgentConnected(ctx, agent)
	for i := 0; i < buyers; i++ {
		buyer, err := st.VisitorBuyer(ctx, shop.ID, fmt.Sprintf("v_bench%04d", i), "b")
		if err != nil {
			b.Fatal(err)
		}
		e.broker.Subscribe(conversation.BuyerTopic(buyer.ID), &countingSocket{})
		msg, _, err := e.svc.Send(ctx, conversation.BuyerActor(buyer), 0, fmt.Sprintf("open-%d", i), "hello")
		if err != nil {
			b.Fatal(err)
		}
		e.buyers = append(e.buyers, buyer)
		e.convs = append(e.convs, msg.ConversationID)
	}
	return e
}

// text200 is a 200-byte message, the size PRODUCT.md's relay goal names.
var text200 = strings.Repeat("亲在吗", 200/9) + strings.Repeat("a", 200-200/9*9)

// BenchmarkRelay measures one buyer message through the conversation
// service: validate, dedupe check, persist with its seq, fan out to the
// buyer's and the agent's sockets. Parallel senders on separate
// conversations, as on a busy shop.
func BenchmarkRelay(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{
		{"sqlite", func(t testing.TB) *store.Store { return testdb.SQLite(t, nil) }},
		{"postgres", func(t testing.TB) *store.Store { return testdb.Postgres(t, nil) }},
	} {
		b.Run(db.name, func(b *testing.B) {
			e := newRelayEnv(b, db.open(b), 64)
			var next atomic.Int64
			var seq atomic.Int64
			before := e.agentS.frames.Load()
			// Many buyers at once, as on a busy shop: 32 senders per core.
			b.SetParallelism(32)
			b.SetBytes(int64(len(text200)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1)-1) % len(e.buyers)
				actor := conversation.BuyerActor(e.buyers[i])
				for pb.Next() {
					id := fmt.Sprintf("m%d", seq.Add(1))
					if _, _, err := e.svc.Send(context.Background(), actor, e.convs[i], id, text200); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if got := e.agentS.frames.Load() - before; got < int64(b.N) {
				b.Fatalf("agent got %d frames for %d messages", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
