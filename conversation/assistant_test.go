package conversation_test

import (
	"context"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// answersAll is an assistant that answers every new conversation first.
type answersAll struct{}

func (answersAll) AnswersFirst(context.Context, kefu.Shop, int64, kefu.Entry) bool { return true }

// With the bot-first hook filled, a new buyer's conversation waits for the
// assistant, however idle the agents, with no place in line; a returning
// buyer still goes to their agent of the last days; one waiting for the
// assistant never holds up its group's line, even for the group's last free
// slot; and once a person takes it, its agent's departure puts it back in
// the group's line like any other.
func TestAssistantFirst(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 2)
	g := ts.group("g", a)
	old := ts.writes("old", kefu.Entry{Group: "g"})
	if old.AgentID != a.ID {
		t.Fatalf("without an assistant the conversation went to %d, want a", old.AgentID)
	}
	if _, err := ts.svc.Close(ctx, conversation.AgentActor(a), old.ID); err != nil {
		t.Fatal(err)
	}
	ts.svc.SetAssistant(answersAll{})
	fresh := ts.writes("fresh", kefu.Entry{Group: "g"})
	if c := ts.conv(fresh.ID); c.Status != kefu.StatusQueued || c.GroupID != g.ID {
		t.Fatalf("a new buyer with the assistant first: %s with %d, want waiting for it", c.Status, c.AgentID)
	}
	if n, _ := ts.st.QueuePosition(ctx, ts.conv(fresh.ID)); n != 0 {
		t.Errorf("the assistant's conversation has place %d in line, want none", n)
	}
	returning := conversation.BuyerActor(kefu.Buyer{ID: old.BuyerID, ShopID: ts.shop.ID})
	returning.Entry = kefu.Entry{Group: "g"}
	m, _, err := ts.svc.Send(ctx, returning, 0, "again", "又是我")
	if err != nil {
		t.Fatal(err)
	}
	if c := ts.conv(m.ConversationID); c.ID == old.ID || c.AgentID != a.ID {
		t.Fatalf("the returning buyer's new conversation %d is with %d, want a new one with their agent a", c.ID, c.AgentID)
	}
	// a has one slot left: a buyer without the assistant (it is gone) gets
	// it, though the assistant's conversation is ahead of them.
	ts.svc.SetAssistant(nil)
	later := ts.writes("later", kefu.Entry{Group: "g"})
	if later.AgentID != a.ID {
		t.Fatalf("the group's last slot went to %d, want the later buyer (the assistant's conversation waits apart)", later.AgentID)
	}
	if n, _ := ts.st.QueuePosition(ctx, ts.conv(fresh.ID)); n != 0 {
		t.Errorf("still waiting for the assistant: place %d", n)
	}
	// A person takes the assistant's conversation; when they leave, it goes
	// back to the group's line, and the group's next free agent gets it.
	if _, err := ts.svc.Accept(ctx, conversation.AgentActor(a), fresh.ID); err != nil {
		t.Fatal(err)
	}
	b := ts.online("b", 5)
	if _, err := ts.st.UpdateGroup(ctx, kefu.Group{ID: g.ID, ShopID: ts.shop.ID, Name: "g",
		Members: []kefu.GroupMember{{AgentID: a.ID, Weight: 1}, {AgentID: b.ID, Weight: 1}}}); err != nil {
		t.Fatal(err)
	}
	ts.svc.AgentDisconnected(ctx, a)
	ts.clock.Advance(conversation.DefaultPresenceGrace)
	ts.svc.Tick(ctx)
	if c := ts.conv(fresh.ID); c.AgentID != b.ID {
		t.Errorf("after a person had it and left, the conversation is %s with %d, want b's", c.Status, c.AgentID)
	}
}
