package api_test

import (
	"context"
	"testing"

	"github.com/kefu/kefu"
)

// Groups and caps are set by owners and supervisors, validated, scoped to the shop.
func TestGroupsAndCapsREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := e.addAgent("boss", kefu.RoleOwner)
	e.addAgent("lead", kefu.RoleSupervisor)
	owner, lead, plain := e.login("acme", "boss"), e.login("acme", "lead"), e.login("acme", "wang")
	wang := e.agents["acme/wang"]
	other := e.seedShop("other", "http://other.example", "zhao")

	type group struct {
		ID      int64
		Slug    string
		Name    string
		Scope   string
		Members []struct {
			AgentID int64 `json:"agent_id"`
			Weight  int
		}
	}
	var created struct{ Group group }
	body := map[string]any{"slug": "aftersales", "name": "售后", "scope": "aftersales",
		"members": []map[string]any{{"agent_id": wang.ID, "weight": 2}, {"agent_id": boss.ID}}}
	if code := e.do("POST", "/api/v1/groups", owner, "", body, &created); code != 201 ||
		created.Group.Slug != "aftersales" || len(created.Group.Members) != 2 || created.Group.Members[0].Weight+created.Group.Members[1].Weight != 3 {
		t.Fatalf("create: %d %+v", code, created)
	}
	path := "/api/v1/groups/" + itoa(created.Group.ID)

	cases := []struct {
		name, method, path, token string
		body                      any
		wantCode                  int
		wantErr                   string
	}{
		{"a plain agent may not create", "POST", "/api/v1/groups", plain, map[string]any{"slug": "x", "name": "x"}, 403, "supervisor_only"},
		{"a plain agent may not change caps", "PATCH", "/api/v1/agents/" + itoa(wang.ID), plain, map[string]any{"max_concurrent": 9}, 403, "supervisor_only"},
		{"bad slug", "POST", "/api/v1/groups", lead, map[string]any{"slug": "售前", "name": "售前"}, 400, "invalid_slug"},
		{"no name", "POST", "/api/v1/groups", lead, map[string]any{"slug": "pre", "name": " "}, 400, "invalid_name"},
		{"bad scope", "POST", "/api/v1/groups", lead, map[string]any{"slug": "pre", "name": "售前", "scope": "vip"}, 400, "invalid_scope"},
		{"weight too high", "POST", "/api/v1/groups", lead, map[string]any{"slug": "pre", "name": "售前", "members": []map[string]any{{"agent_id": wang.ID, "weight": 101}}}, 400, "invalid_weight"},
		{"a member twice", "POST", "/api/v1/groups", lead, map[string]any{"slug": "pre", "name": "售前", "members": []map[string]any{{"agent_id": wang.ID}, {"agent_id": wang.ID}}}, 400, "invalid_members"},
		{"a member of another shop", "POST", "/api/v1/groups", lead, map[string]any{"slug": "pre", "name": "售前", "members": []map[string]any{{"agent_id": e.agents["other/zhao"].ID}}}, 404, "not_found"},
		{"a slug taken", "POST", "/api/v1/groups", lead, map[string]any{"slug": "aftersales", "name": "again"}, 409, "group_conflict"},
		{"cap out of range", "PATCH", "/api/v1/agents/" + itoa(wang.ID), lead, map[string]any{"max_concurrent": 0}, 400, "invalid_max_concurrent"},
		{"another shop's agent", "PATCH", "/api/v1/agents/" + itoa(e.agents["other/zhao"].ID), lead, map[string]any{"max_concurrent": 3}, 404, "not_found"},
		{"another shop's group", "DELETE", "/api/v1/groups/999999", lead, nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out apiErr
			if code := e.do(tc.method, tc.path, tc.token, "", tc.body, &out); code != tc.wantCode || out.Error.Code != tc.wantErr {
				t.Fatalf("%s %s: %d %q, want %d %q", tc.method, tc.path, code, out.Error.Code, tc.wantCode, tc.wantErr)
			}
		})
	}
	// Nothing half-written: the refused creates left only the first group.
	var list struct{ Groups []group }
	if code := e.do("GET", "/api/v1/groups", plain, "", nil, &list); code != 200 || len(list.Groups) != 1 {
		t.Fatalf("list: %d %+v, want the one group", code, list)
	}
	var updated struct{ Group group }
	if code := e.do("PUT", path, lead, "", map[string]any{"name": "售后组", "scope": "aftersales",
		"members": []map[string]any{{"agent_id": wang.ID}}}, &updated); code != 200 || updated.Group.Name != "售后组" ||
		len(updated.Group.Members) != 1 || updated.Group.Members[0].Weight != 1 {
		t.Fatalf("update: %d %+v", code, updated)
	}
	var agent struct {
		Agent struct {
			MaxConcurrent int `json:"max_concurrent"`
		}
	}
	if code := e.do("PATCH", "/api/v1/agents/"+itoa(wang.ID), lead, "", map[string]any{"max_concurrent": 8}, &agent); code != 200 || agent.Agent.MaxConcurrent != 8 {
		t.Fatalf("cap: %d %+v", code, agent)
	}
	var shop struct {
		Shop struct {
			Routing struct {
				StickyDays int `json:"sticky_days"`
			}
		}
	}
	if code := e.do("GET", "/api/v1/shop", plain, "", nil, &shop); code != 200 || shop.Shop.Routing.StickyDays != 3 {
		t.Fatalf("a new shop's sticky days: %d %+v, want 3", code, shop)
	}
	if code := e.do("PUT", "/api/v1/shop/routing", lead, "", map[string]any{"sticky_days": 7}, &shop); code != 200 || shop.Shop.Routing.StickyDays != 7 {
		t.Fatalf("set sticky days: %d %+v", code, shop)
	}
	var both struct {
		Shop struct {
			Routing struct {
				StickyDays       int `json:"sticky_days"`
				AutoCloseMinutes int `json:"auto_close_minutes"`
			}
		}
	}
	if code := e.do("PUT", "/api/v1/shop/routing", lead, "", map[string]any{"auto_close_minutes": 30}, &both); code != 200 ||
		both.Shop.Routing.AutoCloseMinutes != 30 || both.Shop.Routing.StickyDays != 7 {
		t.Fatalf("set auto close, keep sticky days: %d %+v", code, both)
	}
	var refused apiErr
	if code := e.do("PUT", "/api/v1/shop/routing", lead, "", map[string]any{"auto_close_minutes": -1}, &refused); code != 400 || refused.Error.Code != "invalid_auto_close_minutes" {
		t.Fatalf("auto close -1: %d %q", code, refused.Error.Code)
	}
	if code := e.do("PUT", "/api/v1/shop/routing", lead, "", map[string]any{"sticky_days": 91}, &refused); code != 400 || refused.Error.Code != "invalid_sticky_days" {
		t.Fatalf("sticky days 91: %d %q", code, refused.Error.Code)
	}
	var reassign struct {
		Shop struct {
			Routing struct {
				ReassignSeconds int `json:"reassign_seconds"`
			}
		}
	}
	if code := e.do("PUT", "/api/v1/shop/routing", lead, "", map[string]any{"reassign_seconds": 300}, &reassign); code != 200 || reassign.Shop.Routing.ReassignSeconds != 300 {
		t.Fatalf("set reassign seconds: %d %+v", code, reassign)
	}
	if code := e.do("PUT", "/api/v1/shop/routing", lead, "", map[string]any{"reassign_seconds": 3601}, &refused); code != 400 || refused.Error.Code != "invalid_reassign_seconds" {
		t.Fatalf("reassign seconds 3601: %d %q", code, refused.Error.Code)
	}
	_, ack := e.buyerWrites(41, "在吗")
	buyerID := ack.Msg.SenderID
	var routing struct {
		Routing struct {
			DedicatedAgentID int64 `json:"dedicated_agent_id"`
			VIP              bool
		}
	}
	if code := e.do("PUT", "/api/v1/buyers/"+itoa(buyerID)+"/routing", lead, "", map[string]any{"dedicated_agent_id": wang.ID, "vip": true}, &routing); code != 200 ||
		routing.Routing.DedicatedAgentID != wang.ID || !routing.Routing.VIP {
		t.Fatalf("buyer routing: %d %+v", code, routing)
	}
	if code := e.do("PUT", "/api/v1/buyers/"+itoa(buyerID)+"/routing", lead, "", map[string]any{"dedicated_agent_id": e.agents["other/zhao"].ID}, &refused); code != 404 {
		t.Fatalf("another shop's agent as dedicated: %d %q, want 404", code, refused.Error.Code)
	}
	if code := e.do("PUT", "/api/v1/buyers/"+itoa(buyerID)+"/routing", plain, "", map[string]any{"vip": false}, &refused); code != 403 {
		t.Fatalf("a plain agent set buyer routing: %d", code)
	}
	if code := e.do("DELETE", path, owner, "", nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if groups, err := e.store.Groups(context.Background(), other.ID); err != nil || len(groups) != 0 {
		t.Fatalf("other shop's groups: %+v, %v", groups, err)
	}
}

// The buyer's first send names the store page's group; the conversation goes
// to that group's agent. A malformed group is refused and nothing is stored.
func TestSendFrameGroupRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	li := e.addAgent("zhou", kefu.RoleAgent)
	if _, err := e.store.CreateGroup(context.Background(), kefu.Group{ShopID: e.shop.ID, Slug: "aftersales", Name: "售后",
		Scope: kefu.ScopeAfterSales, Members: []kefu.GroupMember{{AgentID: li.ID, Weight: 1}}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"wang", "zhou"} {
		e.dial("/ws/agent", e.login("acme", name), e.agentURL()).next("ready")
	}
	b := e.dial("/ws/buyer", e.buyerToken("acme", visitor(51)), storeOrigin)
	b.next("ready")
	bad := sendFrame(0, "c0", "在吗")
	bad["group"] = "售后"
	b.send(bad)
	if f := b.next("error"); f.Code != "invalid_frame" {
		t.Fatalf("malformed group: %+v", f)
	}
	f := sendFrame(0, "c1", "在吗")
	f["group"] = "aftersales"
	b.send(f)
	ack := b.next("ack")
	c, err := e.store.Conversation(context.Background(), e.shop.ID, ack.Msg.ConversationID)
	if err != nil || c.AgentID != li.ID || c.GroupID == 0 {
		t.Fatalf("conversation %+v (%v), want it in the after-sales group with zhou %d", c, err, li.ID)
	}
	if ack.Msg.Seq != 1 {
		t.Fatalf("the refused frame stored something: the first message has seq %d", ack.Msg.Seq)
	}
}

// An agent hands a conversation to a colleague with a note the colleague
// sees and the buyer never does, or to the front of a group's line, never
// back to themselves.
func TestTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zhou := e.addAgent("zhou", kefu.RoleAgent)
	wang := e.agents["acme/wang"]
	wangToken := e.login("acme", "wang")
	wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
	wangSock.next("ready")
	b, ack := e.buyerWrites(61, "我要退货")
	conv := ack.Msg.ConversationID
	path := "/api/v1/conversations/" + itoa(conv) + "/transfer"
	if c, _ := e.store.Conversation(context.Background(), e.shop.ID, conv); c.AgentID != wang.ID {
		t.Fatalf("conversation went to %d, want wang", c.AgentID)
	}

	var out apiErr
	if code := e.do("POST", path, wangToken, "", map[string]any{"agent_id": zhou.ID, "group_id": 1}, &out); code != 400 || out.Error.Code != "invalid_transfer" {
		t.Fatalf("both targets: %d %q", code, out.Error.Code)
	}
	if code := e.do("POST", path, wangToken, "", map[string]any{"agent_id": zhou.ID}, &out); code != 409 || out.Error.Code != "agent_unavailable" {
		t.Fatalf("to an agent who is offline: %d %q", code, out.Error.Code)
	}
	zhouToken := e.login("acme", "zhou")
	zhouSock := e.dial("/ws/agent", zhouToken, e.agentURL())
	zhouSock.next("ready")
	if code := e.do("POST", path, zhouToken, "", map[string]any{"agent_id": zhou.ID}, &out); code != 403 {
		t.Fatalf("by an agent who does not hold it: %d %q", code, out.Error.Code)
	}
	var moved struct {
		Conversation struct {
			AgentID  int64 `json:"agent_id"`
			Transfer *struct {
				FromAgentID int64 `json:"from_agent_id"`
				Note        string
			}
		}
	}
	if code := e.do("POST", path, wangToken, "", map[string]any{"agent_id": zhou.ID, "note": "买家要退货，订单 123"}, &moved); code != 200 ||
		moved.Conversation.AgentID != zhou.ID || moved.Conversation.Transfer == nil || moved.Conversation.Transfer.Note != "买家要退货，订单 123" {
		t.Fatalf("transfer: %d %+v", code, moved)
	}
	// The colleague sees the note; the agent who handed it over is told; the buyer is told where, not the note.
	f := zhouSock.next("conversation")
	if f.Conversation.Transfer == nil || f.Conversation.Transfer.FromAgentID != wang.ID || f.Conversation.Transfer.Note != "买家要退货，订单 123" {
		t.Fatalf("the new agent's frame: %+v", f.Conversation)
	}
	// The old agent heard of the assignment first, then of the transfer.
	old := wangSock.next("conversation")
	for old.Conversation.LastSeq < 3 {
		old = wangSock.next("conversation")
	}
	if old.Conversation.AgentID == nil || *old.Conversation.AgentID != zhou.ID {
		t.Fatalf("the old agent's frame: %+v", old.Conversation)
	}
	line := b.next("message")
	for line.Msg.Code != kefu.SystemTransferred {
		line = b.next("message")
	}
	if line.Msg.SenderName != "zhou" {
		t.Fatalf("the buyer's line: %+v", line.Msg)
	}
	bf := b.next("conversation")
	for bf.Conversation.LastSeq < 3 {
		bf = b.next("conversation")
	}
	if bf.Conversation.Transfer != nil || *bf.Conversation.AgentID != zhou.ID {
		t.Fatalf("the buyer's frame: %+v, want zhou's without the note", bf.Conversation)
	}

	// To a group whose members are zhou and wang: zhou hands it over, wang takes it.
	g, err := e.store.CreateGroup(context.Background(), kefu.Group{ShopID: e.shop.ID, Slug: "aftersales", Name: "售后",
		Members: []kefu.GroupMember{{AgentID: zhou.ID, Weight: 5}, {AgentID: wang.ID, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if code := e.do("POST", path, zhouToken, "", map[string]any{"group_id": g.ID, "note": "请售后处理"}, &moved); code != 200 {
		t.Fatalf("transfer to a group: %d", code)
	}
	c, _ := e.store.Conversation(context.Background(), e.shop.ID, conv)
	if c.AgentID != wang.ID || c.GroupID != g.ID || c.TransferNote != "请售后处理" {
		t.Fatalf("after the transfer to the group: %+v, want wang's (zhou handed it over, however heavy their weight)", c)
	}
}

// An owner or supervisor takes a colleague's conversation themselves,
// whatever their own load; a plain agent may not.
func TestSupervisorTakesOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lead := e.addAgent("lead", kefu.RoleSupervisor)
	e.addAgent("zhou", kefu.RoleAgent)
	wangSock := e.dial("/ws/agent", e.login("acme", "wang"), e.agentURL())
	wangSock.next("ready")
	_, ack := e.buyerWrites(71, "投诉")
	path := "/api/v1/conversations/" + itoa(ack.Msg.ConversationID) + "/takeover"
	var out apiErr
	if code := e.do("POST", path, e.login("acme", "zhou"), "", nil, &out); code != 403 {
		t.Fatalf("a plain agent took over: %d %q", code, out.Error.Code)
	}
	if err := e.store.SetAgentCap(context.Background(), e.shop.ID, lead.ID, 1); err != nil {
		t.Fatal(err)
	}
	var taken struct {
		Conversation struct {
			AgentID int64 `json:"agent_id"`
		}
	}
	if code := e.do("POST", path, e.login("acme", "lead"), "", nil, &taken); code != 200 || taken.Conversation.AgentID != lead.ID {
		t.Fatalf("take over: %d %+v", code, taken)
	}
	// Again, at their cap of 1 and holding it: nothing changes.
	if code := e.do("POST", path, e.login("acme", "lead"), "", nil, &taken); code != 200 || taken.Conversation.AgentID != lead.ID {
		t.Fatalf("take over twice: %d %+v", code, taken)
	}
	f := wangSock.next("conversation")
	for f.Conversation.AgentID == nil || *f.Conversation.AgentID != lead.ID {
		f = wangSock.next("conversation")
	}
}
