package conversation_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// lastConversationFrame is the last conversation frame about id a recorder got.
func lastConversationFrame(t *testing.T, r *frameRecorder, id int64) (frame struct {
	Status    string  `json:"status"`
	HelperIDs []int64 `json:"helper_ids"`
}, ok bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.frames {
		var cf struct {
			Type         string `json:"type"`
			Conversation struct {
				ID        int64   `json:"id"`
				Status    string  `json:"status"`
				HelperIDs []int64 `json:"helper_ids"`
			} `json:"conversation"`
		}
		if json.Unmarshal(f, &cf) == nil && cf.Type == "conversation" && cf.Conversation.ID == id {
			frame.Status, frame.HelperIDs, ok = cf.Conversation.Status, cf.Conversation.HelperIDs, true
		}
	}
	return frame, ok
}

// An invited agent (多方洽谈) is told of the conversation, reads and writes it
// beside its holder without it counting against their cap, cannot close or
// hand it on, and once they leave can no longer write; the buyer is told
// both, and each is an event.
func TestInvitedAgentHelpsUntilTheyLeave(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 1)
	x := ts.writes("x", kefu.Entry{})
	b := ts.online("b", 1)
	y := ts.writes("y", kefu.Entry{})
	if x.AgentID != a.ID || ts.conv(y.ID).AgentID != b.ID {
		t.Fatalf("x with %d, y with %d; want a's and b's", x.AgentID, ts.conv(y.ID).AgentID)
	}
	c := ts.online("c", 5)
	helperSock, buyerSock := &frameRecorder{}, &frameRecorder{}
	ts.broker.Subscribe(conversation.AgentTopic(b.ID), helperSock)
	ts.broker.Subscribe(conversation.BuyerTopic(x.BuyerID), buyerSock)

	// b is full (cap 1, holding y) and may still help: helping takes no slot.
	conv, err := ts.svc.Invite(ctx, conversation.AgentActor(a), x.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !conv.Helps(b.ID) || !ts.conv(x.ID).Helps(b.ID) {
		t.Fatalf("after the invitation helpers are %v, want b (%d)", ts.conv(x.ID).HelperIDs, b.ID)
	}
	if f, ok := lastConversationFrame(t, helperSock, x.ID); !ok || len(f.HelperIDs) != 1 || f.HelperIDs[0] != b.ID {
		t.Errorf("b's socket: conversation frame %+v (got one: %v), want one naming b as helper", f, ok)
	}
	if _, ok := lastConversationFrame(t, buyerSock, x.ID); ok {
		buyerSock.mu.Lock()
		for _, f := range buyerSock.frames {
			if json.Valid(f) && containsKey(f, "helper_ids") {
				t.Errorf("the buyer was sent the helpers: %s", f)
			}
		}
		buyerSock.mu.Unlock()
	}
	helper := conversation.AgentActor(b)
	if _, _, err := ts.svc.Send(ctx, helper, x.ID, "h1", "我来补充一下"); err != nil {
		t.Fatalf("the helper's message: %v", err)
	}
	if _, err := ts.svc.Conversation(ctx, conversation.AgentActor(c), x.ID); !errors.Is(err, conversation.ErrForbidden) {
		t.Errorf("an agent not in it reads it: %v, want forbidden", err)
	}
	if _, err := ts.svc.Close(ctx, helper, x.ID); !errors.Is(err, conversation.ErrForbidden) {
		t.Errorf("the helper closes it: %v, want forbidden", err)
	}
	if _, err := ts.svc.Transfer(ctx, helper, x.ID, kefu.Transfer{ToAgentID: c.ID}); !errors.Is(err, conversation.ErrForbidden) {
		t.Errorf("the helper transfers it: %v, want forbidden", err)
	}
	if _, err := ts.svc.Invite(ctx, helper, x.ID, c.ID); !errors.Is(err, conversation.ErrForbidden) {
		t.Errorf("the helper invites another: %v, want forbidden", err)
	}
	if n, _ := ts.st.ActiveConversations(ctx, ts.shop.ID, b.ID); n != 1 {
		t.Errorf("b holds %d conversations, want 1 (helping counts for none)", n)
	}

	if _, err := ts.svc.Leave(ctx, helper, x.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.svc.Send(ctx, helper, x.ID, "h2", "还在吗"); !errors.Is(err, conversation.ErrForbidden) {
		t.Errorf("a helper who left writes: %v, want forbidden", err)
	}
	if f, ok := lastConversationFrame(t, helperSock, x.ID); !ok || len(f.HelperIDs) != 0 {
		t.Errorf("b's socket after leaving: %+v, want a conversation frame without helpers", f)
	}
	if _, err := ts.svc.Leave(ctx, helper, x.ID); !errors.Is(err, conversation.ErrNotHelping) {
		t.Errorf("leaving twice: %v, want not helping", err)
	}

	msgs, _, err := ts.st.Messages(ctx, ts.shop.ID, x.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, m := range msgs {
		if m.Kind == kefu.KindSystem {
			codes = append(codes, m.Code)
		}
	}
	if want := []string{kefu.SystemAssigned, kefu.SystemJoined, kefu.SystemLeft}; !slices.Equal(codes, want) {
		t.Errorf("system lines %v, want %v", codes, want)
	}
	events, err := ts.st.Events(ctx, ts.shop.ID, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	var invited, left bool
	for _, e := range events {
		switch {
		case e.Type == kefu.EventInvited && e.ConversationID == x.ID:
			invited = e.AgentID == b.ID && e.Actor == kefu.ActorRef{Kind: kefu.SenderAgent, ID: a.ID}
		case e.Type == kefu.EventLeft && e.ConversationID == x.ID:
			left = e.AgentID == b.ID && e.Actor == kefu.ActorRef{Kind: kefu.SenderAgent, ID: b.ID}
		}
	}
	if !invited || !left {
		t.Errorf("events: invited %v, left %v; want both, naming b and who did it", invited, left)
	}
}

// Invitations that cannot be: the holder, an agent twice, an offline one, a
// conversation still waiting, more than kefu.MaxHelpers; a supervisor may
// invite into any held conversation.
func TestInvitationsRefused(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
	x := ts.writes("x", kefu.Entry{})
	holder := conversation.AgentActor(a)
	if _, err := ts.svc.Invite(ctx, holder, x.ID, a.ID); !errors.Is(err, conversation.ErrCannotInvite) {
		t.Errorf("inviting the holder: %v, want cannot invite", err)
	}
	off := ts.agent("off", 5)
	if _, err := ts.svc.Invite(ctx, holder, x.ID, off.ID); !errors.Is(err, conversation.ErrAgentUnavailable) {
		t.Errorf("inviting an offline agent: %v, want unavailable", err)
	}
	var helpers []kefu.Agent
	for i := range kefu.MaxHelpers + 1 {
		helpers = append(helpers, ts.online("h"+itoa(i), 5))
	}
	if _, err := ts.svc.Invite(ctx, holder, x.ID, helpers[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.svc.Invite(ctx, holder, x.ID, helpers[0].ID); !errors.Is(err, conversation.ErrCannotInvite) {
		t.Errorf("inviting a helper twice: %v, want cannot invite", err)
	}
	sup, err := ts.st.CreateAgent(ctx, kefu.Agent{ShopID: ts.shop.ID, Username: "sup", Name: "sup", Role: kefu.RoleSupervisor, PasswordHash: "-", MaxConcurrent: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range helpers[1:kefu.MaxHelpers] {
		if _, err := ts.svc.Invite(ctx, conversation.AgentActor(sup), x.ID, h.ID); err != nil {
			t.Fatalf("a supervisor invites: %v", err)
		}
	}
	if _, err := ts.svc.Invite(ctx, holder, x.ID, helpers[kefu.MaxHelpers].ID); !errors.Is(err, conversation.ErrCannotInvite) {
		t.Errorf("a helper over %d: %v, want cannot invite", kefu.MaxHelpers, err)
	}
	if got := ts.conv(x.ID).HelperIDs; len(got) != kefu.MaxHelpers {
		t.Errorf("helpers %v, want %d", got, kefu.MaxHelpers)
	}
	for _, ag := range append(helpers, a) {
		ts.svc.SetPresence(ctx, ag, kefu.PresenceAway)
	}
	w := ts.writes("w", kefu.Entry{}) // everyone is away: w waits
	if _, err := ts.svc.Invite(ctx, conversation.AgentActor(sup), w.ID, helpers[0].ID); !errors.Is(err, conversation.ErrNotAssigned) {
		t.Errorf("inviting into a waiting conversation: %v, want not assigned", err)
	}
}

// Helpers go with the holder: a close, the holder's departure (the
// conversation back in line) and a helper taking it over each leave no one
// helping who should not.
func TestHelpersEndWithTheConversation(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
	b := ts.online("b", 5)
	sup, err := ts.st.CreateAgent(ctx, kefu.Agent{ShopID: ts.shop.ID, Username: "sup", Name: "sup", Role: kefu.RoleSupervisor, PasswordHash: "-", MaxConcurrent: 5})
	if err != nil {
		t.Fatal(err)
	}
	ts.svc.AgentConnected(ctx, sup)
	ts.svc.SetPresence(ctx, sup, kefu.PresenceAway) // reachable, not routed to
	ts.svc.SetPresence(ctx, b, kefu.PresenceAway)
	x := ts.writes("x", kefu.Entry{})
	y := ts.writes("y", kefu.Entry{})
	z := ts.writes("z", kefu.Entry{})
	for _, id := range []int64{x.ID, y.ID, z.ID} {
		if ts.conv(id).AgentID != a.ID {
			t.Fatalf("conversation %d went to %d, want a", id, ts.conv(id).AgentID)
		}
		if _, err := ts.svc.Invite(ctx, conversation.AgentActor(a), id, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.svc.Invite(ctx, conversation.AgentActor(a), z.ID, sup.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(a), x.ID); err != nil {
		t.Fatal(err)
	}
	if got := ts.conv(x.ID); len(got.HelperIDs) != 0 {
		t.Errorf("closed, x still has helpers %v", got.HelperIDs)
	}
	if _, err := ts.svc.TakeOver(ctx, conversation.AgentActor(sup), z.ID); err != nil {
		t.Fatal(err)
	}
	if got := ts.conv(z.ID); got.AgentID != sup.ID || !slices.Equal(got.HelperIDs, []int64{b.ID}) {
		t.Errorf("taken over by its helper: z with %d, helpers %v; want sup holding, b still helping", got.AgentID, got.HelperIDs)
	}
	ts.svc.AgentDisconnected(ctx, a)
	ts.clock.Advance(conversation.DefaultPresenceGrace)
	ts.svc.Tick(ctx)
	if got := ts.conv(y.ID); got.Status != kefu.StatusQueued || len(got.HelperIDs) != 0 {
		t.Errorf("a left: y is %s with helpers %v, want waiting with none", got.Status, got.HelperIDs)
	}
}

// containsKey reports whether a JSON object has key anywhere inside.
func containsKey(frame []byte, key string) bool {
	var v any
	if json.Unmarshal(frame, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == key || walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// A helper hears a conversation close (its farewell and the closed frame),
// then is let go; a disabled agent cannot be invited and stops helping where
// they were, with the buyer told.
func TestHelpersHearTheCloseAndDisabledAgentsStopHelping(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
	b := ts.online("b", 5)
	ts.svc.SetPresence(ctx, b, kefu.PresenceAway)
	x := ts.writes("x", kefu.Entry{})
	y := ts.writes("y", kefu.Entry{})
	for _, id := range []int64{x.ID, y.ID} {
		if _, err := ts.svc.Invite(ctx, conversation.AgentActor(a), id, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	helperSock := &frameRecorder{}
	ts.broker.Subscribe(conversation.AgentTopic(b.ID), helperSock)
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(a), x.ID); err != nil {
		t.Fatal(err)
	}
	f, ok := lastConversationFrame(t, helperSock, x.ID)
	if !ok || f.Status != "closed" || len(f.HelperIDs) != 0 {
		t.Fatalf("the helper's last frame about the closed conversation: %+v (got one: %v), want closed without helpers", f, ok)
	}
	if !containsCode(helperSock, kefu.SystemClosed) {
		t.Error("the helper did not get the farewell line")
	}

	owner, err := ts.st.CreateAgent(ctx, kefu.Agent{ShopID: ts.shop.ID, Username: "boss", Name: "boss", Role: kefu.RoleOwner, PasswordHash: "-"})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := ts.svc.UpdateAgent(ctx, owner, b.ID, kefu.AgentChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if got := ts.conv(y.ID); len(got.HelperIDs) != 0 {
		t.Errorf("b was disabled and still helps in y: %v", got.HelperIDs)
	}
	msgs, _, err := ts.st.Messages(ctx, ts.shop.ID, y.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if last := msgs[len(msgs)-1]; last.Code != kefu.SystemLeft || last.SenderName != "b" {
		t.Errorf("y's last line %+v, want b left", last)
	}
	if _, _, err := ts.svc.Send(ctx, conversation.AgentActor(b), y.ID, "b1", "还在"); !errors.Is(err, conversation.ErrForbidden) {
		t.Errorf("the disabled helper writes: %v, want forbidden", err)
	}
	if _, err := ts.svc.Invite(ctx, conversation.AgentActor(a), y.ID, b.ID); !errors.Is(err, conversation.ErrAgentUnavailable) {
		t.Errorf("inviting a disabled agent: %v, want unavailable", err)
	}
	// An owner disabled meanwhile has lost the right to change accounts.
	if _, err := ts.svc.UpdateAgent(ctx, owner, owner.ID, kefu.AgentChange{Disabled: &yes}); err == nil {
		t.Fatal("an owner disabled themselves")
	}
	second, err := ts.st.CreateAgent(ctx, kefu.Agent{ShopID: ts.shop.ID, Username: "boss2", Name: "boss2", Role: kefu.RoleOwner, PasswordHash: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.svc.UpdateAgent(ctx, second, owner.ID, kefu.AgentChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	name := "hijack"
	if _, err := ts.svc.UpdateAgent(ctx, owner, a.ID, kefu.AgentChange{Name: &name}); !errors.Is(err, conversation.ErrForbidden) {
		t.Errorf("a change by an owner disabled since they were read: %v, want forbidden", err)
	}
}

// containsCode reports whether a recorder got a message frame with a system code.
func containsCode(r *frameRecorder, code string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.frames {
		var mf struct {
			Type    string `json:"type"`
			Message struct {
				Code string `json:"code"`
			} `json:"message"`
		}
		if json.Unmarshal(f, &mf) == nil && mf.Type == "message" && mf.Message.Code == code {
			return true
		}
	}
	return false
}
