package api_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/kefu/kefu"
)

type searchAnswer struct {
	Results []struct {
		Conversation struct {
			ID        int64  `json:"id"`
			Status    string `json:"status"`
			AgentName string `json:"agent_name"`
			Buyer     struct {
				ID int64 `json:"id"`
			} `json:"buyer"`
			LastMessage *struct{ Text string } `json:"last_message"`
		} `json:"conversation"`
		Snippets []struct {
			MessageID  int64  `json:"message_id"`
			Seq        int64  `json:"seq"`
			Sender     string `json:"sender"`
			Text       string `json:"text"`
			Highlights []struct {
				Start int `json:"start"`
				End   int `json:"end"`
			} `json:"highlights"`
		} `json:"snippets"`
	} `json:"results"`
	Next *int64 `json:"next"`
}

// Transcript search (issue 8 point 5) over REST: shop and reader scoped,
// paged, filtered, with snippets.
func TestSearchAPI(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		wang, li := e.login("acme", "wang"), e.login("acme", "li")
		e.addAgent("boss", kefu.RoleOwner)
		boss := e.login("acme", "boss")

		_, ack := e.buyerWrites(1, "请问什么时候发货呀，订单 2026111100123")
		a := ack.Msg.ConversationID
		if code := e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/accept", a), wang, "", nil, nil); code != 200 {
			t.Fatalf("wang accepts: %d", code)
		}
		_, ack = e.buyerWrites(2, "什么时候发货 Refund")
		b := ack.Msg.ConversationID
		if code := e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/accept", b), li, "", nil, nil); code != 200 {
			t.Fatalf("li accepts: %d", code)
		}
		// Another shop's buyer writes the same words and order number.
		other := e.seedShop("other", "http://other.example", "zhao")
		ob, err := e.store.VisitorBuyer(ctx, other.ID, "v_otherbuyer1", "x")
		if err != nil {
			t.Fatal(err)
		}
		oc, _, err := e.store.OpenConversation(ctx, other.ID, ob.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.store.AppendMessage(ctx, kefu.Message{ShopID: other.ID, ConversationID: oc.ID, Kind: kefu.KindText,
			Sender: kefu.SenderBuyer, SenderID: ob.ID, Text: "什么时候发货呀 订单 2026111100123"}); err != nil {
			t.Fatal(err)
		}

		search := func(token string, params url.Values) ([]int64, searchAnswer) {
			t.Helper()
			var out searchAnswer
			if code := e.do("GET", "/api/v1/search?"+params.Encode(), token, "", nil, &out); code != 200 {
				t.Fatalf("search %s: status %d", params.Encode(), code)
			}
			var ids []int64
			for _, r := range out.Results {
				ids = append(ids, r.Conversation.ID)
			}
			return ids, out
		}
		cases := []struct {
			name   string
			token  string
			params url.Values
			want   []int64
		}{
			{"owner, 2 characters", boss, url.Values{"q": {"发货"}}, []int64{b, a}},
			{"owner, 4 characters", boss, url.Values{"q": {"什么时候"}}, []int64{b, a}},
			{"plain agent sees their own only", wang, url.Values{"q": {"发货"}}, []int64{a}},
			{"plain agent, a colleague's word", wang, url.Values{"q": {"refund"}}, nil},
			{"the colleague", li, url.Values{"q": {"refund"}}, []int64{b}},
			{"order number", boss, url.Values{"order_no": {"2026111100123"}}, []int64{a}},
			{"filters combined", boss, url.Values{"q": {"发货"}, "status": {"assigned"}, "agent_id": {fmt.Sprint(e.agents["acme/li"].ID)},
				"from": {"2026-11-11"}, "to": {"2026-11-11"}}, []int64{b}},
			{"before the range", boss, url.Values{"q": {"发货"}, "to": {"2026-11-10T23:59:59Z"}}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if got, _ := search(tc.token, tc.params); !slices.Equal(got, tc.want) {
					t.Errorf("found %v, want %v", got, tc.want)
				}
			})
		}

		t.Run("snippets", func(t *testing.T) {
			_, out := search(wang, url.Values{"q": {"发货"}})
			if len(out.Results) != 1 || len(out.Results[0].Snippets) != 1 {
				t.Fatalf("results %+v", out.Results)
			}
			r := out.Results[0]
			s := r.Snippets[0]
			if r.Conversation.AgentName != "wang" || r.Conversation.Status != "assigned" || s.Sender != "buyer" ||
				s.Text != "请问什么时候发货呀，订单 2026111100123" || len(s.Highlights) != 1 || s.Highlights[0].Start != 6 || s.Highlights[0].End != 8 {
				t.Errorf("result %+v", r)
			}
			if out.Next != nil {
				t.Errorf("next = %d, want none", *out.Next)
			}
		})

		t.Run("paging", func(t *testing.T) {
			var seen []int64
			params := url.Values{"q": {"什么时候"}, "limit": {"1"}}
			for range 4 {
				ids, out := search(boss, params)
				seen = append(seen, ids...)
				if out.Next == nil {
					break
				}
				params.Set("before", fmt.Sprint(*out.Next))
			}
			if !slices.Equal(seen, []int64{b, a}) {
				t.Errorf("pages found %v", seen)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for _, tc := range []struct{ query, code string }{
				{"status=bogus", "invalid_status"},
				{"from=yesterday", "invalid_from"},
				{"to=2026-13-01", "invalid_to"},
				{"limit=0", "invalid_limit"},
				{"limit=51", "invalid_limit"},
				{"buyer_id=x", "invalid_buyer_id"},
				{"order_no=a%20b", "invalid_order_no"},
				{"q=%01", "invalid_q"},
			} {
				var out apiErr
				if code := e.do("GET", "/api/v1/search?"+tc.query, boss, "", nil, &out); code != 400 || out.Error.Code != tc.code {
					t.Errorf("%s: %d %q, want 400 %s", tc.query, code, out.Error.Code, tc.code)
				}
			}
			if code := e.do("GET", "/api/v1/search?q=x", "", "", nil, nil); code != 401 {
				t.Errorf("without a session: %d, want 401", code)
			}
		})
	})
}
