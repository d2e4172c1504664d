package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
)

// orderOut is an order as the order API answers it.
type orderOut struct {
	ID          int64
	OrderNo     string `json:"order_no"`
	BuyerID     string `json:"buyer_id"`
	Status      string
	StatusAt    time.Time `json:"status_at"`
	AmountCents int64     `json:"amount_cents"`
	Currency    string
	Items       []kefu.OrderItem
	TrackingNo  string    `json:"tracking_no"`
	CreatedAt   time.Time `json:"created_at"`
	History     []struct {
		Status string
		At     time.Time
	}
}

type upsertOut struct {
	Result string
	Order  orderOut
	Error  struct{ Code, Message, Field string }
}

type bulkOut struct {
	Results []struct {
		OrderNo string `json:"order_no"`
		Result  string
		Error   *struct{ Code, Message, Field string }
	}
	Error struct{ Code, Message, Field string }
}

// ownerToken adds an owner to acme and signs them in.
func (e *env) ownerToken() string {
	e.t.Helper()
	e.addAgent("boss", kefu.RoleOwner)
	return e.login("acme", "boss")
}

// newAPIKey makes an API key with the owner's session and returns it.
func (e *env) newAPIKey(owner, name string) string {
	e.t.Helper()
	var out struct{ Key string }
	if code := e.do("POST", "/api/v1/api-keys", owner, "", map[string]string{"name": name}, &out); code != 201 || !strings.HasPrefix(out.Key, "kefu_sk_") {
		e.t.Fatalf("create API key: %d %q", code, out.Key)
	}
	return out.Key
}

func order(no, buyer, status string) map[string]any {
	return map[string]any{"order_no": no, "buyer_id": buyer, "status": status, "amount_cents": 29900,
		"items": []map[string]any{{"title": "加厚羽绒服 黑色 L", "sku": "YRF-BK-L", "quantity": 1, "price_cents": 29900, "image_url": "https://img.example.com/yrf.jpg"}}}
}

func (e *env) putOrder(key string, body map[string]any) (int, upsertOut) {
	e.t.Helper()
	var out upsertOut
	code := e.do("PUT", "/api/v1/orders/"+body["order_no"].(string), key, "", body, &out)
	return code, out
}

// Upserting an order is idempotent: created, then unchanged, then updated;
// the buyer is the shop's, and agents see what the platform sent.
func TestOrderUpsertIsIdempotent(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		key := e.newAPIKey(e.ownerToken(), "erp")
		body := order("2026111100999", "u1001", "paid")
		body["buyer_name"] = "张三"
		code, out := e.putOrder(key, body)
		if code != 201 || out.Result != "created" || out.Order.BuyerID != "u1001" || out.Order.Currency != "CNY" ||
			len(out.Order.Items) != 1 || out.Order.Items[0].SKU != "YRF-BK-L" || len(out.Order.History) != 1 ||
			!out.Order.StatusAt.Equal(e.clock.Now()) || !out.Order.CreatedAt.Equal(e.clock.Now()) {
			t.Fatalf("first upsert: %d %+v", code, out)
		}
		e.clock.Advance(time.Minute)
		if code, out := e.putOrder(key, body); code != 200 || out.Result != "unchanged" || len(out.Order.History) != 1 ||
			!out.Order.StatusAt.Equal(e.clock.Now().Add(-time.Minute)) {
			t.Fatalf("same order again: %d %+v", code, out)
		}
		body["tracking_no"] = "SF1234567890123"
		if code, out := e.putOrder(key, body); code != 200 || out.Result != "updated" || out.Order.TrackingNo != "SF1234567890123" || len(out.Order.History) != 1 {
			t.Fatalf("tracking number added: %d %+v", code, out)
		}
		if code, out := e.putOrder(key, body); code != 200 || out.Result != "unchanged" {
			t.Fatalf("the update again: %d %+v", code, out)
		}
		var got struct{ Order orderOut }
		if code := e.do("GET", "/api/v1/orders/2026111100999", key, "", nil, &got); code != 200 || got.Order.TrackingNo != "SF1234567890123" || got.Order.BuyerID != "u1001" {
			t.Fatalf("GET the order: %d %+v", code, got)
		}

		// Each change is an event, with the key it came with; a repeat writes none.
		var log []string
		events, err := e.store.Events(context.Background(), e.shop.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if strings.HasPrefix(string(ev.Type), "order.") {
				log = append(log, fmt.Sprintf("%s %s %s %v key=%t", ev.Type, ev.Data.OrderNo, ev.Data.OrderStatus, ev.Data.Fields, ev.Data.APIKeyID != 0))
			}
		}
		if got, want := strings.Join(log, "; "), "order.created 2026111100999 paid [] key=true; order.updated 2026111100999 paid [tracking_no] key=true"; got != want {
			t.Fatalf("order events:\n got %s\nwant %s", got, want)
		}

		// The buyer is the identified buyer u1001, named by the platform;
		// an agent sees the order with its items' SKU and image, and its history.
		buyer, err := e.store.IdentifiedBuyer(context.Background(), e.shop.ID, "u1001", "", "")
		if err != nil || buyer.Name != "张三" {
			t.Fatalf("buyer u1001: %+v, %v", buyer, err)
		}
		var list struct{ Orders []orderOut }
		if code := e.do("GET", "/api/v1/buyers/"+itoa(buyer.ID)+"/orders", e.login("acme", "wang"), "", nil, &list); code != 200 || len(list.Orders) != 1 ||
			list.Orders[0].Items[0].ImageURL != "https://img.example.com/yrf.jpg" || list.Orders[0].TrackingNo != "SF1234567890123" ||
			len(list.Orders[0].History) != 1 || list.Orders[0].History[0].Status != "paid" {
			t.Fatalf("the agent's view: %d %+v", code, list)
		}
	})
}

// Every status change is kept; a late delivery of an older change is kept
// in time order but does not move the status back.
func TestOrderStatusHistoryKeepsTheLatestByTime(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		key := e.newAPIKey(e.ownerToken(), "erp")
		at := func(h int) string {
			return time.Date(2026, 11, 10, h, 0, 0, 0, time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
		}
		put := func(status, statusAt, want string) orderOut {
			t.Helper()
			body := order("A-1", "u1", status)
			if statusAt != "" {
				body["status_at"] = statusAt
			}
			code, out := e.putOrder(key, body)
			if out.Result != want || (code != 200 && code != 201) {
				t.Fatalf("%s at %q: %d %+v, want %s", status, statusAt, code, out, want)
			}
			return out.Order
		}
		history := func(o orderOut) string {
			var s []string
			for _, h := range o.History {
				s = append(s, h.Status+"@"+strconv.Itoa(h.At.In(time.FixedZone("CST", 8*3600)).Hour()))
			}
			return strings.Join(s, " ")
		}
		put("created", at(9), "created")
		o := put("shipped", at(12), "updated")
		if o.Status != "shipped" || history(o) != "created@9 shipped@12" {
			t.Fatalf("shipped: %s, %s", o.Status, history(o))
		}
		// paid at 10 arrives after shipped at 12.
		o = put("paid", at(10), "updated")
		if o.Status != "shipped" || !o.StatusAt.Equal(time.Date(2026, 11, 10, 4, 0, 0, 0, time.UTC)) || history(o) != "created@9 paid@10 shipped@12" {
			t.Fatalf("late paid: %s at %s, %s", o.Status, o.StatusAt, history(o))
		}
		events, _ := e.store.Events(context.Background(), e.shop.ID, 0, 0)
		if last := events[len(events)-1]; last.Type != kefu.EventOrderUpdated || last.Data.OrderStatus != "shipped" || fmt.Sprint(last.Data.Fields) != "[history]" {
			t.Fatalf("the late status's event: %+v", last)
		}
		put("paid", at(10), "unchanged")
		put("shipped", "", "unchanged")
		put("shipped", at(13), "unchanged")
		// A change without a time takes effect now (the test clock, the next day).
		o = put("delivered", "", "updated")
		if o.Status != "delivered" || !o.StatusAt.Equal(e.clock.Now()) || len(o.History) != 4 {
			t.Fatalf("delivered now: %s at %s, %s", o.Status, o.StatusAt, history(o))
		}
	})
}

// In a bulk call each order stands alone: a refused one writes nothing of
// itself, the others are stored.
func TestOrderBulkRefusesOneOrderAlone(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		key := e.newAPIKey(e.ownerToken(), "erp")
		bad := order("B-2", "u-new", "paid")
		bad["items"] = []map[string]any{{"title": "ok", "quantity": 1, "price_cents": 1}, {"title": "负价", "quantity": 1, "price_cents": -1}}
		var out bulkOut
		orders := []any{order("B-1", "u1", "paid"), bad, map[string]any{"order_no": "B-3", "amount_cents": "many"}, order("B-4", "u2", "shipped"), order("B-1", "u1", "paid")}
		if code := e.do("POST", "/api/v1/orders/bulk", key, "", map[string]any{"orders": orders}, &out); code != 200 || len(out.Results) != 5 {
			t.Fatalf("bulk: %d %+v", code, out)
		}
		want := []string{"B-1 created", "B-2 refused invalid_price items[1].price_cents", "B-3 refused invalid_json ", "B-4 created", "B-1 unchanged"}
		for i, r := range out.Results {
			got := r.OrderNo + " " + r.Result
			if r.Error != nil {
				got += " " + r.Error.Code + " " + r.Error.Field
			}
			if got != want[i] {
				t.Errorf("result %d: %q, want %q", i, got, want[i])
			}
		}
		for no, want := range map[string]int{"B-1": 200, "B-2": 404, "B-3": 404, "B-4": 200} {
			if code := e.do("GET", "/api/v1/orders/"+no, key, "", nil, nil); code != want {
				t.Errorf("GET %s: %d, want %d", no, code, want)
			}
		}

		// More than 1,000 orders are refused whole; a body over 64 KiB is
		// taken on this route (and only here).
		many := make([]any, kefu.MaxBulkOrders+1)
		for i := range many {
			many[i] = map[string]any{}
		}
		var refused bulkOut
		if code := e.do("POST", "/api/v1/orders/bulk", key, "", map[string]any{"orders": many}, &refused); code != 400 || refused.Error.Code != "too_many_orders" {
			t.Fatalf("1,001 orders: %d %+v", code, refused.Error)
		}
		big := make([]any, 5)
		for i := range big {
			o := order("BIG-"+strconv.Itoa(i), "u3", "paid")
			items := make([]map[string]any, kefu.MaxOrderItems)
			for j := range items {
				items[j] = map[string]any{"title": strings.Repeat("长", 150), "quantity": 1, "price_cents": 100}
			}
			o["items"] = items
			big[i] = o
		}
		if b, _ := json.Marshal(map[string]any{"orders": big}); len(b) < 128<<10 {
			t.Fatalf("the big body is only %d bytes", len(b))
		}
		if code := e.do("POST", "/api/v1/orders/bulk", key, "", map[string]any{"orders": big}, &out); code != 200 || out.Results[4].Result != "created" {
			t.Fatalf("a bulk body over 64 KiB: %d %+v", code, out.Error)
		}
		big[0].(map[string]any)["padding"] = strings.Repeat("x", 64<<10)
		if code := e.do("PUT", "/api/v1/orders/BIG-0", key, "", big[0], &out); code != 413 {
			t.Fatalf("the same order alone over 64 KiB: %d, want 413", code)
		}
	})
}

// Bad fields are named as JSON paths, and nothing is written.
func TestOrderFieldErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.newAPIKey(e.ownerToken(), "erp")
	item := func(k string, v any) map[string]any {
		it := map[string]any{"title": "围巾", "quantity": 1, "price_cents": 100}
		it[k] = v
		return map[string]any{"items": []any{map[string]any{"title": "ok", "quantity": 1, "price_cents": 1}, it}}
	}
	manyItems := make([]any, kefu.MaxOrderItems+1)
	for i := range manyItems {
		manyItems[i] = map[string]any{"title": "t", "quantity": 1, "price_cents": 1}
	}
	cases := []struct {
		name        string
		change      map[string]any
		field, code string
	}{
		{"buyer id missing", map[string]any{"buyer_id": ""}, "buyer_id", "invalid_buyer_id"},
		{"buyer id with a line break", map[string]any{"buyer_id": "u1\n"}, "buyer_id", "invalid_buyer_id"},
		{"unknown status", map[string]any{"status": "lost"}, "status", "invalid_status"},
		{"negative amount", map[string]any{"amount_cents": -1}, "amount_cents", "invalid_amount"},
		{"amount too high", map[string]any{"amount_cents": kefu.MaxHighValueCents + 1}, "amount_cents", "invalid_amount"},
		{"lower-case currency", map[string]any{"currency": "cny"}, "currency", "invalid_currency"},
		{"101 items", map[string]any{"items": manyItems}, "items", "too_many_items"},
		{"empty title", item("title", " "), "items[1].title", "invalid_title"},
		{"long title", item("title", strings.Repeat("长", 201)), "items[1].title", "invalid_title"},
		{"no quantity", item("quantity", 0), "items[1].quantity", "invalid_quantity"},
		{"quantity 10000", item("quantity", 10000), "items[1].quantity", "invalid_quantity"},
		{"negative price", item("price_cents", -5), "items[1].price_cents", "invalid_price"},
		{"long sku", item("sku", strings.Repeat("s", 65)), "items[1].sku", "invalid_sku"},
		{"javascript image", item("image_url", "javascript:alert(1)"), "items[1].image_url", "invalid_image_url"},
		{"relative image", item("image_url", "/img/a.jpg"), "items[1].image_url", "invalid_image_url"},
		{"tracking number with a space", map[string]any{"tracking_no": "SF 1"}, "tracking_no", "invalid_tracking_no"},
		{"created_at not RFC 3339", map[string]any{"created_at": "2026-11-11 10:00"}, "created_at", "invalid_time"},
		{"status_at not RFC 3339", map[string]any{"status_at": "yesterday"}, "status_at", "invalid_time"},
		{"another order number in the body", map[string]any{"order_no": "F-2"}, "order_no", "order_no_mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := order("F-1", "u1", "paid")
			for k, v := range c.change {
				body[k] = v
			}
			var out upsertOut
			if code := e.do("PUT", "/api/v1/orders/F-1", key, "", body, &out); code != 400 || out.Error.Field != c.field || out.Error.Code != c.code {
				t.Fatalf("%d %+v, want 400 %s on %s", code, out.Error, c.code, c.field)
			}
		})
	}
	// Order numbers: printable ASCII, at most 64.
	for _, no := range []string{strings.Repeat("9", 65), "订单1"} {
		var out bulkOut
		e.do("POST", "/api/v1/orders/bulk", key, "", map[string]any{"orders": []any{order(no, "u1", "paid")}}, &out)
		if len(out.Results) != 1 || out.Results[0].Error == nil || out.Results[0].Error.Field != "order_no" || out.Results[0].Error.Code != "invalid_order_no" {
			t.Errorf("order_no %q: %+v", no, out)
		}
	}
	if code := e.do("GET", "/api/v1/orders/F-1", key, "", nil, nil); code != 404 {
		t.Fatalf("a refused order was stored: GET %d", code)
	}
}

// Keys are shown once, listed without their secret, rotated at once,
// revoked for good, at most 20, and their use is recorded once a minute.
func TestAPIKeyRotationAndRevocation(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		owner := e.ownerToken()
		var created struct {
			Key    string
			APIKey struct {
				ID     int64
				Prefix string
			} `json:"api_key"`
		}
		if code := e.do("POST", "/api/v1/api-keys", owner, "", map[string]string{"name": "ERP 主系统"}, &created); code != 201 ||
			!strings.HasPrefix(created.Key, "kefu_sk_"+created.APIKey.Prefix+"_") || len(created.APIKey.Prefix) != 8 {
			t.Fatalf("create: %d %+v", code, created)
		}
		k1, id := created.Key, itoa(created.APIKey.ID)
		use := func(key string, want int) {
			t.Helper()
			var out apiErr
			code := e.do("GET", "/api/v1/orders/none", key, "", nil, &out)
			if want == 401 && (code != 401 || out.Error.Code != "invalid_api_key") || want != 401 && code != want {
				t.Fatalf("key %.20s...: %d %q, want %d", key, code, out.Error.Code, want)
			}
		}
		use(k1, 404)
		lastUsed := func() string {
			t.Helper()
			var list struct {
				APIKeys []map[string]any `json:"api_keys"`
			}
			if code := e.do("GET", "/api/v1/api-keys", owner, "", nil, &list); code != 200 || len(list.APIKeys) != 1 {
				t.Fatalf("list: %d %+v", code, list)
			}
			k := list.APIKeys[0]
			if _, shown := k["key"]; shown || k["name"] != "ERP 主系统" || k["prefix"] == nil || k["created_at"] == nil {
				t.Fatalf("listed key: %+v", k)
			}
			s, _ := k["last_used_at"].(string)
			return s
		}
		start := e.clock.Now().UTC().Format(time.RFC3339)
		if got := lastUsed(); got != start {
			t.Fatalf("last_used_at %q, want %q", got, start)
		}
		e.clock.Advance(59 * time.Second)
		use(k1, 404)
		if got := lastUsed(); got != start {
			t.Fatalf("last_used_at %q after 59 s, want still %q", got, start)
		}
		e.clock.Advance(time.Second)
		use(k1, 404)
		if got, want := lastUsed(), e.clock.Now().UTC().Format(time.RFC3339); got != want {
			t.Fatalf("last_used_at %q after a minute, want %q", got, want)
		}

		var rotated struct{ Key string }
		if code := e.do("POST", "/api/v1/api-keys/"+id+"/rotate", owner, "", nil, &rotated); code != 200 || rotated.Key == "" || rotated.Key == k1 {
			t.Fatalf("rotate: %d %+v", code, rotated)
		}
		use(k1, 401)
		use(rotated.Key, 404)
		// Right prefix, wrong secret.
		use(rotated.Key[:len(rotated.Key)-1]+"x", 401)
		if code := e.do("DELETE", "/api/v1/api-keys/"+id, owner, "", nil, nil); code != 204 {
			t.Fatalf("revoke: %d", code)
		}
		use(rotated.Key, 401)
		if code := e.do("POST", "/api/v1/api-keys/"+id+"/rotate", owner, "", nil, nil); code != 404 {
			t.Fatalf("rotate a revoked key: %d, want 404", code)
		}
		use("", 401)
		use(owner, 401) // an agent session is not an API key
		var log []string
		events, _ := e.store.Events(context.Background(), e.shop.ID, 0, 0)
		for _, ev := range events {
			if strings.HasPrefix(string(ev.Type), "api_key.") {
				log = append(log, fmt.Sprintf("%s %d by %s", ev.Type, ev.Data.APIKeyID, ev.Actor.Kind))
			}
		}
		if got, want := strings.Join(log, "; "), fmt.Sprintf("api_key.created %s by agent; api_key.rotated %s by agent; api_key.revoked %s by agent", id, id, id); got != want {
			t.Fatalf("API key events: %s, want %s", got, want)
		}

		for i := 0; i < kefu.MaxAPIKeysPerShop; i++ {
			e.newAPIKey(owner, "key "+strconv.Itoa(i))
		}
		var out apiErr
		if code := e.do("POST", "/api/v1/api-keys", owner, "", map[string]string{"name": "one too many"}, &out); code != 409 || out.Error.Code != "too_many_api_keys" {
			t.Fatalf("21st key: %d %q", code, out.Error.Code)
		}
		if code := e.do("POST", "/api/v1/api-keys", owner, "", map[string]string{"name": " "}, &out); code != 400 {
			t.Fatalf("a key without a name: %d", code)
		}
	})
}

// Only the owner manages keys and the webhook secret.
func TestAPIKeysAreForOwnersOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.ownerToken()
	e.newAPIKey(owner, "erp")
	e.addAgent("boss2", kefu.RoleSupervisor)
	for _, who := range []string{"wang", "boss2"} {
		token := e.login("acme", who)
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/api-keys"}, {"POST", "/api/v1/api-keys"}, {"POST", "/api/v1/api-keys/1/rotate"},
			{"DELETE", "/api/v1/api-keys/1"}, {"POST", "/api/v1/shop/order-webhook-secret"},
		} {
			var out apiErr
			if code := e.do(c.method, c.path, token, "", map[string]string{"name": "mine"}, &out); code != 403 || out.Error.Code != "owner_only" {
				t.Errorf("%s: %s %s: %d %q, want 403 owner_only", who, c.method, c.path, code, out.Error.Code)
			}
		}
	}
}

// Another shop's key neither reads nor writes this shop's orders, nor its keys.
func TestAPIKeyOfAnotherShopCannotReachOrders(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		acme := e.newAPIKey(e.ownerToken(), "erp")
		other := e.seedShop("other", "http://other.example")
		hash, _ := api.HashPassword(password, passwordCost)
		if _, err := e.store.CreateAgent(context.Background(), kefu.Agent{ShopID: other.ID, Username: "zhao", Name: "zhao", Role: kefu.RoleOwner, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		otherOwner := e.login("other", "zhao")
		var created struct{ Key string }
		e.do("POST", "/api/v1/api-keys", otherOwner, "", map[string]string{"name": "theirs"}, &created)

		if code, _ := e.putOrder(acme, order("S-1", "u1", "paid")); code != 201 {
			t.Fatalf("acme's order: %d", code)
		}
		if code := e.do("GET", "/api/v1/orders/S-1", created.Key, "", nil, nil); code != 404 {
			t.Fatalf("other shop reads acme's order: %d, want 404", code)
		}
		// The same number in the other shop is another order.
		if code, out := e.putOrder(created.Key, order("S-1", "u1", "cancelled")); code != 201 || out.Result != "created" {
			t.Fatalf("other shop's S-1: %d %+v", code, out)
		}
		var got struct{ Order orderOut }
		if e.do("GET", "/api/v1/orders/S-1", acme, "", nil, &got); got.Order.Status != "paid" {
			t.Fatalf("acme's S-1 after the other shop's: %+v", got.Order)
		}
		var list struct {
			APIKeys []any `json:"api_keys"`
		}
		if e.do("GET", "/api/v1/api-keys", otherOwner, "", nil, &list); len(list.APIKeys) != 1 {
			t.Fatalf("other shop lists %d keys, want its 1", len(list.APIKeys))
		}
		var keys struct {
			APIKeys []struct{ ID int64 } `json:"api_keys"`
		}
		e.do("GET", "/api/v1/api-keys", e.login("acme", "boss"), "", nil, &keys)
		if code := e.do("DELETE", "/api/v1/api-keys/"+itoa(keys.APIKeys[0].ID), otherOwner, "", nil, nil); code != 404 {
			t.Fatalf("other shop revokes acme's key: %d, want 404", code)
		}
	})
}

// deliver posts a signed webhook delivery to acme and returns the status and error code.
func (e *env) deliver(shop, secret string, sent time.Time, body []byte, sigFor func(string) string) (int, bulkOut) {
	e.t.Helper()
	stamp := strconv.FormatInt(sent.Unix(), 10)
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/webhooks/shops/"+shop+"/orders", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kefu-Timestamp", stamp)
	sig := api.WebhookSignature(secret, stamp, body)
	if sigFor != nil {
		sig = sigFor(sig)
	}
	if sig != "" {
		req.Header.Set("X-Kefu-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out bulkOut
	json.Unmarshal(data, &out)
	return res.StatusCode, out
}

// A webhook delivery is taken when signed with the shop's secret, recent,
// and not seen before.
func TestWebhookSignatureAgeAndReplay(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		owner := e.ownerToken()
		var shop struct {
			Shop map[string]any
		}
		if e.do("GET", "/api/v1/shop", owner, "", nil, &shop); shop.Shop["order_webhook_secret_set"] != false {
			t.Fatalf("a new shop's webhook secret: %+v", shop.Shop)
		}
		var made struct {
			Secret string `json:"order_webhook_secret"`
		}
		if code := e.do("POST", "/api/v1/shop/order-webhook-secret", owner, "", nil, &made); code != 200 || len(made.Secret) != 64 {
			t.Fatalf("make the webhook secret: %d %+v", code, made)
		}
		var raw map[string]any
		e.do("GET", "/api/v1/shop", owner, "", nil, &raw)
		if b, _ := json.Marshal(raw); strings.Contains(string(b), made.Secret) || !strings.Contains(string(b), `"order_webhook_secret_set":true`) {
			t.Fatalf("GET /shop after: %s", b)
		}
		// The new secret is an owner action in the log, without the secret.
		events, err := e.store.Events(t.Context(), e.shop.ID, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		logged := false
		for _, ev := range events {
			if ev.Type == kefu.EventOrderWebhookSecret && ev.Actor.Kind == kefu.SenderAgent {
				logged = true
			}
			if b, _ := json.Marshal(ev); strings.Contains(string(b), made.Secret) {
				t.Errorf("the event log holds the webhook secret: %s", b)
			}
		}
		if !logged {
			t.Error("no shop.order_webhook_secret event for the owner's new secret")
		}
		secret := made.Secret
		body, _ := json.Marshal(map[string]any{"orders": []any{order("W-1", "u1001", "paid")}})
		now := e.clock.Now()
		expect := func(what string, code int, out bulkOut, wantCode int, wantErr string) {
			t.Helper()
			if code != wantCode || out.Error.Code != wantErr {
				t.Fatalf("%s: %d %q, want %d %q", what, code, out.Error.Code, wantCode, wantErr)
			}
		}
		code, out := e.deliver("acme", "wrong-secret", now, body, nil)
		expect("wrong secret", code, out, 401, "bad_signature")
		code, out = e.deliver("acme", secret, now, body, func(string) string { return "" })
		expect("no signature", code, out, 401, "bad_signature")
		code, out = e.deliver("acme", secret, now, body, func(s string) string { return strings.TrimPrefix(s, "sha256=") })
		expect("no sha256= tag", code, out, 401, "bad_signature")
		code, out = e.deliver("acme", secret, now.Add(-5*time.Minute-time.Second), body, nil)
		expect("over 5 minutes old", code, out, 401, "stale_delivery")
		code, out = e.deliver("acme", secret, now.Add(5*time.Minute+time.Second), body, nil)
		expect("over 5 minutes ahead", code, out, 401, "stale_delivery")
		code, out = e.deliver("nosuchshop", secret, now, body, nil)
		expect("unknown shop", code, out, 404, "shop_not_found")
		if code := e.do("GET", "/api/v1/orders/W-1", e.newAPIKey(owner, "check"), "", nil, nil); code != 404 {
			t.Fatalf("a refused delivery stored its order: %d", code)
		}

		sent := now.Add(-4 * time.Minute)
		code, out = e.deliver("acme", secret, sent, body, nil)
		if code != 200 || len(out.Results) != 1 || out.Results[0].Result != "created" {
			t.Fatalf("a good delivery: %d %+v", code, out)
		}
		e.clock.Advance(30 * time.Second)
		code, out = e.deliver("acme", secret, sent, body, nil)
		expect("the same delivery again", code, out, 409, "replayed")
		// Signed anew, the same body is a new delivery, and the order is unchanged.
		code, out = e.deliver("acme", secret, e.clock.Now(), body, nil)
		if code != 200 || out.Results[0].Result != "unchanged" {
			t.Fatalf("the body in a new delivery: %d %+v", code, out)
		}
		// Once it is stale, the old delivery is refused for its age.
		e.clock.Advance(10 * time.Minute)
		code, out = e.deliver("acme", secret, sent, body, nil)
		expect("the first delivery much later", code, out, 401, "stale_delivery")

		// A new secret replaces the old at once.
		e.do("POST", "/api/v1/shop/order-webhook-secret", owner, "", nil, &made)
		code, out = e.deliver("acme", secret, e.clock.Now(), body, nil)
		expect("the old secret", code, out, 401, "bad_signature")
		code, _ = e.deliver("acme", made.Secret, e.clock.Now(), body, nil)
		if code != 200 {
			t.Fatalf("the new secret: %d", code)
		}
		// A shop without a secret takes no deliveries.
		e.seedShop("other", "http://other.example")
		code, out = e.deliver("other", "", e.clock.Now(), body, nil)
		expect("a shop with no secret", code, out, 401, "bad_signature")
	})
}
