// Package history generates a shop's past: weeks of buyers, conversations,
// messages, orders and the event log, as the live code would have written
// them (docs/events.md), for the demo's reports and for benchmarks. It is
// pure: the same Params (seed included) give the same History, and time is
// whatever Params says, never the clock.
package history

import (
	"time"

	"github.com/kefu/kefu"
)

// Agent is an agent of the shop whose history is generated.
type Agent struct {
	ID   int64 // the agent's real id: history rows name it as is
	Name string
	// GroupID is the group the agent serves (0: the whole shop).
	GroupID int64
	// Backup marks the shop's backup team (外包客服): online only around the
	// surge, routed to only in the backup overflow stage and above.
	Backup bool
	// Conversion is the share of the buyers this agent served who order
	// within a day (0: 0.45).
	Conversion float64
}

// Group is a group of the shop; conversations about an order go to a group
// of scope kefu.ScopeAfterSales, the others to one of kefu.ScopePreSales,
// when the shop has them.
type Group struct {
	ID    int64
	Name  string
	Scope kefu.GroupScope
}

// Rule is one of the shop's keyword rules, by the topic it answers (Topics
// names them: 发货时间, 尺码, 退换货, 发票, 优惠券, 快递单号, 运费).
type Rule struct {
	ID        int64
	Topic     string
	Answer    string // variables already filled, or only {shop.name}
	FollowUps []string
}

// Assistant is the shop's assistant (店小蜜) as the history shows it: its
// welcome opens every conversation, and its rules answer buyers waiting in line.
type Assistant struct {
	Name           string
	Greeting       string
	QuickQuestions []string
	// BusyReply is said to a buyer who waits while every agent online is
	// busy; {queue.position} and {queue.eta} are filled.
	BusyReply string
	// HandoverReply is said when a buyer the assistant answers first (the
	// bot_first overflow stage) asks for a person (转人工); default the
	// shop default's.
	HandoverReply string
	Rules         []Rule
}

// Params say what history to generate.
type Params struct {
	Seed     uint64
	ShopID   int64
	ShopName string
	Agents   []Agent
	Groups   []Group
	// BuyerNames are the names buyers are given (a name used again gets a
	// number); default a list of Taobao-style nicknames.
	BuyerNames []string
	// BuyerPrefix starts the shop's own ids of the generated buyers
	// (default "h"), so they never meet the shop's real buyers.
	BuyerPrefix string
	// Start and End bound the history: nothing happens at or after End.
	Start, End time.Time
	// ConversationsPerDay is the average of an ordinary day (default 150).
	ConversationsPerDay int
	// SilentOrdersPerDay are orders from buyers who never chatted (default
	// a quarter of ConversationsPerDay).
	SilentOrdersPerDay int
	// Location is the shop's time zone (default Asia/Shanghai).
	Location *time.Location
	// SurgeDate is the day (in Location, any time of it) of the Double-11
	// like surge: about five times the arrivals, surge mode in the evening.
	// Zero: 7 days before End, when Start is before it. NoSurge: none.
	SurgeDate time.Time
	NoSurge   bool
	// Overflow holds the queue lengths that engage the backup, bot_first,
	// leave_message and queue_full stages (default 10, 25, 50, 100).
	Overflow [4]int
	// Assistant, if not nil, greets and answers as the shop's assistant.
	Assistant *Assistant
	// Cap is how many conversations an agent holds at once (default
	// kefu.DefaultAgentCap; two more in surge mode).
	Cap int
}

// History is a generated past, as plain rows. Buyers, conversations,
// messages and orders carry local ids (1, 2, ...) in time order, and every
// reference to them (a conversation's buyer, an event's conversation,
// buyer, message or buyer actor, a buyer message's sender id, a link) is a
// local id; agents and groups are named by their real ids. Messages carry
// no Hash: their chain depends on the ids they are stored under.
type History struct {
	Buyers        []kefu.Buyer
	Conversations []Conversation
	Messages      []kefu.Message // in time order
	Events        []Event        // in time order
	Orders        []kefu.Order   // with their status history
	Links         []Link
}

// Conversation is a conversation row with the timers the store keeps beside
// kefu.Conversation.
type Conversation struct {
	kefu.Conversation
	AbandonedAt *time.Time
	NudgedAt    *time.Time
}

// Event is an entry of the event log. DataJSON is its data exactly as the
// store writes it (kefu.EventData as JSON, or a type's own fields such as
// conversation.rated's {"stars","comment"}); Data holds what kefu.EventData
// can.
type Event struct {
	kefu.Event
	DataJSON string
}

// Link is an order linked to a conversation (conversation_orders).
type Link struct {
	ConversationID int64
	OrderID        int64
	By             kefu.ActorRef
	At             time.Time
}
