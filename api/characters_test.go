package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/protocol"
)

// NUL, which a PostgreSQL text column cannot hold, is refused with the same
// stable code on both stores wherever a text, a name or an id comes in, and
// nothing of the refused request is stored. Looking a shop or an agent up by a
// name holding NUL finds nothing, as on SQLite, instead of failing.
func TestNULIsRefusedAlikeOnEveryStore(t *testing.T) { onEachDatabase(t, testNULIsRefusedAlike) }

func testNULIsRefusedAlike(t *testing.T, e *env) {
	e.addAgent("boss", kefu.RoleOwner)
	owner := e.login("acme", "boss")
	wang := e.login("acme", "wang")
	conversations := func() []protocol.Conversation {
		t.Helper()
		var out struct{ Conversations []protocol.Conversation }
		if code := e.do("GET", "/api/v1/conversations", owner, "", nil, &out); code != 200 {
			t.Fatalf("list conversations: %d", code)
		}
		return out.Conversations
	}

	// A buyer's first message: refused, and no conversation is started.
	b := e.dial("/ws/buyer", e.buyerToken("acme", visitor(1)), storeOrigin)
	b.next("ready")
	b.send(sendFrame(0, "c1", "有货\x00吗"))
	if f := b.next("ack", "error"); f.Type != "error" || f.Code != "text_invalid_characters" || f.Ref != "c1" || f.Text == "" {
		t.Fatalf("buyer's NUL message: %+v, want error %s for c1 with a sentence", f, "text_invalid_characters")
	}
	if got := conversations(); len(got) != 0 {
		t.Fatalf("a refused first message started %d conversations: %+v", len(got), got)
	}

	// The agent's answer, over REST and over the socket: refused, not stored.
	b.send(sendFrame(0, "c2", "有货吗"))
	conv := b.next("ack").Msg.ConversationID
	path := "/api/v1/conversations/" + itoa(conv) + "/messages"
	var out apiErr
	if code := e.do("POST", path, wang, "", map[string]string{"client_msg_id": "r1", "text": "有的\x00"}, &out); code != 400 || out.Error.Code != "text_invalid_characters" || out.Error.Message == "" {
		t.Fatalf("REST send with NUL: %d %+v, want 400 %s", code, out.Error, "text_invalid_characters")
	}
	a := e.dial("/ws/agent", wang, e.agentURL())
	a.next("ready")
	a.send(sendFrame(conv, "a1", "\x00"))
	if f := a.next("ack", "error"); f.Type != "error" || f.Code != "text_invalid_characters" || f.Ref != "a1" {
		t.Fatalf("agent's NUL message: %+v, want error %s for a1", f, "text_invalid_characters")
	}
	var page struct{ Messages []protocol.Message }
	if code := e.do("GET", path, owner, "", nil, &page); code != 200 {
		t.Fatalf("list messages: %d", code)
	}
	for _, m := range page.Messages {
		if m.ClientMsgID == "r1" || m.ClientMsgID == "a1" || strings.ContainsRune(m.Text, 0) {
			t.Errorf("a refused message was stored: %+v", m)
		}
	}

	// Names and ids: refused with the codes their length limits already use.
	session := "/api/v1/widget/shops/acme/session"
	signed := func(buyerID string, fields ...string) map[string]string {
		body := map[string]string{"visitor_id": "v_abcdefgh", "buyer_id": buyerID, "signature": api.BuyerSignature(e.shop.IdentitySecret, buyerID)}
		for i := 0; i+1 < len(fields); i += 2 {
			body[fields[i]] = fields[i+1]
		}
		return body
	}
	refusals := []struct {
		name, path, token string
		body              any
		status            int
		code              string
	}{
		{"buyer name", session, "", signed("u7", "name", "张\x00三"), 400, "invalid_name"},
		{"buyer id", session, "", signed("u\x007"), 400, "invalid_buyer_id"},
		{"agent name", "/api/v1/agents", owner, map[string]any{"username": "zhou", "name": "小\x00周", "password": "long-enough"}, 400, "invalid_name"},
		{"login shop", "/api/v1/auth/login", "", map[string]string{"shop": "ac\x00me", "username": "wang", "password": password}, 401, "invalid_credentials"},
		{"login username", "/api/v1/auth/login", "", map[string]string{"shop": "acme", "username": "wang\x00", "password": password}, 401, "invalid_credentials"},
		{"widget shop", "/api/v1/widget/shops/" + url.PathEscape("ac\x00me") + "/session", "", map[string]string{"visitor_id": "v_abcdefgh"}, 404, "shop_not_found"},
		{"widget shop not UTF-8", "/api/v1/widget/shops/" + url.PathEscape("ac\xffme") + "/session", "", map[string]string{"visitor_id": "v_abcdefgh"}, 404, "shop_not_found"},
	}
	for _, tc := range refusals {
		var out apiErr
		origin := ""
		if strings.Contains(tc.path, "/widget/") {
			origin = storeOrigin
		}
		if code := e.do("POST", tc.path, tc.token, origin, tc.body, &out); code != tc.status || out.Error.Code != tc.code || out.Error.Message == "" {
			t.Errorf("%s with NUL: %d %+v, want %d %s", tc.name, code, out.Error, tc.status, tc.code)
		}
	}
	var buyer struct{ Buyer protocol.Buyer }
	if code := e.do("POST", session, "", storeOrigin, signed("u7"), &buyer); code != 200 || buyer.Buyer.Name != "买家 u7" {
		t.Errorf("buyer u7 after the refused name: %d %+v, want a new buyer named 买家 u7", code, buyer.Buyer)
	}
	var agents struct{ Agents []protocol.Agent }
	if code := e.do("GET", "/api/v1/agents", owner, "", nil, &agents); code != 200 {
		t.Fatalf("list agents: %d", code)
	}
	for _, ag := range agents.Agents {
		if ag.Username == "zhou" {
			t.Errorf("the agent with a refused name was stored: %+v", ag)
		}
	}
}
