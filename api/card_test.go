package api_test

import (
	"context"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
)

// Over the buyer socket, a card is refused when it names another buyer's
// order (unknown_order) or shows an image from an http origin the shop did
// not register (image_not_allowed); the buyer's own order and an image from
// the shop's origin go through as cards.
func TestBuyerCardRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	other, err := e.store.IdentifiedBuyer(ctx, e.shop.ID, "u2", "v_otherbuyer", "李四")
	if err != nil {
		t.Fatal(err)
	}
	me, err := e.store.IdentifiedBuyer(ctx, e.shop.ID, "u1", "v_abcdefgh", "张三")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []kefu.Order{
		{ShopID: e.shop.ID, BuyerID: other.ID, OrderNo: "O-THEIRS", Status: "shipped", AmountCents: 100, Items: []kefu.OrderItem{{Title: "袜子", Quantity: 1, PriceCents: 100}}},
		{ShopID: e.shop.ID, BuyerID: me.ID, OrderNo: "O-MINE", Status: "shipped", AmountCents: 29900, Items: []kefu.OrderItem{{Title: "羽绒服", Quantity: 2, PriceCents: 14950}}},
	} {
		if _, err := e.store.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var sess struct {
		Token  string
		Orders []struct {
			OrderNo string `json:"order_no"`
		}
	}
	body := map[string]string{"visitor_id": "v_abcdefgh", "buyer_id": "u1", "signature": api.BuyerSignature(e.shop.IdentitySecret, "u1")}
	if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, body, &sess); code != 200 {
		t.Fatalf("session: status %d", code)
	}
	if len(sess.Orders) != 1 || sess.Orders[0].OrderNo != "O-MINE" {
		t.Fatalf("session orders %+v, want only O-MINE", sess.Orders)
	}
	b := e.dial("/ws/buyer", sess.Token, storeOrigin)
	b.next("ready")

	product := func(image string) map[string]any {
		return map[string]any{"kind": "product", "product_id": "p1", "title": "冬季加厚羽绒服", "price_cents": 29900, "image_url": image}
	}
	refused := []struct {
		name, id string
		card     map[string]any
		code     string
	}{
		{"another buyer's order", "c_theirs", map[string]any{"kind": "order", "order_no": "O-THEIRS"}, "unknown_order"},
		{"no such order", "c_none", map[string]any{"kind": "order", "order_no": "O-NONE"}, "unknown_order"},
		{"image from an unregistered http origin", "c_img", product("http://cdn.elsewhere.example/a.jpg"), "image_not_allowed"},
		{"no title", "c_bad", map[string]any{"kind": "product", "price_cents": 1}, "invalid_card"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			b.send(map[string]any{"type": "send", "client_msg_id": tc.id, "card": tc.card})
			f := b.next("error", "ack")
			if f.Type != "error" || f.Code != tc.code || f.Ref != tc.id {
				t.Fatalf("got %s %q (ref %q), want error %s for %s", f.Type, f.Code, f.Ref, tc.code, tc.id)
			}
		})
	}

	b.send(map[string]any{"type": "send", "client_msg_id": "c_mine", "card": map[string]any{"kind": "order", "order_no": "O-MINE"}})
	ack := b.next("ack", "error")
	if ack.Type != "ack" || ack.Msg.Kind != "order" || ack.Msg.Card == nil || ack.Msg.Card.Status != "shipped" || ack.Msg.Card.ItemCount != 2 ||
		ack.Msg.Text != "[订单] O-MINE 已发货" {
		t.Fatalf("own order card: %s %q %+v", ack.Type, ack.Code, ack.Msg)
	}
	b.send(map[string]any{"type": "send", "client_msg_id": "c_shopimg", "card": product(storeOrigin + "/p1.jpg")})
	ack = b.next("ack", "error")
	if ack.Type != "ack" || ack.Msg.Kind != "product" || ack.Msg.Card == nil || ack.Msg.Card.ImageURL != storeOrigin+"/p1.jpg" {
		t.Fatalf("product card with the shop's image: %s %q %+v", ack.Type, ack.Code, ack.Msg)
	}
}
