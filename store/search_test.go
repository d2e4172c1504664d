package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
)

// searchWorld is two shops with conversations to search (issue 8 point 5).
type searchWorld struct {
	acme, other          kefu.Shop
	wang, li, boss       kefu.Agent
	c1, c2, c3, foreign  kefu.Conversation
	buyer1               kefu.Buyer
	orderNo, orderMsgTxt string
}

func seedSearch(t *testing.T, e env) searchWorld {
	t.Helper()
	var w searchWorld
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.acme, err = e.st.CreateShop(e.ctx, kefu.Shop{Slug: "acme", Name: "Acme"})
	must(err)
	w.other, err = e.st.CreateShop(e.ctx, kefu.Shop{Slug: "other", Name: "Other"})
	must(err)
	agent := func(shop kefu.Shop, name string, role kefu.Role) kefu.Agent {
		a, err := e.st.CreateAgent(e.ctx, kefu.Agent{ShopID: shop.ID, Username: name, Name: name, Role: role, PasswordHash: "h"})
		must(err)
		return a
	}
	w.wang, w.li, w.boss = agent(w.acme, "wang", kefu.RoleAgent), agent(w.acme, "li", kefu.RoleAgent), agent(w.acme, "boss", kefu.RoleOwner)
	otherAgent := agent(w.other, "zhao", kefu.RoleAgent)
	conv := func(shop kefu.Shop, visitor string, holder kefu.Agent, texts ...string) kefu.Conversation {
		b, err := e.st.VisitorBuyer(e.ctx, shop.ID, visitor, visitor)
		must(err)
		c, _, err := e.st.OpenConversation(e.ctx, shop.ID, b.ID, nil)
		must(err)
		if holder.ID != 0 {
			c, err = e.st.AssignConversation(e.ctx, shop.ID, c.ID, holder.ID, kefu.SystemActor, func(name string) kefu.Message {
				// A system line that holds a searched word: never found.
				return kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "客服 " + name + " 为您服务，发货查询请稍候"}
			}, nil)
			must(err)
		}
		for i, text := range texts {
			m := kefu.Message{ShopID: shop.ID, ConversationID: c.ID, Kind: kefu.KindText, Sender: kefu.SenderBuyer, SenderID: b.ID, Text: text}
			if i%2 == 1 && holder.ID != 0 {
				m.Sender, m.SenderID, m.SenderName = kefu.SenderAgent, holder.ID, holder.Name
			}
			_, _, err := e.st.AppendMessage(e.ctx, m)
			must(err)
			e.clock.Advance(time.Second)
		}
		if shop.ID == w.acme.ID && visitor == "v_buyer1" {
			w.buyer1 = b
		}
		return c
	}
	w.orderNo = "2026111100123"
	w.orderMsgTxt = "订单 " + w.orderNo + " 还没到"
	w.c1 = conv(w.acme, "v_buyer1", w.wang, "请问什么时候发货呀", "亲，一般48小时内发货", w.orderMsgTxt)
	e.clock.Advance(24 * time.Hour)
	w.c2 = conv(w.acme, "v_buyer2", w.li, "什么时候发货", "您好", "Refund please")
	w.c3 = conv(w.acme, "v_buyer3", kefu.Agent{}, "你好，在吗")
	w.foreign = conv(w.other, "v_buyer1", otherAgent, "什么时候发货呀 订单 "+w.orderNo)
	return w
}

func TestSearch(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			clock := testclock.New(start)
			e := env{st: b.open(t, clock.Now), clock: clock, ctx: t.Context()}
			testSearch(t, e, seedSearch(t, e))
		})
	}
}

func testSearch(t *testing.T, e env, w searchWorld) {
	search := func(t *testing.T, f kefu.SearchFilter) kefu.SearchPage {
		t.Helper()
		page, err := e.st.SearchConversations(e.ctx, w.acme.ID, f)
		if err != nil {
			t.Fatalf("search %+v: %v", f, err)
		}
		return page
	}
	ids := func(p kefu.SearchPage) []int64 {
		var out []int64
		for _, h := range p.Hits {
			out = append(out, h.ID)
		}
		return out
	}
	owner := func(f kefu.SearchFilter) kefu.SearchFilter { return f }
	asWang := func(f kefu.SearchFilter) kefu.SearchFilter { f.ReaderID = w.wang.ID; return f }
	day2 := start.Add(24 * time.Hour).Truncate(24 * time.Hour)
	cases := []struct {
		name string
		f    kefu.SearchFilter
		want []int64
	}{
		{"two characters", owner(kefu.SearchFilter{Text: "发货"}), []int64{w.c2.ID, w.c1.ID}},
		{"four characters", owner(kefu.SearchFilter{Text: "什么时候"}), []int64{w.c2.ID, w.c1.ID}},
		{"inside a sentence", owner(kefu.SearchFilter{Text: "时候发货呀"}), []int64{w.c1.ID}},
		{"two terms in one message", owner(kefu.SearchFilter{Text: "48小时 发货"}), []int64{w.c1.ID}},
		{"terms in different messages do not match", owner(kefu.SearchFilter{Text: "48小时 什么"}), nil},
		{"one character", owner(kefu.SearchFilter{Text: "吗"}), []int64{w.c3.ID}},
		{"ASCII in any case", owner(kefu.SearchFilter{Text: "REFUND"}), []int64{w.c2.ID}},
		{"a system line is not searched", owner(kefu.SearchFilter{Text: "为您服务"}), nil},
		{"order number", owner(kefu.SearchFilter{OrderNo: w.orderNo}), []int64{w.c1.ID}},
		{"order number and text", owner(kefu.SearchFilter{OrderNo: w.orderNo, Text: "发货"}), []int64{w.c1.ID}},
		{"order number and other text", owner(kefu.SearchFilter{OrderNo: w.orderNo, Text: "Refund"}), nil},
		{"buyer", owner(kefu.SearchFilter{Text: "什么时候", BuyerID: w.buyer1.ID}), []int64{w.c1.ID}},
		{"agent and status", owner(kefu.SearchFilter{Text: "发货", AgentID: w.li.ID, Statuses: []kefu.ConversationStatus{kefu.StatusAssigned}}), []int64{w.c2.ID}},
		{"closed only", owner(kefu.SearchFilter{Text: "发货", Statuses: []kefu.ConversationStatus{kefu.StatusClosed}}), nil},
		{"from", owner(kefu.SearchFilter{Text: "发货", From: day2}), []int64{w.c2.ID}},
		{"to", owner(kefu.SearchFilter{Text: "什么时候", To: day2}), []int64{w.c1.ID}},
		{"group", owner(kefu.SearchFilter{Text: "发货", GroupID: 999}), nil},
		{"filters alone", owner(kefu.SearchFilter{AgentID: w.wang.ID}), []int64{w.c1.ID}},
		{"a plain agent: their own", asWang(kefu.SearchFilter{Text: "发货"}), []int64{w.c1.ID}},
		{"a plain agent: not a colleague's", asWang(kefu.SearchFilter{Text: "Refund"}), nil},
		{"a plain agent: the queue", asWang(kefu.SearchFilter{Text: "在吗"}), []int64{w.c3.ID}},
		{"a plain agent: long term", asWang(kefu.SearchFilter{Text: "什么时候"}), []int64{w.c1.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(search(t, tc.f)); !slices.Equal(got, tc.want) {
				t.Errorf("found %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("snippets", func(t *testing.T) {
		page := search(t, kefu.SearchFilter{Text: "发货", BuyerID: w.buyer1.ID})
		if len(page.Hits) != 1 {
			t.Fatalf("hits %+v", page.Hits)
		}
		h := page.Hits[0]
		if h.Buyer.ID != w.buyer1.ID || h.AgentName != "wang" || h.LastMessage == nil || h.LastMessage.Text != w.orderMsgTxt {
			t.Errorf("summary %+v", h.ConversationSummary)
		}
		if len(h.Snippets) != 2 {
			t.Fatalf("snippets %+v, want the two text messages (not the system line)", h.Snippets)
		}
		s := h.Snippets[0]
		if s.Text != "请问什么时候发货呀" || s.Sender != kefu.SenderBuyer || !slices.Equal(s.Highlights, []kefu.Span{{Start: 6, End: 8}}) {
			t.Errorf("first snippet %+v", s)
		}
		if s := h.Snippets[1]; s.Sender != kefu.SenderAgent || s.SenderName != "wang" || !slices.Equal(s.Highlights, []kefu.Span{{Start: 9, End: 11}}) {
			t.Errorf("second snippet %+v", s)
		}
	})

	t.Run("another shop's never", func(t *testing.T) {
		for _, f := range []kefu.SearchFilter{{Text: "发货呀"}, {OrderNo: w.orderNo}, {Text: "发货"}} {
			for _, h := range search(t, f).Hits {
				if h.ShopID != w.acme.ID || h.ID == w.foreign.ID {
					t.Errorf("search %+v found %d of shop %d", f, h.ID, h.ShopID)
				}
			}
		}
		page, err := e.st.SearchConversations(e.ctx, w.other.ID, kefu.SearchFilter{OrderNo: w.orderNo})
		if err != nil || !slices.Equal(ids(page), []int64{w.foreign.ID}) {
			t.Errorf("other shop's search: %v, %v", ids(page), err)
		}
	})

	t.Run("paging", func(t *testing.T) {
		for _, text := range []string{"发货", "什么时候"} { // scanned, indexed
			var seen []int64
			f := kefu.SearchFilter{Text: text, Limit: 1}
			for range 5 {
				page := search(t, f)
				seen = append(seen, ids(page)...)
				if page.NextBeforeID == 0 {
					break
				}
				f.BeforeID = page.NextBeforeID
			}
			if !slices.Equal(seen, []int64{w.c2.ID, w.c1.ID}) {
				t.Errorf("%s: pages found %v", text, seen)
			}
		}
	})
}
