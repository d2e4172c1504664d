package store_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/kefu/kefu"
)

// testEvents checks that every command writes its events in the
// transaction of its change: what committed is in the log and was told to
// the caller, in the same order with the same ids; what was refused left no
// event; the log of one shop holds nothing of another's.
func testEvents(t *testing.T, e env) {
	shopA := mustShop(t, e, "a")
	shopB := mustShop(t, e, "b")
	alice := mustAgent(t, e, shopA.ID, "alice")
	carol := mustAgent(t, e, shopB.ID, "carol")
	buyer := mustVisitor(t, e, shopA.ID, "v1")

	var told []kefu.Change
	tell := func(ch kefu.Change) { told = append(told, ch) }

	conv, created, err := e.st.OpenConversation(e.ctx, shopA.ID, buyer.ID, tell)
	if err != nil || !created {
		t.Fatalf("open: created %v, err %v", created, err)
	}
	msg, _, err := e.st.Append(e.ctx, kefu.Message{ShopID: shopA.ID, ConversationID: conv.ID, Kind: kefu.KindText,
		Sender: kefu.SenderBuyer, SenderID: buyer.ID, Text: "在吗", ClientMsgID: "c1"}, kefu.WriteRule{OpenOnly: true, BuyerID: buyer.ID}, tell)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	// A retry and a write the rule refuses change nothing, so they write no event.
	if _, dup, err := e.st.Append(e.ctx, kefu.Message{ShopID: shopA.ID, ConversationID: conv.ID, Kind: kefu.KindText,
		Sender: kefu.SenderBuyer, SenderID: buyer.ID, Text: "在吗", ClientMsgID: "c1"}, kefu.WriteRule{OpenOnly: true, BuyerID: buyer.ID}, tell); err != nil || !dup {
		t.Fatalf("retry: dup %v, err %v", dup, err)
	}
	if _, _, err := e.st.Append(e.ctx, kefu.Message{ShopID: shopA.ID, ConversationID: conv.ID, Kind: kefu.KindText,
		Sender: kefu.SenderAgent, SenderID: alice.ID, Text: "x"}, kefu.WriteRule{OpenOnly: true, HolderID: alice.ID}, tell); !errors.Is(err, kefu.ErrForbidden) {
		t.Fatalf("write by an agent not holding it: %v, want forbidden", err)
	}
	// An agent of another shop cannot be assigned: nothing is written.
	if _, err := e.st.AssignConversation(e.ctx, shopA.ID, conv.ID, carol.ID, kefu.SystemActor, announce, tell); !errors.Is(err, kefu.ErrNotFound) {
		t.Fatalf("assign to another shop's agent: %v, want not found", err)
	}
	byAlice := kefu.ActorRef{Kind: kefu.SenderAgent, ID: alice.ID}
	if _, err := e.st.AssignConversation(e.ctx, shopA.ID, conv.ID, alice.ID, byAlice, announce, tell); err != nil {
		t.Fatalf("assign: %v", err)
	}
	if _, changed, err := e.st.CloseConversation(e.ctx, shopA.ID, conv.ID, alice.ID, byAlice, farewell, tell); err != nil || !changed {
		t.Fatalf("close: changed %v, err %v", changed, err)
	}
	// A second close changes nothing and writes nothing.
	if _, changed, err := e.st.CloseConversation(e.ctx, shopA.ID, conv.ID, 0, kefu.SystemActor, farewell, tell); err != nil || changed {
		t.Fatalf("second close: changed %v, err %v", changed, err)
	}

	type want struct {
		typ   kefu.EventType
		actor kefu.ActorRef
		agent int64
		seq   int64
	}
	buyerRef := kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyer.ID}
	wants := []want{
		{kefu.EventQueued, buyerRef, 0, 0},
		{kefu.EventMessage, buyerRef, 0, 1},
		{kefu.EventAssigned, byAlice, alice.ID, 0},
		{kefu.EventMessage, kefu.SystemActor, alice.ID, 2}, // "客服 Alice 为您服务"
		{kefu.EventMessage, kefu.SystemActor, alice.ID, 3}, // "会话已结束"
		{kefu.EventClosed, byAlice, alice.ID, 0},
	}
	events, err := e.st.Events(e.ctx, shopA.ID, 0, 0)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	if len(events) != len(wants) || len(told) != len(wants) {
		t.Fatalf("%d events in the log and %d told, want %d: %+v", len(events), len(told), len(wants), events)
	}
	for i, w := range wants {
		ev := events[i]
		if ev.Type != w.typ || ev.Actor != w.actor || ev.AgentID != w.agent || ev.Seq != w.seq ||
			ev.ShopID != shopA.ID || ev.ConversationID != conv.ID || ev.BuyerID != buyer.ID || !ev.CreatedAt.Equal(e.clock.Now()) {
			t.Errorf("event %d = %+v, want %+v in conversation %d of buyer %d", i, ev, w, conv.ID, buyer.ID)
		}
		if got := told[i].Event; got.ID != ev.ID || got.Type != ev.Type || got.Seq != ev.Seq || !got.CreatedAt.Equal(ev.CreatedAt) {
			t.Errorf("told %+v, the log holds %+v", told[i].Event, ev)
		}
		if (ev.Type == kefu.EventMessage) != (told[i].Message != nil) {
			t.Errorf("change %d (%s) carries message %v", i, ev.Type, told[i].Message)
		}
	}
	if events[1].MessageID != msg.ID || told[1].Message.Text != "在吗" {
		t.Errorf("message event = %+v with %+v, want message %d", events[1], told[1].Message, msg.ID)
	}
	if s := told[2].Summary; s == nil || s.AgentName != alice.Name || s.Buyer.ID != buyer.ID || s.LastMessage == nil || s.LastMessage.Seq != 2 || s.Unread != 1 {
		t.Errorf("assigned change's summary = %+v, want alice's with the announcement last and one unread", s)
	}
	if s := told[5].Summary; s == nil || s.Status != kefu.StatusClosed || s.LastMessage == nil || s.LastMessage.Text != "会话已结束" {
		t.Errorf("closed change's summary = %+v, want closed with the farewell last", s)
	}

	t.Run("paging", func(t *testing.T) {
		page, err := e.st.Events(e.ctx, shopA.ID, events[1].ID, 2)
		if err != nil || len(page) != 2 || page[0].ID != events[2].ID || page[1].ID != events[3].ID {
			t.Fatalf("page after event 1 = %+v, %v", page, err)
		}
	})
	t.Run("another shop's log is its own", func(t *testing.T) {
		other, err := e.st.Events(e.ctx, shopB.ID, 0, 0)
		if err != nil || len(other) != 0 {
			t.Fatalf("shop b's log = %+v, %v; want empty", other, err)
		}
	})
	t.Run("ids ascend", func(t *testing.T) {
		if !slices.IsSortedFunc(events, func(a, b kefu.Event) int { return int(a.ID - b.ID) }) {
			t.Fatalf("ids out of order: %+v", events)
		}
	})
}
