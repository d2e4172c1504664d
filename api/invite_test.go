package api_test

import (
	"slices"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Inviting a colleague over REST: the helper's console is told and lists the
// conversation (REST and a new socket's ready frame), the helper writes to
// the buyer over their socket, then leaves and the conversation leaves their
// list; the buyer never sees who helps.
func TestInviteAndLeave(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zhou := e.addAgent("zhou", kefu.RoleAgent)
	wangToken := e.login("acme", "wang")
	wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
	wangSock.next("ready")
	b, ack := e.buyerWrites(71, "发票怎么开")
	conv := ack.Msg.ConversationID
	path := "/api/v1/conversations/" + itoa(conv)

	var out apiErr
	if code := e.do("POST", path+"/invite", wangToken, "", map[string]any{}, &out); code != 400 || out.Error.Code != "invalid_agent_id" {
		t.Fatalf("no agent: %d %q", code, out.Error.Code)
	}
	if code := e.do("POST", path+"/invite", wangToken, "", map[string]any{"agent_id": zhou.ID}, &out); code != 409 || out.Error.Code != "agent_unavailable" {
		t.Fatalf("an offline colleague: %d %q", code, out.Error.Code)
	}
	zhouToken := e.login("acme", "zhou")
	zhouSock := e.dial("/ws/agent", zhouToken, e.agentURL())
	zhouSock.next("ready")
	var got struct{ Conversation protocol.Conversation }
	if code := e.do("POST", path+"/invite", wangToken, "", map[string]any{"agent_id": zhou.ID}, &got); code != 200 ||
		!slices.Equal(got.Conversation.HelperIDs, []int64{zhou.ID}) {
		t.Fatalf("invite: %d %+v", code, got.Conversation)
	}
	if code := e.do("POST", path+"/invite", wangToken, "", map[string]any{"agent_id": zhou.ID}, &out); code != 409 || out.Error.Code != "cannot_invite" {
		t.Fatalf("twice: %d %q", code, out.Error.Code)
	}
	f := zhouSock.next("conversation")
	if f.Conversation.ID != conv || !slices.Equal(f.Conversation.HelperIDs, []int64{zhou.ID}) {
		t.Fatalf("the helper's frame: %+v", f.Conversation)
	}
	var list struct{ Conversations []protocol.Conversation }
	if e.do("GET", "/api/v1/conversations?mine=true", zhouToken, "", nil, &list); len(list.Conversations) != 1 || list.Conversations[0].ID != conv {
		t.Fatalf("the helper's own list: %+v", list.Conversations)
	}
	second := e.dial("/ws/agent", zhouToken, e.agentURL())
	if r := second.next("ready"); !containsConversation(r.Conversations, conv) {
		t.Fatalf("the helper's ready frame lacks the conversation: %+v", r.Conversations)
	}
	zhouSock.send(sendFrame(conv, "z1", "您好，我是财务，发票可以开"))
	if a := zhouSock.next("ack"); a.Msg.SenderName != "zhou" {
		t.Fatalf("the helper's ack: %+v", a.Msg)
	}
	for {
		m := b.next("message")
		if m.Msg.Code == kefu.SystemJoined && m.Msg.SenderName != "zhou" {
			t.Fatalf("the buyer's joined line: %+v", m.Msg)
		}
		if m.Msg.Sender == "agent" {
			if m.Msg.SenderName != "zhou" {
				t.Fatalf("the buyer got %+v, want the helper's message", m.Msg)
			}
			break
		}
	}

	if code := e.do("POST", path+"/leave", wangToken, "", nil, &out); code != 409 || out.Error.Code != "not_helping" {
		t.Fatalf("the holder leaves: %d %q", code, out.Error.Code)
	}
	got.Conversation = protocol.Conversation{}
	if code := e.do("POST", path+"/leave", zhouToken, "", nil, &got); code != 200 || len(got.Conversation.HelperIDs) != 0 {
		t.Fatalf("leave: %d %+v", code, got.Conversation)
	}
	for {
		f := zhouSock.next("conversation")
		if f.Conversation.ID == conv && len(f.Conversation.HelperIDs) == 0 {
			break
		}
	}
	if e.do("GET", "/api/v1/conversations?mine=true", zhouToken, "", nil, &list); len(list.Conversations) != 0 {
		t.Fatalf("after leaving, the helper lists %+v", list.Conversations)
	}
	// The buyer's frames never carried the helpers.
	for {
		m := b.next("message", "conversation")
		if m.Type == "conversation" && (m.Conversation.HelperIDs != nil || m.Conversation.AwaitingSince != nil) {
			t.Fatalf("the buyer was shown agents-only fields: %+v", m.Conversation)
		}
		if m.Type == "message" && m.Msg.Code == kefu.SystemLeft {
			break
		}
	}
}

// Closed conversations page newest first with before.
func TestHistoryPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wangToken := e.login("acme", "wang")
	wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
	wangSock.next("ready")
	var ids []int64
	for i := range 3 {
		_, ack := e.buyerWrites(80+i, "你好")
		ids = append(ids, ack.Msg.ConversationID)
		if code := e.do("POST", "/api/v1/conversations/"+itoa(ack.Msg.ConversationID)+"/close", wangToken, "", nil, nil); code != 200 {
			t.Fatalf("close: %d", code)
		}
	}
	var page struct{ Conversations []protocol.Conversation }
	e.do("GET", "/api/v1/conversations?status=closed&limit=2", wangToken, "", nil, &page)
	if len(page.Conversations) != 2 || page.Conversations[0].ID != ids[2] || page.Conversations[1].ID != ids[1] {
		t.Fatalf("first page: %+v", page.Conversations)
	}
	e.do("GET", "/api/v1/conversations?status=closed&limit=2&before="+itoa(ids[1]), wangToken, "", nil, &page)
	if len(page.Conversations) != 1 || page.Conversations[0].ID != ids[0] {
		t.Fatalf("second page: %+v", page.Conversations)
	}
	var out apiErr
	if code := e.do("GET", "/api/v1/conversations?before=0", wangToken, "", nil, &out); code != 400 || out.Error.Code != "invalid_before" {
		t.Fatalf("before=0: %d %q", code, out.Error.Code)
	}
}

func containsConversation(list []protocol.Conversation, id int64) bool {
	for _, c := range list {
		if c.ID == id {
			return true
		}
	}
	return false
}

// Groups marked menu are offered in the widget session, in creation order;
// a change shows in the next session on this node.
func TestWidgetMenu(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lead := e.login("acme", e.addAgent("lead", kefu.RoleSupervisor).Username)
	type session struct {
		Menu []struct{ Group, Name string }
	}
	var s session
	path := "/api/v1/widget/shops/acme/session"
	if code := e.do("POST", path, "", storeOrigin, map[string]string{"visitor_id": visitor(90)}, &s); code != 200 || s.Menu == nil || len(s.Menu) != 0 {
		t.Fatalf("no menu groups: %d %+v, want []", code, s.Menu)
	}
	var g struct{ Group struct{ ID int64 } }
	for _, in := range []map[string]any{
		{"slug": "presales", "name": "售前咨询", "menu": true},
		{"slug": "internal", "name": "内部"},
		{"slug": "aftersales", "name": "售后服务", "menu": true},
	} {
		if code := e.do("POST", "/api/v1/groups", lead, "", in, &g); code != 201 {
			t.Fatalf("create group %v: %d", in, code)
		}
	}
	s = session{}
	e.do("POST", path, "", storeOrigin, map[string]string{"visitor_id": visitor(90)}, &s)
	if len(s.Menu) != 2 || s.Menu[0].Group != "presales" || s.Menu[0].Name != "售前咨询" || s.Menu[1].Group != "aftersales" {
		t.Fatalf("menu %+v, want presales then aftersales", s.Menu)
	}
	// Replacing the last group without menu takes it out.
	if code := e.do("PUT", "/api/v1/groups/"+itoa(g.Group.ID), lead, "", map[string]any{"name": "售后服务"}, nil); code != 200 {
		t.Fatalf("update: %d", code)
	}
	s = session{}
	e.do("POST", path, "", storeOrigin, map[string]string{"visitor_id": visitor(90)}, &s)
	if len(s.Menu) != 1 || s.Menu[0].Group != "presales" {
		t.Fatalf("after the update the menu is %+v, want presales alone", s.Menu)
	}
}
