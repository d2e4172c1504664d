// Package kefu holds the domain types of the kefu customer-service IM backend:
// shops, agents, buyers, conversations, messages and orders. It imports
// nothing from the project, so every other package can depend on it.
package kefu

import (
	"errors"
	"fmt"
	"time"
)

// Role is what an agent may do in their shop.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner      Role = "owner"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleOwner || r == RoleSupervisor || r == RoleAgent
}

// Presence is whether an agent takes new conversations.
type Presence string

// Presence states. Away keeps current conversations but takes no new ones.
const (
	PresenceOnline  Presence = "online"
	PresenceAway    Presence = "away"
	PresenceOffline Presence = "offline"
)

// Valid reports whether p is a known presence state.
func (p Presence) Valid() bool {
	return p == PresenceOnline || p == PresenceAway || p == PresenceOffline
}

// ConversationStatus is where a conversation is in its life.
type ConversationStatus string

// Conversation states.
const (
	StatusQueued   ConversationStatus = "queued"
	StatusAssigned ConversationStatus = "assigned"
	StatusClosed   ConversationStatus = "closed"
)

// SenderKind says who wrote a message.
type SenderKind string

// Sender kinds.
const (
	SenderBuyer  SenderKind = "buyer"
	SenderAgent  SenderKind = "agent"
	SenderSystem SenderKind = "system"
	SenderBot    SenderKind = "bot"
)

// MessageKind says how a message is shown.
type MessageKind string

// Message kinds. A card (product, order) carries its fields in Card and a
// plain-text rendering in Text, for clients that do not draw cards.
const (
	KindText    MessageKind = "text"
	KindSystem  MessageKind = "system"
	KindProduct MessageKind = "product"
	KindOrder   MessageKind = "order"
)

// Card is what a product or order card message shows: fields only, never
// markup. A product card's fields come from the store page that opened the
// chat; an order card's are kefu's own copy of the order at the time it was
// sent, found by its number among the buyer's orders.
type Card struct {
	// Product cards.
	ProductID string `json:"product_id,omitempty"`
	URL       string `json:"url,omitempty"`
	// Order cards.
	OrderNo   string `json:"order_no,omitempty"`
	Status    string `json:"status,omitempty"`
	ItemCount int    `json:"item_count,omitempty"`
	// Both.
	Title      string `json:"title"`
	PriceCents int64  `json:"price_cents"` // a product's price, an order's amount
	Currency   string `json:"currency"`
	ImageURL   string `json:"image_url,omitempty"`
}

// Card limits.
const (
	MaxCardTitleRunes = 200
	MaxCardURLBytes   = 500
	MaxProductIDBytes = 64
)

// Limits on what clients may send.
const (
	MaxTextRunes            = 2000
	MaxClientMsgIDLen       = 64
	DefaultAgentCap         = 5
	MaxPageSize             = 200
	DefaultPageSize         = 100
	MaxNameRunes            = 64
	MaxExternalIDBytes      = 128
	MaxOrderNoBytes         = 64
	MaxStickyDays           = 90
	MaxAutoCloseMinutes     = 7 * 24 * 60
	MaxSlowReplySeconds     = 3600
	MaxReassignSeconds      = 3600
	MaxAutoAwayMinutes      = 240
	MaxReopenHours          = 72
	MaxHighValueCents       = 1_000_000_000_000
	MaxNoteRunes            = 500
	DefaultStickyDays       = 3
	DefaultSlowReplySeconds = 100
)

// Shop is a tenant: one store with its agents, buyers and conversations.
type Shop struct {
	ID   int64
	Slug string
	Name string
	// RoutingSettings are the shop's routing settings (PUT /shop/routing).
	RoutingSettings
	// IdentitySecret signs logged-in buyer ids (HMAC-SHA256), computed by the shop's server.
	IdentitySecret string
	// Origins are the store-page origins allowed to open the widget socket.
	Origins []string
	// RetentionDays deletes a closed conversation's messages that many days
	// after it closed, unless it is linked to an order still open or in
	// dispute (0: keep them).
	RetentionDays int
	// Menu is the groups the widget offers a buyer to pick from, in the
	// order they were created.
	Menu []MenuGroup
	// HasOrderWebhookSecret says the owner made an order-webhook secret
	// (the secret itself is read only to check a delivery's signature).
	HasOrderWebhookSecret bool
	// RateLimits are the shop's rate limits (PUT /shop/limits).
	RateLimits RateLimits
	// CSATEnabled: the widget asks buyers to rate a conversation that
	// closed (on unless the shop switched it off, PUT /shop/csat).
	CSATEnabled bool
	CreatedAt   time.Time
}

// Agent is a seller's customer-service account.
type Agent struct {
	ID            int64
	ShopID        int64
	Username      string
	Name          string
	Role          Role
	PasswordHash  string
	MaxConcurrent int
	// Disabled agents cannot sign in, have no sessions and are never routed to.
	Disabled bool
	// AwayReply is what the shop's assistant tells a buyer who writes to
	// this agent while they are away ("" for none).
	AwayReply string
	CreatedAt time.Time
}

// AgentChange is a change to an agent's account; a nil field keeps its value.
type AgentChange struct {
	Name          *string
	Role          *Role
	MaxConcurrent *int
	Disabled      *bool
	PasswordHash  *string // a new password's hash
	AwayReply     *string
	// KeepSession is the token hash of a session a password change does not
	// end (an owner changing their own password keeps the one they use).
	KeepSession string
}

// AgentUpdate is what a change to an agent's account did.
type AgentUpdate struct {
	Agent Agent // after the change
	// Fields are what changed: "name", "max_concurrent", "role", "password",
	// "away_reply", "disabled"; none when the change set what already was.
	Fields []string
	// EndedSessions are the token hashes of the sessions it ended.
	EndedSessions []string
}

// Changed reports whether the update changed field.
func (u AgentUpdate) Changed(field string) bool {
	for _, f := range u.Fields {
		if f == field {
			return true
		}
	}
	return false
}

// Empty reports whether the change names no field.
func (c AgentChange) Empty() bool {
	return c.Name == nil && c.Role == nil && c.MaxConcurrent == nil && c.Disabled == nil && c.PasswordHash == nil && c.AwayReply == nil
}

// Buyer is a shopper: an anonymous visitor or identified by the shop's buyer id.
type Buyer struct {
	ID         int64
	ShopID     int64
	VisitorID  string
	ExternalID string // the shop's own buyer id; empty for anonymous visitors
	Name       string
	// DedicatedAgentID is the buyer's dedicated agent (专属客服), 0 for none:
	// routing gives them the buyer when the buyer's recent agent cannot.
	DedicatedAgentID int64
	// VIP buyers' conversations are served before others in the line.
	VIP       bool
	CreatedAt time.Time
}

// IdentifiedBuyerName is what a buyer the shop identified without a name is called.
func IdentifiedBuyerName(externalID string) string { return "买家 " + externalID }

// Identified reports whether the shop vouched for this buyer with a signature.
func (b Buyer) Identified() bool { return b.ExternalID != "" }

// Conversation is one chat between a buyer and the shop.
type Conversation struct {
	ID       int64
	ShopID   int64
	BuyerID  int64
	AgentID  int64 // 0 while queued
	GroupID  int64 // the group it is routed to; 0: the whole shop
	Priority int   // higher is served first (a VIP buyer)
	// AwaitingSince is when the buyer's oldest message the agent has not
	// answered was written; nil when nothing waits for an answer.
	AwaitingSince *time.Time
	// TransferFromAgentID and TransferNote are the latest transfer's: who
	// handed it over and what they told the next agent (agents only).
	TransferFromAgentID int64
	TransferNote        string
	// HelperIDs are the agents invited into the conversation beside its
	// holder (多方洽谈): they read and write it until they leave, and do not
	// count against their cap. Cleared when it closes or goes back to the line.
	HelperIDs []int64
	// AssistantFirst: the shop's assistant answers it first (bot-first)
	// until a person takes it or it is handed over (转人工).
	AssistantFirst bool
	Status         ConversationStatus
	LastSeq        int64
	AgentReadSeq   int64
	BuyerReadSeq   int64
	CreatedAt      time.Time
	QueuedAt       time.Time
	AssignedAt     *time.Time
	ClosedAt       *time.Time
	// Rating is the buyer's satisfaction rating (CSAT), 1 to 5 stars; 0
	// until they rate, which they do at most once. RatingComment is what
	// they wrote beside it ("" for nothing), RatedAt when.
	Rating        int
	RatingComment string
	RatedAt       *time.Time
	// RatingInvitedAt is when an agent invited the buyer to rate while the
	// conversation was open (nil: never); from then on it may be rated open.
	RatingInvitedAt *time.Time
}

// Satisfaction ratings (CSAT): stars from MinStars to MaxStars, a comment of
// at most MaxRatingCommentRunes characters.
const (
	MinStars              = 1
	MaxStars              = 5
	MaxRatingCommentRunes = 500
)

// MaxHelpers bounds how many agents are invited into one conversation at once.
const MaxHelpers = 3

// Helps reports whether agentID was invited into the conversation and has
// not left.
func (c Conversation) Helps(agentID int64) bool {
	for _, id := range c.HelperIDs {
		if id == agentID {
			return true
		}
	}
	return false
}

// Open reports whether the conversation still takes messages.
func (c Conversation) Open() bool { return c.Status != StatusClosed }

// Message is one entry in a conversation, ordered by Seq.
type Message struct {
	ID             int64
	ShopID         int64
	ConversationID int64
	Seq            int64
	Kind           MessageKind
	Sender         SenderKind
	SenderID       int64
	SenderName     string
	Text           string
	// Code names a system message's meaning (SystemAssigned, SystemClosed) so
	// clients can word it in their own language; Text is the Chinese default.
	// On a bot message it names which auto-reply it is (BotWelcome, ...).
	Code        string
	ClientMsgID string
	// RuleID is the keyword rule a bot message answered with (0: none).
	RuleID int64
	// QuickReplies are questions a bot message offers the buyer to tap; a
	// tap sends the question as the buyer's own message.
	QuickReplies []string
	// Card is a product or order card's fields (Kind KindProduct, KindOrder).
	Card      *Card
	CreatedAt time.Time
	// Hash is the message's link in its conversation's tamper-evident chain
	// (ChainHash, in hex), written when it is stored; "" for a message stored
	// before kefu kept the chain.
	Hash string
}

// WriteRule says which conversations a message may be appended to. The store
// checks it in the statement that writes, so a change made a moment before
// (a close, a colleague taking the conversation) is never written past.
type WriteRule struct {
	OpenOnly bool  // the conversation must not be closed
	BuyerID  int64 // if not 0, the conversation must be this buyer's
	Assigned bool  // the conversation must be assigned (to anyone, or to HolderID)
	HolderID int64 // if not 0, the conversation must be assigned to this agent
}

// System message codes.
const (
	// SystemAssigned: an agent (named in the message's SenderName) now serves the buyer.
	SystemAssigned = "assigned"
	// SystemClosed: the conversation has ended.
	SystemClosed = "closed"
	// SystemRequeued: the agent (named in SenderName) left; the buyer waits
	// for another.
	SystemRequeued = "requeued"
	// SystemTransferred: the conversation was handed to the agent or group
	// named in SenderName.
	SystemTransferred = "transferred"
	// SystemReopened: the conversation was closed a moment ago and is open
	// again.
	SystemReopened = "reopened"
	// SystemJoined: an agent (named in SenderName) was invited into the
	// conversation beside the one serving the buyer.
	SystemJoined = "joined"
	// SystemLeft: an invited agent (named in SenderName) left the conversation.
	SystemLeft = "left"
	// SystemLeaveMessage: nobody of the shop is online; the buyer's messages
	// are kept and answered when an agent comes.
	SystemLeaveMessage = "leave_message"
	// SystemHandedOver: the assistant handed the buyer to people (转人工).
	SystemHandedOver = "handed_over"
	// SystemRatingInvited: an agent invites the buyer to rate the service
	// (the widget shows its stars).
	SystemRatingInvited = "rating_invited"
	// SystemOverflowBackup: the line is long; the shop's backup team
	// (外包客服) helps answer it (the backup overflow stage).
	SystemOverflowBackup = "overflow_backup"
	// SystemOverflowBotFirst: the line is long; the shop's assistant answers
	// first and a person is one 转人工 away (the bot_first stage).
	SystemOverflowBotFirst = "overflow_bot_first"
	// SystemOverflowBusy: the line is long (bot_first and above) and the
	// buyer waits for a person in it: their conversation is not the
	// assistant's (its assistant is off, or it was handed over) nor a left
	// message (a VIP's).
	SystemOverflowBusy = "overflow_busy"
	// SystemLeftMessage: the line is very long, so the buyer's message is
	// kept as a left message (留言), with their order attached, answered
	// after the live line (the leave_message stage).
	SystemLeftMessage = "left_message"
	// SystemQueueFull: the line is full; as SystemLeftMessage, with the
	// place and an estimate of when the team gets to the message (the
	// queue_full stage).
	SystemQueueFull = "queue_full"
)

// Bot message codes: which of the assistant's replies a bot message is
// (docs/autoreply.md).
const (
	BotWelcome  = "welcome"   // the greeting, stored when the buyer first writes
	BotKeyword  = "keyword"   // a keyword rule's answer (RuleID names it)
	BotOffHours = "off_hours" // outside business hours
	BotBusy     = "busy"      // every agent is busy: the place in line and the wait
	BotHolding  = "holding"   // the buyer has waited the shop's holding_seconds
	BotAway     = "away"      // the buyer's agent is away: their own away reply
	BotFallback = "fallback"  // bot-first, no rule answers: handed to people
	BotHandover = "handover"  // the buyer asked for a person (转人工)
)

// Order is a shop order, linked to the buyer who placed it.
type Order struct {
	ID          int64
	ShopID      int64
	BuyerID     int64
	OrderNo     string
	Status      string
	AmountCents int64
	Currency    string
	Items       []OrderItem
	TrackingNo  string // the parcel's, once shipped
	CreatedAt   time.Time
	// StatusAt is when Status took effect: the time of the latest entry of
	// History.
	StatusAt  time.Time
	UpdatedAt time.Time
	// BuyerExternalID is the shop's own id of the buyer ("" for a visitor).
	BuyerExternalID string
	// History is every status the order had, oldest first (by At).
	History []OrderStatusChange
}

// OrderStatusChange is one entry of an order's status history.
type OrderStatusChange struct {
	Status string
	At     time.Time
}

// OrderStatuses are the order statuses kefu knows, in a typical order's
// life: the order API accepts these alone.
var OrderStatuses = []string{"unpaid", "pending", "created", "paid", "shipped", "delivered", "completed",
	"refunding", "refunded", "returning", "after_sale", "cancelled", "closed", "in_dispute"}

// OrderUpsert is an order as the shop's platform sends it: the order with
// the shop's own buyer id, and whether its times were given.
type OrderUpsert struct {
	Order
	BuyerName string // "" keeps the buyer's name
	// CreatedAtSet and StatusAtSet say Order.CreatedAt and Order.StatusAt
	// came from the platform; otherwise a new order takes the current time,
	// and a stored one keeps its creation time and current status time.
	CreatedAtSet bool
	StatusAtSet  bool
	// APIKeyID is the key the order came with; 0 for the signed webhook.
	APIKeyID int64
}

// UpsertResult says what an order upsert did.
type UpsertResult string

// Upsert results.
const (
	OrderCreated   UpsertResult = "created"
	OrderUpdated   UpsertResult = "updated"
	OrderUnchanged UpsertResult = "unchanged"
)

// Order API limits.
const (
	MaxOrderItems       = 100
	MaxOrderItemQty     = 9999
	MaxItemTitleRunes   = 200
	MaxSKUBytes         = 64
	MaxImageURLBytes    = 500
	MaxTrackingNoBytes  = 64
	MaxBulkOrders       = 1000
	MaxAPIKeysPerShop   = 20
	MaxAPIKeyNameRunes  = 64
	APIKeyUseResolution = time.Minute // last_used_at is written at most this often per key
)

// APIKey is a key the shop's platform calls the order API with. The store
// keeps only a hash of the secret; Prefix finds the key.
type APIKey struct {
	ID         int64
	ShopID     int64
	Name       string
	Prefix     string
	SecretHash string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	Revoked    bool
}

// Webhook is a shop's outbound webhook (docs/orders.md, "Outbound
// webhooks"): where kefu posts the shop's events, which of them, and the
// sender's place in the shop's event log.
type Webhook struct {
	ShopID  int64
	URL     string
	Events  []string // of WebhookEvents
	Enabled bool
	// Secret signs each delivery (HMAC-SHA256); shown to the owner only
	// when made.
	Secret    string
	CreatedAt time.Time
	UpdatedAt time.Time
	// AfterEventID is the last event of the log delivered, given up on or
	// passed over; the sender resumes after it.
	AfterEventID int64
	// Attempts is how often the event after AfterEventID was tried and
	// failed; RetryAt when it is tried next (zero: now).
	Attempts int
	RetryAt  time.Time
}

// The events an outbound webhook may send, as the shop's platform sees them.
const (
	WebhookConversationStarted = "conversation.started" // EventQueued
	WebhookConversationClosed  = "conversation.closed"  // EventClosed
	WebhookOrderLinked         = "order.linked"         // EventOrderLinked
	WebhookMessageBuyer        = "message.buyer"        // EventMessage sent by the buyer
)

// WebhookEvents lists the outbound webhook events, in the order settings show them.
var WebhookEvents = []string{WebhookConversationStarted, WebhookConversationClosed, WebhookOrderLinked, WebhookMessageBuyer}

// Outcomes of a webhook delivery attempt.
const (
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryRetrying  = "retrying"  // it failed; it is tried again later
	DeliveryFailed    = "failed"    // it failed for the last time; the sender moved on
)

// WebhookAttempt is one try at delivering one event (the delivery log).
type WebhookAttempt struct {
	ID         int64
	ShopID     int64
	EventID    int64
	Type       string // the webhook event's name (WebhookEvents)
	Attempt    int    // 1 for the first try
	StatusCode int    // the receiver's answer; 0 when there was none
	Error      string // why it failed, if it did
	Outcome    string // DeliveryDelivered, DeliveryRetrying or DeliveryFailed
	At         time.Time
	Duration   time.Duration
}

// Headline is how a card or a short list names an order: its first item's
// title and picture, and how many pieces it holds.
func (o Order) Headline() (title, imageURL string, pieces int) {
	for i, it := range o.Items {
		if i == 0 {
			title, imageURL = it.Title, it.ImageURL
		}
		pieces += it.Quantity
	}
	return title, imageURL, pieces
}

// OrderStatusName is how an order status reads to a buyer in Chinese; an
// unknown status reads as itself.
func OrderStatusName(status string) string {
	names := map[string]string{"unpaid": "待付款", "pending": "待付款", "created": "已下单", "paid": "已付款", "shipped": "已发货",
		"delivered": "已签收", "refunding": "退款中", "refunded": "已退款", "completed": "已完成", "cancelled": "已取消",
		"canceled": "已取消", "closed": "已关闭", "returning": "退货中", "after_sale": "售后中", "in_dispute": "纠纷中"}
	if n, ok := names[status]; ok {
		return n
	}
	return status
}

// FormatAmount writes an amount in cents for people: ¥299.00 in yuan, else
// the currency's code and the amount (USD 12.50).
func FormatAmount(cents int64, currency string) string {
	if currency == "CNY" {
		return fmt.Sprintf("¥%d.%02d", cents/100, cents%100)
	}
	return fmt.Sprintf("%s %d.%02d", currency, cents/100, cents%100)
}

// OrderItem is one line of an order.
type OrderItem struct {
	Title      string `json:"title"`
	SKU        string `json:"sku,omitempty"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"price_cents"`
	ImageURL   string `json:"image_url,omitempty"`
}

// ErrNotFound is returned when a record does not exist in the caller's shop.
var ErrNotFound = errors.New("not found")

// ErrUnknownGroup is returned when a record names a group that is not its
// shop's; it is a kind of ErrNotFound.
var ErrUnknownGroup = fmt.Errorf("no such group in the shop: %w", ErrNotFound)

// ErrConflict is returned when a unique value is already taken.
var ErrConflict = errors.New("conflict")

// ErrForbidden is returned when the record exists in the shop but the caller
// may not act on it (a plain agent and a colleague's conversation).
var ErrForbidden = errors.New("forbidden")

// ErrTooMany is returned when a shop already has as many of a thing as it may.
var ErrTooMany = errors.New("too many")

// ErrLastOwner is returned when a change would leave a shop without an
// enabled owner.
var ErrLastOwner = errors.New("the shop would have no enabled owner")

// ErrAgentFull is returned when an agent named to take a conversation holds
// as many as their cap.
var ErrAgentFull = errors.New("agent holds as many conversations as their cap")

// ErrAgentDisabled is returned when a command names an agent whose account
// an owner disabled.
var ErrAgentDisabled = errors.New("the agent's account is disabled")

// ErrConversationClosed is returned when a message is sent to a closed conversation.
var ErrConversationClosed = errors.New("conversation closed")

// ConversationSummary is a conversation with what a list of them shows.
type ConversationSummary struct {
	Conversation
	Buyer       Buyer
	AgentName   string
	Unread      int64 // buyer messages the agent has not read
	LastMessage *Message
}

// ConversationFilter selects conversations to list.
type ConversationFilter struct {
	Statuses []ConversationStatus // empty: all
	AgentID  int64                // non-zero: only this agent's (held, or helped in)
	BeforeID int64                // non-zero: only older than this conversation (paging)
	BuyerID  int64                // non-zero: only this buyer's
	// OrderNo, if set: only conversations linked to the shop's order of
	// that number.
	OrderNo string
	Limit   int
}

// SearchFilter selects conversations by what was said in them (transcript
// search, docs/search.md). Every field is optional; set ones all apply.
type SearchFilter struct {
	// Text is one or more terms (split at white space) that one message of
	// the conversation (a text one: never kefu's system lines) holds, each as
	// a substring, ASCII letters in either case.
	Text string
	// OrderNo is an order number some message of the conversation mentions
	// (cards included): a text match, not the order links.
	OrderNo  string
	BuyerID  int64
	AgentID  int64 // the agent holding it (or, closed, who held it last)
	GroupID  int64
	Statuses []ConversationStatus // empty: all
	// From and To bound when the conversation started: From <= created_at < To.
	// Zero: unbounded.
	From, To time.Time
	// ReaderID, non-zero, keeps to the conversations this agent may read
	// (conversation.SearchFilter sets it for plain agents).
	ReaderID int64
	BeforeID int64 // non-zero: only older than this conversation (paging)
	Limit    int
}

// SearchPage is one page of a transcript search, newest conversation first.
type SearchPage struct {
	Hits []SearchHit
	// NextBeforeID, non-zero, is the BeforeID of the next page: more may
	// follow. A page may hold fewer hits than asked for and still have one
	// (a search that cannot use the index looks at a bounded number of
	// conversations per page).
	NextBeforeID int64
}

// SearchHit is a conversation a search found, as lists show it, with the
// messages that matched.
type SearchHit struct {
	ConversationSummary
	Snippets []Snippet // up to three, in seq order
}

// Snippet is a matching message, its text cut around the first match.
type Snippet struct {
	MessageID  int64
	Seq        int64
	Sender     SenderKind
	SenderName string
	CreatedAt  time.Time
	Text       string
	Highlights []Span // what matched, in Text
}

// Span is a range of characters (Unicode code points) of a text: [Start, End).
type Span struct{ Start, End int }

// EventType names a change of state. Every command commits its rows and one
// event of these types per change in the same transaction (docs/events.md).
type EventType string

// Event types.
const (
	// EventMessage: a message was stored (its id and seq are in the event).
	EventMessage EventType = "message"
	// EventQueued: a conversation started and waits in the shop's line.
	EventQueued EventType = "conversation.queued"
	// EventAssigned: a conversation was given to an agent, by routing
	// (actor system) or by the agent taking it from the line (actor agent).
	EventAssigned EventType = "conversation.assigned"
	// EventClosed: a conversation ended.
	EventClosed EventType = "conversation.closed"
	// EventPresence: an agent's effective presence changed.
	EventPresence EventType = "agent.presence"
	// EventTransferred: an agent (or a supervisor) handed a conversation to
	// another agent, or to a group's line, with a note for the next agent.
	EventTransferred EventType = "conversation.transferred"
	// EventReopened: a buyer wrote again soon after a close, and the
	// conversation opened again (to the same agent when they had room).
	EventReopened EventType = "conversation.reopened"
	// EventNudged: a buyer has waited the shop's slow-reply limit for the
	// agent's answer; the agent was nudged (once per wait).
	EventNudged EventType = "conversation.nudged"
	// EventRequeued: an assigned conversation went back to the front of the
	// line because its agent left (their grace ended with no socket open) or
	// their account was disabled.
	EventRequeued EventType = "conversation.requeued"
	// EventReassigned: a buyer waited the shop's reassign_seconds for an
	// answer, and kefu handed the conversation to another agent with room.
	EventReassigned EventType = "conversation.reassigned"
	// EventAbandoned: a buyer whose conversation waits in line closed every
	// widget and did not come back within a minute (they left the line).
	EventAbandoned EventType = "conversation.abandoned"
	// EventInvited: the agent holding a conversation (or a supervisor)
	// invited another agent (AgentID) to help in it.
	EventInvited EventType = "conversation.invited"
	// EventLeft: an invited agent (AgentID) left the conversation.
	EventLeft EventType = "conversation.left"
	// EventAgentUpdated: an owner or supervisor changed an agent's name,
	// cap, role or password (data.fields names which).
	EventAgentUpdated EventType = "agent.updated"
	// EventAgentDisabled: an owner disabled an agent's account; their
	// sessions ended and their conversations went back to the line.
	EventAgentDisabled EventType = "agent.disabled"
	// EventAgentEnabled: an owner enabled a disabled account again.
	EventAgentEnabled EventType = "agent.enabled"
	// EventHandedOver: the assistant handed a conversation it answered
	// first to people (转人工): the buyer asked, a rule said so, or no rule
	// answered (data.reason: "asked", "rule", "fallback").
	EventHandedOver EventType = "conversation.handed_over"
	// EventOrderCreated: the shop's platform sent an order kefu did not have
	// (data.order_no, data.status).
	EventOrderCreated EventType = "order.created"
	// EventOrderUpdated: the shop's platform changed a stored order
	// (data.fields names what changed; "history" for a late status).
	EventOrderUpdated EventType = "order.updated"
	// EventAPIKeyCreated, EventAPIKeyRotated and EventAPIKeyRevoked: an
	// owner made, rotated or revoked an API key (data.api_key_id).
	EventAPIKeyCreated EventType = "api_key.created"
	EventAPIKeyRotated EventType = "api_key.rotated"
	EventAPIKeyRevoked EventType = "api_key.revoked"
	// EventOrderWebhookSecret: an owner made a new order-webhook secret (the
	// secret itself is never in the log).
	EventOrderWebhookSecret EventType = "shop.order_webhook_secret"
	// EventOrderLinked: an order was linked to a conversation (data.order_no)
	// — by the buyer sending its card (actor buyer) or by an agent.
	EventOrderLinked EventType = "order.linked"
	// EventOrderUnlinked: an agent removed an order's link to a conversation.
	EventOrderUnlinked EventType = "order.unlinked"
	// EventPurged: the shop's retention period deleted a closed
	// conversation's messages (data.count says how many).
	EventPurged EventType = "conversation.purged"
	// EventOverflowStage: the shop's overflow stage changed (Data: Stage,
	// FromStage, Waiting, WaitSeconds).
	EventOverflowStage EventType = "shop.overflow_stage"
	// EventSurgeStarted and EventSurgeEnded: surge mode (大促模式) began or
	// ended, by its switch or its schedule.
	EventSurgeStarted EventType = "shop.surge_started"
	EventSurgeEnded   EventType = "shop.surge_ended"
	// EventRated: the buyer rated a conversation (data.stars; data.comment
	// says a comment was given, which stays in the conversation's row).
	// AgentID is the agent who held it.
	EventRated EventType = "conversation.rated"
	// EventRatingInvited: an agent (AgentID) invited the buyer to rate an
	// open conversation.
	EventRatingInvited EventType = "conversation.rating_invited"
)

// RateLimit is one limit: Burst actions at once, then PerMinute a minute.
// The zero RateLimit is no limit.
type RateLimit struct {
	PerMinute int `json:"per_minute"`
	Burst     int `json:"burst"`
}

// Off reports whether the limit limits nothing.
func (l RateLimit) Off() bool { return l == RateLimit{} }

// RateLimits are a shop's limits (docs/protocol.md, "Limits"). Frame and
// message limits count per buyer and per agent across their sockets; the
// others count the widget sessions and the new conversations of one client
// address (IPv6 by /64) and of the whole shop.
type RateLimits struct {
	BuyerFrames             RateLimit `json:"buyer_frames"`
	BuyerMessages           RateLimit `json:"buyer_messages"`
	AgentFrames             RateLimit `json:"agent_frames"`
	AgentMessages           RateLimit `json:"agent_messages"`
	SessionsPerAddress      RateLimit `json:"sessions_per_address"`
	SessionsPerShop         RateLimit `json:"sessions_per_shop"`
	ConversationsPerAddress RateLimit `json:"conversations_per_address"`
	ConversationsPerShop    RateLimit `json:"conversations_per_shop"`
}

// DefaultRateLimits are a shop's limits until its owner sets others. A
// buyer types far slower than 3 messages a second, and the burst lets a
// widget deliver what was typed offline; every frame (typing, read, sync,
// ping) gets 10 a second. Agents paste quick phrases and switch
// conversations fast. An office or a campus shares one address, so the
// address limits are far above one person's use, yet one address cannot
// mint a hundred visitors and queue a hundred conversations in a second.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		BuyerFrames:             RateLimit{PerMinute: 600, Burst: 60},
		BuyerMessages:           RateLimit{PerMinute: 180, Burst: 30},
		AgentFrames:             RateLimit{PerMinute: 3000, Burst: 300},
		AgentMessages:           RateLimit{PerMinute: 1200, Burst: 100},
		SessionsPerAddress:      RateLimit{PerMinute: 30, Burst: 60},
		SessionsPerShop:         RateLimit{PerMinute: 30000, Burst: 3000},
		ConversationsPerAddress: RateLimit{PerMinute: 10, Burst: 20},
		ConversationsPerShop:    RateLimit{PerMinute: 3000, Burst: 600},
	}
}

// Bounds of one rate limit's fields.
const (
	MaxRatePerMinute = 1_000_000
	MaxRateBurst     = 100_000
)

// RateLimitsError names the field of RateLimits that is wrong, as a JSON
// path ("buyer_frames.burst"), with a stable code and a sentence.
type RateLimitsError struct {
	Field, Code, Message string
}

func (e *RateLimitsError) Error() string { return e.Field + ": " + e.Message }

// Validate checks every limit: off (both 0), or 1 to MaxRatePerMinute a
// minute with a burst of 1 to MaxRateBurst.
func (r RateLimits) Validate() *RateLimitsError {
	for _, f := range r.fields() {
		switch {
		case f.limit.Off():
		case f.limit.PerMinute < 1 || f.limit.PerMinute > MaxRatePerMinute:
			return &RateLimitsError{Field: f.name + ".per_minute", Code: "invalid_rate_limit",
				Message: fmt.Sprintf("per_minute must be from 1 to %d (0 with burst 0 turns the limit off).", MaxRatePerMinute)}
		case f.limit.Burst < 1 || f.limit.Burst > MaxRateBurst:
			return &RateLimitsError{Field: f.name + ".burst", Code: "invalid_rate_limit",
				Message: fmt.Sprintf("burst must be from 1 to %d (0 with per_minute 0 turns the limit off).", MaxRateBurst)}
		}
	}
	return nil
}

// fields are the limits with their JSON names, in declaration order.
func (r RateLimits) fields() []struct {
	name  string
	limit RateLimit
} {
	return []struct {
		name  string
		limit RateLimit
	}{
		{"buyer_frames", r.BuyerFrames}, {"buyer_messages", r.BuyerMessages},
		{"agent_frames", r.AgentFrames}, {"agent_messages", r.AgentMessages},
		{"sessions_per_address", r.SessionsPerAddress}, {"sessions_per_shop", r.SessionsPerShop},
		{"conversations_per_address", r.ConversationsPerAddress}, {"conversations_per_shop", r.ConversationsPerShop},
	}
}

// MaxRetentionDays bounds a shop's retention period (ten years).
const MaxRetentionDays = 3650

// FinalOrderStatuses are the statuses of an order that is over: a
// transcript linked only to such orders may be deleted by the shop's
// retention period.
var FinalOrderStatuses = []string{"completed", "cancelled", "canceled", "closed", "refunded"}

// Event is one entry of a shop's append-only event log. Fields that do not
// apply to its type are zero.
type Event struct {
	ID             int64 // ascending in commit order within a process's writer
	ShopID         int64
	Type           EventType
	Actor          ActorRef // who caused it
	ConversationID int64
	BuyerID        int64
	AgentID        int64 // the agent it is about: the assignee, the one who changed presence
	MessageID      int64
	Seq            int64
	Data           EventData // what only some types carry
	CreatedAt      time.Time
}

// ActorRef names who caused a change: a buyer or an agent by id, or kefu
// itself (SenderSystem, id 0: routing, timers).
type ActorRef struct {
	Kind SenderKind
	ID   int64
}

// SystemActor is kefu itself as the cause of a change.
var SystemActor = ActorRef{Kind: SenderSystem}

// EventData is the part of an event only some types carry; it is stored as JSON.
type EventData struct {
	Presence Presence `json:"presence,omitempty"` // EventPresence
	GroupID  int64    `json:"group_id,omitempty"` // EventQueued: the group it is routed to
	// EventQueued: the shop's assistant answers first (bot-first); people
	// have the conversation from its hand-over (EventHandedOver) on.
	AssistantFirst bool   `json:"assistant_first,omitempty"`
	Reason         string `json:"reason,omitempty"` // EventRequeued: why ("agent_left", "agent_disabled")
	// EventTransferred: the agent who held it, and the note for the next one.
	FromAgentID int64  `json:"from_agent_id,omitempty"`
	Note        string `json:"note,omitempty"`
	// EventAgentUpdated: the fields changed ("name", "max_concurrent",
	// "role", "password"), and the new role when it changed.
	Fields []string `json:"fields,omitempty"`
	Role   Role     `json:"role,omitempty"`
	// EventOrderCreated, EventOrderUpdated: the order and its current
	// status, and the API key it came with (0: the signed webhook).
	OrderNo     string `json:"order_no,omitempty"`
	OrderStatus string `json:"status,omitempty"`
	APIKeyID    int64  `json:"api_key_id,omitempty"` // also the EventAPIKey* events
	// EventPurged: how many messages were deleted.
	Count int `json:"count,omitempty"`
	// EventOverflowStage: the stage entered and the one left, and the live
	// line that drove the change (waiting buyers, estimated wait).
	Stage       OverflowStage `json:"stage,omitempty"`
	FromStage   OverflowStage `json:"from_stage,omitempty"`
	Waiting     int           `json:"waiting,omitempty"`
	WaitSeconds int           `json:"wait_seconds,omitempty"`
	// EventRated: the stars (1 to 5), and whether a comment was given.
	Stars   int  `json:"stars,omitempty"`
	Comment bool `json:"comment,omitempty"`
}

// Event reasons of EventHandedOver.
const (
	HandOverAsked    = "asked"    // the buyer asked for a person
	HandOverRule     = "rule"     // a keyword rule hands over
	HandOverFallback = "fallback" // no rule answered
)

// PriorityVIP is the priority of a VIP buyer's conversation, and of one
// about a high-value order.
const PriorityVIP = 1

// PriorityLeftMessage is the priority of a left message (留言): it is
// answered after every live conversation of the line.
const PriorityLeftMessage = -1

// PriorityReturned is the priority of a conversation its agent left: it goes
// back in front of everyone waiting, VIP buyers included.
const PriorityReturned = 2

// Change is a committed event with the state it left, as consumers of
// committed events (socket fan-out, later the assistant, webhooks, report
// roll-ups) are handed it.
type Change struct {
	Event Event
	// Conversation is the conversation's routing state after the change (id,
	// shop, buyer, agent, status, last seq), for events about a conversation.
	Conversation Conversation
	// Message is what an EventMessage stored.
	Message *Message
	// Summary is the conversation as a list shows it after a change of its
	// state (assigned, closed, transferred, requeued, reopened), read in the
	// transaction that wrote it.
	Summary *ConversationSummary
	// Position is its place in line when the change left it waiting.
	Position int
}

// AgentLoad is what a routing decision knows of one agent of the shop.
type AgentLoad struct {
	ID       int64
	Presence Presence
	Active   int           // open conversations assigned to them now
	Cap      int           // most open conversations at once
	Groups   map[int64]int // group id → weight, for the groups they are in
	// LastAssignedAt is when routing or the agent last gave them one (zero: never).
	LastAssignedAt time.Time
}

// Waiting is a conversation in its shop's line, with what routing weighs.
type Waiting struct {
	ConversationID   int64
	BuyerID          int64
	GroupID          int64
	Priority         int
	LastAgentID      int64 // the buyer's agent in the shop's sticky window, 0 if none
	DedicatedAgentID int64 // the buyer's dedicated agent (专属客服), 0 if none
	AvoidAgentID     int64 // the agent who handed it over by a transfer, 0 if none
	GroupOnly        bool  // sent to its group by a transfer: only the group's agents take it
	AssistantFirst   bool  // the shop's assistant answers it first: only the buyer's own agents take it
}

// Assignment gives a waiting conversation to an agent.
type Assignment struct {
	ConversationID int64
	BuyerID        int64
	AgentID        int64
}

// GroupScope says which conversations a group serves when the buyer did not
// pick a group: none, pre-sales (售前) or after-sales (售后, a conversation
// about an order that has shipped or is being refunded).
type GroupScope string

// Group scopes.
const (
	ScopeNone       GroupScope = ""
	ScopePreSales   GroupScope = "presales"
	ScopeAfterSales GroupScope = "aftersales"
)

// Valid reports whether s is a known scope.
func (s GroupScope) Valid() bool { return s == ScopeNone || s == ScopePreSales || s == ScopeAfterSales }

// Group is a team of agents a conversation can be routed to (售前, 售后, ...).
type Group struct {
	ID     int64
	ShopID int64
	Slug   string // what a store page names it by (data-group); lower-case ASCII
	Name   string
	Scope  GroupScope
	// InMenu offers the group in the widget's menu to a buyer whose store
	// page named no group.
	InMenu    bool
	Members   []GroupMember
	CreatedAt time.Time
}

// Phrase is a quick phrase (快捷短语) agents insert into their answer: the
// shop's, shared by all its agents (AgentID 0), or one agent's own.
type Phrase struct {
	ID        int64
	ShopID    int64
	AgentID   int64  // 0: the shop's
	Category  string // "" for none
	Shortcut  string // typed after "/" to find it; "" for none; unique per owner
	Text      string // may hold variables such as {buyer.name}
	Uses      int64  // how often it was inserted: the picker shows the most used first
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Quick phrase limits.
const (
	MaxPhrasesPerShop   = 2000 // the shop's own
	MaxPhrasesPerAgent  = 500  // one agent's own
	MaxPhraseCategory   = 32   // characters
	MaxPhraseImportRows = 2000
)

// ItemError says which item of a batch (its index) a store call refused,
// and why; nothing of the batch is stored.
type ItemError struct {
	Index int
	Err   error
}

func (e *ItemError) Error() string { return fmt.Sprintf("item %d: %v", e.Index, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

// PhraseVariables are the variables a quick phrase may hold, filled in the
// console from the conversation when the phrase is inserted.
var PhraseVariables = []string{"buyer.name", "agent.name", "shop.name", "order.no", "order.status", "order.tracking_no"}

// MenuGroup is a group as the widget's menu offers it.
type MenuGroup struct {
	Slug string
	Name string
}

// GroupMember is an agent in a group. A higher weight takes a larger share
// of the group's conversations.
type GroupMember struct {
	AgentID int64
	Weight  int
}

// Limits on groups.
const (
	MaxGroupsPerShop = 50
	MaxGroupWeight   = 100
)

// AfterSalesOrder reports whether an order in this status is after-sales
// business (shipped, delivered, completed, or being returned or refunded).
func AfterSalesOrder(status string) bool {
	switch status {
	case "shipped", "delivered", "completed", "returning", "refunding", "refunded", "after_sale":
		return true
	}
	return false
}

// Entry is how a buyer came to start a conversation: the group the store
// page asked for (its slug), or the order they are asking about.
type Entry struct {
	Group   string
	OrderNo string
}

// Transfer says where a conversation is handed to: an agent, or the front of
// a group's line; with a note the next agent sees (never the buyer).
type Transfer struct {
	ToAgentID int64 // 0 when ToGroupID is set
	ToGroupID int64
	Note      string
	// TakeOver is an owner or supervisor taking it themselves (ToAgentID),
	// whatever their load.
	TakeOver bool
}

// RoutingSettings are a shop's routing settings.
type RoutingSettings struct {
	// StickyDays is how long a buyer's last agent stays theirs for routing
	// (0: never).
	StickyDays int
	// AutoCloseMinutes closes an assigned conversation with no new message
	// for that long (0: never).
	AutoCloseMinutes int
	// SlowReplySeconds nudges the agent when a buyer has waited that long
	// for an answer (0: never; 100 for a new shop, Taobao's alert).
	SlowReplySeconds int
	// ReassignSeconds hands the conversation to another agent with a free
	// slot when a buyer has waited that long for an answer (0: never).
	ReassignSeconds int
	// AutoAwayMinutes makes an online agent who did nothing for that long
	// away until they do something (0: never).
	AutoAwayMinutes int
	// ReopenHours reopens a buyer's conversation closed less than that long
	// ago when they write again, instead of starting a new one (0: never).
	ReopenHours int
	// HighValueCents serves a conversation about an order of at least that
	// amount before others, as a VIP's (0: never).
	HighValueCents int64
}

// MatchKind is how a keyword rule matches a buyer's message, after both are
// folded (docs/autoreply.md).
type MatchKind string

// Match kinds.
const (
	MatchExact    MatchKind = "exact"    // the message is one of the patterns
	MatchContains MatchKind = "contains" // the message holds every pattern
	MatchAny      MatchKind = "any"      // the message holds at least one pattern
	MatchRegex    MatchKind = "regex"    // the one pattern, a Go (RE2) regular expression, matches
)

// Valid reports whether m is a known match kind.
func (m MatchKind) Valid() bool {
	return m == MatchExact || m == MatchContains || m == MatchAny || m == MatchRegex
}

// Handoff is what a keyword rule does besides answering.
type Handoff string

// Handoffs.
const (
	HandoffNone  Handoff = ""      // answer only
	HandoffHuman Handoff = "human" // hand the buyer to people (转人工)
	HandoffGroup Handoff = "group" // hand the buyer to a group's line
)

// AutoReplyRule is a keyword rule of the shop's assistant. The JSON names
// are the API's (/auto-replies).
type AutoReplyRule struct {
	ID       int64     `json:"id"`
	ShopID   int64     `json:"-"`
	Name     string    `json:"name"`
	Match    MatchKind `json:"match"`
	Patterns []string  `json:"patterns"`
	// GroupIDs scope the rule to conversations routed to these groups;
	// empty: every conversation.
	GroupIDs []int64 `json:"group_ids"`
	// Priority orders the rules: of those that match, the highest fires;
	// among equals, the oldest (lowest id).
	Priority  int      `json:"priority"`
	Answer    string   `json:"answer"`     // may hold variables ({buyer.name}, {shop.name}, ...)
	FollowUps []string `json:"follow_ups"` // tappable follow-up questions
	Handoff   Handoff  `json:"handoff"`
	// HandoffGroupID is the group HandoffGroup hands to.
	HandoffGroupID int64     `json:"handoff_group_id"`
	Enabled        bool      `json:"enabled"`
	Hits           int64     `json:"hits"` // how often it answered
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Auto-reply limits.
const (
	MaxAutoReplyRules    = 1000
	MaxRulePatterns      = 20
	MaxPatternRunes      = 100
	MaxRegexBytes        = 200
	MaxRuleFollowUps     = 5
	MaxQuickQuestions    = 8
	MaxQuestionRunes     = 50
	MaxReplyRunes        = 500
	MaxRepliesPerMinute  = 60
	MaxHoldingSeconds    = 3600
	MaxRulePriority      = 1000
	DefaultRepliesPerMin = 5
)

// OffHoursMode is what the assistant does with a buyer who writes outside
// business hours.
type OffHoursMode string

// Off-hours modes.
const (
	OffHoursQueue        OffHoursMode = "queue"         // queue for the next opening
	OffHoursLeaveMessage OffHoursMode = "leave_message" // take a message (留言) to answer later
)

// TimeSpan is part of a day the shop is open: from Start to End, in minutes
// after midnight in the shop's time zone (End up to 1440).
type TimeSpan struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// BusinessHours are when people answer. Disabled: always open.
type BusinessHours struct {
	Enabled  bool   `json:"enabled"`
	TimeZone string `json:"time_zone"` // IANA, e.g. Asia/Shanghai
	// Weekly holds the open spans of each weekday, Sunday first.
	Weekly [7][]TimeSpan `json:"weekly"`
	// Holidays are dates (YYYY-MM-DD, in the time zone) closed all day.
	Holidays []string `json:"holidays"`
}

// AssistantSettings are how the shop's assistant (店小蜜) answers. The JSON
// names are the API's (PUT /assistant) and how the store keeps them.
type AssistantSettings struct {
	// Enabled turns every auto-reply on or off.
	Enabled bool   `json:"enabled"`
	Name    string `json:"name"` // shown as the sender of its messages, e.g. 小蜜
	// Avatar is one or two characters shown in its avatar circle.
	Avatar         string   `json:"avatar"`
	Greeting       string   `json:"greeting"`        // the welcome; "" for none
	QuickQuestions []string `json:"quick_questions"` // offered with the welcome
	// BotFirst lets the rules answer a new conversation first; people take
	// it when the buyer asks (转人工), a rule hands over, or no rule answers.
	BotFirst bool `json:"bot_first"`
	// FallbackReply is said when, bot-first, no rule answers; the buyer is
	// then handed to people.
	FallbackReply string `json:"fallback_reply"`
	// HandoverReply is said when the buyer asks for a person.
	HandoverReply string `json:"handover_reply"`
	// BusyReply is said when the buyer has to wait for a person; it may
	// hold {queue.position} and {queue.eta}.
	BusyReply string `json:"busy_reply"`
	// HoldingSeconds says the holding reply once to a buyer who has waited
	// that long in line (0: never).
	HoldingSeconds int    `json:"holding_seconds"`
	HoldingReply   string `json:"holding_reply"`
	// RepliesPerMinute caps the auto-replies to one conversation per minute.
	RepliesPerMinute int           `json:"replies_per_minute"`
	Hours            BusinessHours `json:"hours"`
	OffHoursReply    string        `json:"off_hours_reply"` // may hold {hours.next}
	OffHoursMode     OffHoursMode  `json:"off_hours_mode"`
}

// DefaultAssistantSettings are a shop's assistant settings until it saves
// its own: switched off, with wording ready to switch on.
func DefaultAssistantSettings() AssistantSettings {
	return AssistantSettings{
		Name:             "小蜜",
		Avatar:           "蜜",
		Greeting:         "亲，欢迎光临{shop.name}，有什么可以帮您？",
		FallbackReply:    "这个问题小蜜还不会回答，已为您转接人工客服，请稍候",
		HandoverReply:    "好的，正在为您转接人工客服，请稍候",
		BusyReply:        "当前咨询人数较多，您排在第 {queue.position} 位，预计等待 {queue.eta}，请稍候",
		HoldingSeconds:   60,
		HoldingReply:     "亲，客服正在忙，请稍候",
		RepliesPerMinute: DefaultRepliesPerMin,
		Hours:            BusinessHours{TimeZone: "Asia/Shanghai"},
		OffHoursReply:    "亲，现在是非工作时间，客服 {hours.next} 上线后会第一时间回复您",
		OffHoursMode:     OffHoursQueue,
	}
}
