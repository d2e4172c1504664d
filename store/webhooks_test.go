package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
)

// A shop's webhook starts after its latest event, and again when turned on
// after being off; the sender's place moves only from where it is; the
// delivery log keeps 7 days and the shop's latest attempts (1,000).
func TestWebhookStore(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			clock := testclock.New(start)
			e := env{st: b.open(t, clock.Now), clock: clock, ctx: t.Context()}
			shop := mustShop(t, e, "acme")
			other := mustShop(t, e, "other")
			buyer := mustVisitor(t, e, shop.ID, "v1")
			open := func() int64 {
				t.Helper()
				if _, _, err := e.st.OpenConversation(e.ctx, shop.ID, buyer.ID, nil); err != nil {
					t.Fatal(err)
				}
				events, err := e.st.Events(e.ctx, shop.ID, 0, 500)
				if err != nil || len(events) == 0 {
					t.Fatalf("events: %v", err)
				}
				return events[len(events)-1].ID
			}
			latest := open()
			w, created, err := e.st.SaveWebhook(e.ctx, kefu.Webhook{ShopID: shop.ID, URL: "https://a.example/h", Events: []string{"message.buyer"}, Enabled: true, Secret: "s1"})
			if err != nil || !created || w.AfterEventID != latest || w.Secret != "s1" || !slices.Equal(w.Events, []string{"message.buyer"}) {
				t.Fatalf("make: %+v %v %v, want it after event %d", w, created, err, latest)
			}
			if err := e.st.RecordWebhookAttempt(e.ctx, kefu.WebhookAttempt{ShopID: shop.ID, EventID: latest + 1, Type: "message.buyer", Attempt: 1,
				Outcome: kefu.DeliveryRetrying, At: clock.Now()}, latest-1, latest+1, 1, clock.Now()); err != nil {
				t.Fatal(err)
			}
			if w, _ := e.st.Webhook(e.ctx, shop.ID); w.AfterEventID != latest || w.Attempts != 0 {
				t.Errorf("a record from another place moved the sender: %+v", w)
			}
			if _, _, err := e.st.SaveWebhook(e.ctx, kefu.Webhook{ShopID: shop.ID, URL: "https://a.example/h", Events: []string{"message.buyer"}, Secret: "s2"}); err != nil {
				t.Fatal(err)
			}
			latest = open()
			w, created, err = e.st.SaveWebhook(e.ctx, kefu.Webhook{ShopID: shop.ID, URL: "https://b.example/h", Events: []string{"order.linked"}, Enabled: true, Secret: "s3"})
			if err != nil || created || w.AfterEventID != latest || w.Secret != "s1" || w.URL != "https://b.example/h" {
				t.Errorf("turned on again: %+v %v %v, want it after event %d with the first secret", w, created, err, latest)
			}
			if hooks, err := e.st.EnabledWebhooks(e.ctx); err != nil || len(hooks) != 1 || hooks[0].ShopID != shop.ID {
				t.Errorf("enabled: %+v %v", hooks, err)
			}

			record := func(shopID, eventID int64) {
				t.Helper()
				w, _ := e.st.Webhook(e.ctx, shopID)
				if err := e.st.RecordWebhookAttempt(e.ctx, kefu.WebhookAttempt{ShopID: shopID, EventID: eventID, Type: "order.linked", Attempt: 1,
					StatusCode: 204, Outcome: kefu.DeliveryDelivered, At: clock.Now(), Duration: 40 * time.Millisecond}, w.AfterEventID, w.AfterEventID, 0, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			e.st.SetWebhookLogCap(10) // 1,000 in kefu serve
			for i := range 13 {
				record(shop.ID, int64(i+1))
			}
			got, err := e.st.WebhookDeliveries(e.ctx, shop.ID, 0)
			if err != nil || len(got) != 10 || got[0].EventID != 13 || got[9].EventID != 4 || got[0].Duration != 40*time.Millisecond {
				t.Fatalf("the log after 13 attempts: %d, %v; want the 10 latest, newest first", len(got), err)
			}
			if other, _ := e.st.WebhookDeliveries(e.ctx, other.ID, 0); len(other) != 0 {
				t.Errorf("another shop's log: %d", len(other))
			}
			clock.Advance(8 * 24 * time.Hour)
			if got, _ := e.st.WebhookDeliveries(e.ctx, shop.ID, 0); len(got) != 0 {
				t.Errorf("%d attempts older than 7 days listed", len(got))
			}
			record(shop.ID, 2000)
			if got, _ := e.st.WebhookDeliveries(e.ctx, shop.ID, 0); len(got) != 1 || got[0].EventID != 2000 {
				t.Errorf("after a week: %+v, want the new attempt alone", got)
			}
		})
	}
}
