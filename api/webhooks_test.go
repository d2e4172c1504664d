package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/webhook"
)

// receiver is the shop's platform: a real HTTP server that records every
// delivery and answers 500 to the first failures of them.
type receiver struct {
	t      *testing.T
	secret string
	ts     *httptest.Server

	mu       sync.Mutex
	got      []delivery
	failures int // answer 500 to this many more deliveries
}

// delivery is one request the receiver got, its signature checked.
type delivery struct {
	header  http.Header
	payload webhook.Payload
	body    []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.ts = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.ts.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	// The receiver's check, as docs/orders.md tells platforms to write it.
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write([]byte(req.Header.Get("X-Kefu-Timestamp") + "."))
	mac.Write(body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(req.Header.Get("X-Kefu-Signature")), []byte(want)) {
		r.t.Errorf("delivery %s: signature %q, want %q", req.Header.Get("X-Kefu-Delivery"), req.Header.Get("X-Kefu-Signature"), want)
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("delivery body %q: %v", body, err)
	}
	if req.Method != "POST" || req.Header.Get("X-Kefu-Delivery") != strconv.FormatInt(p.ID, 10) || req.Header.Get("X-Kefu-Event") != p.Type ||
		req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("delivery %s %v: headers do not match the payload %+v", req.Method, req.Header, p)
	}
	r.got = append(r.got, delivery{header: req.Header, payload: p, body: body})
	if r.failures > 0 {
		r.failures--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func (r *receiver) failNext(n int) {
	r.mu.Lock()
	r.failures = n
	r.mu.Unlock()
}

// subscribe points the shop's webhook at r for these events and keeps the
// secret shown.
func (e *env) subscribe(owner string, r *receiver, events ...string) {
	e.t.Helper()
	var out struct {
		Webhook struct {
			URL     string
			Events  []string
			Enabled bool
		}
		Secret string
	}
	if code := e.do("PUT", "/api/v1/webhooks", owner, "", map[string]any{"url": r.ts.URL + "/kefu", "events": events, "enabled": true}, &out); code != 201 ||
		len(out.Secret) != 64 || !out.Webhook.Enabled || out.Webhook.URL != r.ts.URL+"/kefu" {
		e.t.Fatalf("make the webhook: %d %+v", code, out)
	}
	r.mu.Lock()
	r.secret = out.Secret
	r.mu.Unlock()
}

// sender is the webhook sender over the env's current store and clock.
func (e *env) sender() *webhook.Sender {
	s := webhook.New(e.store, nil, nil)
	s.SetClock(e.clock.Now)
	return s
}

type deliveryLog struct {
	Deliveries []struct {
		EventID    int64 `json:"event_id"`
		Type       string
		Attempt    int
		StatusCode int `json:"status_code"`
		Error      string
		Outcome    string
	}
}

// Each kind of event goes out signed, in the log's order, with what it is
// about; kefu's own lines and agents' messages do not.
func TestWebhookDeliversEachEventSigned(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		owner := e.ownerToken()
		key := e.newAPIKey(owner, "platform")
		if code, _ := e.putOrder(key, order("A-1", "u1", "shipped")); code != 201 {
			t.Fatalf("put order: %d", code)
		}
		r := newReceiver(t)
		e.subscribe(owner, r, kefu.WebhookEvents...)

		token := e.signedInToken("v_hookbuyer1", "u1")
		b := e.dial("/ws/buyer", token, storeOrigin)
		b.next("ready")
		b.send(sendFrame(0, "m1", "你好，发货了吗"))
		first := b.next("ack").Msg
		conv := first.ConversationID
		b.send(map[string]any{"type": "send", "client_msg_id": "card-1", "conversation_id": conv, "card": map[string]any{"kind": "order", "order_no": "A-1"}})
		card := b.next("ack").Msg
		if code := e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/messages", owner, "", map[string]string{"client_msg_id": "a1", "text": "已发货"}, nil); code != 201 && code != 200 {
			t.Fatalf("owner answers: %d", code)
		}
		if code := e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/close", owner, "", nil, nil); code != 200 {
			t.Fatalf("close: %d", code)
		}

		e.sender().Step(ctx)
		got := r.deliveries()
		byType := map[string][]webhook.Payload{}
		var last int64
		for _, d := range got {
			p := d.payload
			if p.ID <= last {
				t.Errorf("delivery %d after %d: out of order", p.ID, last)
			}
			last = p.ID
			if p.Shop.ID != e.shop.ID || p.Shop.Slug != "acme" || p.Data.ConversationID != conv || p.Data.Buyer.ExternalID != "u1" || p.Data.Buyer.ID == 0 || p.CreatedAt.IsZero() {
				t.Errorf("delivery %+v: not about acme's conversation %d with buyer u1", p, conv)
			}
			byType[p.Type] = append(byType[p.Type], p)
		}
		if len(got) != 5 || len(byType[kefu.WebhookConversationStarted]) != 1 || len(byType[kefu.WebhookMessageBuyer]) != 2 ||
			len(byType[kefu.WebhookOrderLinked]) != 1 || len(byType[kefu.WebhookConversationClosed]) != 1 {
			t.Fatalf("deliveries by type: %+v, want started, two buyer messages, order linked, closed", byType)
		}
		if m := byType[kefu.WebhookMessageBuyer][0].Data.Message; m == nil || m.ID != first.ID || m.Seq != first.Seq || m.Text != "你好，发货了吗" || m.Kind != "text" {
			t.Errorf("the buyer's message as sent: %+v, want %+v", m, first)
		}
		if m := byType[kefu.WebhookMessageBuyer][1].Data.Message; m == nil || m.ID != card.ID || m.Kind != "order" || m.Text != card.Text {
			t.Errorf("the buyer's order card as sent: %+v", m)
		}
		if o := byType[kefu.WebhookOrderLinked][0].Data.OrderNo; o != "A-1" {
			t.Errorf("order.linked order_no %q, want A-1", o)
		}
		if got[0].payload.Type != kefu.WebhookConversationStarted || got[4].payload.Type != kefu.WebhookConversationClosed {
			t.Errorf("first and last deliveries: %s, %s", got[0].payload.Type, got[4].payload.Type)
		}

		var log deliveryLog
		if code := e.do("GET", "/api/v1/webhooks/deliveries?limit=10", owner, "", nil, &log); code != 200 || len(log.Deliveries) != 5 {
			t.Fatalf("delivery log: %d %+v", code, log)
		}
		for i, d := range log.Deliveries {
			if d.Outcome != kefu.DeliveryDelivered || d.Attempt != 1 || d.StatusCode != 204 || d.EventID != got[4-i].payload.ID || d.Type != got[4-i].payload.Type {
				t.Errorf("log entry %d: %+v, want delivery of %d newest first", i, d, got[4-i].payload.ID)
			}
		}
		// Nothing is sent twice once delivered.
		e.sender().Step(ctx)
		if n := len(r.deliveries()); n != 5 {
			t.Errorf("%d deliveries after another step, want still 5", n)
		}
	})
}

// A receiver that fails is tried again after 1 s, then 2 s: the same
// delivery id each time, three attempts in the log, the buyer's next
// message waiting behind it. An event failing MaxAttempts times is given
// up and the next one goes.
func TestWebhookRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		owner := e.ownerToken()
		r := newReceiver(t)
		e.subscribe(owner, r, kefu.WebhookMessageBuyer)
		r.failNext(2)
		b, ack := e.buyerWrites(1, "在吗")
		b.send(sendFrame(ack.Msg.ConversationID, "c2", "有人吗"))
		b.next("ack")
		s := e.sender()

		s.Step(ctx) // attempt 1: 500
		s.Step(ctx) // not due yet
		if n := len(r.deliveries()); n != 1 {
			t.Fatalf("%d deliveries before the retry is due, want 1", n)
		}
		e.clock.Advance(time.Second)
		s.Step(ctx) // attempt 2: 500
		e.clock.Advance(time.Second)
		s.Step(ctx) // 1 s of the 2 s backoff: not due
		if n := len(r.deliveries()); n != 2 {
			t.Fatalf("%d deliveries 1 s into the 2 s backoff, want 2", n)
		}
		e.clock.Advance(time.Second)
		s.Step(ctx) // attempt 3: delivered, and the second message behind it
		got := r.deliveries()
		if len(got) != 4 {
			t.Fatalf("%d deliveries, want 3 tries of the first message and the second", len(got))
		}
		seen := map[int64]bool{}
		for _, d := range got[:3] {
			if d.payload.ID != got[0].payload.ID || string(d.body) != string(got[0].body) {
				t.Errorf("a retry carries %d %s, want the first delivery's id %d and body", d.payload.ID, d.body, got[0].payload.ID)
			}
			seen[d.payload.ID] = true
		}
		if got[3].payload.Data.Message == nil || got[3].payload.Data.Message.Text != "有人吗" || seen[got[3].payload.ID] {
			t.Errorf("after the retries: %+v, want the second message", got[3].payload)
		}
		var log deliveryLog
		e.do("GET", "/api/v1/webhooks/deliveries", owner, "", nil, &log)
		want := []struct {
			attempt int
			code    int
			outcome string
		}{{1, 204, kefu.DeliveryDelivered}, {3, 204, kefu.DeliveryDelivered}, {2, 500, kefu.DeliveryRetrying}, {1, 500, kefu.DeliveryRetrying}}
		if len(log.Deliveries) != len(want) {
			t.Fatalf("delivery log: %+v", log)
		}
		for i, w := range want {
			if d := log.Deliveries[i]; d.Attempt != w.attempt || d.StatusCode != w.code || d.Outcome != w.outcome || (w.code == 500 && d.Error == "") {
				t.Errorf("log entry %d: %+v, want attempt %d, %d, %s", i, d, w.attempt, w.code, w.outcome)
			}
		}

		// A receiver down for good: the event is given up after
		// MaxAttempts, and the next one goes.
		r.failNext(webhook.MaxAttempts)
		b.send(sendFrame(ack.Msg.ConversationID, "c3", "还在吗"))
		b.next("ack")
		b.send(sendFrame(ack.Msg.ConversationID, "c4", "算了"))
		b.next("ack")
		for range webhook.MaxAttempts {
			s.Step(ctx)
			e.clock.Advance(webhook.MaxRetry)
		}
		got = r.deliveries()[4:]
		if len(got) != webhook.MaxAttempts+1 || got[len(got)-1].payload.Data.Message.Text != "算了" {
			t.Fatalf("%d deliveries after the receiver went down, want %d tries and the next message", len(got), webhook.MaxAttempts+1)
		}
		e.do("GET", "/api/v1/webhooks/deliveries?limit=2", owner, "", nil, &log)
		if len(log.Deliveries) != 2 || log.Deliveries[1].Outcome != kefu.DeliveryFailed || log.Deliveries[1].Attempt != webhook.MaxAttempts ||
			log.Deliveries[0].Outcome != kefu.DeliveryDelivered {
			t.Errorf("the end of the log: %+v, want failed at attempt %d, then delivered", log.Deliveries, webhook.MaxAttempts)
		}
	})
}

// The sender's place and retries are stored: a new sender after a restart
// goes on from them, skipping nothing and sending each retry with its id.
func TestWebhookResumesAfterRestart(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		owner := e.ownerToken()
		r := newReceiver(t)
		e.subscribe(owner, r, kefu.WebhookConversationStarted, kefu.WebhookMessageBuyer)
		b, ack := e.buyerWrites(1, "一")
		e.sender().Step(ctx)
		if n := len(r.deliveries()); n != 2 {
			t.Fatalf("%d deliveries, want started and the message", n)
		}
		r.failNext(1)
		for i, text := range []string{"二", "三"} {
			b.send(sendFrame(ack.Msg.ConversationID, "r"+itoa(int64(i)), text))
			b.next("ack")
		}
		e.sender().Step(ctx) // "二" fails once
		e.restart()
		e.clock.Advance(time.Second)
		e.sender().Step(ctx)

		events, err := e.store.Events(ctx, e.shop.ID, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, ev := range events {
			if ev.Type == kefu.EventQueued || (ev.Type == kefu.EventMessage && ev.Actor.Kind == kefu.SenderBuyer) {
				want = append(want, ev.ID)
			}
		}
		var distinct []int64
		var texts []string
		for _, d := range r.deliveries() {
			if len(distinct) == 0 || distinct[len(distinct)-1] != d.payload.ID {
				distinct = append(distinct, d.payload.ID)
				if m := d.payload.Data.Message; m != nil {
					texts = append(texts, m.Text)
				}
			}
		}
		if len(distinct) != len(want) || len(want) != 4 {
			t.Fatalf("delivered ids %v, want every event of the log once, in order: %v", distinct, want)
		}
		for i := range want {
			if distinct[i] != want[i] {
				t.Fatalf("delivered ids %v, want %v", distinct, want)
			}
		}
		if len(texts) != 3 || texts[1] != "二" || texts[2] != "三" {
			t.Errorf("messages delivered: %v", texts)
		}
		var log deliveryLog
		e.do("GET", "/api/v1/webhooks/deliveries?limit=2", owner, "", nil, &log)
		if len(log.Deliveries) != 2 || log.Deliveries[1].Attempt != 2 || log.Deliveries[1].Outcome != kefu.DeliveryDelivered {
			t.Errorf("after the restart: %+v, want the retry as attempt 2", log.Deliveries)
		}
	})
}

// A shop's events go to its own URL only.
func TestWebhookKeepsShopsApart(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		globex := e.seedShop("globex", storeOrigin, "zhao")
		hash, err := api.HashPassword(password, passwordCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CreateAgent(ctx, kefu.Agent{ShopID: globex.ID, Username: "gboss", Name: "gboss", Role: kefu.RoleOwner, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		acmeHook, globexHook := newReceiver(t), newReceiver(t)
		e.subscribe(e.ownerToken(), acmeHook, kefu.WebhookEvents...)
		e.subscribe(e.login("globex", "gboss"), globexHook, kefu.WebhookEvents...)
		e.buyerWrites(1, "acme 的买家")
		g := e.dial("/ws/buyer", e.buyerToken("globex", visitor(2)), storeOrigin)
		g.next("ready")
		g.send(sendFrame(0, "g1", "globex 的买家"))
		g.next("ack")
		e.sender().Step(ctx)
		for _, c := range []struct {
			r    *receiver
			shop kefu.Shop
			text string
		}{{acmeHook, e.shop, "acme 的买家"}, {globexHook, globex, "globex 的买家"}} {
			got := c.r.deliveries()
			if len(got) != 2 {
				t.Errorf("%s got %d deliveries, want 2", c.shop.Slug, len(got))
			}
			for _, d := range got {
				if d.payload.Shop.ID != c.shop.ID || (d.payload.Data.Message != nil && d.payload.Data.Message.Text != c.text) {
					t.Errorf("%s's URL got %+v", c.shop.Slug, d.payload)
				}
			}
		}
	})
}

// The settings are the owner's: made with a secret shown once, changed,
// the secret rotated, turned off; bad input is a field error; agents and
// supervisors can neither read nor change them.
func TestWebhookSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	owner := e.ownerToken()
	e.addAgent("super", kefu.RoleSupervisor)
	for _, who := range []string{"wang", "super"} {
		token := e.login("acme", who)
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/webhooks"}, {"PUT", "/api/v1/webhooks"}, {"POST", "/api/v1/webhooks/secret"}, {"GET", "/api/v1/webhooks/deliveries"},
		} {
			var out apiErr
			if code := e.do(c.method, c.path, token, "", map[string]any{"url": "https://x.example/h", "events": []string{"message.buyer"}}, &out); code != 403 || out.Error.Code != "owner_only" {
				t.Errorf("%s: %s %s: %d %q, want 403 owner_only", who, c.method, c.path, code, out.Error.Code)
			}
		}
	}
	var none struct{ Webhook *struct{ URL string } }
	if code := e.do("GET", "/api/v1/webhooks", owner, "", nil, &none); code != 200 || none.Webhook != nil {
		t.Errorf("no webhook yet: %d %+v", code, none)
	}
	var refused apiErr
	if code := e.do("POST", "/api/v1/webhooks/secret", owner, "", nil, &refused); code != 404 || refused.Error.Code != "no_webhook" {
		t.Errorf("rotate with no webhook: %d %q", code, refused.Error.Code)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"url": "http://hooks.example.com/kefu", "events": []string{"message.buyer"}}, "url"},
		{map[string]any{"url": "ftp://hooks.example.com/kefu", "events": []string{"message.buyer"}}, "url"},
		{map[string]any{"url": "https://user:pw@hooks.example.com/kefu", "events": []string{"message.buyer"}}, "url"},
		{map[string]any{"url": "hooks.example.com", "events": []string{"message.buyer"}}, "url"},
		{map[string]any{"url": "https://hooks.example.com/kefu", "events": []string{}}, "events"},
		{map[string]any{"url": "https://hooks.example.com/kefu", "events": []string{"order.created"}}, "events"},
	} {
		var out struct {
			Error struct{ Code, Field string }
		}
		if code := e.do("PUT", "/api/v1/webhooks", owner, "", c.body, &out); code != 400 || out.Error.Field != c.field {
			t.Errorf("PUT %v: %d %+v, want 400 on %s", c.body, code, out.Error, c.field)
		}
	}
	var made struct {
		Webhook struct {
			URL     string
			Events  []string
			Enabled bool
		}
		Secret string
	}
	if code := e.do("PUT", "/api/v1/webhooks", owner, "", map[string]any{"url": "https://hooks.example.com/kefu", "events": []string{"message.buyer", "order.linked"}}, &made); code != 201 || len(made.Secret) != 64 || !made.Webhook.Enabled {
		t.Fatalf("make: %d %+v", code, made)
	}
	first := made.Secret
	made.Secret = ""
	if code := e.do("PUT", "/api/v1/webhooks", owner, "", map[string]any{"url": "http://127.0.0.1:9/kefu", "events": []string{"message.buyer"}, "enabled": false}, &made); code != 200 || made.Secret != "" ||
		made.Webhook.Enabled || made.Webhook.URL != "http://127.0.0.1:9/kefu" || len(made.Webhook.Events) != 1 {
		t.Errorf("change: %d %+v, want 200, off, no secret shown", code, made)
	}
	var rotated struct{ Secret string }
	if code := e.do("POST", "/api/v1/webhooks/secret", owner, "", nil, &rotated); code != 200 || len(rotated.Secret) != 64 || rotated.Secret == first {
		t.Errorf("rotate: %d %q", code, rotated.Secret)
	}
	if w, err := e.store.Webhook(ctx, e.shop.ID); err != nil || w.Secret != rotated.Secret {
		t.Errorf("stored secret after rotation: %v", err)
	}
	var shown map[string]map[string]any
	e.do("GET", "/api/v1/webhooks", owner, "", nil, &shown)
	if _, ok := shown["webhook"]["secret"]; ok || shown["webhook"]["url"] != "http://127.0.0.1:9/kefu" {
		t.Errorf("GET shows %v; the secret must not be in it", shown)
	}
	// Off: nothing is sent (the URL would refuse the connection).
	e.buyerWrites(1, "没人收")
	e.sender().Step(ctx)
	var log deliveryLog
	if code := e.do("GET", "/api/v1/webhooks/deliveries", owner, "", nil, &log); code != 200 || len(log.Deliveries) != 0 {
		t.Errorf("deliveries of a webhook that is off: %d %+v", code, log)
	}
	if code := e.do("GET", "/api/v1/webhooks/deliveries?limit=0", owner, "", nil, &refused); code != 400 {
		t.Errorf("limit=0: %d, want 400", code)
	}
}

// A receiver that does not answer in time is a failure retried later,
// logged with no status and why.
func TestWebhookReceiverTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.ownerToken()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(func() { close(release); hang.Close() })
	if code := e.do("PUT", "/api/v1/webhooks", owner, "", map[string]any{"url": hang.URL, "events": []string{kefu.WebhookMessageBuyer}}, nil); code != 201 {
		t.Fatalf("make the webhook: %d", code)
	}
	e.buyerWrites(1, "在吗")
	// kefu waits 5 s (webhook.Timeout); this client gives up sooner.
	s := webhook.New(e.store, &http.Client{Timeout: 50 * time.Millisecond}, nil)
	s.SetClock(e.clock.Now)
	s.Step(context.Background())
	var log deliveryLog
	e.do("GET", "/api/v1/webhooks/deliveries", owner, "", nil, &log)
	if len(log.Deliveries) != 1 || log.Deliveries[0].StatusCode != 0 || log.Deliveries[0].Error == "" || log.Deliveries[0].Outcome != kefu.DeliveryRetrying {
		t.Errorf("a delivery with no answer: %+v, want retrying with no status and an error", log.Deliveries)
	}
}
