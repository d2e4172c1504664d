package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/autoreply"
)

// BotStore is what the shop's assistant reads and writes besides the
// service's Store.
type BotStore interface {
	AssistantSettings(ctx context.Context, shopID int64) (kefu.AssistantSettings, error)
	AutoReplyRules(ctx context.Context, shopID int64) ([]kefu.AutoReplyRule, error)
	CountRuleHit(ctx context.Context, shopID, id int64) error
	HandOver(ctx context.Context, shopID, id, groupID int64, reason string, line kefu.Message,
		committed func(kefu.Change)) (kefu.Conversation, bool, error)
	LongQueued(ctx context.Context, holding map[int64]int, now time.Time) ([]kefu.Conversation, error)
	HoldingShops(ctx context.Context) (map[int64]int, error)
	Holding(ctx context.Context, shopID, id int64, m kefu.Message, committed func(kefu.Change)) (bool, error)
	Buyer(ctx context.Context, shopID, id int64) (kefu.Buyer, error)
}

// botCacheTTL is how long a shop's settings and compiled rules are used
// from memory. A change made through this process is used at once (Forget);
// one made through another process within the TTL.
const botCacheTTL = 5 * time.Second

// botQueue bounds the buyer messages waiting for the assistant. When it is
// full (a surge the worker cannot keep up with) a message gets no
// auto-reply, which is logged; the message itself is stored and delivered.
const botQueue = 4096

// Bot is the shop's assistant (店小蜜): the auto-replies of docs/autoreply.md.
// It is a consumer of committed messages (Consume), answering on a goroutine
// of its own (Run), and the service's bot-first hook (AnswersFirst). It
// never answers a message of its own, of kefu or of an agent: only a
// buyer's message sets it off, at most RepliesPerMinute times a minute per
// conversation.
type Bot struct {
	svc   *Service
	store BotStore
	log   *slog.Logger
	jobs  chan botJob

	mu      sync.Mutex
	shops   map[int64]*botShop
	replies map[int64][]time.Time // conversation → its recent auto-replies, oldest first
	// away: conversation → the agent whose away reply was said since they
	// last wrote in it.
	away map[int64]int64
	// told: conversation → the wait (its queued_at) the busy or off-hours
	// reply was said in.
	told map[int64]time.Time
	// holding: the shops with a holding reply, read from the store every
	// holdingRefresh.
	holding     map[int64]int
	holdingRead time.Time
	pending     sync.WaitGroup
}

// holdingRefresh is how often Tick reads which shops say a holding reply.
const holdingRefresh = 30 * time.Second

// botShop is a shop's settings and rules as the assistant uses them.
type botShop struct {
	settings kefu.AssistantSettings
	matcher  *autoreply.Matcher
	name     string // the shop's
	loaded   time.Time
	// waiting is how many buyers were in line at waitingRead (b.mu), for
	// the welcome's estimate.
	waiting     int
	waitingRead time.Time
}

// botJob is one thing for the worker: a buyer's message to answer, or
// (msg nil) a conversation routing left waiting.
type botJob struct {
	msg  *kefu.Message
	conv kefu.Conversation
}

// NewBot returns the shop's assistant for svc and installs it: it hears of
// every committed change and answers bot-first. Call Run to start it.
func NewBot(svc *Service, store BotStore, log *slog.Logger) *Bot {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{svc: svc, store: store, log: log, jobs: make(chan botJob, botQueue),
		shops: map[int64]*botShop{}, replies: map[int64][]time.Time{}, away: map[int64]int64{}, told: map[int64]time.Time{}}
	svc.assistant = b
	svc.consumers = append(svc.consumers, b)
	return b
}

// Consume hands a buyer's message to the worker; an agent's message resets
// the away reply of its conversation.
func (b *Bot) Consume(c Committed) {
	m := c.Message
	if c.Event.Type != kefu.EventMessage || m == nil {
		return
	}
	switch m.Sender {
	case kefu.SenderAgent:
		b.mu.Lock()
		delete(b.away, m.ConversationID)
		b.mu.Unlock()
	case kefu.SenderBuyer:
		b.enqueue(botJob{msg: m, conv: c.Conversation})
	}
}

func (b *Bot) enqueue(j botJob) {
	b.pending.Add(1)
	select {
	case b.jobs <- j:
	default:
		b.pending.Done()
		b.log.Warn("assistant queue full: no auto-reply", "conversation", j.conv.ID)
	}
}

// Run answers until ctx ends, and once every interval says the holding
// reply to buyers who have waited long (Tick).
func (b *Bot) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-b.jobs:
			b.handle(context.WithoutCancel(ctx), j)
			b.pending.Done()
		case <-t.C:
			b.Tick(ctx)
		}
	}
}

// Settle returns once every message handed to the assistant so far has
// been answered (or passed over). Tests use it instead of waiting a while.
func (b *Bot) Settle() { b.pending.Wait() }

// Forget drops what the assistant holds of a shop's settings and rules, so
// a change is used from the next message on.
func (b *Bot) Forget(shopID int64) {
	b.mu.Lock()
	delete(b.shops, shopID)
	b.mu.Unlock()
}

// shop returns the shop's settings and compiled rules, from memory when fresh.
func (b *Bot) shop(ctx context.Context, shopID int64) (*botShop, error) {
	now := b.svc.now()
	b.mu.Lock()
	cached := b.shops[shopID]
	b.mu.Unlock()
	if cached != nil && now.Sub(cached.loaded) < botCacheTTL && !now.Before(cached.loaded) {
		return cached, nil
	}
	settings, err := b.store.AssistantSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	rules, err := b.store.AutoReplyRules(ctx, shopID)
	if err != nil {
		return nil, err
	}
	m, err := autoreply.Compile(rules)
	if err != nil {
		// Every rule was checked when saved; one that no longer compiles
		// (a cap lowered since) leaves the shop without keyword answers.
		b.log.Error("compile auto-reply rules", "shop", shopID, "err", err)
		m, _ = autoreply.Compile(nil)
	}
	shop, err := b.svc.store.Shop(ctx, shopID)
	if err != nil {
		return nil, err
	}
	bs := &botShop{settings: settings, matcher: m, name: shop.Name, loaded: now}
	b.mu.Lock()
	b.shops[shopID] = bs
	b.mu.Unlock()
	return bs, nil
}

// Settings returns the shop's assistant settings as the assistant uses them.
func (b *Bot) Settings(ctx context.Context, shopID int64) (kefu.AssistantSettings, error) {
	bs, err := b.shop(ctx, shopID)
	if err != nil {
		return kefu.AssistantSettings{}, err
	}
	return bs.settings, nil
}

// AnswersFirst is the bot-first hook: the shop's assistant is on and answers first.
func (b *Bot) AnswersFirst(ctx context.Context, shop kefu.Shop, _ int64, _ kefu.Entry) bool {
	bs, err := b.shop(ctx, shop.ID)
	if err != nil {
		b.log.Error("assistant settings", "shop", shop.ID, "err", err)
		return false
	}
	return bs.settings.Enabled && bs.settings.BotFirst
}

// Answers reports whether the shop's assistant is on (overflow and surge
// mode make it answer first).
func (b *Bot) Answers(ctx context.Context, shop kefu.Shop) bool {
	bs, err := b.shop(ctx, shop.ID)
	if err != nil {
		b.log.Error("assistant settings", "shop", shop.ID, "err", err)
		return false
	}
	return bs.settings.Enabled
}

// Greeting is the welcome stored as a new conversation's first message
// (nil: none). The widget shows it before the buyer writes; it is stored
// when they do, so the transcript shows what they saw.
func (b *Bot) Greeting(ctx context.Context, shop kefu.Shop, buyerID int64) *kefu.Message {
	bs, err := b.shop(ctx, shop.ID)
	if err != nil || !bs.settings.Enabled || bs.settings.Greeting == "" {
		return nil
	}
	buyer, err := b.store.Buyer(ctx, shop.ID, buyerID)
	if err != nil {
		b.log.Error("assistant: greeting", "buyer", buyerID, "err", err)
	}
	m := b.line(bs, kefu.BotWelcome, greetingFor(bs, buyer))
	m.QuickReplies = bs.settings.QuickQuestions
	return &m
}

// greetingFor is the shop's greeting with {shop.name} and, for a buyer the
// shop identified by name, {buyer.name} filled.
func greetingFor(bs *botShop, buyer kefu.Buyer) string {
	vals := map[string]string{"shop.name": bs.name}
	if buyer.Identified() && buyer.Name != kefu.IdentifiedBuyerName(buyer.ExternalID) {
		vals["buyer.name"] = buyer.Name
	}
	return autoreply.Fill(bs.settings.Greeting, vals)
}

// Welcome is what the widget shows a buyer before they write, with the
// open state and the expected wait from the live line.
type Welcome struct {
	Assistant      kefu.AssistantSettings
	Greeting       string // filled for the buyer
	Open           bool
	NextOpening    string // described for buyers, when closed
	ETA            time.Duration
	QuickQuestions []string
}

// Welcome returns the shop's welcome for buyer, or false when its assistant
// is off. The wait is estimated from the line as read at most botCacheTTL
// ago: a reconnect storm of widgets costs one read of the line per shop.
func (b *Bot) Welcome(ctx context.Context, shop kefu.Shop, buyer kefu.Buyer) (Welcome, bool, error) {
	bs, err := b.shop(ctx, shop.ID)
	if err != nil {
		return Welcome{}, false, err
	}
	if !bs.settings.Enabled {
		return Welcome{}, false, nil
	}
	now := b.svc.now()
	w := Welcome{Assistant: bs.settings, Greeting: greetingFor(bs, buyer), Open: autoreply.Open(bs.settings.Hours, now),
		QuickQuestions: bs.settings.QuickQuestions}
	if !w.Open {
		if next, ok := autoreply.NextOpening(bs.settings.Hours, now); ok {
			w.NextOpening = autoreply.Describe(bs.settings.Hours, next, now)
		}
	}
	b.mu.Lock()
	waiting, fresh := bs.waiting, bs.waitingRead.After(now.Add(-botCacheTTL)) && !bs.waitingRead.After(now)
	b.mu.Unlock()
	if !fresh {
		line, err := b.svc.store.Waiting(ctx, shop.ID)
		if err != nil {
			return Welcome{}, false, err
		}
		waiting = len(line)
		b.mu.Lock()
		bs.waiting, bs.waitingRead = waiting, now
		b.mu.Unlock()
	}
	w.ETA = b.svc.line.eta(shop.ID, waiting+1, now)
	return w, true, nil
}

// Try matches text as the assistant would in a conversation of groupID,
// for the settings page's 试一试: the rule that answers and its answer with
// the shop's and the agent's names filled; nothing is stored.
func (b *Bot) Try(ctx context.Context, agent kefu.Agent, text string, groupID int64) (kefu.AutoReplyRule, string, bool, error) {
	bs, err := b.shop(ctx, agent.ShopID)
	if err != nil {
		return kefu.AutoReplyRule{}, "", false, err
	}
	r, ok := bs.matcher.Match(text, groupID)
	if !ok {
		return kefu.AutoReplyRule{}, "", false, nil
	}
	// The order's variables stay as written: they are filled from the
	// buyer's order in a conversation.
	vals := map[string]string{"shop.name": bs.name, "agent.name": agent.Name}
	for _, v := range kefu.PhraseVariables {
		if strings.HasPrefix(v, "order.") {
			vals[v] = "{" + v + "}"
		}
	}
	return r, autoreply.Fill(r.Answer, vals), true, nil
}

// line is a bot message of the shop's assistant.
func (b *Bot) line(bs *botShop, code, text string) kefu.Message {
	return kefu.Message{Kind: kefu.KindText, Sender: kefu.SenderBot, SenderName: bs.settings.Name, Text: text, Code: code}
}

// reply is a bot message whose text has the conversation's variables
// filled, and extra's (the queue's, the hours').
func (b *Bot) reply(ctx context.Context, bs *botShop, conv kefu.Conversation, code, text string, extra map[string]string) kefu.Message {
	vals, err := b.values(ctx, bs, conv)
	if err != nil {
		b.log.Error("assistant: variables", "conversation", conv.ID, "err", err)
	}
	for k, v := range extra {
		vals[k] = v
	}
	if vals["order.no"] == "" && namesOrder(text) {
		// "您的订单（）快递单号是 ，" would read as a fault: a buyer kefu knows
		// no order of is told how to show one instead.
		text = noOrderReply
	}
	return b.line(bs, code, autoreply.Fill(text, vals))
}

// noOrderReply is said instead of a reply about the buyer's order when kefu
// knows none of theirs (an anonymous visitor, or a buyer with no order).
const noOrderReply = "亲，这边没有找到您的订单，登录后点「我的订单」把订单发给我们，客服帮您查询～"

// namesOrder reports whether text holds an {order.*} variable.
func namesOrder(text string) bool {
	for _, v := range autoreply.Variables(text) {
		if strings.HasPrefix(v, "order.") {
			return true
		}
	}
	return false
}

// waitingLeft is told by routing that a conversation still waits after the
// line moved: the buyer hears the busy or the off-hours reply.
func (b *Bot) waitingLeft(conv kefu.Conversation) {
	b.enqueue(botJob{conv: conv})
}

// handle answers one job.
func (b *Bot) handle(ctx context.Context, j botJob) {
	bs, err := b.shop(ctx, j.conv.ShopID)
	if err != nil {
		b.log.Error("assistant settings", "shop", j.conv.ShopID, "err", err)
		return
	}
	if !bs.settings.Enabled {
		return
	}
	if j.msg == nil {
		b.answerWaiting(ctx, bs, j.conv)
		return
	}
	if j.conv.Status == kefu.StatusAssigned {
		// The usual message, to a person: the state its commit left is
		// enough, and no store read is spent on it.
		b.awayReply(ctx, bs, j.conv)
		return
	}
	conv, err := b.svc.store.Conversation(ctx, j.conv.ShopID, j.conv.ID)
	if err != nil {
		b.log.Error("assistant: load conversation", "conversation", j.conv.ID, "err", err)
		return
	}
	if conv.Status == kefu.StatusQueued && !conv.AssistantFirst && b.svc.presence.AnyOnline(conv.ShopID) {
		// Routing may be giving it to an agent with room this moment: the
		// line moves first (inside the shop's routing serialization, after
		// any routing under way), and a person who got it answers.
		b.svc.drain(ctx, conv.ShopID)
		if conv, err = b.svc.store.Conversation(ctx, conv.ShopID, conv.ID); err != nil {
			b.log.Error("assistant: load conversation", "conversation", j.conv.ID, "err", err)
			return
		}
	}
	if !conv.Open() {
		return
	}
	b.answer(ctx, bs, conv, *j.msg)
}

// answer replies to a buyer's message (docs/autoreply.md, "What answers").
func (b *Bot) answer(ctx context.Context, bs *botShop, conv kefu.Conversation, msg kefu.Message) {
	st := bs.settings
	first := conv.AssistantFirst && conv.Status == kefu.StatusQueued
	switch {
	case conv.Status == kefu.StatusAssigned:
		b.awayReply(ctx, bs, conv)
		return
	case msg.Kind != kefu.KindText:
		// A card is for a person to look at, not a question for the rules:
		// the assistant answering first hands the buyer over.
		if first {
			b.handOver(ctx, bs, conv, 0, kefu.HandOverAsked, kefu.Message{})
		}
		return
	case first && autoreply.AsksForPerson(msg.Text):
		b.handOver(ctx, bs, conv, 0, kefu.HandOverAsked, b.reply(ctx, bs, conv, kefu.BotHandover, st.HandoverReply, nil))
		return
	case autoreply.AsksForPerson(msg.Text):
		// Already waiting for a person: say so (a 转人工 tapped from a
		// follow-up must not go unanswered).
		b.say(ctx, bs, conv, b.reply(ctx, bs, conv, kefu.BotHandover, st.HandoverReply, nil))
		return
	}
	rule, ok := bs.matcher.Match(msg.Text, conv.GroupID)
	if ok {
		reply := b.reply(ctx, bs, conv, kefu.BotKeyword, rule.Answer, nil)
		reply.RuleID, reply.QuickReplies = rule.ID, rule.FollowUps
		if b.say(ctx, bs, conv, reply) {
			if err := b.store.CountRuleHit(ctx, conv.ShopID, rule.ID); err != nil {
				b.log.Error("assistant: count hit", "rule", rule.ID, "err", err)
			}
		}
		// The hand-over happens even when the rate cap kept the answer back.
		switch {
		case rule.Handoff == kefu.HandoffHuman && first:
			b.handOver(ctx, bs, conv, 0, kefu.HandOverRule, kefu.Message{})
		case rule.Handoff == kefu.HandoffGroup:
			b.handOver(ctx, bs, conv, rule.HandoffGroupID, kefu.HandOverRule, kefu.Message{})
		}
		return
	}
	if first {
		// One try: what the rules cannot answer goes to a person at once,
		// never a loop of "I don't understand".
		b.handOver(ctx, bs, conv, 0, kefu.HandOverFallback, b.reply(ctx, bs, conv, kefu.BotFallback, st.FallbackReply, nil))
	}
}

// say stores an auto-reply in the conversation unless the conversation had
// its shop's replies_per_minute in the last minute; it reports whether it did.
func (b *Bot) say(ctx context.Context, bs *botShop, conv kefu.Conversation, m kefu.Message) bool {
	if m.Text == "" || !b.allow(conv, bs.perMinute()) {
		return false
	}
	m.ShopID, m.ConversationID = conv.ShopID, conv.ID
	if _, _, err := b.svc.store.Append(ctx, m, kefu.WriteRule{OpenOnly: true}, b.svc.committed(nil)); err != nil {
		if !errors.Is(err, kefu.ErrConversationClosed) {
			b.log.Error("assistant: reply", "conversation", conv.ID, "err", err)
		}
		return false
	}
	return true
}

// perMinute is the shop's cap on auto-replies per conversation per minute.
func (bs *botShop) perMinute() int {
	if bs.settings.RepliesPerMinute > 0 {
		return bs.settings.RepliesPerMinute
	}
	return kefu.DefaultRepliesPerMin
}

// allow counts one auto-reply to conv if it had fewer than limit in the
// last minute.
func (b *Bot) allow(conv kefu.Conversation, limit int) bool {
	now := b.svc.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	recent := b.replies[conv.ID]
	cut := 0
	for cut < len(recent) && now.Sub(recent[cut]) >= time.Minute {
		cut++
	}
	recent = recent[cut:]
	if len(recent) >= limit {
		b.replies[conv.ID] = recent
		return false
	}
	b.replies[conv.ID] = append(recent, now)
	if len(b.replies) > 100_000 {
		b.pruneReplies(now)
	}
	return true
}

// pruneReplies forgets conversations without an auto-reply in the last
// minute; b.mu is held.
func (b *Bot) pruneReplies(now time.Time) {
	for id, r := range b.replies {
		if len(r) == 0 || now.Sub(r[len(r)-1]) >= time.Minute {
			delete(b.replies, id)
		}
	}
	for id, at := range b.told {
		if now.Sub(at) >= 24*time.Hour {
			delete(b.told, id)
		}
	}
	if len(b.away) > 100_000 {
		clear(b.away) // at worst an away reply said twice
	}
}

// handOver ends the assistant's turn (or moves a waiting conversation to a
// group's line) with line as the buyer's last word from it, then lets the
// line move.
func (b *Bot) handOver(ctx context.Context, bs *botShop, conv kefu.Conversation, groupID int64, reason string, line kefu.Message) {
	if line.Text == "" {
		line = kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "正在为您转接人工客服，请稍候", Code: kefu.SystemHandedOver}
	}
	after, changed, err := b.store.HandOver(ctx, conv.ShopID, conv.ID, groupID, reason, line, b.svc.committed(nil))
	if err != nil {
		b.log.Error("assistant: hand over", "conversation", conv.ID, "err", err)
		return
	}
	if changed {
		b.svc.route(ctx, after, true)
	}
}

// answerWaiting tells a buyer routing left waiting for a person what to
// expect, once per wait: outside business hours the off-hours reply, else,
// when every agent online is busy, the busy reply with the place and the
// wait. The conversation is read again first: a person may have taken it
// since routing looked.
func (b *Bot) answerWaiting(ctx context.Context, bs *botShop, seen kefu.Conversation) {
	conv, err := b.svc.store.Conversation(ctx, seen.ShopID, seen.ID)
	if err != nil {
		b.log.Error("assistant: load conversation", "conversation", seen.ID, "err", err)
		return
	}
	if conv.Status != kefu.StatusQueued || conv.AssistantFirst {
		return // a person has it, or the assistant answers the buyer itself
	}
	b.mu.Lock()
	told := b.told[conv.ID].Equal(conv.QueuedAt)
	b.told[conv.ID] = conv.QueuedAt
	b.mu.Unlock()
	if told {
		return // a retried first message: this wait was told already
	}
	st := bs.settings
	now := b.svc.now()
	if !autoreply.Open(st.Hours, now) {
		next := ""
		if at, ok := autoreply.NextOpening(st.Hours, now); ok {
			next = autoreply.Describe(st.Hours, at, now)
		}
		b.say(ctx, bs, conv, b.reply(ctx, bs, conv, kefu.BotOffHours, st.OffHoursReply, map[string]string{"hours.next": next}))
		return
	}
	if !b.svc.presence.AnyOnline(conv.ShopID) {
		return // the leave-message line said it
	}
	position, err := b.svc.store.QueuePosition(ctx, conv)
	if err != nil || position == 0 {
		return
	}
	extra := map[string]string{"queue.position": strconv.Itoa(position)}
	if eta := b.svc.line.eta(conv.ShopID, position, now); eta > 0 {
		extra["queue.eta"] = describeWait(eta)
	}
	b.say(ctx, bs, conv, b.reply(ctx, bs, conv, kefu.BotBusy, st.BusyReply, extra))
}

// describeWait words an estimated wait for buyers.
func describeWait(d time.Duration) string {
	if d < time.Minute {
		return "1 分钟内"
	}
	return fmt.Sprintf("约 %d 分钟", int((d+time.Minute-1)/time.Minute))
}

// awayReply says the agent's own away reply to a buyer who writes while
// their agent is away, once until that agent writes.
func (b *Bot) awayReply(ctx context.Context, bs *botShop, conv kefu.Conversation) {
	if b.svc.presence.Effective(conv.ShopID, conv.AgentID) != kefu.PresenceAway {
		return
	}
	b.mu.Lock()
	told := b.away[conv.ID] == conv.AgentID
	b.mu.Unlock()
	if told {
		return
	}
	agent, err := b.svc.store.Agent(ctx, conv.ShopID, conv.AgentID)
	if err != nil || agent.AwayReply == "" {
		return
	}
	m := b.line(bs, kefu.BotAway, agent.AwayReply)
	m.SenderName = agent.Name
	if b.say(ctx, bs, conv, m) {
		b.mu.Lock()
		b.away[conv.ID] = conv.AgentID
		b.mu.Unlock()
	}
}

// values are the variables of an answer, from the conversation and the
// buyer's latest order.
func (b *Bot) values(ctx context.Context, bs *botShop, conv kefu.Conversation) (map[string]string, error) {
	vals := map[string]string{"shop.name": bs.name}
	buyer, err := b.store.Buyer(ctx, conv.ShopID, conv.BuyerID)
	if err != nil {
		return vals, err
	}
	if buyer.Identified() && buyer.Name != kefu.IdentifiedBuyerName(buyer.ExternalID) {
		vals["buyer.name"] = buyer.Name
	}
	orders, err := b.svc.store.LatestOrders(ctx, conv.ShopID, conv.BuyerID, 1)
	if err != nil || len(orders) == 0 {
		return vals, err
	}
	o := orders[0]
	vals["order.no"], vals["order.status"] = o.OrderNo, kefu.OrderStatusName(o.Status)
	vals["order.tracking_no"] = o.TrackingNo
	return vals, nil
}

// Tick says the holding reply once to each buyer who has waited their
// shop's holding_seconds in line for a person.
func (b *Bot) Tick(ctx context.Context) {
	now := b.svc.now()
	b.mu.Lock()
	stale := b.holding == nil || now.Sub(b.holdingRead) >= holdingRefresh || now.Before(b.holdingRead)
	b.mu.Unlock()
	if stale {
		shops, err := b.store.HoldingShops(ctx)
		if err != nil {
			b.log.Error("assistant: shops with a holding reply", "err", err)
			return
		}
		b.mu.Lock()
		b.holding, b.holdingRead = shops, now
		b.mu.Unlock()
	}
	b.mu.Lock()
	holding := b.holding
	b.mu.Unlock()
	if len(holding) == 0 {
		return
	}
	long, err := b.store.LongQueued(ctx, holding, now)
	if err != nil {
		b.log.Error("assistant: long waits", "err", err)
		return
	}
	for _, c := range long {
		bs, err := b.shop(ctx, c.ShopID)
		if err != nil || !bs.settings.Enabled || bs.settings.HoldingReply == "" {
			continue
		}
		if !b.allow(c, bs.perMinute()) {
			continue
		}
		m := b.reply(ctx, bs, c, kefu.BotHolding, bs.settings.HoldingReply, nil)
		if _, err := b.store.Holding(ctx, c.ShopID, c.ID, m, b.svc.committed(nil)); err != nil {
			b.log.Error("assistant: holding reply", "conversation", c.ID, "err", err)
		}
	}
}
