package conversation_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testdb"
)

// botShop is a test shop with the assistant running and switched on with
// settings as adjust leaves them, and the keyword rules given.
type botShop struct {
	*testShop
	bot *conversation.Bot
}

func newBotShop(t *testing.T, adjust func(*kefu.AssistantSettings), rules ...kefu.AutoReplyRule) *botShop {
	bs := newBotShopOn(t, newTestShop(t), adjust, rules...)
	bs.start()
	return bs
}

// newBotShopOn is newBotShop on ts, with the assistant not yet running
// (start runs it): what is handed to it before then waits.
func newBotShopOn(t *testing.T, ts *testShop, adjust func(*kefu.AssistantSettings), rules ...kefu.AutoReplyRule) *botShop {
	t.Helper()
	ctx := context.Background()
	bot := conversation.NewBot(ts.svc, ts.st, nil)
	a := kefu.DefaultAssistantSettings()
	a.Enabled = true
	a.Greeting = ""
	if adjust != nil {
		adjust(&a)
	}
	if err := ts.st.SetAssistantSettings(ctx, ts.shop.ID, a); err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		r.ShopID, r.Enabled = ts.shop.ID, true
		if _, err := ts.st.SaveAutoReplyRule(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	return &botShop{testShop: ts, bot: bot}
}

// start runs the assistant until the test ends.
func (bs *botShop) start() {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bs.bot.Run(ctx, time.Hour) }()
	bs.t.Cleanup(func() { stop(); <-done })
}

// say has the buyer write text and waits for the assistant to answer.
func (bs *botShop) say(b kefu.Buyer, text string) kefu.Message {
	bs.t.Helper()
	m, _, err := bs.svc.Send(context.Background(), conversation.BuyerActor(b), 0, fmt.Sprintf("c%d", time.Now().UnixNano()), text)
	if err != nil {
		bs.t.Fatal(err)
	}
	bs.bot.Settle()
	return m
}

// bot returns the assistant's messages in a conversation, in order.
func (bs *botShop) botLines(convID int64) []kefu.Message {
	bs.t.Helper()
	msgs, _, err := bs.st.Messages(context.Background(), bs.shop.ID, convID, 0, 200)
	if err != nil {
		bs.t.Fatal(err)
	}
	var out []kefu.Message
	for _, m := range msgs {
		if m.Sender == kefu.SenderBot {
			out = append(out, m)
		}
	}
	return out
}

func codes(ms []kefu.Message) string {
	var c []string
	for _, m := range ms {
		c = append(c, m.Code)
	}
	return strings.Join(c, ",")
}

var shipping = kefu.AutoReplyRule{Name: "发货", Match: kefu.MatchAny, Patterns: []string{"发货", "几天发"}, Priority: 10,
	Answer: "亲，{shop.name}48 小时内发货", FollowUps: []string{"用什么快递？"}}

// The greeting is stored as the conversation's first message, with its
// quick questions, when the buyer first writes; a conversation that goes on
// is not greeted again.
func TestBotWelcome(t *testing.T) {
	bs := newBotShop(t, func(a *kefu.AssistantSettings) {
		a.Greeting = "欢迎光临{shop.name}"
		a.QuickQuestions = []string{"什么时候发货？"}
	})
	bs.online("a", 5)
	b := bs.buyer("w")
	m := bs.say(b, "你好")
	if m.Seq != 2 {
		t.Errorf("the buyer's first message has seq %d, want 2 (after the welcome)", m.Seq)
	}
	lines := bs.botLines(m.ConversationID)
	if len(lines) != 1 || lines[0].Seq != 1 || lines[0].Code != kefu.BotWelcome || lines[0].Text != "欢迎光临s" ||
		strings.Join(lines[0].QuickReplies, "|") != "什么时候发货？" {
		t.Fatalf("bot lines %+v, want the filled welcome at seq 1 with its quick question", lines)
	}
	if c := bs.conv(m.ConversationID); c.Status != kefu.StatusAssigned {
		t.Errorf("the greeted conversation is %s, want routed to the online agent", c.Status)
	}
	bs.say(b, "在吗")
	if n := len(bs.botLines(m.ConversationID)); n != 1 {
		t.Errorf("%d bot lines after a second message, want the one welcome", n)
	}
}

// A buyer waiting for a person gets the keyword answer (self-service while
// waiting) and, with every agent busy, the busy reply with their place;
// once a person holds the conversation, the rules stay silent.
func TestBotKeywordAndBusy(t *testing.T) {
	bs := newBotShop(t, nil, shipping)
	a := bs.online("a", 1)
	first := bs.writes("first", kefu.Entry{})
	if first.AgentID != a.ID {
		t.Fatal("the first buyer should have the agent")
	}
	b := bs.buyer("second")
	m := bs.say(b, "请问什么时候發貨？")
	lines := bs.botLines(m.ConversationID)
	if got := codes(lines); got != "keyword,busy" {
		t.Fatalf("bot lines %q, want keyword,busy", got)
	}
	if lines[0].Text != "亲，s48 小时内发货" || lines[0].RuleID == 0 || strings.Join(lines[0].QuickReplies, "") != "用什么快递？" {
		t.Errorf("keyword answer %+v", lines[0])
	}
	if !strings.Contains(lines[1].Text, "第 1 位") {
		t.Errorf("busy reply %q, want the place in line", lines[1].Text)
	}
	rules, _ := bs.st.AutoReplyRules(context.Background(), bs.shop.ID)
	if rules[0].Hits != 1 {
		t.Errorf("the rule has %d hits, want 1", rules[0].Hits)
	}
	// The agent serving the first buyer is asked about shipping: they answer.
	bs.say(kefu.Buyer{ID: first.BuyerID, ShopID: bs.shop.ID}, "几天发货")
	if n := len(bs.botLines(first.ID)); n != 0 {
		t.Errorf("%d bot lines in a conversation a person holds, want none", n)
	}
}

// Bot-first: the rules answer first; 转人工 reaches a person, with the
// hand-over event; what the rules cannot answer goes to a person after one
// try, and nothing more is said.
func TestBotFirstHandover(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { botFirstHandover(t, newTestShop(t)) })
	t.Run("postgres", func(t *testing.T) { botFirstHandover(t, newTestShopOn(t, testdb.Postgres)) })
}

func botFirstHandover(t *testing.T, ts *testShop) {
	ctx := context.Background()
	bs := newBotShopOn(t, ts, func(a *kefu.AssistantSettings) { a.BotFirst = true }, shipping)
	bs.start()
	a := bs.online("a", 5)
	b := bs.buyer("b")
	m := bs.say(b, "几天发货")
	if c := bs.conv(m.ConversationID); c.Status != kefu.StatusQueued || !c.AssistantFirst {
		t.Fatalf("bot-first conversation is %s (assistant %v), want the assistant's", c.Status, c.AssistantFirst)
	}
	bs.say(b, "转人工")
	c := bs.conv(m.ConversationID)
	if c.AgentID != a.ID || c.AssistantFirst {
		t.Fatalf("after 转人工 the conversation is %s with %d, want the agent's", c.Status, c.AgentID)
	}
	if got := codes(bs.botLines(c.ID)); got != "keyword,handover" {
		t.Errorf("bot lines %q, want keyword,handover", got)
	}
	events, err := bs.st.Events(ctx, bs.shop.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if e.Type == kefu.EventHandedOver && e.ConversationID == c.ID && e.Data.Reason == kefu.HandOverAsked {
			found = true
		}
	}
	if !found {
		t.Error("no conversation.handed_over event with reason asked")
	}

	// No rule answers: one fallback, then the person's.
	other := bs.buyer("o")
	m = bs.say(other, "这件衣服起球吗")
	if c := bs.conv(m.ConversationID); c.AgentID != a.ID {
		t.Fatalf("an unanswerable question left the conversation %s, want handed to a", c.Status)
	}
	bs.say(other, "还有别的颜色吗")
	lines := bs.botLines(m.ConversationID)
	if got := codes(lines); got != "fallback" {
		t.Errorf("bot lines %q, want one fallback and nothing more", got)
	}
	if len(lines) == 1 && strings.Contains(lines[0].Text, "{") {
		t.Errorf("the fallback reply %q has variables left in it", lines[0].Text)
	}

	// A rule that hands to a group: the conversation joins that group's line.
	g := bs.group("after", a)
	complaint := kefu.AutoReplyRule{Name: "投诉", Match: kefu.MatchAny, Patterns: []string{"投诉"}, Priority: 50,
		Answer: "马上为您转接", Handoff: kefu.HandoffGroup, HandoffGroupID: g.ID, ShopID: bs.shop.ID, Enabled: true}
	if _, err := bs.st.SaveAutoReplyRule(ctx, complaint, nil); err != nil {
		t.Fatal(err)
	}
	bs.bot.Forget(bs.shop.ID)
	m = bs.say(bs.buyer("c"), "我要投诉")
	if c := bs.conv(m.ConversationID); c.GroupID != g.ID || c.AssistantFirst || c.AgentID != a.ID {
		t.Errorf("after a group hand-over the conversation is %s in group %d with %d, want a's in group %d", c.Status, c.GroupID, c.AgentID, g.ID)
	}
}

// The holding reply is said once per wait, after holding_seconds.
func TestBotHoldingOnce(t *testing.T) {
	ctx := context.Background()
	bs := newBotShop(t, func(a *kefu.AssistantSettings) {
		a.HoldingSeconds = 60
		a.HoldingReply = "{buyer.name}，{shop.name}的客服正在忙，请稍候"
	})
	bs.online("a", 1)
	bs.writes("first", kefu.Entry{})
	m := bs.say(bs.buyer("b"), "你好")
	bs.clock.Advance(59 * time.Second)
	bs.bot.Tick(ctx)
	if got := codes(bs.botLines(m.ConversationID)); got != "busy" {
		t.Fatalf("before holding_seconds: %q, want busy only", got)
	}
	bs.clock.Advance(time.Second)
	bs.bot.Tick(ctx)
	bs.clock.Advance(5 * time.Minute)
	bs.bot.Tick(ctx)
	lines := bs.botLines(m.ConversationID)
	if got := codes(lines); got != "busy,holding" {
		t.Fatalf("after a long wait: %q, want one holding reply", got)
	}
	if lines[1].Text != "亲，s的客服正在忙，请稍候" {
		t.Errorf("holding reply %q, want its variables filled", lines[1].Text)
	}
}

// The holding reply does not depend on what the assistant holds in memory:
// a settings change (which drops it) does not silence buyers already waiting.
func TestBotHoldingAfterForget(t *testing.T) {
	ctx := context.Background()
	bs := newBotShop(t, func(a *kefu.AssistantSettings) { a.HoldingSeconds = 60 })
	bs.online("a", 1)
	bs.writes("first", kefu.Entry{})
	m := bs.say(bs.buyer("b"), "你好")
	bs.bot.Forget(bs.shop.ID)
	bs.clock.Advance(2 * time.Minute)
	bs.bot.Tick(ctx)
	if got := codes(bs.botLines(m.ConversationID)); got != "busy,holding" {
		t.Errorf("after Forget and a long wait: %q, want the holding reply", got)
	}
}

// The busy reply is said once per wait, not again for a retried first
// message.
func TestBotBusyOncePerWait(t *testing.T) {
	ctx := context.Background()
	bs := newBotShopOn(t, newTestShop(t), nil)
	bs.online("a", 1)
	bs.writes("first", kefu.Entry{})
	b := bs.buyer("b")
	var m kefu.Message
	for range 3 {
		var err error
		if m, _, err = bs.svc.Send(ctx, conversation.BuyerActor(b), 0, "same-id", "你好"); err != nil {
			t.Fatal(err)
		}
	}
	bs.start()
	bs.bot.Settle()
	if got := codes(bs.botLines(m.ConversationID)); got != "busy" {
		t.Errorf("a first message sent three times: bot lines %q, want one busy reply", got)
	}
}

// A buyer a person took before the assistant got to them hears no busy
// reply: the assistant reads the conversation again.
func TestBotNoStaleBusy(t *testing.T) {
	ctx := context.Background()
	bs := newBotShopOn(t, newTestShop(t), nil)
	a := bs.online("a", 1)
	first := bs.writes("first", kefu.Entry{})
	m, _, err := bs.svc.Send(ctx, conversation.BuyerActor(bs.buyer("b")), 0, "b-1", "在吗")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bs.svc.Close(ctx, conversation.AgentActor(a), first.ID); err != nil {
		t.Fatal(err)
	}
	if c := bs.conv(m.ConversationID); c.AgentID != a.ID {
		t.Fatalf("the freed slot did not go to the waiting buyer: %s with %d", c.Status, c.AgentID)
	}
	bs.start()
	bs.bot.Settle()
	if got := codes(bs.botLines(m.ConversationID)); got != "" {
		t.Errorf("a conversation a person took before the assistant looked got %q, want nothing", got)
	}
}

// At most replies_per_minute auto-replies in a conversation per minute.
func TestBotRateCap(t *testing.T) {
	bs := newBotShop(t, func(a *kefu.AssistantSettings) { a.RepliesPerMinute = 2 }, shipping)
	b := bs.buyer("b") // nobody online: the leave-message line, no busy reply
	var conv int64
	for range 4 {
		conv = bs.say(b, "发货").ConversationID
	}
	if n := len(bs.botLines(conv)); n != 2 {
		t.Fatalf("%d auto-replies to 4 messages in a minute, want 2", n)
	}
	bs.clock.Advance(time.Minute)
	bs.say(b, "发货")
	if n := len(bs.botLines(conv)); n != 3 {
		t.Errorf("%d auto-replies after a minute, want a third", n)
	}
}

// Outside business hours a waiting buyer hears the off-hours reply with
// the next opening.
func TestBotOffHours(t *testing.T) {
	// The test clock is 2026-11-11 10:00 UTC, 18:00 in Shanghai: closed.
	bs := newBotShop(t, func(a *kefu.AssistantSettings) {
		a.Hours = kefu.BusinessHours{Enabled: true, TimeZone: "Asia/Shanghai"}
		for d := range a.Hours.Weekly {
			a.Hours.Weekly[d] = []kefu.TimeSpan{{Start: 9 * 60, End: 17 * 60}}
		}
	})
	bs.online("a", 1)
	bs.writes("first", kefu.Entry{})
	m := bs.say(bs.buyer("b"), "你好")
	lines := bs.botLines(m.ConversationID)
	if codes(lines) != "off_hours" || !strings.Contains(lines[0].Text, "09:00") {
		t.Fatalf("bot lines %+v, want the off-hours reply naming 09:00", lines)
	}
}

// An agent who is away has their away reply said once, until they write.
func TestBotAwayReply(t *testing.T) {
	ctx := context.Background()
	bs := newBotShop(t, nil)
	a := bs.online("a", 5)
	reply := "我去吃饭了，马上回来"
	if _, err := bs.svc.UpdateAgent(ctx, a, a.ID, kefu.AgentChange{AwayReply: &reply}); err != nil {
		t.Fatal(err)
	}
	b := bs.buyer("b")
	m := bs.say(b, "你好")
	a, _ = bs.st.Agent(ctx, bs.shop.ID, a.ID)
	bs.svc.SetPresence(ctx, a, kefu.PresenceAway)
	bs.say(b, "在吗")
	bs.say(b, "在吗？？")
	lines := bs.botLines(m.ConversationID)
	if codes(lines) != "away" || lines[0].Text != reply || lines[0].SenderName != "a" {
		t.Fatalf("bot lines %+v, want one away reply from a", lines)
	}
	if _, _, err := bs.svc.Send(ctx, conversation.AgentActor(a), m.ConversationID, "r1", "来了"); err != nil {
		t.Fatal(err)
	}
	bs.bot.Settle()
	bs.say(b, "好的")
	if n := len(bs.botLines(m.ConversationID)); n != 2 {
		t.Errorf("%d away replies after the agent wrote and the buyer again, want 2", n)
	}
}

// A reply about the buyer's order, to a buyer kefu knows no order of, is
// the no-order line, never the answer with its order left blank.
func TestBotNoOrder(t *testing.T) {
	tracking := kefu.AutoReplyRule{Name: "快递单号", Match: kefu.MatchAny, Patterns: []string{"快递单号"}, Priority: 10,
		Answer: "亲，您的订单 {order.no}（{order.status}）快递单号是 {order.tracking_no}"}
	bs := newBotShop(t, nil, tracking)
	m := bs.say(bs.buyer("v"), "查快递单号")
	lines := bs.botLines(m.ConversationID)
	if len(lines) != 1 || strings.Contains(lines[0].Text, "快递单号是") || !strings.Contains(lines[0].Text, "没有找到您的订单") || lines[0].RuleID == 0 {
		t.Fatalf("bot lines %+v, want the no-order line for the rule", lines)
	}
}
