package api_test

import (
	"context"
	"testing"

	"github.com/kefu/kefu"
)

type linkedOut struct {
	Orders []struct {
		OrderNo string `json:"order_no"`
		History []struct{ Status string }
	}
}

// Orders and conversations are linked both ways: a buyer's order card links
// its order; from the order an agent finds every conversation about it;
// agents who may write in a conversation link and unlink its buyer's orders
// by hand, never another buyer's; each link is an event.
func TestOrderLinks(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		owner := e.ownerToken()
		key := e.newAPIKey(owner, "platform")
		for _, o := range []map[string]any{order("A-1", "u1", "shipped"), order("A-2", "u1", "paid"), order("B-1", "u2", "paid")} {
			if code, _ := e.putOrder(key, o); code != 201 {
				t.Fatalf("put order %v: %d", o["order_no"], code)
			}
		}
		token := e.signedInToken("v_linkbuyer1", "u1")
		// The owner's socket hears every link and unlink of the shop's
		// conversations as an order_link frame.
		watch := e.dial("/ws/agent", owner, "")
		watch.next("ready")
		heard := func(no string, linked bool) {
			t.Helper()
			if f := watch.next("order_link"); f.OrderNo != no || f.Linked != linked || f.ConversationID == 0 {
				t.Errorf("order_link frame %+v, want %s linked=%v", f, no, linked)
			}
		}
		b := e.dial("/ws/buyer", token, storeOrigin)
		b.next("ready")
		b.send(map[string]any{"type": "send", "client_msg_id": "card-1", "card": map[string]any{"kind": "order", "order_no": "A-1"}})
		ack := b.next("ack")
		conv := ack.Msg.ConversationID
		if ack.Msg.Kind != "order" || ack.Msg.Card == nil || ack.Msg.Card.Status != "shipped" || ack.Msg.Text != "[订单] A-1 已发货" {
			t.Fatalf("the order card as stored: %+v", ack.Msg)
		}
		// Another buyer's order cannot be shown as a card.
		b.send(map[string]any{"type": "send", "client_msg_id": "card-2", "conversation_id": conv, "card": map[string]any{"kind": "order", "order_no": "B-1"}})
		if f := b.next("error"); f.Code != "unknown_order" || f.Ref != "card-2" {
			t.Errorf("a card of another buyer's order: %+v, want unknown_order", f)
		}

		heard("A-1", true)
		path := "/api/v1/conversations/" + itoa(conv) + "/orders"
		var linked linkedOut
		if e.do("GET", path, owner, "", nil, &linked); len(linked.Orders) != 1 || linked.Orders[0].OrderNo != "A-1" || len(linked.Orders[0].History) == 0 {
			t.Fatalf("orders linked by the card: %+v", linked)
		}
		var byOrder struct{ Conversations []struct{ ID int64 } }
		if e.do("GET", "/api/v1/conversations?order_no=A-1", owner, "", nil, &byOrder); len(byOrder.Conversations) != 1 || byOrder.Conversations[0].ID != conv {
			t.Errorf("conversations of order A-1: %+v, want %d", byOrder.Conversations, conv)
		}
		if e.do("GET", "/api/v1/conversations?order_no=A-2", owner, "", nil, &byOrder); len(byOrder.Conversations) != 0 {
			t.Errorf("conversations of an order nobody linked: %+v", byOrder.Conversations)
		}

		var refused apiErr
		if code := e.do("POST", path, owner, "", map[string]string{"order_no": "B-1"}, &refused); code != 404 {
			t.Errorf("link another buyer's order: %d %q, want 404", code, refused.Error.Code)
		}
		li := e.login("acme", "li")
		if code := e.do("POST", path, li, "", map[string]string{"order_no": "A-2"}, &refused); code != 403 {
			t.Errorf("a plain agent who does not hold it links an order: %d", code)
		}
		var made struct{ Linked bool }
		if code := e.do("POST", path, owner, "", map[string]string{"order_no": "A-2"}, &made); code != 201 || !made.Linked {
			t.Errorf("link A-2: %d %+v", code, made)
		}
		heard("A-2", true)
		if code := e.do("POST", path, owner, "", map[string]string{"order_no": "A-2"}, &made); code != 200 || made.Linked {
			t.Errorf("link A-2 again: %d %+v, want 200 and not linked anew", code, made)
		}
		if code := e.do("DELETE", path+"/A-1", owner, "", nil, nil); code != 204 {
			t.Errorf("unlink A-1: %d", code)
		}
		heard("A-1", false)
		if code := e.do("DELETE", path+"/A-1", owner, "", nil, nil); code != 404 {
			t.Errorf("unlink A-1 again: %d, want 404", code)
		}
		if e.do("GET", path, owner, "", nil, &linked); len(linked.Orders) != 1 || linked.Orders[0].OrderNo != "A-2" {
			t.Errorf("linked after the changes: %+v, want A-2 alone", linked)
		}
		// A retry of the first card under its client id with another order
		// is the first card: nothing else is linked.
		b.send(map[string]any{"type": "send", "client_msg_id": "card-1", "conversation_id": conv, "card": map[string]any{"kind": "order", "order_no": "A-1"}})
		if f := b.next("ack"); !f.Duplicate || f.Msg.Card == nil || f.Msg.Card.OrderNo != "A-1" {
			t.Errorf("a retried card: %+v", f)
		}
		// A buyer's product card links only to the shop's own pages.
		b.send(map[string]any{"type": "send", "client_msg_id": "p-1", "conversation_id": conv, "card": map[string]any{"kind": "product",
			"title": "加厚羽绒服", "price_cents": 29900, "url": "https://elsewhere.example/fake"}})
		if f := b.next("error"); f.Code != "link_not_allowed" {
			t.Errorf("a buyer's product card linking elsewhere: %+v, want link_not_allowed", f)
		}
		b.send(map[string]any{"type": "send", "client_msg_id": "p-2", "conversation_id": conv, "card": map[string]any{"kind": "product",
			"title": "加厚羽绒服", "price_cents": 29900, "url": storeOrigin + "/item/1"}})
		if f := b.next("ack"); f.Msg.Kind != "product" {
			t.Errorf("a buyer's product card of the shop's page: %+v", f)
		}
		// The platform gives A-2 to another buyer: its link to u1's conversation goes.
		moved := order("A-2", "u2", "paid")
		if code, out := e.putOrder(key, moved); code != 200 || out.Result != "updated" {
			t.Fatalf("move A-2 to u2: %d %+v", code, out)
		}
		if e.do("GET", path, owner, "", nil, &linked); len(linked.Orders) != 0 {
			t.Errorf("u1's conversation still links %+v after the order went to u2", linked.Orders)
		}
		events, err := e.store.Events(ctx, e.shop.ID, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		var trail []string
		for _, ev := range events {
			if (ev.Type == kefu.EventOrderLinked || ev.Type == kefu.EventOrderUnlinked) && ev.ConversationID == conv {
				trail = append(trail, string(ev.Type)+" "+ev.Data.OrderNo+" "+string(ev.Actor.Kind))
			}
		}
		want := []string{"order.linked A-1 buyer", "order.linked A-2 agent", "order.unlinked A-1 agent", "order.unlinked A-2 system"}
		if len(trail) != len(want) {
			t.Fatalf("link events %q, want %q", trail, want)
		}
		for i := range want {
			if trail[i] != want[i] {
				t.Errorf("link event %d: %q, want %q", i, trail[i], want[i])
			}
		}
	})
}
