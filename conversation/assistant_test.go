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
// assistant, however idle the agents; a returning buyer still goes to their
// agent of the last days; and one waiting for the assistant never holds up
// its group's line for the others.
func TestAssistantFirstLeavesTheGroupToOthers(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("a", 5)
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
	back := send(t, ts.svc, ts.st, kefu.Buyer{ID: old.BuyerID, ShopID: ts.shop.ID}, kefu.Entry{Group: "g"})
	if back.AgentID != a.ID {
		t.Errorf("the returning buyer went to %d, want their agent a", back.AgentID)
	}
	// Another agent joins the group: the line moves, the assistant's
	// conversation stays with the assistant.
	b := ts.online("b", 5)
	if _, err := ts.st.UpdateGroup(ctx, kefu.Group{ID: g.ID, ShopID: ts.shop.ID, Name: "g",
		Members: []kefu.GroupMember{{AgentID: a.ID, Weight: 1}, {AgentID: b.ID, Weight: 1}}}); err != nil {
		t.Fatal(err)
	}
	ts.svc.Reroute(ctx, ts.shop.ID)
	if c := ts.conv(fresh.ID); c.Status != kefu.StatusQueued {
		t.Errorf("the assistant's conversation went to %d when the group moved", c.AgentID)
	}
	ts.svc.SetAssistant(nil)
	other := ts.writes("other", kefu.Entry{Group: "g"})
	if other.AgentID == 0 {
		t.Errorf("a later buyer of the group waits behind the assistant's conversation")
	}
}
