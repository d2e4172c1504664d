package store_test

import (
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
)

// A shop's retention period deletes the messages of conversations closed
// longer ago than it, each with its event, and keeps every conversation
// linked to an order still open or in dispute, every one closed more
// recently, every open one, and every other shop's.
func TestPurge(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			clock := testclock.New(start)
			st := b.open(t, clock.Now)
			ctx := t.Context()
			shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "keep30", Name: "k", IdentitySecret: "x"})
			if err != nil {
				t.Fatal(err)
			}
			other, err := st.CreateShop(ctx, kefu.Shop{Slug: "forever", Name: "f", IdentitySecret: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SetShopRetention(ctx, shop.ID, 30); err != nil {
				t.Fatal(err)
			}
			// write starts a conversation of a new buyer with a message
			// about orderNo (linked when not ""), in status, closed now
			// unless open.
			write := func(shopID int64, buyer, orderNo, status string, open bool) int64 {
				t.Helper()
				bu, err := st.IdentifiedBuyer(ctx, shopID, buyer, "", buyer)
				if err != nil {
					t.Fatal(err)
				}
				conv, _, err := st.OpenConversation(ctx, shopID, bu.ID, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := st.AppendMessage(ctx, kefu.Message{ShopID: shopID, ConversationID: conv.ID, Kind: kefu.KindText,
					Sender: kefu.SenderBuyer, SenderID: bu.ID, Text: "请问退款进度 " + buyer, ClientMsgID: "m-" + buyer}); err != nil {
					t.Fatal(err)
				}
				if orderNo != "" {
					o := kefu.Order{ShopID: shopID, BuyerExternalID: buyer, OrderNo: orderNo, Status: status, AmountCents: 100, Currency: "CNY"}
					if _, _, err := st.UpsertOrder(ctx, shopID, kefu.OrderUpsert{Order: o}); err != nil {
						t.Fatal(err)
					}
					if _, _, err := st.LinkOrder(ctx, shopID, conv.ID, orderNo, kefu.SystemActor, nil); err != nil {
						t.Fatal(err)
					}
				}
				if !open {
					if _, _, err := st.CloseConversation(ctx, shopID, conv.ID, 0, kefu.SystemActor,
						kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "会话已结束", Code: kefu.SystemClosed}, nil); err != nil {
						t.Fatal(err)
					}
				}
				return conv.ID
			}
			old := write(shop.ID, "u1", "", "", false)
			disputed := write(shop.ID, "u2", "D-1", "in_dispute", false)
			shipped := write(shop.ID, "u3", "S-1", "shipped", false)
			done := write(shop.ID, "u4", "C-1", "completed", false)
			stillOpen := write(shop.ID, "u5", "", "", true)
			elsewhere := write(other.ID, "u6", "", "", false)
			clock.Advance(31 * 24 * time.Hour)
			recent := write(shop.ID, "u7", "", "", false)
			// What the index holds is counted below: index everything now.
			if _, err := st.IndexSearch(ctx); err != nil {
				t.Fatal(err)
			}

			n, err := st.Purge(ctx, clock.Now(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("purged %d conversations, want 2 (the old unlinked one, the one of a completed order)", n)
			}
			for _, c := range []struct {
				name   string
				shopID int64
				id     int64
				kept   bool
			}{
				{"closed 31 days ago", shop.ID, old, false},
				{"linked to an order in dispute", shop.ID, disputed, true},
				{"linked to a shipped order", shop.ID, shipped, true},
				{"linked to a completed order", shop.ID, done, false},
				{"open", shop.ID, stillOpen, true},
				{"another shop's, which keeps all", other.ID, elsewhere, true},
				{"closed just now", shop.ID, recent, true},
			} {
				msgs, _, err := st.Messages(ctx, c.shopID, c.id, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				if kept := len(msgs) > 0; kept != c.kept {
					t.Errorf("%s: %d messages left, want kept=%v", c.name, len(msgs), c.kept)
				}
			}
			// The deletions are in the log and out of the search index.
			events, err := st.Events(ctx, shop.ID, 0, 500)
			if err != nil {
				t.Fatal(err)
			}
			purged := map[int64]int{}
			for _, e := range events {
				if e.Type == kefu.EventPurged {
					purged[e.ConversationID] = e.Data.Count
				}
			}
			if purged[old] != 2 || purged[done] != 2 || len(purged) != 2 {
				t.Errorf("purge events %v, want 2 messages each of %d and %d", purged, old, done)
			}
			page, err := st.SearchConversations(ctx, shop.ID, kefu.SearchFilter{Text: "退款进度", Limit: 20})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range page.Hits {
				if h.ID == old || h.ID == done {
					t.Errorf("search still finds purged conversation %d", h.ID)
				}
			}
			// The index still matches the messages it indexes, deletions included.
			if err := st.CheckSearchIndex(ctx); err != nil {
				t.Errorf("the search index after the purge: %v", err)
			}
			for phrase, want := range map[string]int{"退款进度 u1": 0, "退款进度 u4": 0, "退款进度 u2": 1} {
				if n, err := st.SearchIndexHolds(ctx, phrase); err != nil || (n != -1 && n != want) {
					t.Errorf("the index holds %q %d times (%v), want %d", phrase, n, err, want)
				}
			}
			if n, err := st.Purge(ctx, clock.Now(), nil); err != nil || n != 0 {
				t.Errorf("a second sweep purged %d (%v), want none", n, err)
			}
		})
	}
}
