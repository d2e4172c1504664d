package kefu

import "time"

// ReportEvent is an event of the log as the report roll-up reads it: with
// the code of the message a message event stored ("" for other events, and
// for a message whose text the retention period deleted).
type ReportEvent struct {
	Event
	MessageCode string
}

// ReportSession is one stretch of a conversation for the reports
// (docs/reports.md): from its start (conversation.queued) or a reopening
// (conversation.reopened) to its close. It is folded from the event log by
// the report roll-up and holds every figure the reports sum; a nil time is
// "not yet" (or never).
type ReportSession struct {
	ShopID         int64
	ConversationID int64
	Episode        int // 0 for the conversation's first stretch, 1 after its first reopening, ...
	BuyerID        int64
	GroupID        int64
	// AgentID is the agent the stretch counts for: the one holding it (at
	// its close, for a closed one); AgentSince is when they got it.
	AgentID    int64
	AgentSince *time.Time
	StartedAt  time.Time
	// LineSince is when the buyer began to wait for people: the start, or
	// the assistant's hand-over when the assistant answered first.
	LineSince *time.Time
	// AssistantFirst: the assistant answered first (bot-first) and people
	// had it only from a hand-over, if at all.
	AssistantFirst bool
	FirstBuyerAt   *time.Time // the buyer's first message
	AssignedAt     *time.Time // the first assignment to an agent
	FirstReplyAt   *time.Time // the first human reply after the buyer waited for people
	ClosedAt       *time.Time
	// AwaitingSince is the buyer's turn not answered yet by a person: the
	// first buyer message since the last human reply (fold state).
	AwaitingSince *time.Time
	Abandoned     bool // the buyer left the line (conversation.abandoned)
	LeftMessage   bool // the buyer was told to leave a message (overflow)
	Transfers     int
	Nudges        int
	Reassigns     int
	Requeues      int
	BuyerMessages int
	AgentMessages int
	BotMessages   int
	// Replies counts the buyer's turns a person answered, ReplyMillis their
	// total wait.
	Replies     int
	ReplyMillis int64
	Stars       int // the buyer's rating, 1–5; 0 for none
}

// Report span kinds.
const (
	SpanPresence = "presence" // an agent's effective presence (SubjectID the agent)
	SpanStage    = "stage"    // the shop's overflow stage
	SpanSurge    = "surge"    // surge mode on (Value "surge" too)
)

// ReportSpan is a stretch of time something held: an agent's presence, the
// shop's overflow stage, surge mode. EndedAt nil: it holds still.
type ReportSpan struct {
	ShopID    int64
	Kind      string
	SubjectID int64 // the agent, for SpanPresence; 0 otherwise
	Value     string
	StartedAt time.Time
	EndedAt   *time.Time
}

// ReportOrder is an order as the conversion figures read it.
type ReportOrder struct {
	OrderNo     string
	BuyerID     int64
	AmountCents int64
	Status      string
	CreatedAt   time.Time
}
