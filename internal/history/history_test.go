package history_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/history"
)

// demoParams are the demo's: three weeks up to a fixed now, two agents and
// a backup team, the assistant with two rules.
func demoParams(seed uint64) history.Params {
	end := time.Date(2026, 12, 3, 6, 30, 0, 0, time.UTC) // 14:30 in Shanghai
	return history.Params{Seed: seed, ShopID: 7, ShopName: "小铺",
		Agents: []history.Agent{{ID: 2, Name: "小王", Conversion: 0.5}, {ID: 3, Name: "小丽", Conversion: 0.4}, {ID: 4, Name: "外包小张", Backup: true, GroupID: 9}},
		Groups: []history.Group{{ID: 9, Name: "外包客服"}},
		Start:  end.Add(-21 * 24 * time.Hour), End: end,
		Assistant: &history.Assistant{Name: "小蜜", Greeting: "亲，欢迎光临{shop.name}！", QuickQuestions: []string{"什么时候发货？"},
			BusyReply: "您排在第 {queue.position} 位，预计等待 {queue.eta}",
			Rules:     []history.Rule{{ID: 11, Topic: "发货时间", Answer: "亲，48 小时内发货"}, {ID: 12, Topic: "发票", Answer: "亲，可以开电子发票"}}},
	}
}

func TestHistoryIsDeterministic(t *testing.T) {
	a, b := history.Generate(demoParams(1)), history.Generate(demoParams(1))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two histories of the same seed differ")
	}
	c := history.Generate(demoParams(2))
	if reflect.DeepEqual(a.Messages, c.Messages) {
		t.Fatal("two seeds give the same messages")
	}
}

func TestHistoryInvariants(t *testing.T) {
	p := demoParams(42)
	h := history.Generate(p)
	t.Logf("buyers %d, conversations %d, messages %d, events %d, orders %d, links %d",
		len(h.Buyers), len(h.Conversations), len(h.Messages), len(h.Events), len(h.Orders), len(h.Links))
	if n := len(h.Conversations); n < 2500 || n > 4500 {
		t.Errorf("%d conversations in 21 days at 150 a day (and a surge)", n)
	}
	counts := map[kefu.EventType]int{}
	for i, e := range h.Events {
		counts[e.Type]++
		if i > 0 && e.CreatedAt.Before(h.Events[i-1].CreatedAt) {
			t.Fatalf("event %d (%s) at %v before the one before it", i, e.Type, e.CreatedAt)
		}
		if !e.CreatedAt.Before(p.End) || e.CreatedAt.Before(p.Start) {
			t.Fatalf("event %s at %v outside the history", e.Type, e.CreatedAt)
		}
		if !json.Valid([]byte(e.DataJSON)) {
			t.Fatalf("event %s data %q", e.Type, e.DataJSON)
		}
	}
	t.Logf("events by type: %v", counts)
	for _, typ := range []kefu.EventType{kefu.EventQueued, kefu.EventAssigned, kefu.EventClosed, kefu.EventMessage, kefu.EventPresence,
		kefu.EventTransferred, kefu.EventNudged, kefu.EventReopened, kefu.EventAbandoned, kefu.EventOrderCreated, kefu.EventOrderLinked,
		kefu.EventSurgeStarted, kefu.EventSurgeEnded, kefu.EventOverflowStage, kefu.EventHandedOver, kefu.EventRated} {
		if counts[typ] == 0 {
			t.Errorf("no %s event", typ)
		}
	}

	// Presence over time: an agent is assigned only while online.
	presence := map[int64]kefu.Presence{}
	type convState struct {
		status kefu.ConversationStatus
		agent  int64
		seq    int64
		queued bool
		wrote  bool // the buyer wrote
	}
	convs := map[int64]*convState{}
	msgs := map[int64]kefu.Message{}
	for _, m := range h.Messages {
		msgs[m.ID] = m
	}
	for _, e := range h.Events {
		c := convs[e.ConversationID]
		switch e.Type {
		case kefu.EventPresence:
			presence[e.AgentID] = e.Data.Presence
		case kefu.EventQueued:
			if c != nil {
				t.Fatalf("conversation %d queued twice", e.ConversationID)
			}
			convs[e.ConversationID] = &convState{status: kefu.StatusQueued, queued: true}
		case kefu.EventAssigned:
			if c == nil || c.status != kefu.StatusQueued || !c.wrote {
				t.Fatalf("conversation %d assigned while %+v", e.ConversationID, c)
			}
			if presence[e.AgentID] != kefu.PresenceOnline {
				t.Fatalf("conversation %d assigned to agent %d while %s", e.ConversationID, e.AgentID, presence[e.AgentID])
			}
			c.status, c.agent = kefu.StatusAssigned, e.AgentID
		case kefu.EventTransferred:
			if c == nil || c.status != kefu.StatusAssigned || e.Data.FromAgentID != c.agent || presence[e.AgentID] != kefu.PresenceOnline {
				t.Fatalf("conversation %d transferred from %d to %d while %+v", e.ConversationID, e.Data.FromAgentID, e.AgentID, c)
			}
			c.agent = e.AgentID
		case kefu.EventReopened:
			if c == nil || c.status != kefu.StatusClosed || presence[e.AgentID] != kefu.PresenceOnline {
				t.Fatalf("conversation %d reopened while %+v", e.ConversationID, c)
			}
			c.status = kefu.StatusAssigned
		case kefu.EventClosed:
			if c == nil || c.status == kefu.StatusClosed || e.AgentID != c.agent {
				t.Fatalf("conversation %d closed (agent %d) while %+v", e.ConversationID, e.AgentID, c)
			}
			c.status = kefu.StatusClosed
		case kefu.EventRated:
			if c == nil || c.status != kefu.StatusClosed || e.AgentID != c.agent || e.Actor.Kind != kefu.SenderBuyer {
				t.Fatalf("conversation %d rated while %+v", e.ConversationID, c)
			}
		case kefu.EventHandedOver:
			if c == nil || c.status != kefu.StatusQueued || e.Data.Reason != kefu.HandOverAsked {
				t.Fatalf("conversation %d handed over while %+v", e.ConversationID, c)
			}
		case kefu.EventAbandoned:
			if c == nil || c.status != kefu.StatusQueued {
				t.Fatalf("conversation %d abandoned while %+v", e.ConversationID, c)
			}
		case kefu.EventNudged:
			if c == nil || c.status != kefu.StatusAssigned || e.AgentID != c.agent {
				t.Fatalf("conversation %d nudged while %+v", e.ConversationID, c)
			}
		case kefu.EventMessage:
			m := msgs[e.MessageID]
			if c == nil || m.ConversationID != e.ConversationID || m.Seq != c.seq+1 || e.Seq != m.Seq || !m.CreatedAt.Equal(e.CreatedAt) {
				t.Fatalf("message event %+v for message %+v while %+v", e, m, c)
			}
			c.seq = m.Seq
			c.wrote = c.wrote || m.Sender == kefu.SenderBuyer
			// A transfer's line names the new agent, before its event.
			if e.AgentID != c.agent && c.status != kefu.StatusQueued && m.Code != kefu.SystemTransferred {
				t.Fatalf("message %d: event agent %d, conversation's %d", m.ID, e.AgentID, c.agent)
			}
			if m.Sender == kefu.SenderAgent && (c.status != kefu.StatusAssigned || m.SenderID != c.agent) {
				t.Fatalf("agent %d wrote in conversation %d while %+v", m.SenderID, e.ConversationID, c)
			}
			if (m.Sender == kefu.SenderSystem) != (m.Kind == kefu.KindSystem) || (m.Sender == kefu.SenderSystem && m.Code == "") {
				t.Fatalf("message %+v", m)
			}
			if m.Sender == kefu.SenderBot && m.Code == "" {
				t.Fatalf("bot message without a code: %+v", m)
			}
			if m.Sender == kefu.SenderBuyer && c.status == kefu.StatusClosed {
				t.Fatalf("buyer wrote in closed conversation %d", e.ConversationID)
			}
		}
	}
	if len(convs) != len(h.Conversations) {
		t.Fatalf("%d conversations queued, %d rows", len(convs), len(h.Conversations))
	}
	for _, row := range h.Conversations {
		c := convs[row.ID]
		if row.Status != kefu.StatusClosed || c.status != kefu.StatusClosed || row.ClosedAt == nil {
			t.Fatalf("conversation %d ends %s", row.ID, row.Status)
		}
		if row.LastSeq != c.seq || row.AgentID != c.agent {
			t.Fatalf("conversation %d row %+v, events %+v", row.ID, row.Conversation, c)
		}
		if row.AgentID != 0 && (row.AssignedAt == nil || row.AssignedAt.Before(row.QueuedAt)) {
			t.Fatalf("conversation %d assigned at %v", row.ID, row.AssignedAt)
		}
		if row.BuyerID < 1 || int(row.BuyerID) > len(h.Buyers) {
			t.Fatalf("conversation %d of buyer %d", row.ID, row.BuyerID)
		}
	}
	codes := map[string]int{}
	for _, m := range h.Messages {
		codes[m.Code]++
	}
	t.Logf("messages by code: %v", codes)
	for _, code := range []string{kefu.BotWelcome, kefu.BotKeyword, kefu.BotHandover, kefu.SystemAssigned, kefu.SystemClosed, kefu.SystemTransferred,
		kefu.SystemReopened, kefu.SystemLeftMessage, kefu.SystemOverflowBackup, kefu.SystemOverflowBotFirst} {
		if codes[code] == 0 {
			t.Errorf("no message of code %s", code)
		}
	}
	for i, m := range h.Messages {
		if m.ID != int64(i+1) || (i > 0 && m.CreatedAt.Before(h.Messages[i-1].CreatedAt)) {
			t.Fatalf("message %d out of order", i)
		}
	}
	for i, b := range h.Buyers {
		if b.ID != int64(i+1) || (i > 0 && b.CreatedAt.Before(h.Buyers[i-1].CreatedAt)) {
			t.Fatalf("buyer %d out of order", i)
		}
	}
	seenNo := map[string]bool{}
	for _, o := range h.Orders {
		if seenNo[o.OrderNo] || o.AmountCents < 3000 || o.AmountCents > 80000 || o.Currency != "CNY" || len(o.Items) == 0 {
			t.Fatalf("order %+v", o)
		}
		seenNo[o.OrderNo] = true
	}

	// 询单转化率: a share of the buyers served orders within a day.
	served := map[int64]time.Time{}
	for _, row := range h.Conversations {
		if row.AgentID != 0 {
			if _, ok := served[row.BuyerID]; !ok {
				served[row.BuyerID] = *row.ClosedAt
			}
		}
	}
	converted := 0
	for b, at := range served {
		for _, o := range h.Orders {
			if o.BuyerID == b && o.CreatedAt.After(at) && o.CreatedAt.Sub(at) < 24*time.Hour {
				converted++
				break
			}
		}
	}
	share := float64(converted) / float64(len(served))
	t.Logf("conversion: %d of %d served buyers (%.0f%%)", converted, len(served), 100*share)
	if share < 0.2 || share > 0.5 {
		t.Errorf("conversion %.2f", share)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for range b.N {
		history.Generate(demoParams(42))
	}
}
