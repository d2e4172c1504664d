package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/export"
	"github.com/kefu/kefu/internal/history"
	"github.com/kefu/kefu/store"
)

// historyShop makes a shop with two agents and a backup team, and the
// parameters of its history: days up to end, perDay conversations a day.
func historyShop(t testing.TB, st *store.Store, slug string, end time.Time, days, perDay, agents int) (kefu.Shop, history.Params) {
	t.Helper()
	ctx := context.Background()
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: slug, Name: "小铺"})
	if err != nil {
		t.Fatal(err)
	}
	p := history.Params{Seed: 7, ShopID: shop.ID, ShopName: shop.Name, Start: end.Add(-time.Duration(days) * 24 * time.Hour), End: end,
		ConversationsPerDay: perDay,
		Assistant: &history.Assistant{Name: "小蜜", Greeting: "亲，欢迎光临{shop.name}！", QuickQuestions: []string{"什么时候发货？"},
			Rules: []history.Rule{{ID: 1, Topic: "发货时间", Answer: "亲，48 小时内发货"}}}}
	for i := range agents {
		a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: fmt.Sprintf("a%d", i), Name: fmt.Sprintf("客服%d", i),
			Role: kefu.RoleAgent, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		p.Agents = append(p.Agents, history.Agent{ID: a.ID, Name: a.Name})
	}
	backup, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: "waibao", Name: "外包小张", Role: kefu.RoleAgent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	p.Agents = append(p.Agents, history.Agent{ID: backup.ID, Name: backup.Name, Backup: true})
	return shop, p
}

// An imported history reads back through the store as the live code wrote
// it: the log in time order, each conversation's messages, the links both
// ways, a dispute export that verifies, and search.
func TestImportHistory(t *testing.T) {
	end := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t, func() time.Time { return end })
			// Another shop's row first, so the ids the import takes are not 1.
			other, _ := historyShop(t, st, "other", end, 1, 5, 1)
			if _, err := st.VisitorBuyer(ctx, other.ID, "v1", "访客"); err != nil {
				t.Fatal(err)
			}
			shop, p := historyShop(t, st, "shop", end, 7, 60, 2)
			h := history.Generate(p)
			began := time.Now()
			if err := st.ImportHistory(ctx, shop.ID, h); err != nil {
				t.Fatal(err)
			}
			t.Logf("imported %d conversations, %d messages, %d events in %v", len(h.Conversations), len(h.Messages), len(h.Events), time.Since(began))

			// The log: every event, in time order, ids ascending.
			var got []kefu.Event
			for after := int64(0); ; {
				page, err := st.Events(ctx, shop.ID, after, kefu.MaxPageSize)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				after = page[len(page)-1].ID
			}
			if len(got) != len(h.Events) {
				t.Fatalf("%d events read back, %d imported", len(got), len(h.Events))
			}
			for i, e := range got {
				want := h.Events[i]
				if e.Type != want.Type || !e.CreatedAt.Equal(want.CreatedAt) || e.AgentID != want.AgentID || e.Seq != want.Seq ||
					e.Actor.Kind != want.Actor.Kind || (want.ConversationID != 0) != (e.ConversationID != 0) || (want.MessageID != 0) != (e.MessageID != 0) {
					t.Fatalf("event %d: %+v, want %+v", i, e, want.Event)
				}
				if i > 0 && e.CreatedAt.Before(got[i-1].CreatedAt) {
					t.Fatalf("event %d at %v before the one before it", e.ID, e.CreatedAt)
				}
				if e.Data.Presence != want.Data.Presence || e.Data.OrderNo != want.Data.OrderNo || e.Data.Stage != want.Data.Stage {
					t.Fatalf("event %d data %+v, want %s", i, e.Data, want.DataJSON)
				}
			}

			// An order a buyer asked about: its conversation, its messages,
			// its dispute export.
			if len(h.Links) == 0 {
				t.Fatal("no order linked")
			}
			l := h.Links[0]
			o := h.Orders[l.OrderID-1]
			convs, err := st.ListConversations(ctx, shop.ID, kefu.ConversationFilter{OrderNo: o.OrderNo})
			if err != nil || len(convs) == 0 {
				t.Fatalf("conversations of order %s: %v, %v", o.OrderNo, convs, err)
			}
			var conv kefu.ConversationSummary
			for _, c := range convs {
				conv = c
			}
			local := h.Conversations[l.ConversationID-1]
			if conv.Status != kefu.StatusClosed || conv.LastSeq != local.LastSeq || conv.Buyer.ExternalID != h.Buyers[local.BuyerID-1].ExternalID {
				t.Fatalf("conversation %+v, want %+v", conv.Conversation, local.Conversation)
			}
			msgs, _, err := st.Messages(ctx, shop.ID, conv.ID, 0, kefu.MaxPageSize)
			if err != nil || int64(len(msgs)) != local.LastSeq {
				t.Fatalf("messages: %d, %v; want %d", len(msgs), err, local.LastSeq)
			}
			var buyerText string
			for i, m := range msgs {
				if m.Seq != int64(i+1) || m.Hash == "" {
					t.Fatalf("message %+v", m)
				}
				if m.Sender == kefu.SenderBuyer && m.Kind == kefu.KindText && buyerText == "" {
					buyerText = m.Text
					if m.SenderID != conv.BuyerID {
						t.Fatalf("buyer message from %d, the conversation's buyer is %d", m.SenderID, conv.BuyerID)
					}
				}
			}
			orders, err := st.ConversationOrders(ctx, shop.ID, conv.ID)
			if err != nil || len(orders) != 1 || orders[0].OrderNo != o.OrderNo || len(orders[0].History) != len(o.History) {
				t.Fatalf("orders of the conversation: %+v, %v", orders, err)
			}
			doc, err := export.Build(ctx, st, shop.ID, o.OrderNo, end)
			if err != nil {
				t.Fatal(err)
			}
			r, err := export.Verify(ctx, st, shop.ID, doc)
			if err != nil || !r.OK {
				t.Fatalf("verify the export of order %s: %+v, %v", o.OrderNo, r, err)
			}

			// Search finds an imported message.
			if _, err := st.IndexSearch(ctx); err != nil {
				t.Fatal(err)
			}
			page, err := st.SearchConversations(ctx, shop.ID, kefu.SearchFilter{Text: buyerText, BuyerID: conv.BuyerID})
			if err != nil || len(page.Hits) == 0 {
				t.Fatalf("search %q: %+v, %v", buyerText, page, err)
			}
			if n, err := st.SearchIndexHolds(ctx, buyerText); err != nil || n == 0 {
				t.Fatalf("the search index holds %q %d times, %v", buyerText, n, err)
			}

			// The live path goes on after the imported ids, the chain too.
			buyer, err := st.VisitorBuyer(ctx, shop.ID, "v-live", "访客")
			if err != nil {
				t.Fatal(err)
			}
			live, _, err := st.OpenConversation(ctx, shop.ID, buyer.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, _, err := st.AppendMessage(ctx, kefu.Message{ShopID: shop.ID, ConversationID: live.ID, Kind: kefu.KindText, Sender: kefu.SenderBuyer,
				SenderID: buyer.ID, Text: "在吗"})
			if err != nil {
				t.Fatal(err)
			}
			after, err := st.Events(ctx, shop.ID, got[len(got)-1].ID, 10)
			if err != nil || len(after) != 2 || live.ID <= conv.ID || m.ID <= msgs[len(msgs)-1].ID {
				t.Fatalf("live after the import: conversation %d, message %d, events %+v, %v", live.ID, m.ID, after, err)
			}
			waiting, err := st.Waiting(ctx, shop.ID)
			if err != nil || len(waiting) != 1 {
				t.Fatalf("the line after the import holds %d (%v), want only the live buyer", len(waiting), err)
			}
		})
	}
}

// BenchmarkImportHistory times the import on SQLite: the demo's three
// weeks, and 100,000 conversations (about a million messages).
//
//	go test -run '^$' -bench ImportHistory -benchtime 1x ./store/
func BenchmarkImportHistory(b *testing.B) {
	end := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	for _, size := range []struct {
		name           string
		perDay, agents int
	}{{"demo", 150, 2}, {"100k", 100000 / 21, 70}} {
		b.Run(size.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				st, err := store.Open(context.Background(), store.Config{DataDir: b.TempDir(), Now: func() time.Time { return end }})
				if err != nil {
					b.Fatal(err)
				}
				shop, p := historyShop(b, st, "shop", end, 21, size.perDay, size.agents)
				began := time.Now()
				h := history.Generate(p)
				generated := time.Since(began)
				b.StartTimer()
				began = time.Now()
				if err := st.ImportHistory(context.Background(), shop.ID, h); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				b.Logf("%d conversations, %d messages, %d events, %d orders: generated in %v, imported in %v",
					len(h.Conversations), len(h.Messages), len(h.Events), len(h.Orders), generated, time.Since(began))
				st.Close()
			}
		})
	}
}
