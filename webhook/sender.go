// Package webhook sends a shop's events to the shop's platform: outbound
// webhooks (docs/orders.md, "Outbound webhooks"). It is a consumer of the
// committed event log (docs/events.md): the Sender reads each enabled shop's
// events after the place it stored, posts the ones the shop subscribed to,
// signed, and moves its place on only once a delivery succeeded or was given
// up. Deliveries therefore survive a restart and are at least once; the
// event id, sent with each, lets the receiver drop a repeat.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// Store is what the sender reads and writes.
type Store interface {
	EnabledWebhooks(ctx context.Context) ([]kefu.Webhook, error)
	Events(ctx context.Context, shopID, afterID int64, limit int) ([]kefu.Event, error)
	Shop(ctx context.Context, id int64) (kefu.Shop, error)
	Buyer(ctx context.Context, shopID, id int64) (kefu.Buyer, error)
	Messages(ctx context.Context, shopID, conversationID, afterSeq int64, limit int) ([]kefu.Message, bool, error)
	AdvanceWebhook(ctx context.Context, shopID, from, to int64) error
	RecordWebhookAttempt(ctx context.Context, a kefu.WebhookAttempt, from, to int64, attempts int, retryAt time.Time) error
}

// Delivery limits (docs/orders.md).
const (
	// Timeout bounds one delivery: connecting, sending and the answer's headers.
	Timeout = 5 * time.Second
	// MaxAttempts is how often one event is tried before it is recorded as
	// failed and the sender moves on to the shop's next event. With the
	// backoff below the last try is about an hour after the first.
	MaxAttempts = 20
	// FirstRetry is the wait after the first failure; each next wait is
	// twice the one before, up to MaxRetry.
	FirstRetry = time.Second
	MaxRetry   = 5 * time.Minute
)

const (
	batchSize = 100 // events read for one shop in one step
	parallel  = 8   // shops delivered to at once in one step
	maxError  = 300 // bytes of an error kept in the delivery log
)

// Backoff is the wait after the attempts-th failure of an event.
func Backoff(attempts int) time.Duration {
	d := FirstRetry
	for i := 1; i < attempts && d < MaxRetry; i++ {
		d *= 2
	}
	return min(d, MaxRetry)
}

// Sender delivers the shops' events. Step does one round; Run repeats it
// until its context ends. Consume (a conversation.Consumer) wakes Run at a
// commit, so a buyer's message goes out at once rather than at the next
// tick; the log, not the wake-up, says what is sent.
type Sender struct {
	store  Store
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	wake   chan struct{}
	// hooked holds the shops with an enabled webhook as of the last step:
	// only their commits wake the sender.
	hooked atomic.Pointer[map[int64]bool]
}

var _ conversation.Consumer = (*Sender)(nil)

// New returns a sender over store posting with client; nil means a client
// that does not follow redirects (a 3xx is a failure, like any non-2xx).
func New(store Store, client *http.Client, log *slog.Logger) *Sender {
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{store: store, client: client, log: log, now: time.Now, wake: make(chan struct{}, 1)}
}

// SetClock makes the sender read time from now (tests); time.Now otherwise.
func (s *Sender) SetClock(now func() time.Time) { s.now = now }

// Consume wakes the sender when a change it may send was committed in a
// shop with an enabled webhook (as of the last step; a webhook just made is
// read at the next tick). It never blocks: a wake-up already pending covers
// this one.
func (s *Sender) Consume(c conversation.Committed) {
	if _, ok := platformType(c.Event); !ok {
		return
	}
	if hooked := s.hooked.Load(); hooked == nil || !(*hooked)[c.Event.ShopID] {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends: every interval, and when Consume wakes it.
// A delivery under way when ctx ends is abandoned; it is not recorded, so
// it is sent again by the next run.
func (s *Sender) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		s.Step(ctx)
	}
}

// Step delivers, for every shop with an enabled webhook whose retry is due,
// its pending events in order, up to 100 of them; it stops at a shop's first
// failure, which is retried after Backoff. It returns when every delivery it
// started has ended.
func (s *Sender) Step(ctx context.Context) {
	hooks, err := s.store.EnabledWebhooks(ctx)
	if err != nil {
		s.log.Error("webhooks not read", "err", err)
		return
	}
	hooked := make(map[int64]bool, len(hooks))
	for _, w := range hooks {
		hooked[w.ShopID] = true
	}
	s.hooked.Store(&hooked)
	now := s.now()
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, w := range hooks {
		if !w.RetryAt.IsZero() && now.Before(w.RetryAt) {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.deliverShop(ctx, w); err != nil && ctx.Err() == nil {
				s.log.Error("webhook delivery", "shop", w.ShopID, "err", err)
			}
		}()
	}
	wg.Wait()
}

// deliverShop sends the shop's next events, in order, until one fails or
// the batch ends.
func (s *Sender) deliverShop(ctx context.Context, w kefu.Webhook) error {
	events, err := s.store.Events(ctx, w.ShopID, w.AfterEventID, batchSize)
	if err != nil {
		return err
	}
	// stored is the place the store holds; passed the last event passed over
	// since (not subscribed to), written with the next record.
	stored, passed, attempts := w.AfterEventID, w.AfterEventID, w.Attempts
	var shop *kefu.Shop
	for _, e := range events {
		name, ok := platformType(e)
		if !ok || !slices.Contains(w.Events, name) {
			// The failures counted were this event's, if any: the shop
			// stopped subscribing to it while it was retried.
			passed, attempts = e.ID, 0
			continue
		}
		if shop == nil {
			sh, err := s.store.Shop(ctx, w.ShopID)
			if err != nil {
				return err
			}
			shop = &sh
		}
		body, err := s.payload(ctx, *shop, name, e)
		if err != nil {
			return fmt.Errorf("payload of event %d: %w", e.ID, err)
		}
		a := s.post(ctx, w, name, e.ID, body)
		if ctx.Err() != nil {
			return nil // shutting down: not a failure of the receiver
		}
		a.Attempt = attempts + 1
		to, retryAt := e.ID, time.Time{}
		switch {
		case a.Outcome == kefu.DeliveryDelivered:
			attempts = 0
		case a.Attempt >= MaxAttempts:
			a.Outcome, attempts = kefu.DeliveryFailed, 0
		default:
			a.Outcome, attempts = kefu.DeliveryRetrying, a.Attempt
			to, retryAt = passed, s.now().Add(Backoff(a.Attempt))
		}
		if err := s.store.RecordWebhookAttempt(ctx, a, stored, to, attempts, retryAt); err != nil {
			return err
		}
		if a.Outcome == kefu.DeliveryRetrying {
			return nil
		}
		stored, passed = to, to
	}
	if passed != stored {
		return s.store.AdvanceWebhook(ctx, w.ShopID, stored, passed)
	}
	return nil
}

// post makes one delivery and says how it went (Outcome delivered or not).
func (s *Sender) post(ctx context.Context, w kefu.Webhook, name string, id int64, body []byte) kefu.WebhookAttempt {
	at := s.now()
	a := kefu.WebhookAttempt{ShopID: w.ShopID, EventID: id, Type: name, At: at}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = truncate(err.Error())
		return a
	}
	stamp := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kefu-webhook/1")
	req.Header.Set("X-Kefu-Event", name)
	req.Header.Set("X-Kefu-Delivery", strconv.FormatInt(id, 10))
	req.Header.Set("X-Kefu-Timestamp", stamp)
	req.Header.Set("X-Kefu-Signature", Signature(w.Secret, stamp, body))
	started := time.Now()
	res, err := s.client.Do(req)
	a.Duration = time.Since(started)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", Timeout)
		}
		a.Error = truncate(err.Error())
		return a
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	a.StatusCode = res.StatusCode
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		a.Outcome = kefu.DeliveryDelivered
	} else {
		a.Error = "answered " + res.Status
	}
	return a
}

func truncate(s string) string {
	if len(s) > maxError {
		return s[:maxError]
	}
	return s
}

// Signature is what X-Kefu-Signature carries: "sha256=" and
// hex(HMAC-SHA256(secret, timestamp + "." + body)), as the order webhook
// kefu receives (docs/orders.md §5).
func Signature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
