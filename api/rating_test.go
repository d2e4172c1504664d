package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// rateFrame is a buyer's rate frame.
func rateFrame(convID int64, stars int, comment string) map[string]any {
	return map[string]any{"type": "rate", "conversation_id": convID, "stars": stars, "comment": comment}
}

// eventsOf are the shop's events of type typ, oldest first.
func (e *env) eventsOf(typ kefu.EventType) []kefu.Event {
	e.t.Helper()
	var out []kefu.Event
	for after := int64(0); ; {
		page, err := e.store.Events(context.Background(), e.shop.ID, after, kefu.MaxPageSize)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		for _, ev := range page {
			if ev.Type == typ {
				out = append(out, ev)
			}
		}
		after = page[len(page)-1].ID
	}
}

// nextConversation is the conversation of the first conversation frame
// that matches.
func nextConversation(c *client, match func(*protocol.Conversation) bool) *protocol.Conversation {
	c.t.Helper()
	for {
		if f := c.next("conversation"); match(f.Conversation) {
			return f.Conversation
		}
	}
}

// conversationOf is the conversation as its agent's REST reads it.
func (e *env) conversationOf(token string, id int64) protocol.Conversation {
	e.t.Helper()
	var got struct{ Conversation protocol.Conversation }
	if code := e.do("GET", "/api/v1/conversations/"+itoa(id), token, "", nil, &got); code != 200 {
		e.t.Fatalf("get conversation %d: %d", id, code)
	}
	return got.Conversation
}

// A buyer rates their conversation once it has closed: stars out of range,
// a comment too long, another buyer, an open conversation nobody invited a
// rating of and a second rating are refused and change nothing; the rating
// is told to the buyer and the agent and written to the log with its stars.
func TestRateAfterClose(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		wang := e.agents["acme/wang"]
		wangToken := e.login("acme", "wang")
		wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
		wangSock.next("ready")
		b, ack := e.buyerWrites(1, "东西坏了")
		conv := ack.Msg.ConversationID

		b.send(rateFrame(conv, 5, ""))
		if f := b.next("error"); f.Code != "not_ratable" || f.Ref != "rate" {
			t.Fatalf("rating an open conversation: %+v", f)
		}
		if code := e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/close", wangToken, "", nil, nil); code != 200 {
			t.Fatalf("close: %d", code)
		}
		if c := nextConversation(b, func(c *protocol.Conversation) bool { return c.Status == "closed" }); c.Rating != 0 || c.RatingInvited {
			t.Fatalf("the buyer's closed conversation: %+v", c)
		}
		for _, tc := range []struct {
			name    string
			stars   int
			comment string
			code    string
		}{
			{"no stars", 0, "", "invalid_rating"},
			{"six stars", 6, "", "invalid_rating"},
			{"negative stars", -1, "", "invalid_rating"},
			{"a long comment", 3, strings.Repeat("好", kefu.MaxRatingCommentRunes+1), "comment_too_long"},
			{"a control character", 3, "ok\x00", "comment_invalid_characters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b.send(rateFrame(conv, tc.stars, tc.comment))
				if f := b.next("error"); f.Code != tc.code {
					t.Fatalf("got %q, want %q", f.Code, tc.code)
				}
			})
		}
		other := e.dial("/ws/buyer", e.buyerToken("acme", visitor(2)), storeOrigin)
		other.next("ready")
		other.send(rateFrame(conv, 1, "差"))
		if f := other.next("error"); f.Code != "not_found" {
			t.Fatalf("another buyer's rating: %+v", f)
		}
		if got := e.eventsOf(kefu.EventRated); len(got) != 0 {
			t.Fatalf("refusals wrote %+v", got)
		}

		b.send(rateFrame(conv, 4, "  很耐心  "))
		if f := b.next("rating"); f.ConversationID != conv || f.Stars != 4 || f.Comment != "很耐心" {
			t.Fatalf("the buyer's answer: %+v", f)
		}
		if f := wangSock.next("rating"); f.ConversationID != conv || f.Stars != 4 || f.Comment != "很耐心" {
			t.Fatalf("the agent's frame: %+v", f)
		}
		events := e.eventsOf(kefu.EventRated)
		if len(events) != 1 {
			t.Fatalf("rated events: %+v", events)
		}
		ev := events[0]
		if ev.Actor != (kefu.ActorRef{Kind: kefu.SenderBuyer, ID: ev.BuyerID}) || ev.BuyerID == 0 || ev.ConversationID != conv ||
			ev.AgentID != wang.ID || ev.Data.Stars != 4 || !ev.Data.Comment {
			t.Fatalf("the rated event: %+v", ev)
		}
		if c := e.conversationOf(wangToken, conv); c.Rating != 4 || c.RatingComment != "很耐心" || c.RatedAt == nil {
			t.Fatalf("the rated conversation: %+v", c)
		}

		b.send(rateFrame(conv, 1, "改主意了"))
		if f := b.next("error"); f.Code != "already_rated" {
			t.Fatalf("a second rating: %+v", f)
		}
		if c := e.conversationOf(wangToken, conv); c.Rating != 4 || c.RatingComment != "很耐心" {
			t.Fatalf("after a second rating: %+v", c)
		}
		if got := e.eventsOf(kefu.EventRated); len(got) != 1 {
			t.Fatalf("a second rating wrote an event: %+v", got)
		}
		// A new socket's ready frame says it is rated: the widget asks no more.
		again := e.dial("/ws/buyer", e.buyerToken("acme", visitor(1)), storeOrigin)
		if r := again.next("ready"); r.Conversation == nil || r.Conversation.Rating != 4 {
			t.Fatalf("the ready frame after rating: %+v", r.Conversation)
		}
	})
}

// An agent invites a rating of an open conversation: the buyer gets the
// system line and may then rate it while it is open; a second invitation,
// one by a colleague who does not serve it and one of a closed conversation
// are refused.
func TestInviteRatingThenRateOpen(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		wang := e.agents["acme/wang"]
		wangToken := e.login("acme", "wang")
		wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
		wangSock.next("ready")
		b, ack := e.buyerWrites(3, "在吗")
		conv := ack.Msg.ConversationID
		path := "/api/v1/conversations/" + itoa(conv) + "/rating-invite"

		liToken := e.login("acme", "li")
		var out apiErr
		if code := e.do("POST", path, liToken, "", nil, &out); code != 403 || out.Error.Code != "forbidden" {
			t.Fatalf("a colleague invites: %d %q", code, out.Error.Code)
		}
		var got struct{ Conversation protocol.Conversation }
		if code := e.do("POST", path, wangToken, "", nil, &got); code != 200 || !got.Conversation.RatingInvited || got.Conversation.Rating != 0 {
			t.Fatalf("invite: %d %+v", code, got.Conversation)
		}
		for {
			m := b.next("message")
			if m.Msg.Code == kefu.SystemRatingInvited {
				if m.Msg.Kind != string(kefu.KindSystem) {
					t.Fatalf("the invitation: %+v", m.Msg)
				}
				break
			}
		}
		if c := nextConversation(b, func(c *protocol.Conversation) bool { return c.RatingInvited }); c.Status != "assigned" {
			t.Fatalf("the buyer's conversation after the invitation: %+v", c)
		}
		if code := e.do("POST", path, wangToken, "", nil, &out); code != 409 || out.Error.Code != "already_invited" {
			t.Fatalf("a second invitation: %d %q", code, out.Error.Code)
		}
		invited := e.eventsOf(kefu.EventRatingInvited)
		if len(invited) != 1 || invited[0].Actor != (kefu.ActorRef{Kind: kefu.SenderAgent, ID: wang.ID}) || invited[0].AgentID != wang.ID ||
			invited[0].ConversationID != conv {
			t.Fatalf("rating_invited events: %+v", invited)
		}

		b.send(rateFrame(conv, 5, ""))
		if f := b.next("rating"); f.Stars != 5 || f.Comment != "" {
			t.Fatalf("the answer: %+v", f)
		}
		rated := e.eventsOf(kefu.EventRated)
		if len(rated) != 1 || rated[0].Data.Stars != 5 || rated[0].Data.Comment || rated[0].AgentID != wang.ID {
			t.Fatalf("rated events: %+v", rated)
		}
		if c := e.conversationOf(wangToken, conv); c.Status != "assigned" || c.Rating != 5 {
			t.Fatalf("rated open: %+v", c)
		}
		// Rated: no more invitations, and none of a closed conversation.
		if code := e.do("POST", path, wangToken, "", nil, &out); code != 409 || out.Error.Code != "already_invited" {
			t.Fatalf("inviting a rated conversation: %d %q", code, out.Error.Code)
		}
		_, ack2 := e.buyerWrites(4, "还有个问题")
		conv2 := ack2.Msg.ConversationID
		if code := e.do("POST", "/api/v1/conversations/"+itoa(conv2)+"/close", wangToken, "", nil, nil); code != 200 {
			t.Fatalf("close: %d", code)
		}
		if code := e.do("POST", "/api/v1/conversations/"+itoa(conv2)+"/rating-invite", wangToken, "", nil, &out); code != 409 || out.Error.Code != "conversation_closed" {
			t.Fatalf("inviting a closed conversation: %d %q", code, out.Error.Code)
		}
	})
}

// A shop switched off (owners and supervisors only) tells the widget so,
// refuses ratings and invitations, and stores nothing.
func TestRatingSwitchedOff(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		e.addAgent("boss", kefu.RoleSupervisor)
		wangToken := e.login("acme", "wang")
		bossToken := e.login("acme", "boss")
		var shop struct {
			Shop struct {
				CSATEnabled *bool `json:"csat_enabled"`
			}
		}
		if e.do("GET", "/api/v1/shop", wangToken, "", nil, &shop); shop.Shop.CSATEnabled == nil || !*shop.Shop.CSATEnabled {
			t.Fatalf("a new shop's csat_enabled: %v", shop.Shop.CSATEnabled)
		}
		var out apiErr
		if code := e.do("PUT", "/api/v1/shop/csat", wangToken, "", map[string]any{"enabled": false}, &out); code != 403 {
			t.Fatalf("a plain agent switches ratings off: %d %q", code, out.Error.Code)
		}
		if code := e.do("PUT", "/api/v1/shop/csat", bossToken, "", map[string]any{}, &out); code != 400 || out.Error.Code != "invalid_enabled" {
			t.Fatalf("no enabled: %d %q", code, out.Error.Code)
		}
		if code := e.do("PUT", "/api/v1/shop/csat", bossToken, "", map[string]any{"enabled": false}, &shop); code != 200 || *shop.Shop.CSATEnabled {
			t.Fatalf("switch off: %d %v", code, *shop.Shop.CSATEnabled)
		}
		var session struct{ CSAT *bool }
		if e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, map[string]string{"visitor_id": visitor(5)}, &session); session.CSAT == nil || *session.CSAT {
			t.Fatalf("the widget session's csat: %v", session.CSAT)
		}

		wangSock := e.dial("/ws/agent", wangToken, e.agentURL())
		wangSock.next("ready")
		b, ack := e.buyerWrites(5, "你好")
		conv := ack.Msg.ConversationID
		if code := e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/rating-invite", wangToken, "", nil, &out); code != 403 || out.Error.Code != "rating_disabled" {
			t.Fatalf("inviting while off: %d %q", code, out.Error.Code)
		}
		if code := e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/close", wangToken, "", nil, nil); code != 200 {
			t.Fatalf("close: %d", code)
		}
		b.send(rateFrame(conv, 5, "好"))
		if f := b.next("error"); f.Code != "rating_disabled" {
			t.Fatalf("rating while off: %+v", f)
		}
		if c := e.conversationOf(wangToken, conv); c.Rating != 0 || c.RatingComment != "" {
			t.Fatalf("stored while off: %+v", c)
		}
		if got := e.eventsOf(kefu.EventRated); len(got) != 0 {
			t.Fatalf("rated while off: %+v", got)
		}

		if code := e.do("PUT", "/api/v1/shop/csat", bossToken, "", map[string]any{"enabled": true}, &shop); code != 200 || !*shop.Shop.CSATEnabled {
			t.Fatalf("switch on: %d", code)
		}
		b.send(rateFrame(conv, 5, "好"))
		if f := b.next("rating"); f.Stars != 5 {
			t.Fatalf("rating once on again: %+v", f)
		}
	})
}
