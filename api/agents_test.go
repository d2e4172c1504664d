package api_test

import (
	"context"
	"regexp"
	"sync"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
)

// agentJSON is the Agent schema as the tests read it.
type agentJSON struct {
	ID            int64
	Name          string
	Role          string
	Presence      string
	MaxConcurrent int `json:"max_concurrent"`
	Disabled      bool
}

func (e *env) patchAgent(token string, id int64, body any) (int, agentJSON, apiErr) {
	e.t.Helper()
	var out struct {
		apiErr
		Agent agentJSON
	}
	code := e.do("PATCH", "/api/v1/agents/"+itoa(id), token, "", body, &out)
	return code, out.Agent, out.apiErr
}

// Who may change what of an agent's account, and that a refused or invalid
// change changes nothing.
func TestAgentChangeRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := e.addAgent("boss", kefu.RoleOwner)
	boss2 := e.addAgent("boss2", kefu.RoleOwner)
	lead := e.addAgent("lead", kefu.RoleSupervisor)
	lead2 := e.addAgent("lead2", kefu.RoleSupervisor)
	wang := e.agents["acme/wang"]
	e.seedShop("other", "http://other.example", "zhao")
	owner, super, plain := e.login("acme", "boss"), e.login("acme", "lead"), e.login("acme", "wang")

	cases := []struct {
		name     string
		token    string
		id       int64
		body     any
		wantCode int
		wantErr  string
	}{
		{"a plain agent changes nothing", plain, wang.ID, map[string]any{"name": "王"}, 403, "supervisor_only"},
		{"no field", owner, wang.ID, map[string]any{}, 400, "invalid_json"},
		{"only nulls and unknown fields", owner, wang.ID, map[string]any{"name": nil, "username": "w2"}, 400, "invalid_json"},
		{"a supervisor sets a role", super, wang.ID, map[string]any{"role": "supervisor"}, 403, "owner_only"},
		{"a supervisor disables", super, wang.ID, map[string]any{"disabled": true}, 403, "owner_only"},
		{"a supervisor resets a password, even a short one", super, wang.ID, map[string]any{"password": "x"}, 403, "owner_only"},
		{"a supervisor renames an owner", super, boss.ID, map[string]any{"name": "老板"}, 403, "owner_only"},
		{"a supervisor sets an owner's cap", super, boss.ID, map[string]any{"max_concurrent": 3}, 403, "owner_only"},
		{"an unknown role", owner, wang.ID, map[string]any{"role": "god"}, 400, "invalid_role"},
		{"an empty role", owner, wang.ID, map[string]any{"role": ""}, 400, "invalid_role"},
		{"a short password", owner, wang.ID, map[string]any{"password": "short"}, 400, "weak_password"},
		{"a blank name", owner, wang.ID, map[string]any{"name": "  "}, 400, "invalid_name"},
		{"a name with a bidi override", owner, wang.ID, map[string]any{"name": "a\u202eb"}, 400, "invalid_name"},
		{"a valid name with a bad cap", owner, wang.ID, map[string]any{"name": "新名字", "max_concurrent": 0}, 400, "invalid_max_concurrent"},
		{"a valid role with a bad password", owner, wang.ID, map[string]any{"role": "supervisor", "password": "short"}, 400, "weak_password"},
		{"an owner demotes themselves", owner, boss.ID, map[string]any{"role": "supervisor"}, 403, "self_lockout"},
		{"an owner disables themselves", owner, boss.ID, map[string]any{"disabled": true, "name": "boss"}, 403, "self_lockout"},
		{"another shop's agent", owner, e.agents["other/zhao"].ID, map[string]any{"name": "x"}, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, out := e.patchAgent(tc.token, tc.id, tc.body)
			if code != tc.wantCode || out.Error.Code != tc.wantErr || out.Error.Message == "" {
				t.Fatalf("%d %+v, want %d %q with a sentence", code, out.Error, tc.wantCode, tc.wantErr)
			}
		})
	}
	// Nothing of the refused changes was stored.
	for _, a := range []kefu.Agent{boss, wang} {
		got, err := e.store.Agent(context.Background(), e.shop.ID, a.ID)
		if err != nil || got.Name != a.Name || got.Role != a.Role || got.MaxConcurrent != a.MaxConcurrent || got.Disabled || got.PasswordHash != a.PasswordHash {
			t.Fatalf("%s after refused changes: %+v, %v", a.Username, got, err)
		}
	}
	if code := e.do("GET", "/api/v1/me", owner, "", nil, nil); code != 200 {
		t.Fatalf("the owner's session after refused changes: %d", code)
	}

	// What supervisors may do: names and caps of agents who are not owners,
	// their own included.
	for _, a := range []kefu.Agent{wang, lead2, lead} {
		code, got, out := e.patchAgent(super, a.ID, map[string]any{"name": "  " + a.Username + " 改 ", "max_concurrent": 9})
		if code != 200 || got.Name != a.Username+" 改" || got.MaxConcurrent != 9 || got.Role != string(a.Role) {
			t.Fatalf("supervisor changes %s: %d %+v %+v", a.Username, code, got, out)
		}
	}
	// A field left out keeps its value.
	if code, got, _ := e.patchAgent(super, wang.ID, map[string]any{"max_concurrent": 4}); code != 200 || got.Name != "wang 改" || got.MaxConcurrent != 4 {
		t.Fatalf("cap alone: %d %+v", code, got)
	}
	// What owners may do besides: roles, another owner's account.
	if code, got, _ := e.patchAgent(owner, wang.ID, map[string]any{"role": "supervisor"}); code != 200 || got.Role != "supervisor" || got.Name != "wang 改" {
		t.Fatalf("owner promotes wang: %d %+v", code, got)
	}
	if code, got, _ := e.patchAgent(owner, boss2.ID, map[string]any{"role": "agent", "name": "前老板"}); code != 200 || got.Role != "agent" || got.Name != "前老板" {
		t.Fatalf("owner demotes the other owner: %d %+v", code, got)
	}
	// A role change is in force on the next request.
	if code := e.do("POST", "/api/v1/groups", e.login("acme", "wang"), "", map[string]any{"slug": "pre", "name": "售前"}, nil); code != 201 {
		t.Fatalf("wang, now a supervisor, creates a group: %d", code)
	}
	// An owner may rename themselves and change their own cap.
	if code, got, _ := e.patchAgent(owner, boss.ID, map[string]any{"name": "老板", "max_concurrent": 2, "role": "owner"}); code != 200 || got.Name != "老板" || got.Role != "owner" {
		t.Fatalf("owner changes their own name: %d %+v", code, got)
	}

	// Each change that changed something is in the log.
	events, err := e.store.Events(context.Background(), e.shop.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var updates []kefu.Event
	for _, ev := range events {
		if ev.Type == kefu.EventAgentUpdated {
			updates = append(updates, ev)
		}
	}
	if len(updates) != 7 {
		t.Fatalf("%d agent.updated events, want 7: %+v", len(updates), updates)
	}
	if u := updates[4]; u.AgentID != wang.ID || u.Actor != (kefu.ActorRef{Kind: kefu.SenderAgent, ID: boss.ID}) || u.Data.Role != kefu.RoleSupervisor ||
		len(u.Data.Fields) != 1 || u.Data.Fields[0] != "role" {
		t.Fatalf("wang's promotion in the log: %+v", u)
	}
}

// Two owners demoting each other at once: one change is made, the other is
// refused, and the shop keeps an enabled owner. (The refusal of the last
// enabled owner's demotion, which only such a race reaches through the API,
// is tested on its own in the store's suite.)
func TestOwnersDemotingEachOtherKeepAnOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.addAgent("boss", kefu.RoleOwner), e.addAgent("boss2", kefu.RoleOwner)
	for round := 0; round < 5; round++ {
		ta, tb := e.login("acme", "boss"), e.login("acme", "boss2")
		var wg sync.WaitGroup
		codes := make([]int, 2)
		errs := make([]string, 2)
		for i, req := range []struct {
			token  string
			target int64
		}{{ta, b.ID}, {tb, a.ID}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _, out := e.patchAgent(req.token, req.target, map[string]any{"role": "supervisor"})
				codes[i], errs[i] = code, out.Error.Code
			}()
		}
		wg.Wait()
		owners := 0
		agents, err := e.store.Agents(context.Background(), e.shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		var demoted int64
		for _, ag := range agents {
			if ag.Role == kefu.RoleOwner && !ag.Disabled {
				owners++
			} else if ag.ID == a.ID || ag.ID == b.ID {
				demoted = ag.ID
			}
		}
		made := 0
		for i, code := range codes {
			switch {
			case code == 200:
				made++
			case (code == 409 && errs[i] == "last_owner") || (code == 403 && errs[i] == "owner_only"):
			default:
				t.Fatalf("round %d: an answer %d %q", round, code, errs[i])
			}
		}
		if made != 1 || owners != 1 {
			t.Fatalf("round %d: %d changes made (%v %v), %d enabled owners left; want 1 and 1", round, made, codes, errs, owners)
		}
		// The one still owner makes the other owner again for the next round.
		keeper := map[int64]string{a.ID: "boss2", b.ID: "boss"}[demoted]
		if code, _, _ := e.patchAgent(e.login("acme", keeper), demoted, map[string]any{"role": "owner"}); code != 200 {
			t.Fatalf("round %d: promote back: %d", round, code)
		}
	}
}

// A disabled agent is out at once: their session gets 401 and their socket
// is closed, they cannot sign in (told so only with the right password),
// routing passes them by, and the conversations they held go back to the
// line, to a colleague with room. Enabled again, they sign in.
func TestDisabledAgentIsOut(t *testing.T) { onEachDatabase(t, testDisabledAgentIsOut) }

func testDisabledAgentIsOut(t *testing.T, e *env) {
	boss := e.addAgent("boss", kefu.RoleOwner)
	wang, li := e.agents["acme/wang"], e.agents["acme/li"]
	owner := e.login("acme", "boss") // with no socket: never routed to
	wangToken := e.login("acme", "wang")
	wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
	wangSock.next("ready")
	b1, ack1 := e.buyerWrites(71, "在吗")
	b2, ack2 := e.buyerWrites(72, "还在吗")
	for _, id := range []int64{ack1.Msg.ConversationID, ack2.Msg.ConversationID} {
		if c, _ := e.store.Conversation(context.Background(), e.shop.ID, id); c.AgentID != wang.ID {
			t.Fatalf("conversation %d went to %d, want wang", id, c.AgentID)
		}
	}
	// li comes online with room for one.
	if err := e.store.SetAgentCap(context.Background(), e.shop.ID, li.ID, 1); err != nil {
		t.Fatal(err)
	}
	liSock := e.dial("/ws/agent", e.login("acme", "li"), e.agentURL())
	liSock.next("ready")

	code, got, out := e.patchAgent(owner, wang.ID, map[string]any{"disabled": true})
	if code != 200 || !got.Disabled || got.Presence != "offline" {
		t.Fatalf("disable wang: %d %+v %+v", code, got, out)
	}
	if code := wangSock.closeStatus(); code != 4401 {
		t.Fatalf("wang's socket closed with %d, want 4401", code)
	}
	var unauth apiErr
	if code := e.do("GET", "/api/v1/me", wangToken, "", nil, &unauth); code != 401 || unauth.Error.Code != "unauthorized" {
		t.Fatalf("wang's session: %d %q, want 401 unauthorized", code, unauth.Error.Code)
	}
	if code := e.dial("/ws/agent", wangToken, e.agentURL()).closeStatus(); code != 4401 {
		t.Fatalf("a new socket on wang's session closed with %d, want 4401", code)
	}

	// The first conversation went to li (room for one), the second waits at the front.
	first, second := ack1.Msg.ConversationID, ack2.Msg.ConversationID
	if c, _ := e.store.Conversation(context.Background(), e.shop.ID, first); c.Status != kefu.StatusAssigned || c.AgentID != li.ID {
		t.Fatalf("wang's first conversation: %+v, want li's", c)
	}
	if c, _ := e.store.Conversation(context.Background(), e.shop.ID, second); c.Status != kefu.StatusQueued || c.Priority != kefu.PriorityReturned {
		t.Fatalf("wang's second conversation: %+v, want queued at the front", c)
	}
	// Each buyer is told, then sees their conversation waiting again.
	for i, b := range []*client{b1, b2} {
		told := false
		for {
			f := b.next("message", "conversation")
			if f.Type == "message" && f.Msg.Code == kefu.SystemRequeued {
				if f.Msg.SenderName != "wang" {
					t.Fatalf("buyer %d told %+v", i, f.Msg)
				}
				told = true
			} else if told && f.Type == "conversation" {
				if f.Conversation.Status != "queued" {
					t.Fatalf("buyer %d's conversation after the line: %+v, want queued", i, f.Conversation)
				}
				break
			}
		}
	}
	for f := b1.next("conversation"); f.Conversation.Status != "assigned" || *f.Conversation.AgentID != li.ID; f = b1.next("conversation") {
	}
	// The log: agent.disabled by the boss, then each conversation requeued for it.
	events, err := e.store.Events(context.Background(), e.shop.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var disabledAt, requeued int
	for i, ev := range events {
		switch {
		case ev.Type == kefu.EventAgentDisabled && ev.AgentID == wang.ID && ev.Actor.ID == boss.ID:
			disabledAt = i
		case ev.Type == kefu.EventRequeued && ev.Data.Reason == "agent_disabled" && ev.AgentID == wang.ID && i > disabledAt && disabledAt > 0:
			requeued++
		}
	}
	if disabledAt == 0 || requeued != 2 {
		t.Fatalf("agent.disabled at %d, %d conversation.requeued after it; want one and 2: %+v", disabledAt, requeued, events)
	}

	// Room goes to others, never back to wang, whose presence is in its grace period.
	if code, _, _ := e.patchAgent(owner, li.ID, map[string]any{"max_concurrent": 2}); code != 200 {
		t.Fatal("li's cap")
	}
	if c, _ := e.store.Conversation(context.Background(), e.shop.ID, second); c.AgentID != li.ID {
		t.Fatalf("wang's second conversation after li got room: %+v, want li's", c)
	}

	// Signing in: the right password is told the account is disabled, a wrong one what anyone is told.
	var refused apiErr
	if code := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"shop": "acme", "username": "wang", "password": password}, &refused); code != 403 ||
		refused.Error.Code != "account_disabled" {
		t.Fatalf("disabled sign-in, right password: %d %q, want 403 account_disabled", code, refused.Error.Code)
	}
	if code := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"shop": "acme", "username": "wang", "password": "wrong-pass"}, &refused); code != 401 ||
		refused.Error.Code != "invalid_credentials" {
		t.Fatalf("disabled sign-in, wrong password: %d %q, want 401 invalid_credentials", code, refused.Error.Code)
	}

	// The list keeps him, marked.
	var list struct{ Agents []agentJSON }
	if code := e.do("GET", "/api/v1/agents", owner, "", nil, &list); code != 200 {
		t.Fatal("list agents")
	}
	found := false
	for _, a := range list.Agents {
		if a.ID == wang.ID {
			found = a.Disabled && a.Presence == "offline"
		} else if a.Disabled {
			t.Fatalf("%s listed disabled", a.Name)
		}
	}
	if !found {
		t.Fatalf("wang not listed disabled and offline: %+v", list.Agents)
	}

	// Enabled again, he signs in and is routed to.
	if code, got, _ := e.patchAgent(owner, wang.ID, map[string]any{"disabled": false}); code != 200 || got.Disabled {
		t.Fatalf("enable wang: %d %+v", code, got)
	}
	again := e.dial("/ws/agent", e.login("acme", "wang"), e.agentURL())
	again.next("ready")
	_, ack3 := e.buyerWrites(73, "你好")
	if c, _ := e.store.Conversation(context.Background(), e.shop.ID, ack3.Msg.ConversationID); c.AgentID != wang.ID {
		t.Fatalf("a new conversation after wang is back went to %d, want wang (li is full)", c.AgentID)
	}
	if events, _ := e.store.Events(context.Background(), e.shop.ID, 0, 0); !hasEvent(events, kefu.EventAgentEnabled, wang.ID) {
		t.Fatal("no agent.enabled event")
	}
}

func hasEvent(events []kefu.Event, typ kefu.EventType, agentID int64) bool {
	for _, ev := range events {
		if ev.Type == typ && ev.AgentID == agentID {
			return true
		}
	}
	return false
}

// A password reset ends the agent's sessions and sockets; the new password
// signs in, the old one no longer does. Owners resetting their own stay
// signed in where they are.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := e.addAgent("boss", kefu.RoleOwner)
	owner := e.login("acme", "boss")
	otherOwnerSession := e.login("acme", "boss")
	wang := e.agents["acme/wang"]
	wangToken := e.login("acme", "wang")
	wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
	wangSock.next("ready")

	if code, _, out := e.patchAgent(owner, wang.ID, map[string]any{"password": "brand-new-pass"}); code != 200 {
		t.Fatalf("reset: %d %+v", code, out)
	}
	if code := wangSock.closeStatus(); code != 4401 {
		t.Fatalf("wang's socket closed with %d, want 4401", code)
	}
	if code := e.do("GET", "/api/v1/me", wangToken, "", nil, nil); code != 401 {
		t.Fatalf("wang's old session: %d, want 401", code)
	}
	var out apiErr
	if code := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"shop": "acme", "username": "wang", "password": password}, &out); code != 401 ||
		out.Error.Code != "invalid_credentials" {
		t.Fatalf("old password: %d %q", code, out.Error.Code)
	}
	if code := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"shop": "acme", "username": "wang", "password": "brand-new-pass"}, nil); code != 200 {
		t.Fatalf("new password: %d", code)
	}

	// The owner's own: this session stays, the other one ends.
	if code, _, out := e.patchAgent(owner, boss.ID, map[string]any{"password": "owner-new-pass"}); code != 200 {
		t.Fatalf("own reset: %d %+v", code, out)
	}
	if code := e.do("GET", "/api/v1/me", owner, "", nil, nil); code != 200 {
		t.Fatalf("the session that reset its own password: %d, want 200", code)
	}
	if code := e.do("GET", "/api/v1/me", otherOwnerSession, "", nil, nil); code != 401 {
		t.Fatalf("the owner's other session: %d, want 401", code)
	}
}

// A role or name change reconnects the agent's sockets (4003), which acted
// with the old ones; the session stays.
func TestRoleChangeReconnectsSockets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAgent("boss", kefu.RoleOwner)
	owner := e.login("acme", "boss")
	wang := e.agents["acme/wang"]
	token := e.login("acme", "wang")
	sock := e.dial("/ws/agent", token, e.agentURL())
	sock.next("ready")
	if code, _, _ := e.patchAgent(owner, wang.ID, map[string]any{"max_concurrent": 3}); code != 200 {
		t.Fatal("cap")
	}
	sock.send(`{"type":"ping"}`)
	sock.next("pong") // a cap change leaves the socket be
	if code, _, _ := e.patchAgent(owner, wang.ID, map[string]any{"role": "supervisor"}); code != 200 {
		t.Fatal("role")
	}
	if code := sock.closeStatus(); code != 4003 {
		t.Fatalf("socket closed with %d, want 4003", code)
	}
	again := e.dial("/ws/agent", token, e.agentURL())
	if f := again.next("ready"); f.Type != "ready" {
		t.Fatal("no ready on the same session")
	}
}

// The owner rotates the identity secret: a signature made with the old one
// is refused at once (even though the shop was cached), one with the new
// one is accepted. Nobody else may rotate it.
func TestRotateIdentitySecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAgent("boss", kefu.RoleOwner)
	e.addAgent("lead", kefu.RoleSupervisor)
	owner := e.login("acme", "boss")
	path := "/api/v1/widget/shops/acme/session"
	signed := func(secret string) map[string]string {
		return map[string]string{"visitor_id": "v_identified1", "buyer_id": "u1", "signature": api.BuyerSignature(secret, "u1")}
	}
	old := e.shop.IdentitySecret
	if code := e.do("POST", path, "", storeOrigin, signed(old), nil); code != 200 {
		t.Fatalf("old secret before rotation: %d", code) // the shop is cached now
	}
	for _, who := range []string{"lead", "wang"} {
		var out apiErr
		if code := e.do("POST", "/api/v1/shop/identity-secret", e.login("acme", who), "", nil, &out); code != 403 || out.Error.Code != "owner_only" {
			t.Fatalf("%s rotates: %d %q, want 403 owner_only", who, code, out.Error.Code)
		}
	}
	var view struct {
		Shop struct {
			Slug           string
			IdentitySecret string `json:"identity_secret"`
		}
	}
	if code := e.do("POST", "/api/v1/shop/identity-secret", owner, "", nil, &view); code != 200 || view.Shop.Slug != "acme" {
		t.Fatalf("rotate: %d %+v", code, view)
	}
	secret := view.Shop.IdentitySecret
	if secret == old || !regexp.MustCompile(`^[0-9a-f]{48}$`).MatchString(secret) {
		t.Fatalf("new secret %q (old %q), want 48 hex digits and a change", secret, old)
	}
	var got struct {
		Shop struct {
			IdentitySecret string `json:"identity_secret"`
		}
	}
	if e.do("GET", "/api/v1/shop", owner, "", nil, &got); got.Shop.IdentitySecret != secret {
		t.Fatalf("GET /shop shows %q, want %q", got.Shop.IdentitySecret, secret)
	}
	var out apiErr
	if code := e.do("POST", path, "", storeOrigin, signed(old), &out); code != 401 || out.Error.Code != "bad_signature" {
		t.Fatalf("old secret after rotation: %d %q, want 401 bad_signature", code, out.Error.Code)
	}
	if code := e.do("POST", path, "", storeOrigin, signed(secret), nil); code != 200 {
		t.Fatalf("new secret: %d", code)
	}
	// Rotating again gives another.
	if e.do("POST", "/api/v1/shop/identity-secret", owner, "", nil, &view); view.Shop.IdentitySecret == secret {
		t.Fatal("a second rotation kept the secret")
	}
}
