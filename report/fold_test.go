package report

import (
	"testing"
	"time"

	"github.com/kefu/kefu"
)

// What the fixture shop (fixture_test.go) does not write through the
// commands: the assistant answering first and alone, a left message,
// overflow stages and surge mode, a group filter. Events as the log holds
// them, folded and reported.
func TestFoldAssistantOverflowAndSurge(t *testing.T) {
	base := time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	var id int64
	ev := func(s int, typ kefu.EventType, conv int64, actor kefu.SenderKind, actorID, agent int64, data kefu.EventData, code string) kefu.ReportEvent {
		id++
		return kefu.ReportEvent{Event: kefu.Event{ID: id, ShopID: 1, Type: typ, Actor: kefu.ActorRef{Kind: actor, ID: actorID},
			ConversationID: conv, BuyerID: conv * 10, AgentID: agent, Data: data, CreatedAt: at(s)}, MessageCode: code}
	}
	msg := func(s int, conv int64, sender kefu.SenderKind, senderID int64, code string) kefu.ReportEvent {
		return ev(s, kefu.EventMessage, conv, sender, senderID, 0, kefu.EventData{}, code)
	}
	sys := kefu.SenderSystem
	events := []kefu.ReportEvent{
		ev(0, kefu.EventPresence, 0, kefu.SenderAgent, 7, 7, kefu.EventData{Presence: kefu.PresenceOnline}, ""),
		ev(1, kefu.EventSurgeStarted, 0, sys, 0, 0, kefu.EventData{}, ""),
		// 1: the assistant answers first and alone; closed by kefu.
		ev(10, kefu.EventQueued, 1, kefu.SenderBuyer, 10, 0, kefu.EventData{AssistantFirst: true, GroupID: 5}, ""),
		msg(10, 1, kefu.SenderBuyer, 10, ""),
		msg(11, 1, kefu.SenderBot, 0, "keyword"),
		ev(600, kefu.EventClosed, 1, sys, 0, 0, kefu.EventData{}, ""),
		// ... reopened at 700 in group 6, the assistant still answering:
		// a stretch of its own that nobody waits in for people.
		ev(700, kefu.EventReopened, 1, kefu.SenderBuyer, 10, 0, kefu.EventData{AssistantFirst: true, GroupID: 6}, ""),
		msg(700, 1, kefu.SenderBuyer, 10, ""),
		// 2: the assistant first, then 转人工 at 40 s; agent 7 takes it at
		// 100 s and answers at 130 s: people had it from 40 s, so the first
		// response is 90 s and the queue wait 60 s, though the buyer wrote at 20 s.
		ev(20, kefu.EventQueued, 2, kefu.SenderBuyer, 20, 0, kefu.EventData{AssistantFirst: true, GroupID: 6}, ""),
		msg(20, 2, kefu.SenderBuyer, 20, ""),
		msg(21, 2, kefu.SenderBot, 0, "fallback"),
		ev(40, kefu.EventHandedOver, 2, sys, 0, 0, kefu.EventData{Reason: kefu.HandOverAsked}, ""),
		ev(100, kefu.EventAssigned, 2, sys, 0, 7, kefu.EventData{}, ""),
		msg(130, 2, kefu.SenderAgent, 7, ""),
		ev(200, kefu.EventClosed, 2, kefu.SenderAgent, 7, 7, kefu.EventData{}, ""),
		// 3: a left message: not among those who waited, though it
		// waited hours and the buyer closed the widget.
		ev(30, kefu.EventQueued, 3, kefu.SenderBuyer, 30, 0, kefu.EventData{GroupID: 5}, ""),
		msg(30, 3, kefu.SenderBuyer, 30, ""),
		msg(30, 3, sys, 0, kefu.SystemLeftMessage),
		ev(95, kefu.EventAbandoned, 3, kefu.SenderBuyer, 30, 0, kefu.EventData{Reason: "buyer_left"}, ""),
		ev(7200, kefu.EventAssigned, 3, sys, 0, 7, kefu.EventData{}, ""),
		msg(7300, 3, kefu.SenderAgent, 7, ""),
		// The overflow stages: backup from 50 s, bot_first from 80 s, normal at 500 s.
		ev(50, kefu.EventOverflowStage, 0, sys, 0, 0, kefu.EventData{Stage: kefu.StageBackup, FromStage: kefu.StageNormal}, ""),
		ev(80, kefu.EventOverflowStage, 0, sys, 0, 0, kefu.EventData{Stage: kefu.StageBotFirst, FromStage: kefu.StageBackup}, ""),
		ev(500, kefu.EventOverflowStage, 0, sys, 0, 0, kefu.EventData{Stage: kefu.StageNormal, FromStage: kefu.StageBotFirst}, ""),
		ev(3600, kefu.EventSurgeEnded, 0, sys, 0, 0, kefu.EventData{}, ""),
	}
	// The log is in id order, which is commit order: sort by time as the
	// store's writer would have written them.
	sortByTime(events)

	// Fold in two batches, as the roller would, carrying the state over.
	f := NewFold(nil, nil)
	for _, e := range events[:9] {
		f.Apply(e)
	}
	f2 := NewFold(f.Sessions(), openOf(f.Spans()))
	for _, e := range events[9:] {
		f2.Apply(e)
	}
	sessions := mergeSessions(f.Sessions(), f2.Sessions())
	spans := mergeSpans(f.Spans(), f2.Spans())

	loc, _ := time.LoadLocation("Asia/Shanghai")
	q := Query{From: time.Date(2026, 11, 11, 0, 0, 0, 0, loc), To: time.Date(2026, 11, 12, 0, 0, 0, 0, loc), Loc: loc, Now: at(8000)}
	r := Compute(q, Input{Sessions: sessions, Spans: spans, Agents: map[int64]string{7: "小王"}, Stages: kefu.OverflowStages})
	s := r.Summary
	if s.Conversations != 4 || s.AssistantOnly != 1 || *s.AssistantOnlyShare != 0.25 {
		t.Errorf("conversations %d, assistant only %d (%v)", s.Conversations, s.AssistantOnly, show(s.AssistantOnlyShare))
	}
	if s.Waited != 1 || s.FirstResponse.Count != 1 || *s.FirstResponse.Mean != 90 || *s.QueueWait.Mean != 60 {
		t.Errorf("waited %d, first responses %d (%v), queue wait %v", s.Waited, s.FirstResponse.Count, show(s.FirstResponse.Mean), show(s.QueueWait.Mean))
	}
	if s.Abandoned != 0 || s.LeftMessages != 1 || *s.AbandonmentRate != 0 {
		t.Errorf("abandoned %d, left messages %d, rate %v", s.Abandoned, s.LeftMessages, show(s.AbandonmentRate))
	}
	want := []StageTotal{{Stage: "backup", Seconds: 30, Times: 1}, {Stage: "bot_first", Seconds: 420, Times: 1}}
	if len(r.Stages) != 2 || r.Stages[0] != want[0] || r.Stages[1] != want[1] {
		t.Errorf("stages %+v, want %+v", r.Stages, want)
	}
	if len(r.SurgePeriods) != 1 || !r.SurgePeriods[0].Start.Equal(at(1)) || !r.SurgePeriods[0].End.Equal(at(3600)) || r.SurgePeriods[0].Ongoing {
		t.Errorf("surge periods %+v", r.SurgePeriods)
	}
	if len(r.Agents) != 1 || r.Agents[0].OnlineSeconds != 8000 || r.Agents[0].Conversations != 2 {
		t.Errorf("agents %+v", r.Agents)
	}
	// Group 5 holds conversation 1's first stretch and 3; group 6
	// conversation 2 and 1's reopened stretch.
	for group, want := range map[int64]int{5: 2, 6: 2} {
		q.GroupID = group
		if g := Compute(q, Input{Sessions: sessions, Spans: spans}); g.Summary.Conversations != want || g.Silent != nil {
			t.Errorf("group %d: %d conversations, silent %v; want %d", group, g.Summary.Conversations, g.Silent, want)
		}
	}
}

func sortByTime(es []kefu.ReportEvent) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].CreatedAt.Before(es[j-1].CreatedAt); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	for i := range es {
		es[i].ID = int64(i + 1)
	}
}

func openOf(spans []kefu.ReportSpan) []kefu.ReportSpan {
	var out []kefu.ReportSpan
	for _, sp := range spans {
		if sp.EndedAt == nil {
			out = append(out, sp)
		}
	}
	return out
}

// mergeSessions is what the store holds after saving both batches: the
// later batch's version of a stretch replaces the earlier's.
func mergeSessions(a, b []kefu.ReportSession) []kefu.ReportSession {
	by := map[[2]int64]kefu.ReportSession{}
	var order [][2]int64
	for _, s := range append(a, b...) {
		k := [2]int64{s.ConversationID, int64(s.Episode)}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = s
	}
	out := make([]kefu.ReportSession, len(order))
	for i, k := range order {
		out[i] = by[k]
	}
	return out
}

func mergeSpans(a, b []kefu.ReportSpan) []kefu.ReportSpan {
	type key struct {
		kind    string
		subject int64
		start   time.Time
	}
	by := map[key]kefu.ReportSpan{}
	var order []key
	for _, sp := range append(a, b...) {
		k := key{sp.Kind, sp.SubjectID, sp.StartedAt}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = sp
	}
	out := make([]kefu.ReportSpan, len(order))
	for i, k := range order {
		out[i] = by[k]
	}
	return out
}

func show(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
