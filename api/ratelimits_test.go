package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kefu/kefu"
)

// setLimits sets the acme shop's limits as its owner does, PUT /shop/limits.
func (e *env) setLimits(change func(*kefu.RateLimits)) {
	e.t.Helper()
	var limits kefu.RateLimits // seeded shops have every limit off
	change(&limits)
	if code := e.do("PUT", "/api/v1/shop/limits", e.owner(), "", limits, nil); code != 200 {
		e.t.Fatalf("PUT /shop/limits: %d", code)
	}
}

// owner signs in as acme's owner, boss, made on first use.
func (e *env) owner() string {
	e.t.Helper()
	if _, ok := e.agents["acme/boss"]; !ok {
		e.agents["acme/boss"] = e.addAgent("boss", kefu.RoleOwner)
	}
	return e.login("acme", "boss")
}

// limitErr is an error body with the wait of a refusal.
type limitErr struct {
	Error struct {
		Code         string `json:"code"`
		Field        string `json:"field"`
		RetryAfterMs int64  `json:"retry_after_ms"`
	} `json:"error"`
}

// A buyer's typing flood is refused past the frame limit, with when to
// retry, and none of the refused frames reaches the agent.
func TestTypingFloodIsLimitedAndNotRelayed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setLimits(func(l *kefu.RateLimits) { l.BuyerFrames = kefu.RateLimit{PerMinute: 60, Burst: 4} })
	b, ack := e.buyerWrites(80, "在吗") // frame 1
	conv := ack.Msg.ConversationID
	token := e.login("acme", "wang")
	if code := e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/accept", token, "", nil, nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	agent := e.dial("/ws/agent", token, e.agentURL())
	agent.next("ready")
	for i := 0; i < 10; i++ { // frames 2 to 11: 2, 3, 4 are within the burst
		b.send(map[string]any{"type": "typing", "conversation_id": conv})
	}
	for i := 0; i < 7; i++ {
		f := b.next("error")
		if f.Code != "rate_limited" || f.RetryAfterMs != 1000 {
			t.Fatalf("refused typing %d: %+v, want rate_limited with retry_after_ms 1000", i+1, f)
		}
	}
	e.clock.Advance(time.Second)
	b.send(sendFrame(conv, "c2", "还在吗"))
	b.next("ack")
	agent.next("message")
	typing := 0
	for _, f := range agent.pending {
		if f.Type == "typing" {
			typing++
		}
	}
	if typing != 3 {
		t.Fatalf("the agent saw %d typing frames before the next message, want the 3 within the burst", typing)
	}
}

// Read frames count against the frame limit too, on both sides.
func TestReadFramesAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setLimits(func(l *kefu.RateLimits) {
		l.BuyerFrames = kefu.RateLimit{PerMinute: 60, Burst: 2}
		l.AgentFrames = kefu.RateLimit{PerMinute: 60, Burst: 1}
	})
	b, ack := e.buyerWrites(81, "你好")
	conv := ack.Msg.ConversationID
	b.send(map[string]any{"type": "read", "conversation_id": conv, "seq": ack.Msg.Seq})
	b.send(map[string]any{"type": "read", "conversation_id": conv, "seq": ack.Msg.Seq})
	if f := b.next("error"); f.Code != "rate_limited" || f.RetryAfterMs <= 0 {
		t.Fatalf("buyer's read over the limit: %+v, want rate_limited with retry_after_ms", f)
	}
	token := e.login("acme", "wang")
	e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/accept", token, "", nil, nil)
	agent := e.dial("/ws/agent", token, e.agentURL())
	agent.next("ready")
	agent.send(map[string]any{"type": "read", "conversation_id": conv, "seq": ack.Msg.Seq})
	agent.send(map[string]any{"type": "read", "conversation_id": conv, "seq": ack.Msg.Seq})
	if f := agent.next("error"); f.Code != "rate_limited" || f.RetryAfterMs != 1000 {
		t.Fatalf("agent's read over the limit: %+v, want rate_limited with retry_after_ms 1000", f)
	}
}

// session posts a widget session from the client at address (the test
// client stands for a trusted proxy) and returns the status and body.
func (e *env) session(address, visitorID string) (int, limitErr, string) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"visitor_id": visitorID})
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/widget/shops/acme/session", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", storeOrigin)
	req.Header.Set("X-Forwarded-For", address)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out limitErr
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, res.Header.Get("Retry-After")
}

// One address gets its burst of widget sessions, then a refusal with when
// to retry (before any buyer is read or made); another address
// is not held back by it, until the shop's own limit.
func TestWidgetSessionsPerAddressAndShop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.trustedProxies = []string{"127.0.0.1"}
	e.restart()
	e.setLimits(func(l *kefu.RateLimits) {
		l.SessionsPerAddress = kefu.RateLimit{PerMinute: 60, Burst: 100}
		l.SessionsPerShop = kefu.RateLimit{PerMinute: 60, Burst: 103}
	})
	const flooder, other = "203.0.113.7", "198.51.100.20"
	for i := 0; i < 100; i++ {
		if code, _, _ := e.session(flooder, visitor(1000+i)); code != 200 {
			t.Fatalf("session %d from one address: %d, want 200", i+1, code)
		}
	}
	code, out, retry := e.session(flooder, visitor(1100))
	if code != 429 || out.Error.Code != "rate_limited" || out.Error.RetryAfterMs != 1000 || retry != "2" {
		t.Fatalf("session 101 from one address: %d %+v Retry-After %q; want 429 rate_limited, retry_after_ms 1000, Retry-After 2", code, out, retry)
	}
	for i := 0; i < 3; i++ {
		if code, _, _ := e.session(other, visitor(2000+i)); code != 200 {
			t.Fatalf("session %d from another address: %d, want 200", i+1, code)
		}
	}
	if code, out, _ := e.session(other, visitor(2003)); code != 429 || out.Error.Code != "rate_limited" {
		t.Fatalf("a session over the shop's limit: %d %+v, want 429 rate_limited", code, out)
	}
	e.clock.Advance(time.Second)
	if code, _, _ := e.session(flooder, visitor(1100)); code != 200 {
		t.Fatalf("after the wait: %d, want 200", code)
	}
}

// Past the shop's limit of new conversations a buyer's first message is
// refused rate_limited with when to retry, and nothing of it is stored;
// a buyer already in a conversation is not held back; the retry after the
// wait starts the conversation.
func TestNewConversationsPerShopLimit(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		e.setLimits(func(l *kefu.RateLimits) { l.ConversationsPerShop = kefu.RateLimit{PerMinute: 6, Burst: 2} })
		first, ack := e.buyerWrites(90, "第一位")
		e.buyerWrites(91, "第二位")
		third := e.dial("/ws/buyer", e.buyerToken("acme", visitor(92)), storeOrigin)
		third.next("ready")
		third.send(sendFrame(0, "c1", "第三位"))
		f := third.next("error", "ack")
		if f.Type != "error" || f.Code != "rate_limited" || f.Ref != "c1" || f.RetryAfterMs != 10000 {
			t.Fatalf("third new conversation: %+v, want error rate_limited for c1 with retry_after_ms 10000", f)
		}
		convs, err := e.store.ListConversations(context.Background(), e.shop.ID, kefu.ConversationFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(convs) != 2 {
			t.Fatalf("%d conversations stored, want 2: the refused message started one", len(convs))
		}
		first.send(sendFrame(ack.Msg.ConversationID, "c2", "补充一句"))
		if f := first.next("error", "ack"); f.Type != "ack" {
			t.Fatalf("a message to an open conversation: %+v, want its ack", f)
		}
		e.clock.Advance(10 * time.Second)
		third.send(sendFrame(0, "c1", "第三位"))
		if f := third.next("error", "ack"); f.Type != "ack" || f.Duplicate {
			t.Fatalf("the retry after the wait: %+v, want a new message's ack", f)
		}
	})
}

// One address may start only so many conversations; the next buyer from
// it is refused while another address is not.
func TestNewConversationsPerAddressLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setLimits(func(l *kefu.RateLimits) { l.ConversationsPerAddress = kefu.RateLimit{PerMinute: 1, Burst: 1} })
	e.buyerWrites(93, "你好")
	b := e.dial("/ws/buyer", e.buyerToken("acme", visitor(94)), storeOrigin)
	b.next("ready")
	b.send(sendFrame(0, "c1", "也是我"))
	if f := b.next("error", "ack"); f.Type != "error" || f.Code != "rate_limited" || f.RetryAfterMs != 60000 {
		t.Fatalf("a second conversation from one address: %+v, want rate_limited with retry_after_ms 60000", f)
	}
}

// An owner's limits take effect at once (GET shows them); limits out of
// bounds are refused naming the field, and nothing is stored; another
// shop's limits are untouched; only owners set them.
func TestShopLimitsEndpoint(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		owner := e.owner()
		var got struct{ Limits kefu.RateLimits }
		if code := e.do("GET", "/api/v1/shop/limits", owner, "", nil, &got); code != 200 || got.Limits != (kefu.RateLimits{}) {
			t.Fatalf("GET before: %d %+v, want the seeded (off) limits", code, got.Limits)
		}
		b, ack := e.buyerWrites(95, "一")
		conv := ack.Msg.ConversationID
		e.setLimits(func(l *kefu.RateLimits) { l.BuyerMessages = kefu.RateLimit{PerMinute: 30, Burst: 1} })
		b.send(sendFrame(conv, "c2", "二"))
		b.next("ack")
		b.send(sendFrame(conv, "c3", "三"))
		if f := b.next("error", "ack"); f.Type != "error" || f.Code != "rate_limited" || f.RetryAfterMs != 2000 {
			t.Fatalf("over the new message limit: %+v, want rate_limited with retry_after_ms 2000", f)
		}

		for _, tc := range []struct {
			body  string
			field string
		}{
			{`{"buyer_frames": {"per_minute": -1, "burst": 5}}`, "buyer_frames.per_minute"},
			{`{"conversations_per_shop": {"per_minute": 10, "burst": 0}}`, "conversations_per_shop.burst"},
			{`{"agent_messages": {"per_minute": 2000000, "burst": 5}}`, "agent_messages.per_minute"},
			{`{"sessions_per_address": {"per_minute": 0, "burst": 3}}`, "sessions_per_address.per_minute"},
		} {
			var out limitErr
			if code := e.do("PUT", "/api/v1/shop/limits", owner, "", json.RawMessage(tc.body), &out); code != 400 ||
				out.Error.Code != "invalid_rate_limit" || out.Error.Field != tc.field {
				t.Errorf("PUT %s: %d %+v, want 400 invalid_rate_limit on %s", tc.body, code, out, tc.field)
			}
		}
		e.do("GET", "/api/v1/shop/limits", owner, "", nil, &got)
		want := kefu.RateLimits{BuyerMessages: kefu.RateLimit{PerMinute: 30, Burst: 1}}
		if got.Limits != want {
			t.Fatalf("after refused PUTs: %+v, want %+v unchanged", got.Limits, want)
		}

		// A PUT leaving limits out gives them their defaults.
		var put struct{ Limits kefu.RateLimits }
		if code := e.do("PUT", "/api/v1/shop/limits", owner, "", json.RawMessage(`{"buyer_frames": {"per_minute": 120, "burst": 10}}`), &put); code != 200 {
			t.Fatalf("PUT one limit: %d", code)
		}
		defaults := kefu.DefaultRateLimits()
		defaults.BuyerFrames = kefu.RateLimit{PerMinute: 120, Burst: 10}
		if put.Limits != defaults {
			t.Fatalf("PUT one limit: %+v, want the others at their defaults", put.Limits)
		}

		other := e.seedShop("other", "http://other.example", "zhao")
		if o, _ := e.store.Shop(context.Background(), other.ID); o.RateLimits != (kefu.RateLimits{}) {
			t.Fatalf("another shop's limits: %+v, want its own (off)", o.RateLimits)
		}
		if code := e.do("GET", "/api/v1/shop/limits", e.login("other", "zhao"), "", nil, &got); code != 200 || got.Limits != (kefu.RateLimits{}) {
			t.Fatalf("another shop's GET: %d %+v", code, got.Limits)
		}
		if code := e.do("PUT", "/api/v1/shop/limits", e.login("acme", "wang"), "", kefu.RateLimits{}, nil); code != 403 {
			t.Fatalf("an agent's PUT: %d, want 403", code)
		}
	})
}

// With a cap of two sockets the third is refused before the upgrade: 503
// too_many_connections with a Retry-After; once one closes, a socket fits.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.maxConnections = 2
	e.restart()
	b1 := e.dial("/ws/buyer", e.buyerToken("acme", visitor(96)), storeOrigin)
	b1.next("ready")
	a := e.dial("/ws/agent", e.login("acme", "wang"), e.agentURL())
	a.next("ready")
	token := e.buyerToken("acme", visitor(97))
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, res, err := websocket.Dial(ctx, e.wsURL("/ws/buyer", token), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {storeOrigin}}})
	if err == nil || res == nil {
		t.Fatalf("third socket: %v, want refused", err)
	}
	var out limitErr
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != 503 || out.Error.Code != "too_many_connections" || retry < 3 || retry > 13 || out.Error.RetryAfterMs < 2000 {
		t.Fatalf("third socket: %d %+v Retry-After %q; want 503 too_many_connections, Retry-After 3 to 13 s",
			res.StatusCode, out, res.Header.Get("Retry-After"))
	}
	b1.ws.Close(websocket.StatusNormalClosure, "")
	b1.closeStatus()
	// The slot is given back once the server has ended the socket, which
	// the client cannot observe: dial until it fits, within waitFor.
	deadline := time.Now().Add(waitFor)
	for {
		c, err := e.tryDial("/ws/buyer", token, storeOrigin)
		if err == nil {
			c.next("ready")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot after a socket closed: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
