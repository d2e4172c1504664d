package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
)

// Another shop's agent gets 404 for every conversation call, never the data.
func TestAgentOfAnotherShopGetsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedShop("other", "http://other.example", "zhao")
	_, ack := e.buyerWrites(7, "secret order question")
	conv, buyerID := ack.Msg.ConversationID, ack.Msg.SenderID

	token := e.login("other", "zhao")
	id := func(s string) string { return strings.ReplaceAll(s, "ID", itoa(conv)) }
	calls := []struct{ method, path string }{
		{"GET", id("/api/v1/conversations/ID")},
		{"GET", id("/api/v1/conversations/ID/messages")},
		{"POST", id("/api/v1/conversations/ID/read")},
		{"POST", id("/api/v1/conversations/ID/accept")},
		{"POST", id("/api/v1/conversations/ID/close")},
		{"GET", "/api/v1/buyers/" + itoa(buyerID) + "/orders"},
	}
	for _, c := range calls {
		var out apiErr
		body := map[string]any{"seq": 1}
		if code := e.do(c.method, c.path, token, "", body, &out); code != http.StatusNotFound || out.Error.Code != "not_found" {
			t.Errorf("%s %s: %d %q, want 404 not_found", c.method, c.path, code, out.Error.Code)
		}
	}
	var out apiErr
	if code := e.do("POST", id("/api/v1/conversations/ID/messages"), token, "", map[string]string{"client_msg_id": "x", "text": "hi"}, &out); code != http.StatusNotFound {
		t.Errorf("send to another shop's conversation: %d, want 404", code)
	}
	var list struct{ Conversations []struct{ ID int64 } }
	e.do("GET", "/api/v1/conversations?status=open", token, "", nil, &list)
	if len(list.Conversations) != 0 {
		t.Errorf("other shop lists %d conversations, want 0", len(list.Conversations))
	}
	agent := e.dial("/ws/agent", token, e.agentURL())
	agent.next("ready")
	agent.send(map[string]any{"type": "sync", "conversation_id": conv, "after_seq": 0})
	if f := agent.next("error", "history"); f.Type != "error" || f.Code != "not_found" {
		t.Errorf("socket sync of another shop's conversation: %+v, want not_found", f)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Sessions expire; an expired token is refused on REST and socket.
func TestAgentSessionExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.login("acme", "wang")
	if code := e.do("GET", "/api/v1/me", token, "", nil, nil); code != 200 {
		t.Fatalf("fresh session: %d", code)
	}
	e.clock.Advance(api.AgentSessionTTL)
	var out apiErr
	if code := e.do("GET", "/api/v1/me", token, "", nil, &out); code != 401 || out.Error.Code != "unauthorized" {
		t.Fatalf("expired session: %d %q, want 401 unauthorized", code, out.Error.Code)
	}
	if code := e.dial("/ws/agent", token, e.agentURL()).closeStatus(); code != 4401 {
		t.Fatalf("expired session socket closed with %d, want 4401", code)
	}
}

func TestLoginErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name string
		body any
		code int
		err  string
	}{
		{"wrong password", map[string]string{"shop": "acme", "username": "wang", "password": "nope"}, 401, "invalid_credentials"},
		{"unknown user", map[string]string{"shop": "acme", "username": "ghost", "password": password}, 401, "invalid_credentials"},
		{"unknown shop", map[string]string{"shop": "ghost", "username": "wang", "password": password}, 401, "invalid_credentials"},
		{"missing fields", map[string]string{"shop": "acme"}, 400, "invalid_credentials_format"},
		{"not json", "{", 400, "invalid_json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out apiErr
			if code := e.do("POST", "/api/v1/auth/login", "", "", tc.body, &out); code != tc.code || out.Error.Code != tc.err || out.Error.Message == "" {
				t.Fatalf("%d %+v, want %d %s with a sentence", code, out.Error, tc.code, tc.err)
			}
		})
	}
}

// The widget session checks origin and, for logged-in buyers, the shop's signature.
func TestWidgetSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "/api/v1/widget/shops/acme/session"
	good := api.BuyerSignature(e.shop.IdentitySecret, "u1")
	cases := []struct {
		name   string
		shop   string
		origin string
		body   map[string]string
		code   int
		err    string
	}{
		{"visitor", "acme", storeOrigin, map[string]string{"visitor_id": "v_abcdefgh"}, 200, ""},
		{"identified", "acme", storeOrigin, map[string]string{"visitor_id": "v_abcdefgh", "buyer_id": "u1", "signature": good}, 200, ""},
		{"bad signature", "acme", storeOrigin, map[string]string{"visitor_id": "v_abcdefgh", "buyer_id": "u2", "signature": good}, 401, "bad_signature"},
		{"foreign origin", "acme", "http://evil.example", map[string]string{"visitor_id": "v_abcdefgh"}, 403, "origin_not_allowed"},
		{"unknown shop", "ghost", storeOrigin, map[string]string{"visitor_id": "v_abcdefgh"}, 404, "shop_not_found"},
		{"short visitor id", "acme", storeOrigin, map[string]string{"visitor_id": "v_1"}, 400, "invalid_visitor_id"},
		{"odd visitor id", "acme", storeOrigin, map[string]string{"visitor_id": "v_<script>"}, 400, "invalid_visitor_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out struct {
				apiErr
				Token string
				Buyer struct {
					Identified bool
					Name       string
				}
			}
			code := e.do("POST", "/api/v1/widget/shops/"+tc.shop+"/session", "", tc.origin, tc.body, &out)
			if code != tc.code || out.Error.Code != tc.err {
				t.Fatalf("%d %q, want %d %q", code, out.Error.Code, tc.code, tc.err)
			}
			if code == 200 && (out.Token == "" || out.Buyer.Identified != (tc.body["buyer_id"] != "")) {
				t.Fatalf("session %+v", out)
			}
		})
	}
	req, _ := http.NewRequest("OPTIONS", e.ts.URL+path, nil)
	req.Header.Set("Origin", storeOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != storeOrigin {
		t.Fatalf("preflight: %d, allow-origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
}

// REST sending is idempotent by client_msg_id like the socket, and a closed
// conversation refuses agent messages with 409.
func TestRESTSendAndClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.login("acme", "wang")
	agentSock := e.dial("/ws/agent", token, e.agentURL())
	agentSock.next("ready")
	b, ack := e.buyerWrites(8, "hi")
	conv := ack.Msg.ConversationID
	path := "/api/v1/conversations/" + itoa(conv)

	type sent struct {
		Message   struct{ ID, Seq int64 }
		Duplicate bool
	}
	var first, again sent
	if code := e.do("POST", path+"/messages", token, "", map[string]string{"client_msg_id": "r1", "text": "您好"}, &first); code != 201 {
		t.Fatalf("first send: %d", code)
	}
	if code := e.do("POST", path+"/messages", token, "", map[string]string{"client_msg_id": "r1", "text": "您好"}, &again); code != 200 || !again.Duplicate || again.Message.ID != first.Message.ID {
		t.Fatalf("retry: %d %+v, want 200 duplicate of %+v", code, again, first)
	}
	var closed struct{ Conversation struct{ Status string } }
	if code := e.do("POST", path+"/close", token, "", nil, &closed); code != 200 || closed.Conversation.Status != "closed" {
		t.Fatalf("close: %d %+v", code, closed)
	}
	var out apiErr
	if code := e.do("POST", path+"/messages", token, "", map[string]string{"client_msg_id": "r2", "text": "还在吗"}, &out); code != 409 || out.Error.Code != "conversation_closed" {
		t.Fatalf("send after close: %d %q, want 409 conversation_closed", code, out.Error.Code)
	}
	// The buyer's next message opens a new conversation.
	b.send(sendFrame(conv, "c2", "又来了"))
	if next := b.next("ack").Msg.ConversationID; next == conv {
		t.Fatal("buyer's message after close went into the closed conversation")
	}
	var page struct {
		Messages []struct{ Seq int64 }
		HasMore  bool `json:"has_more"`
	}
	if code := e.do("GET", path+"/messages?after_seq=0&limit=2", token, "", nil, &page); code != 200 || len(page.Messages) != 2 || !page.HasMore {
		t.Fatalf("paging: %d %+v", code, page)
	}
	if code := e.do("GET", path+"/messages?limit=999", token, "", nil, &out); code != 400 || out.Error.Code != "invalid_limit" {
		t.Fatalf("bad limit: %d %q", code, out.Error.Code)
	}
}

// Every registered route is described in docs/openapi.yaml, and every
// described operation exists.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	data, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	param := regexp.MustCompile(`[:*]([A-Za-z_]+)`)
	registered := map[string]bool{}
	for _, r := range e.srv.Routes() {
		path := param.ReplaceAllString(r.Path, "{$1}")
		key := strings.ToLower(r.Method) + " " + path
		registered[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in docs/openapi.yaml", r.Method, path)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			if !registered[method+" "+path] {
				t.Errorf("docs/openapi.yaml describes %s %s, which is not a route", method, path)
			}
		}
	}
	res, err := http.Get(e.ts.URL + "/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	served, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Equal(served, data) {
		t.Fatalf("GET /api/openapi.yaml: %d, %d bytes; want 200 and docs/openapi.yaml", res.StatusCode, len(served))
	}
}

// A plain agent cannot read or write a colleague's conversation; a
// supervisor can.
func TestAgentsSeeOnlyTheirOwnConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wang := e.login("acme", "wang")
	sock := e.dial("/ws/agent", wang, e.agentURL())
	sock.next("ready")
	_, ack := e.buyerWrites(30, "只给小王看")
	conv := ack.Msg.ConversationID
	li := e.login("acme", "li")
	path := "/api/v1/conversations/" + itoa(conv)
	for _, c := range []struct{ method, path string }{
		{"GET", path}, {"GET", path + "/messages"}, {"POST", path + "/close"},
	} {
		var out apiErr
		if code := e.do(c.method, c.path, li, "", nil, &out); code != 403 || out.Error.Code != "forbidden" {
			t.Errorf("colleague %s %s: %d %q, want 403 forbidden", c.method, c.path, code, out.Error.Code)
		}
	}
	var out apiErr
	if code := e.do("POST", path+"/messages", li, "", map[string]string{"client_msg_id": "x", "text": "插话"}, &out); code != 403 {
		t.Errorf("colleague sends: %d, want 403", code)
	}
	e.addAgent("boss", kefu.RoleSupervisor)
	boss := e.login("acme", "boss")
	if code := e.do("GET", path+"/messages", boss, "", nil, nil); code != 200 {
		t.Errorf("supervisor reads: %d, want 200", code)
	}
}

// Signing out closes the agent's open sockets with 4401.
func TestLogoutClosesSockets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.login("acme", "wang")
	sock := e.dial("/ws/agent", token, e.agentURL())
	sock.next("ready")
	other := e.dial("/ws/agent", e.login("acme", "wang"), e.agentURL()) // another session stays
	other.next("ready")
	if code := e.do("POST", "/api/v1/auth/logout", token, "", nil, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	if code := sock.closeStatus(); code != 4401 {
		t.Fatalf("socket of the ended session closed with %d, want 4401", code)
	}
	other.send(`{"type":"ping"}`)
	other.next("pong")
}

// Bodies over 64 KiB are refused with 413 before they are read whole.
func TestOversizedBodyIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out apiErr
	body := map[string]string{"shop": "acme", "username": strings.Repeat("x", 70<<10), "password": "p"}
	if code := e.do("POST", "/api/v1/auth/login", "", "", body, &out); code != 413 || out.Error.Code != "body_too_large" {
		t.Fatalf("%d %q, want 413 body_too_large", code, out.Error.Code)
	}
}

// Repeated wrong passwords lock the account's sign-in from that address for
// a while, with Retry-After, not from the rightful user's address; then the
// account is slowed for everyone else, by seconds. The right password works
// again from the first address once the window has passed.
func TestLoginFailuresAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.trustedProxies = []string{"127.0.0.1"} // the test client stands for a proxy: X-Forwarded-For names the client
	e.restart()
	login := func(from, username, pass string) (int, string, string) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"shop": "acme", "username": username, "password": pass})
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/auth/login", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out apiErr
		json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out.Error.Code, res.Header.Get("Retry-After")
	}
	const attacker, user, other = "203.0.113.7", "198.51.100.20", "192.0.2.30"
	for i := 0; i < 10; i++ {
		if code, _, _ := login(attacker, "wang", "wrong-pass"); code != 401 {
			t.Fatalf("attempt %d: %d, want 401", i+1, code)
		}
	}
	if code, errCode, after := login(attacker, "wang", password); code != 429 || errCode != "too_many_attempts" || after != "601" {
		t.Fatalf("11th attempt from that address: %d %q Retry-After %q, want 429 too_many_attempts 601", code, errCode, after)
	}
	// Another account from the same address is not locked by wang's failures.
	if code, _, _ := login(attacker, "li", password); code != 200 {
		t.Fatalf("other account: %d, want 200", code)
	}
	// The rightful user on their own address signs in.
	if code, _, _ := login(user, "wang", password); code != 200 {
		t.Fatalf("the rightful user's address: %d, want 200", code)
	}
	// The account has 10 failures: attempts from other addresses are
	// spaced, the first a second after the last.
	if code, errCode, after := login(other, "wang", "wrong-pass"); code != 429 || errCode != "too_many_attempts" || after != "2" {
		t.Fatalf("a third address right after: %d %q Retry-After %q, want 429 too_many_attempts 2", code, errCode, after)
	}
	e.clock.Advance(time.Second)
	if code, _, _ := login(other, "wang", "wrong-pass"); code != 401 {
		t.Fatalf("a third address a second later: %d, want 401", code)
	}
	// Still locked from the attacker's address; open after the window.
	if code, _, _ := login(attacker, "wang", password); code != 429 {
		t.Fatalf("the attacker's address after the user's sign-in: %d, want 429", code)
	}
	e.clock.Advance(10 * time.Minute)
	if code, _, _ := login(attacker, "wang", password); code != 200 {
		t.Fatalf("after the window: %d, want 200", code)
	}
}
