package store_test

import (
	"errors"
	"testing"

	"github.com/kefu/kefu"
)

// testRatings checks the rules the store enforces in the statement that
// stores a rating or an invitation (the service checks them first; these
// catch what changed in between): the buyer's own conversation, once, closed
// or invited; an invitation once, of an assigned conversation. A refusal
// writes nothing; a rating's event carries the agent who held it and the
// stars, and only whether there is a comment.
func testRatings(t *testing.T, e env) {
	shop := mustShop(t, e, "a")
	alice := mustAgent(t, e, shop.ID, "alice")
	buyer := mustVisitor(t, e, shop.ID, "v1")
	other := mustVisitor(t, e, shop.ID, "v2")
	if !shop.CSATEnabled {
		t.Fatalf("a new shop does not ask for ratings: %+v", shop)
	}
	var told []kefu.Change
	tell := func(ch kefu.Change) { told = append(told, ch) }
	byAlice := kefu.ActorRef{Kind: kefu.SenderAgent, ID: alice.ID}
	invitation := kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "请您对本次服务进行评价", Code: kefu.SystemRatingInvited}

	conv, _, err := e.st.OpenConversation(e.ctx, shop.ID, buyer.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.InviteRating(e.ctx, shop.ID, conv.ID, byAlice, invitation, tell); !errors.Is(err, kefu.ErrConflict) {
		t.Fatalf("invite while it waits: %v, want conflict", err)
	}
	if _, err := e.st.AssignConversation(e.ctx, shop.ID, conv.ID, alice.ID, byAlice, announce, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.RateConversation(e.ctx, shop.ID, conv.ID, buyer.ID, 5, "", tell); !errors.Is(err, kefu.ErrForbidden) {
		t.Fatalf("rate open without an invitation: %v, want forbidden", err)
	}
	invited, err := e.st.InviteRating(e.ctx, shop.ID, conv.ID, byAlice, invitation, tell)
	if err != nil || invited.RatingInvitedAt == nil || invited.Rating != 0 {
		t.Fatalf("invite: %+v, %v", invited, err)
	}
	if _, err := e.st.InviteRating(e.ctx, shop.ID, conv.ID, byAlice, invitation, tell); !errors.Is(err, kefu.ErrConflict) {
		t.Fatalf("a second invitation: %v, want conflict", err)
	}
	if _, err := e.st.RateConversation(e.ctx, shop.ID, conv.ID, other.ID, 1, "", tell); !errors.Is(err, kefu.ErrNotFound) {
		t.Fatalf("another buyer rates: %v, want not found", err)
	}
	rated, err := e.st.RateConversation(e.ctx, shop.ID, conv.ID, buyer.ID, 4, "耐心", tell)
	if err != nil || rated.Rating != 4 || rated.RatingComment != "耐心" || rated.RatedAt == nil || rated.Status != kefu.StatusAssigned {
		t.Fatalf("rate open once invited: %+v, %v", rated, err)
	}
	if _, err := e.st.RateConversation(e.ctx, shop.ID, conv.ID, buyer.ID, 1, "不好", tell); !errors.Is(err, kefu.ErrConflict) {
		t.Fatalf("a second rating: %v, want conflict", err)
	}
	if got, err := e.st.Conversation(e.ctx, shop.ID, conv.ID); err != nil || got.Rating != 4 || got.RatingComment != "耐心" {
		t.Fatalf("after a second rating: %+v, %v", got, err)
	}
	// Closed, it may be rated without an invitation; it keeps its agent.
	if _, _, err := e.st.CloseConversation(e.ctx, shop.ID, conv.ID, 0, kefu.SystemActor, farewell, nil); err != nil {
		t.Fatal(err)
	}
	second, _, err := e.st.OpenConversation(e.ctx, shop.ID, buyer.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AssignConversation(e.ctx, shop.ID, second.ID, alice.ID, byAlice, announce, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.CloseConversation(e.ctx, shop.ID, second.ID, alice.ID, byAlice, farewell, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.InviteRating(e.ctx, shop.ID, second.ID, byAlice, invitation, tell); !errors.Is(err, kefu.ErrConflict) {
		t.Fatalf("invite a closed conversation: %v, want conflict", err)
	}
	if _, err := e.st.RateConversation(e.ctx, shop.ID, second.ID, buyer.ID, 2, "", tell); err != nil {
		t.Fatalf("rate closed: %v", err)
	}

	var kinds []kefu.EventType
	for _, ch := range told {
		kinds = append(kinds, ch.Event.Type)
	}
	want := []kefu.EventType{kefu.EventMessage, kefu.EventRatingInvited, kefu.EventRated, kefu.EventRated}
	if len(kinds) != len(want) {
		t.Fatalf("told %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("told %v, want %v", kinds, want)
		}
	}
	if m := told[0].Message; m == nil || m.Code != kefu.SystemRatingInvited {
		t.Fatalf("the invitation's line: %+v", told[0].Message)
	}
	if ev := told[1].Event; ev.AgentID != alice.ID || ev.Actor != byAlice || ev.BuyerID != buyer.ID {
		t.Fatalf("the invitation's event: %+v", ev)
	}
	first, last := told[2].Event, told[3].Event
	if first.Actor != (kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyer.ID}) || first.AgentID != alice.ID || first.BuyerID != buyer.ID ||
		first.Data.Stars != 4 || !first.Data.Comment {
		t.Fatalf("the first rating's event: %+v", first)
	}
	if last.ConversationID != second.ID || last.AgentID != alice.ID || last.Data.Stars != 2 || last.Data.Comment {
		t.Fatalf("the second conversation's rating event: %+v", last)
	}
	// The log holds what was told, and the comment's text nowhere.
	logged, err := e.st.Events(e.ctx, shop.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range logged {
		if ev.Type == kefu.EventRated {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d rated events in the log, want 2", n)
	}
}
