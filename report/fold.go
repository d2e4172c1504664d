package report

import (
	"time"

	"github.com/kefu/kefu"
)

// ThreeMinutes is the answer time of Taobao's 3-minute response rate.
const ThreeMinutes = 3 * time.Minute

// Fold applies events of the log, in id order, to the report roll-up: the
// latest stretch of each conversation (kefu.ReportSession) and the spans
// that hold (presence, overflow stage, surge). It holds only what one batch
// touched; the roll-up loads the rows it needs before Apply (Load) and
// saves what changed after (Changed).
type Fold struct {
	sessions map[int64]*kefu.ReportSession // the latest stretch, by conversation
	changed  map[sessionKey]*kefu.ReportSession
	open     map[spanKey]*kefu.ReportSpan // spans that hold
	spans    map[spanStart]*kefu.ReportSpan
}

type sessionKey struct {
	conversation int64
	episode      int
}

type spanKey struct {
	shop    int64
	kind    string
	subject int64
}

type spanStart struct {
	spanKey
	at time.Time
}

// NewFold returns a fold that knows the given latest stretches and open
// spans (as stored).
func NewFold(latest []kefu.ReportSession, open []kefu.ReportSpan) *Fold {
	f := &Fold{sessions: map[int64]*kefu.ReportSession{}, changed: map[sessionKey]*kefu.ReportSession{},
		open: map[spanKey]*kefu.ReportSpan{}, spans: map[spanStart]*kefu.ReportSpan{}}
	for i := range latest {
		s := latest[i]
		if cur := f.sessions[s.ConversationID]; cur == nil || cur.Episode < s.Episode {
			f.sessions[s.ConversationID] = &s
		}
	}
	for i := range open {
		sp := open[i]
		f.open[spanKey{sp.ShopID, sp.Kind, sp.SubjectID}] = &sp
	}
	return f
}

// Sessions returns the stretches Apply changed.
func (f *Fold) Sessions() []kefu.ReportSession {
	out := make([]kefu.ReportSession, 0, len(f.changed))
	for _, s := range f.changed {
		out = append(out, *s)
	}
	return out
}

// Spans returns the spans Apply opened or ended.
func (f *Fold) Spans() []kefu.ReportSpan {
	out := make([]kefu.ReportSpan, 0, len(f.spans))
	for _, sp := range f.spans {
		out = append(out, *sp)
	}
	return out
}

// Apply folds one event in.
func (f *Fold) Apply(e kefu.ReportEvent) {
	t := e.CreatedAt.UTC()
	switch e.Type {
	case kefu.EventQueued:
		if f.sessions[e.ConversationID] != nil {
			return // seen already
		}
		s := &kefu.ReportSession{ShopID: e.ShopID, ConversationID: e.ConversationID, BuyerID: e.BuyerID,
			GroupID: e.Data.GroupID, StartedAt: t, AssistantFirst: e.Data.AssistantFirst}
		if !s.AssistantFirst {
			s.LineSince = at(t)
		}
		f.put(s)
		return
	case kefu.EventReopened:
		prev := f.sessions[e.ConversationID]
		if prev == nil {
			return
		}
		s := &kefu.ReportSession{ShopID: e.ShopID, ConversationID: e.ConversationID, Episode: prev.Episode + 1,
			BuyerID: prev.BuyerID, GroupID: prev.GroupID, StartedAt: t, AssistantFirst: e.Data.AssistantFirst}
		if e.Data.GroupID != 0 {
			s.GroupID = e.Data.GroupID
		}
		if !s.AssistantFirst {
			s.LineSince = at(t)
		}
		if e.AgentID != 0 {
			s.AgentID, s.AgentSince, s.AssignedAt = e.AgentID, at(t), at(t)
		}
		f.put(s)
		return
	case kefu.EventPresence:
		f.endSpan(e.ShopID, kefu.SpanPresence, e.AgentID, t)
		if e.Data.Presence != kefu.PresenceOffline {
			f.startSpan(e.ShopID, kefu.SpanPresence, e.AgentID, string(e.Data.Presence), t)
		}
		return
	case kefu.EventOverflowStage:
		f.endSpan(e.ShopID, kefu.SpanStage, 0, t)
		if e.Data.Stage != kefu.StageNormal && e.Data.Stage != "" {
			f.startSpan(e.ShopID, kefu.SpanStage, 0, string(e.Data.Stage), t)
		}
		return
	case kefu.EventSurgeStarted:
		if f.open[spanKey{e.ShopID, kefu.SpanSurge, 0}] == nil {
			f.startSpan(e.ShopID, kefu.SpanSurge, 0, kefu.SpanSurge, t)
		}
		return
	case kefu.EventSurgeEnded:
		f.endSpan(e.ShopID, kefu.SpanSurge, 0, t)
		return
	}
	s := f.sessions[e.ConversationID]
	if s == nil || e.ConversationID == 0 {
		return // not a conversation's, or one from before the log's history
	}
	switch e.Type {
	case kefu.EventMessage:
		f.message(s, e, t)
	case kefu.EventAssigned:
		if s.AssignedAt == nil {
			s.AssignedAt = at(t)
		}
		s.AgentID, s.AgentSince = e.AgentID, at(t)
		if s.LineSince == nil {
			s.LineSince = at(t)
		}
	case kefu.EventHandedOver:
		if s.LineSince == nil {
			s.LineSince = at(t)
		}
	case kefu.EventTransferred:
		s.Transfers++
		s.AgentID, s.AgentSince = e.AgentID, at(t)
		if e.AgentID == 0 {
			s.AgentSince = nil
		}
	case kefu.EventReassigned:
		s.Reassigns++
		s.AgentID, s.AgentSince = e.AgentID, at(t)
	case kefu.EventRequeued:
		s.Requeues++
		s.AgentID, s.AgentSince = 0, nil
	case kefu.EventNudged:
		s.Nudges++
	case kefu.EventAbandoned:
		s.Abandoned = true
	case kefu.EventClosed:
		if s.ClosedAt != nil {
			return
		}
		s.ClosedAt = at(t)
		if e.AgentID != s.AgentID { // a change the fold did not see: no time held
			s.AgentID, s.AgentSince = e.AgentID, at(t)
		}
	case kefu.EventRated:
		if s.Stars != 0 || e.Data.Stars < 1 || e.Data.Stars > 5 {
			return
		}
		s.Stars = e.Data.Stars
	default:
		return
	}
	f.touch(s)
}

// message counts a stored message; a person's answer to a buyer waiting for
// people ends the buyer's turn.
func (f *Fold) message(s *kefu.ReportSession, e kefu.ReportEvent, t time.Time) {
	switch e.Actor.Kind {
	case kefu.SenderBuyer:
		s.BuyerMessages++
		if s.FirstBuyerAt == nil {
			s.FirstBuyerAt = at(t)
		}
		if s.AwaitingSince == nil {
			s.AwaitingSince = at(t)
		}
	case kefu.SenderAgent:
		s.AgentMessages++
		if s.AwaitingSince == nil || s.LineSince == nil {
			break
		}
		from := *s.AwaitingSince
		if s.LineSince.After(from) {
			from = *s.LineSince
		}
		wait := t.Sub(from)
		s.Replies++
		s.ReplyMillis += wait.Milliseconds()
		if s.FirstReplyAt == nil {
			s.FirstReplyAt = at(t)
		}
		s.AwaitingSince = nil
	case kefu.SenderBot:
		s.BotMessages++
	case kefu.SenderSystem:
		// Told to leave a message: the line was too long (overflow), or
		// nobody was online. Either is answered later by design.
		switch e.MessageCode {
		case kefu.SystemLeftMessage, kefu.SystemQueueFull, kefu.SystemLeaveMessage:
			s.LeftMessage = true
		}
	}
	f.touch(s)
}

func (f *Fold) put(s *kefu.ReportSession) {
	f.sessions[s.ConversationID] = s
	f.touch(s)
}

func (f *Fold) touch(s *kefu.ReportSession) {
	f.changed[sessionKey{s.ConversationID, s.Episode}] = s
}

func (f *Fold) startSpan(shop int64, kind string, subject int64, value string, t time.Time) {
	sp := &kefu.ReportSpan{ShopID: shop, Kind: kind, SubjectID: subject, Value: value, StartedAt: t}
	k := spanKey{shop, kind, subject}
	f.open[k] = sp
	f.spans[spanStart{k, t}] = sp
}

func (f *Fold) endSpan(shop int64, kind string, subject int64, t time.Time) {
	k := spanKey{shop, kind, subject}
	sp := f.open[k]
	if sp == nil {
		return
	}
	delete(f.open, k)
	sp.EndedAt = at(t)
	f.spans[spanStart{k, sp.StartedAt}] = sp
}

func at(t time.Time) *time.Time { return &t }
