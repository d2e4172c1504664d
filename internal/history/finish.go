package history

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kefu/kefu"
)

// act is one thing that happened to a conversation, in time order.
type act struct {
	at   time.Time
	kind actKind
	msg  kefu.Message // actMessage
	to   *agentState  // actAssign, actTransfer, actReopen
	from *agentState  // actTransfer
	note string
}

type actKind int

const (
	actQueued actKind = iota
	actMessage
	actLink
	actAbandon
	actAssign
	actTransfer
	actClose
	actRated
	actReopen
	actHandOver
)

// finish writes what the simulation played out as rows: only the
// conversations that closed before End, the buyers something refers to, in
// time order, with local ids.
func (g *gen) finish() History {
	var h History
	kept := make([]*conv, 0, len(g.convs))
	for _, c := range g.convs {
		if c.closed && (!c.reopened || c.closed2) {
			kept = append(kept, c)
		}
	}
	// Buyers and orders in time order, numbered from 1.
	first := map[*buyerState]time.Time{}
	seen := func(b *buyerState, t time.Time) {
		if f, ok := first[b]; !ok || t.Before(f) {
			first[b] = t
		}
	}
	for _, c := range kept {
		seen(c.buyer, c.arrival)
	}
	for _, o := range g.orders {
		seen(o.buyer, o.at)
	}
	buyers := make([]*buyerState, 0, len(first))
	for b := range first {
		buyers = append(buyers, b)
	}
	slices.SortFunc(buyers, func(a, b *buyerState) int {
		if c := first[a].Compare(first[b]); c != 0 {
			return c
		}
		return int(a.local - b.local)
	})
	for i, b := range buyers {
		b.local2 = int64(i + 1)
		h.Buyers = append(h.Buyers, kefu.Buyer{ID: b.local2, ShopID: g.p.ShopID, VisitorID: b.visitorID, ExternalID: b.externalID,
			Name: b.name, CreatedAt: first[b]})
	}
	slices.SortStableFunc(g.orders, func(a, b *orderState) int { return a.at.Compare(b.at) })
	for i, o := range g.orders {
		o.local = int64(i + 1)
		last := o.history[len(o.history)-1]
		h.Orders = append(h.Orders, kefu.Order{ID: o.local, ShopID: g.p.ShopID, BuyerID: o.buyer.local2, OrderNo: o.no, Status: last.Status,
			AmountCents: o.amount, Currency: "CNY", Items: o.items, TrackingNo: o.track, CreatedAt: o.at, StatusAt: last.At,
			UpdatedAt: last.At, BuyerExternalID: o.buyer.externalID, History: o.history})
		g.emit(o.at, kefu.Event{Type: kefu.EventOrderCreated, Actor: kefu.SystemActor, BuyerID: o.buyer.local2,
			Data: kefu.EventData{OrderNo: o.no, OrderStatus: "paid"}}, "")
		for _, s := range o.history[1:] {
			fields := []string{"history", "status"}
			if s.Status == "shipped" {
				fields = append(fields, "tracking_no")
			}
			g.emit(s.At, kefu.Event{Type: kefu.EventOrderUpdated, Actor: kefu.SystemActor, BuyerID: o.buyer.local2,
				Data: kefu.EventData{OrderNo: o.no, OrderStatus: s.Status, Fields: fields}}, "")
		}
	}
	// Presence, overflow and surge events name no local id; buyer ids of
	// the order events above are final.
	for i, c := range kept {
		g.write(&h, int64(i+1), c)
	}
	// Messages in time order, numbered from 1; their events follow.
	order := make([]int, len(h.Messages))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return h.Messages[a].CreatedAt.Compare(h.Messages[b].CreatedAt) })
	renumber := make([]int64, len(h.Messages)+1)
	msgs := make([]kefu.Message, len(h.Messages))
	for i, j := range order {
		msgs[i] = h.Messages[j]
		msgs[i].ID = int64(i + 1)
		renumber[h.Messages[j].ID] = int64(i + 1)
	}
	h.Messages = msgs
	for i := range g.out {
		if g.out[i].Type == kefu.EventMessage {
			g.out[i].MessageID = renumber[g.out[i].MessageID]
		}
	}
	h.Events = sortEvents(g.out)
	return h
}

// write adds conversation c, numbered id, with its messages, events and
// links, as the live commands would have written them.
func (g *gen) write(h *History, id int64, c *conv) {
	b := c.buyer
	buyer := kefu.ActorRef{Kind: kefu.SenderBuyer, ID: b.local2}
	var acts []act
	add := func(a act) { acts = append(acts, a) }
	msg := func(at time.Time, sender kefu.SenderKind, senderID int64, name, text, code string) kefu.Message {
		return kefu.Message{ShopID: g.p.ShopID, ConversationID: id, Kind: kefu.KindText, Sender: sender, SenderID: senderID,
			SenderName: name, Text: text, Code: code, CreatedAt: at}
	}
	t := c.arrival
	add(act{at: t, kind: actQueued})
	as := g.p.Assistant
	if as != nil && as.Greeting != "" {
		w := msg(t, kefu.SenderBot, 0, as.Name, g.fill(as.Greeting, b), kefu.BotWelcome)
		w.QuickReplies = as.QuickQuestions
		add(act{at: t, kind: actMessage, msg: w})
	}
	ask := t.Add(100 * time.Millisecond)
	add(act{at: ask, kind: actMessage, msg: msg(ask, kefu.SenderBuyer, b.local2, b.name, g.pick(c.topic.asks), "")})
	served := len(c.holders) > 0
	assignedAt := c.closedAt // a conversation nobody took is answered by the assistant alone
	if served {
		assignedAt = c.holders[0].from
	}
	if c.order != nil {
		o := c.order
		at := t.Add(g.between(2*time.Second, 8*time.Second))
		card := kefu.Card{OrderNo: o.no, Status: o.statusAt(at), PriceCents: o.amount, Currency: "CNY"}
		for i, it := range o.items {
			if i == 0 {
				card.Title = it.Title
			}
			card.ItemCount += it.Quantity
		}
		m := msg(at, kefu.SenderBuyer, b.local2, b.name, "[订单] "+o.no+" "+kefu.OrderStatusName(card.Status), "")
		m.Kind, m.Card = kefu.KindOrder, &card
		add(act{at: at, kind: actMessage, msg: m})
		add(act{at: at.Add(time.Millisecond), kind: actLink})
		h.Links = append(h.Links, Link{ConversationID: id, OrderID: o.local, By: buyer, At: at.Add(time.Millisecond).Truncate(time.Microsecond)})
	}
	// The overflow stage's notice to a buyer who starts waiting in it.
	notice := ""
	code := ""
	switch {
	case c.left:
		order := ""
		if c.order != nil {
			order = "（已附上订单 " + c.order.no + "）"
		}
		notice, code = "当前咨询人数较多，已为您转为留言"+order+"，客服会按顺序尽快回复您，回复会显示在这里", kefu.SystemLeftMessage
	case c.stage == 1:
		notice, code = "当前咨询人数较多，已为您加开备用客服通道，请稍候", kefu.SystemOverflowBackup
	case c.stage >= 2 && (c.botAlone || !c.handedOver.IsZero()):
		notice, code = "当前咨询人数较多，智能助手先为您解答；需要人工客服请发送“转人工”", kefu.SystemOverflowBotFirst
	case c.stage >= 2:
		notice, code = "当前咨询人数较多，已为您排队，客服会尽快为您服务，请稍候", kefu.SystemOverflowBusy
	}
	if notice != "" && assignedAt.Sub(t) > time.Second {
		at := t.Add(500 * time.Millisecond)
		m := msg(at, kefu.SenderSystem, 0, "", notice, code)
		m.Kind = kefu.KindSystem
		add(act{at: at, kind: actMessage, msg: m})
	}
	if r, ok := g.rules[c.topic.name]; ok && as != nil && assignedAt.Sub(t) > 2*time.Second {
		at := t.Add(1500 * time.Millisecond)
		m := msg(at, kefu.SenderBot, 0, as.Name, g.fill(r.Answer, b), kefu.BotKeyword)
		m.RuleID, m.QuickReplies = r.ID, r.FollowUps
		add(act{at: at, kind: actMessage, msg: m})
	} else if served && notice == "" && assignedAt.Sub(t) > 2*time.Second {
		at := t.Add(time.Second)
		switch {
		case c.noneOnline:
			m := msg(at, kefu.SenderSystem, 0, "", "当前没有客服在线，请留言，客服上线后会尽快回复您", kefu.SystemLeaveMessage)
			m.Kind = kefu.KindSystem
			add(act{at: at, kind: actMessage, msg: m})
		case c.busyPos > 0 && as != nil && as.BusyReply != "":
			text := strings.NewReplacer("{queue.position}", fmt.Sprint(c.busyPos), "{queue.eta}", etaText(assignedAt.Sub(t))).Replace(as.BusyReply)
			add(act{at: at, kind: actMessage, msg: msg(at, kefu.SenderBot, 0, as.Name, text, kefu.BotBusy)})
		}
	}
	if !c.handedOver.IsZero() {
		add(act{at: c.handedOver, kind: actMessage, msg: msg(c.handedOver, kefu.SenderBuyer, b.local2, b.name, "转人工", "")})
		reply := kefu.DefaultAssistantSettings().HandoverReply
		if as != nil && as.HandoverReply != "" {
			reply = as.HandoverReply
		}
		at := c.handedOver.Add(200 * time.Millisecond)
		add(act{at: at, kind: actMessage, msg: msg(at, kefu.SenderBot, 0, as.Name, reply, kefu.BotHandover)})
		add(act{at: at, kind: actHandOver})
	}
	if !c.abandoned.IsZero() {
		add(act{at: c.abandoned, kind: actAbandon})
	}
	if served {
		first := c.holders[0].agent
		add(act{at: assignedAt, kind: actAssign, to: first})
		holder := func(at time.Time) *agentState {
			a := first
			if c.transferTo != nil && !at.Before(c.transferAt) {
				a = c.transferTo
			}
			return a
		}
		for _, s := range c.plan {
			switch {
			case s.transfer:
				if c.transferTo != nil {
					add(act{at: s.at, kind: actTransfer, from: first, to: c.transferTo, note: s.note})
				}
			case s.sender == kefu.SenderAgent:
				a := holder(s.at)
				add(act{at: s.at, kind: actMessage, msg: msg(s.at, kefu.SenderAgent, a.ID, a.Name, s.text, "")})
			default:
				add(act{at: s.at, kind: actMessage, msg: msg(s.at, kefu.SenderBuyer, b.local2, b.name, s.text, "")})
			}
		}
	} else {
		if g.r.Float64() < 0.5 {
			at := t.Add(g.between(20*time.Second, 90*time.Second))
			add(act{at: at, kind: actMessage, msg: msg(at, kefu.SenderBuyer, b.local2, b.name, g.pick(thanks), "")})
		}
	}
	add(act{at: c.closedAt, kind: actClose})
	if c.rated > 0 {
		if at := c.closedAt.Add(g.between(5*time.Second, 180*time.Second)); at.Before(g.end) && (!c.reopened || at.Before(c.reopenAt)) {
			add(act{at: at, kind: actRated})
		}
	}
	if c.reopened {
		a := c.holders[len(c.holders)-1].agent
		add(act{at: c.reopenAt, kind: actReopen, to: a})
		for _, s := range c.plan2 {
			if s.sender == kefu.SenderAgent {
				add(act{at: s.at, kind: actMessage, msg: msg(s.at, kefu.SenderAgent, a.ID, a.Name, s.text, "")})
			} else {
				add(act{at: s.at, kind: actMessage, msg: msg(s.at, kefu.SenderBuyer, b.local2, b.name, s.text, "")})
			}
		}
		add(act{at: c.closed2At, kind: actClose})
	}
	slices.SortStableFunc(acts, func(x, y act) int { return x.at.Compare(y.at) })

	row := Conversation{Conversation: kefu.Conversation{ID: id, ShopID: g.p.ShopID, BuyerID: b.local2, GroupID: c.groupID,
		Status: kefu.StatusQueued, CreatedAt: c.arrival, QueuedAt: c.arrival, AssistantFirst: c.botAlone || !c.handedOver.IsZero()}}
	if c.left {
		row.Priority = kefu.PriorityLeftMessage
	}
	var holder *agentState
	holderID := func() int64 {
		if holder == nil {
			return 0
		}
		return holder.ID
	}
	var holderSince time.Time
	var awaiting, nudged *time.Time
	line := func(at time.Time, name, text, code string) {
		add := msg(at, kefu.SenderSystem, 0, name, text, code)
		add.Kind = kefu.KindSystem
		g.message(h, &row, add, holderID())
	}
	for _, a := range acts {
		at := a.at.UTC().Truncate(time.Microsecond)
		switch a.kind {
		case actQueued:
			g.emit(at, kefu.Event{Type: kefu.EventQueued, Actor: buyer, ConversationID: id, BuyerID: b.local2,
				Data: kefu.EventData{GroupID: c.groupID, AssistantFirst: c.botAlone || !c.handedOver.IsZero()}}, "")
		case actMessage:
			m := a.msg
			m.CreatedAt = at
			switch m.Sender {
			case kefu.SenderBuyer:
				if awaiting == nil {
					awaiting = &at
				}
			case kefu.SenderAgent:
				if awaiting != nil && row.Status == kefu.StatusAssigned {
					n := awaiting.Add(slowReply)
					if n.Before(holderSince) {
						n = holderSince.Add(time.Second)
					}
					if n.Before(at) && (nudged == nil || nudged.Before(*awaiting)) {
						n = n.Truncate(time.Microsecond)
						nudged = &n
						g.emit(n, kefu.Event{Type: kefu.EventNudged, Actor: kefu.SystemActor, ConversationID: id, BuyerID: b.local2,
							AgentID: holderID()}, "")
					}
				}
				awaiting = nil
			}
			g.message(h, &row, m, holderID())
		case actLink:
			g.emit(at, kefu.Event{Type: kefu.EventOrderLinked, Actor: buyer, ConversationID: id, BuyerID: b.local2, AgentID: holderID(),
				Data: kefu.EventData{OrderNo: c.order.no}}, "")
		case actHandOver:
			row.QueuedAt, row.AssistantFirst = at, false
			g.emit(at, kefu.Event{Type: kefu.EventHandedOver, Actor: kefu.SystemActor, ConversationID: id, BuyerID: b.local2,
				Data: kefu.EventData{Reason: kefu.HandOverAsked}}, "")
		case actAbandon:
			row.AbandonedAt = &at
			g.emit(at, kefu.Event{Type: kefu.EventAbandoned, Actor: buyer, ConversationID: id, BuyerID: b.local2,
				Data: kefu.EventData{Reason: "buyer_left"}}, "")
		case actAssign:
			holder, holderSince = a.to, at
			row.Status, row.AssignedAt, row.AssistantFirst = kefu.StatusAssigned, &at, false
			g.emit(at, kefu.Event{Type: kefu.EventAssigned, Actor: kefu.SystemActor, ConversationID: id, BuyerID: b.local2, AgentID: a.to.ID}, "")
			line(at, a.to.Name, "客服 "+a.to.Name+" 为您服务", kefu.SystemAssigned)
		case actTransfer:
			holder, holderSince = a.to, at
			row.AssignedAt, row.TransferFromAgentID, row.TransferNote = &at, a.from.ID, a.note
			line(at, a.to.Name, "已为您转接至客服 "+a.to.Name, kefu.SystemTransferred)
			g.emit(at, kefu.Event{Type: kefu.EventTransferred, Actor: kefu.ActorRef{Kind: kefu.SenderAgent, ID: a.from.ID},
				ConversationID: id, BuyerID: b.local2, AgentID: a.to.ID, Data: kefu.EventData{FromAgentID: a.from.ID, Note: a.note}}, "")
		case actClose:
			line(at, "", "会话已结束", kefu.SystemClosed)
			by := kefu.SystemActor
			switch {
			case holder != nil:
				by = kefu.ActorRef{Kind: kefu.SenderAgent, ID: holder.ID}
			case c.closer != nil:
				by = kefu.ActorRef{Kind: kefu.SenderAgent, ID: c.closer.ID}
			}
			row.Status, row.ClosedAt = kefu.StatusClosed, &at
			g.emit(at, kefu.Event{Type: kefu.EventClosed, Actor: by, ConversationID: id, BuyerID: b.local2, AgentID: holderID()}, "")
		case actRated:
			row.Rating, row.RatedAt = c.rated, &at
			data := fmt.Sprintf(`{"stars":%d}`, c.rated)
			if c.comment {
				row.RatingComment = g.pick(ratingComments)
				data = fmt.Sprintf(`{"stars":%d,"comment":true}`, c.rated)
			}
			g.emit(at, kefu.Event{Type: kefu.EventRated, Actor: buyer, ConversationID: id, BuyerID: b.local2, AgentID: holderID()}, data)
		case actReopen:
			holder, holderSince = a.to, at
			row.Status, row.ClosedAt, row.AssignedAt = kefu.StatusAssigned, nil, &at
			line(at, a.to.Name, "会话已重新开启，客服 "+a.to.Name+" 继续为您服务", kefu.SystemReopened)
			g.emit(at, kefu.Event{Type: kefu.EventReopened, Actor: buyer, ConversationID: id, BuyerID: b.local2, AgentID: a.to.ID}, "")
		}
	}
	row.AgentID = holderID()
	row.AwaitingSince, row.NudgedAt = awaiting, nudged
	row.AgentReadSeq, row.BuyerReadSeq = row.LastSeq, row.LastSeq
	h.Conversations = append(h.Conversations, row)
}

// message stores m as the conversation's next message, with its event
// (agentID: the conversation's agent then).
func (g *gen) message(h *History, row *Conversation, m kefu.Message, agentID int64) {
	row.LastSeq++
	m.Seq = row.LastSeq
	m.ID = int64(len(h.Messages) + 1)
	h.Messages = append(h.Messages, m)
	g.emit(m.CreatedAt, kefu.Event{Type: kefu.EventMessage, Actor: kefu.ActorRef{Kind: m.Sender, ID: m.SenderID},
		ConversationID: m.ConversationID, BuyerID: row.BuyerID, AgentID: agentID, MessageID: m.ID, Seq: m.Seq}, "")
}

// sortEvents orders events by time, those of one time in the order they
// were written (an index sort: events are large to move).
func sortEvents(events []Event) []Event {
	type key struct {
		at int64
		i  int
	}
	keys := make([]key, len(events))
	for i, e := range events {
		keys[i] = key{e.CreatedAt.UnixMicro(), i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	out := make([]Event, len(events))
	for i, k := range keys {
		out[i] = events[k.i]
	}
	return out
}
