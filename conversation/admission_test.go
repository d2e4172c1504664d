package conversation_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// gate is an Admission that records who it was asked about and refuses
// while closed.
type gate struct {
	closed bool
	asked  []conversation.Actor
}

var errShopBusy = errors.New("shop busy")

func (g *gate) AdmitConversation(_ context.Context, actor conversation.Actor) error {
	g.asked = append(g.asked, actor)
	if g.closed {
		return errShopBusy
	}
	return nil
}

// The admission hook is asked before a buyer's message starts a
// conversation, with the buyer's address; its refusal comes back to the
// sender as it is (errors.Is), and nothing is stored: no conversation, no
// message. A message to an open conversation, text or card, is not asked
// about; the same message after the hook admits starts the conversation.
func TestAdmissionOfNewConversations(t *testing.T) {
	t.Parallel()
	ts := newTestShop(t)
	g := &gate{closed: true}
	ts.svc.SetAdmission(g)
	ctx := context.Background()
	b := ts.buyer("adm")
	actor := conversation.BuyerActor(b)
	actor.Address = "203.0.113.7"

	if _, _, err := ts.svc.Send(ctx, actor, 0, "c1", "在吗"); !errors.Is(err, errShopBusy) {
		t.Fatalf("refused first message: %v, want the hook's error", err)
	}
	if len(g.asked) != 1 || g.asked[0].Address != "203.0.113.7" || g.asked[0].ID != b.ID {
		t.Fatalf("the hook was asked about %+v, want once about the buyer from 203.0.113.7", g.asked)
	}
	if _, err := ts.st.LatestConversation(ctx, ts.shop.ID, b.ID); !errors.Is(err, kefu.ErrNotFound) {
		t.Fatalf("after a refusal the buyer has a conversation (%v)", err)
	}
	if _, err := ts.st.MessageByClientID(ctx, ts.shop.ID, kefu.SenderBuyer, b.ID, "c1"); !errors.Is(err, kefu.ErrNotFound) {
		t.Fatalf("the refused message was stored (%v)", err)
	}

	g.closed = false
	m, dup, err := ts.svc.Send(ctx, actor, 0, "c1", "在吗")
	if err != nil || dup {
		t.Fatalf("the message once admitted: dup %v, %v", dup, err)
	}
	g.closed = true
	if _, _, err := ts.svc.Send(ctx, actor, m.ConversationID, "c2", "还在吗"); err != nil {
		t.Fatalf("a message to the open conversation: %v", err)
	}
	if _, _, err := ts.svc.Send(ctx, actor, 0, "c3", "没有会话号"); err != nil {
		t.Fatalf("a message without a conversation id, the buyer's conversation open: %v", err)
	}
	card := protocol.CardFrame{Kind: "product", Title: "T恤", URL: "https://shop.example/p/1"}
	if _, _, err := ts.svc.SendCard(ctx, actor, m.ConversationID, "c4", card); errors.Is(err, errShopBusy) {
		t.Fatalf("a card to the open conversation was asked about: %v", err)
	}
	if len(g.asked) != 2 {
		t.Fatalf("the hook was asked %d times, want 2 (only the messages that would start a conversation)", len(g.asked))
	}
}
