package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// The waits double from 1 s up to 5 min; all of MaxAttempts tries span
// about an hour.
func TestWebhookBackoff(t *testing.T) {
	for _, c := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {9, 256 * time.Second}, {10, MaxRetry}, {19, MaxRetry}} {
		if got := Backoff(c.attempts); got != c.want {
			t.Errorf("Backoff(%d) = %s, want %s", c.attempts, got, c.want)
		}
	}
	var total time.Duration
	for n := 1; n < MaxAttempts; n++ {
		total += Backoff(n)
	}
	if total < 50*time.Minute || total > 65*time.Minute {
		t.Errorf("the last try comes %s after the first, want about an hour", total)
	}
}

// hooksOnly is a store with one enabled webhook (shop 1) and no events.
type hooksOnly struct{ Store }

func (hooksOnly) EnabledWebhooks(context.Context) ([]kefu.Webhook, error) {
	return []kefu.Webhook{{ShopID: 1, Enabled: true, URL: "https://a.example/h", Events: kefu.WebhookEvents}}, nil
}

func (hooksOnly) Events(context.Context, int64, int64, int) ([]kefu.Event, error) { return nil, nil }

// A commit wakes the sender only when it may be sent: an event a webhook
// sends, of a shop with a webhook on; it never blocks.
func TestWebhookConsumeWakes(t *testing.T) {
	s := New(hooksOnly{}, nil, nil)
	s.Step(context.Background())
	buyerMsg := func(shop int64, kind kefu.SenderKind) conversation.Committed {
		return conversation.Committed{Change: kefu.Change{Event: kefu.Event{ShopID: shop, Type: kefu.EventMessage, Actor: kefu.ActorRef{Kind: kind}}}}
	}
	for _, c := range []struct {
		name string
		c    conversation.Committed
		wake bool
	}{
		{"a buyer's message", buyerMsg(1, kefu.SenderBuyer), true},
		{"an agent's message", buyerMsg(1, kefu.SenderAgent), false},
		{"another shop's", buyerMsg(2, kefu.SenderBuyer), false},
		{"presence", conversation.Committed{Change: kefu.Change{Event: kefu.Event{ShopID: 1, Type: kefu.EventPresence}}}, false},
	} {
		s.Consume(c.c)
		s.Consume(c.c) // a second wake-up does not block
		woke := false
		select {
		case <-s.wake:
			woke = true
		default:
		}
		if woke != c.wake {
			t.Errorf("%s: woke %v, want %v", c.name, woke, c.wake)
		}
	}
}
