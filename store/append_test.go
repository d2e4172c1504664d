package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/store"
)

// TestAppendRaceBetweenProcesses runs two stores on one database, as two
// kefu processes would, each sending the same client message ids at once.
// Neither writer sees the other's uncommitted message, so the unique index
// is what catches the second: its batch is written again the careful way.
// Exactly one message is stored per id, the other caller gets it as a
// duplicate, and seq has no hole.
func TestAppendRaceBetweenProcesses(t *testing.T) {
	for _, tc := range locations() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			cfg := tc.config(t)
			cfg.Now = testclock.New(start).Now
			var stores [2]*store.Store
			for i := range stores {
				st, err := store.Open(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				stores[i] = st
			}
			e := env{st: stores[0], ctx: ctx}
			shop := mustShop(t, e, "acme")
			buyer := mustVisitor(t, e, shop.ID, "v1")
			conv := mustConversation(t, e, shop.ID, buyer.ID)
			const ids = 60
			type answer struct {
				msg kefu.Message
				dup bool
				err error
			}
			var answers [ids][2]answer
			var wg sync.WaitGroup
			for i := range ids {
				for p := range stores {
					wg.Go(func() {
						m, dup, err := stores[p].AppendMessage(ctx, kefu.Message{ShopID: shop.ID, ConversationID: conv.ID,
							Kind: kefu.KindText, Sender: kefu.SenderBuyer, SenderID: buyer.ID, Text: "hi", ClientMsgID: fmt.Sprint("c", i)})
						answers[i][p] = answer{m, dup, err}
					})
				}
			}
			wg.Wait()
			for i, a := range answers {
				if a[0].err != nil || a[1].err != nil {
					t.Fatalf("id c%d: errors %v / %v", i, a[0].err, a[1].err)
				}
				if a[0].dup == a[1].dup || a[0].msg.ID != a[1].msg.ID || a[0].msg.Seq != a[1].msg.Seq {
					t.Errorf("id c%d: answers %+v / %+v; want one stored, one its duplicate", i, a[0], a[1])
				}
			}
			msgs, _, err := stores[1].Messages(ctx, shop.ID, conv.ID, 0, 200)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != ids {
				t.Fatalf("%d messages stored, want %d", len(msgs), ids)
			}
			for i, m := range msgs {
				if m.Seq != int64(i+1) {
					t.Fatalf("message %d has seq %d: a hole", i, m.Seq)
				}
			}
			if c, err := stores[0].Conversation(ctx, shop.ID, conv.ID); err != nil || c.LastSeq != ids {
				t.Errorf("last_seq = %d (%v), want %d", c.LastSeq, err, ids)
			}
		})
	}
}
