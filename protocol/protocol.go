// Package protocol is kefu's wire format: the JSON frames buyers and agents
// exchange over the WebSocket (docs/protocol.md) and the JSON shapes of
// domain objects shared with the REST API. Decoding validates; encoding is
// done once per event, so a frame fanned out to many sockets costs one
// json.Marshal.
package protocol

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu/kefu"
)

// Client frame types.
const (
	TypeSend     = "send"
	TypeSync     = "sync"
	TypeTyping   = "typing"
	TypeRead     = "read"
	TypePresence = "presence"
	TypePing     = "ping"
	// TypeRate is a buyer's satisfaction rating of a conversation (CSAT).
	TypeRate = "rate"
)

// Server frame types.
const (
	TypeReady        = "ready"
	TypeAck          = "ack"
	TypeMessage      = "message"
	TypeHistory      = "history"
	TypeConversation = "conversation"
	TypeQueue        = "queue"
	TypeNudge        = "nudge"
	TypeOrderLink    = "order_link"
	TypeOverflow     = "overflow"
	TypeRating       = "rating"
	TypeError        = "error"
	TypePong         = "pong"
	TypeReconnect    = "reconnect"
)

// Error codes carried by error frames and REST error bodies.
const (
	CodeInvalidJSON        = "invalid_json"
	CodeUnknownType        = "unknown_type"
	CodeInvalidFrame       = "invalid_frame"
	CodeTextEmpty          = "text_empty"
	CodeTextTooLong        = "text_too_long"
	CodeTextInvalidChars   = "text_invalid_characters"
	CodeInvalidClientMsgID = "invalid_client_msg_id"
	CodeNotFound           = "not_found"
	CodeForbidden          = "forbidden"
	CodeConversationClosed = "conversation_closed"
	CodeRateLimited        = "rate_limited"
	CodeInternal           = "internal"
	// REST only.
	CodeInvalidName    = "invalid_name"
	CodeInvalidBuyerID = "invalid_buyer_id"
)

// Error is a refusal with a stable machine code and a human sentence.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns the code and the sentence.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ClientFrame is any frame a buyer or agent sends; which fields matter depends on Type.
type ClientFrame struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id,omitempty"`
	ClientMsgID    string `json:"client_msg_id,omitempty"`
	Text           string `json:"text,omitempty"`
	AfterSeq       int64  `json:"after_seq,omitempty"`
	Limit          int    `json:"limit,omitempty"`
	Seq            int64  `json:"seq,omitempty"`
	Status         string `json:"status,omitempty"`
	// Group and OrderNo say how a buyer came (send only): the group the store
	// page asked for (its slug) and the order the buyer asks about. They
	// route the conversation the message starts, and are ignored otherwise.
	Group   string `json:"group,omitempty"`
	OrderNo string `json:"order_no,omitempty"`
	// Card is a product or order card to send (send only); with it, text
	// may be left out.
	Card *CardFrame `json:"card,omitempty"`
	// Stars and Comment are a rating (rate only): 1 to 5 stars and an
	// optional comment; the service checks them.
	Stars   int    `json:"stars,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// DecodeClientFrame parses and validates one client frame. Rules that depend
// on who is sending (an agent must name the conversation) are the caller's.
func DecodeClientFrame(data []byte) (ClientFrame, *Error) {
	var f ClientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return f, Errorf(CodeInvalidJSON, "the frame is not a valid JSON object: %v", err)
	}
	switch f.Type {
	case TypeSend:
		if e := ValidateClientMsgID(f.ClientMsgID); e != nil {
			return f, e
		}
		if f.Card != nil {
			if _, _, e := ValidateCard(*f.Card); e != nil {
				return f, e
			}
		} else if e := ValidateText(f.Text); e != nil {
			return f, e
		}
		if f.Group != "" && !ValidGroupSlug(f.Group) {
			return f, Errorf(CodeInvalidFrame, "group must be a group's slug: 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter or digit")
		}
		if len(f.OrderNo) > kefu.MaxOrderNoBytes || !PrintableASCII(f.OrderNo) {
			return f, Errorf(CodeInvalidFrame, "order_no must be at most %d printable ASCII characters", kefu.MaxOrderNoBytes)
		}
	case TypeSync:
		if f.ConversationID <= 0 {
			return f, Errorf(CodeInvalidFrame, "sync needs a conversation_id")
		}
		if f.AfterSeq < 0 {
			return f, Errorf(CodeInvalidFrame, "after_seq must not be negative")
		}
		if f.Limit < 0 || f.Limit > kefu.MaxPageSize {
			return f, Errorf(CodeInvalidFrame, "limit must be from 1 to %d (0 or absent means %d)", kefu.MaxPageSize, kefu.DefaultPageSize)
		}
	case TypeRead:
		if f.ConversationID <= 0 || f.Seq <= 0 {
			return f, Errorf(CodeInvalidFrame, "read needs a conversation_id and a seq above 0")
		}
	case TypeRate:
		if f.ConversationID <= 0 {
			return f, Errorf(CodeInvalidFrame, "rate needs a conversation_id")
		}
	case TypePresence:
		if f.Status != string(kefu.PresenceOnline) && f.Status != string(kefu.PresenceAway) {
			return f, Errorf(CodeInvalidFrame, "presence status must be \"online\" or \"away\"")
		}
	case TypeTyping, TypePing:
	case "":
		return f, Errorf(CodeInvalidFrame, "the frame has no type")
	default:
		return f, Errorf(CodeUnknownType, "unknown frame type %q", f.Type)
	}
	if f.ConversationID < 0 {
		return f, Errorf(CodeInvalidFrame, "conversation_id must be positive")
	}
	return f, nil
}

// ValidateText checks a message text: valid UTF-8, no character refusedInText,
// something visible (not only blanks and invisible formatting characters), at
// most kefu.MaxTextRunes characters. The text is kept as sent, untrimmed.
func ValidateText(text string) *Error {
	if !utf8.ValidString(text) {
		return Errorf(CodeInvalidFrame, "the message text is not valid UTF-8")
	}
	n, visible := 0, false
	for _, r := range text {
		n++
		if refusedInText(r) {
			return Errorf(CodeTextInvalidChars, "the message text holds the control character %U (character %d); only tab, line feed and carriage return are allowed", r, n)
		}
		if !visible && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			visible = true
		}
	}
	if !visible {
		return Errorf(CodeTextEmpty, "the message text is empty")
	}
	if n > kefu.MaxTextRunes {
		return Errorf(CodeTextTooLong, "the message text has %d characters; the limit is %d", n, kefu.MaxTextRunes)
	}
	return nil
}

// refusedInText reports whether a message text may not hold r: a control
// character (C0, DEL, C1) other than tab, line feed and carriage return.
// PostgreSQL cannot store NUL at all, and no keyboard types the others; they
// only garble what the other side sees. Bidi controls, zero-width characters
// and U+2028/U+2029 are allowed: Arabic and Hebrew text needs the first, emoji
// and several scripts the second, and a text is always shown as plain text in
// an element of its own, so they cannot reach past it.
func refusedInText(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// ValidateName checks a display name (an agent's, a buyer's, a shop's), which
// the caller has trimmed: valid UTF-8, at most kefu.MaxNameRunes characters,
// none of them refusedInName. Whether a name may be empty is the caller's rule.
func ValidateName(name string) *Error {
	if why := checkLabel(name, "name"); why != "" {
		return Errorf(CodeInvalidName, "%s", why)
	}
	if n := utf8.RuneCountInString(name); n > kefu.MaxNameRunes {
		return Errorf(CodeInvalidName, "name must be at most %d characters; it has %d", kefu.MaxNameRunes, n)
	}
	return nil
}

// ValidateBuyerID checks a shop's own id of a signed-in buyer: 1 to
// kefu.MaxExternalIDBytes bytes of valid UTF-8, no character refusedInName.
func ValidateBuyerID(id string) *Error {
	if id == "" || len(id) > kefu.MaxExternalIDBytes {
		return Errorf(CodeInvalidBuyerID, "buyer_id must be 1 to %d bytes", kefu.MaxExternalIDBytes)
	}
	if why := checkLabel(id, "buyer_id"); why != "" {
		return Errorf(CodeInvalidBuyerID, "%s", why)
	}
	return nil
}

// LabelProblem says why s, a one-line label called field (a product title,
// a SKU), is refused, or "" when it is not: the characters a name may hold,
// at any length.
func LabelProblem(s, field string) string { return checkLabel(s, field) }

// checkLabel says why s, a one-line label called field, is refused, or "".
func checkLabel(s, field string) string {
	if !utf8.ValidString(s) {
		return field + " is not valid UTF-8"
	}
	for i, r := range s {
		if refusedInName(r) {
			return fmt.Sprintf("%s holds %U at byte %d; control, bidi embedding/override/isolate and line separator characters are refused", field, r, i)
		}
	}
	return ""
}

// refusedInName reports whether a name or id may not hold r: any control
// character (tab and line breaks too: a name is one line), the bidi embedding,
// override and isolate controls U+202A–U+202E and U+2066–U+2069 (they make a
// name read as something else beside the text around it, as in "Trojan
// Source"), U+2028 and U+2029 (line breaks) and U+FEFF (a byte-order mark,
// invisible). The bidi marks U+200E, U+200F and U+061C and zero-width joiners
// stay allowed: mixed-script names and emoji need them.
func refusedInName(r rune) bool {
	return unicode.IsControl(r) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 ||
		r == 0x2028 || r == 0x2029 || r == 0xFEFF
}

// ValidateClientMsgID checks a client message id: 1 to 64 printable ASCII characters.
func ValidateClientMsgID(id string) *Error {
	if id == "" || len(id) > kefu.MaxClientMsgIDLen {
		return Errorf(CodeInvalidClientMsgID, "client_msg_id must be 1 to %d characters", kefu.MaxClientMsgIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return Errorf(CodeInvalidClientMsgID, "client_msg_id may hold only printable ASCII characters")
		}
	}
	return nil
}

// Message is the JSON shape of a kefu.Message.
type Message struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Kind           string `json:"kind"`
	Sender         string `json:"sender"`
	SenderID       int64  `json:"sender_id"`
	SenderName     string `json:"sender_name"`
	Text           string `json:"text"`
	Code           string `json:"code,omitempty"`
	ClientMsgID    string `json:"client_msg_id,omitempty"`
	// RuleID is the keyword rule a bot message answered with.
	RuleID int64 `json:"rule_id,omitempty"`
	// QuickReplies are questions a bot message offers the buyer to tap.
	QuickReplies []string `json:"quick_replies,omitempty"`
	// Card is a product or order card's fields (kind "product", "order").
	Card      *kefu.Card `json:"card,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// MessageOf converts a domain message.
func MessageOf(m kefu.Message) Message {
	return Message{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, Kind: string(m.Kind), Sender: string(m.Sender),
		SenderID: m.SenderID, SenderName: m.SenderName, Text: m.Text, Code: m.Code, ClientMsgID: m.ClientMsgID,
		RuleID: m.RuleID, QuickReplies: m.QuickReplies, Card: m.Card, CreatedAt: m.CreatedAt.UTC()}
}

// MessagesOf converts a list of domain messages; never nil, so JSON shows [].
func MessagesOf(ms []kefu.Message) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = MessageOf(m)
	}
	return out
}

// Buyer is the JSON shape of a kefu.Buyer.
type Buyer struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Identified bool   `json:"identified"`
	ExternalID string `json:"external_id,omitempty"`
}

// BuyerOf converts a domain buyer.
func BuyerOf(b kefu.Buyer) Buyer {
	return Buyer{ID: b.ID, Name: b.Name, Identified: b.Identified(), ExternalID: b.ExternalID}
}

// Conversation is the JSON shape of a conversation summary.
type Conversation struct {
	ID            int64      `json:"id"`
	Status        string     `json:"status"`
	Buyer         Buyer      `json:"buyer"`
	AgentID       *int64     `json:"agent_id"`
	AgentName     string     `json:"agent_name,omitempty"`
	LastSeq       int64      `json:"last_seq"`
	AgentReadSeq  int64      `json:"agent_read_seq"`
	BuyerReadSeq  int64      `json:"buyer_read_seq"`
	Unread        int64      `json:"unread"`
	QueuePosition int        `json:"queue_position"`
	LastMessage   *Message   `json:"last_message"`
	CreatedAt     time.Time  `json:"created_at"`
	AssignedAt    *time.Time `json:"assigned_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	// Transfer is the latest transfer, for agents only (never sent to a buyer).
	Transfer *Transfer `json:"transfer,omitempty"`
	// GroupID is the group it is routed to (agents only; absent for the
	// whole shop).
	GroupID int64 `json:"group_id,omitempty"`
	// HelperIDs are the agents invited into it beside its agent (agents only;
	// absent when none).
	HelperIDs []int64 `json:"helper_ids,omitempty"`
	// AwaitingSince is when the buyer's oldest unanswered message was written
	// (agents only; absent when nothing waits for an answer).
	AwaitingSince *time.Time `json:"awaiting_since,omitempty"`
	// Assistant: the shop's assistant answers it (bot-first) until a person
	// takes it or the buyer asks for one (转人工).
	Assistant bool `json:"assistant,omitempty"`
	// Rating is the buyer's satisfaction rating, 1 to 5 stars (0: not
	// rated); RatingComment what they wrote beside it, RatedAt when.
	Rating        int        `json:"rating"`
	RatingComment string     `json:"rating_comment,omitempty"`
	RatedAt       *time.Time `json:"rated_at,omitempty"`
	// RatingInvited: an agent invited the buyer to rate it while open.
	RatingInvited bool `json:"rating_invited"`
}

// Transfer is who handed a conversation over and what they told the next agent.
type Transfer struct {
	FromAgentID int64  `json:"from_agent_id"`
	Note        string `json:"note"`
}

// HasAgentsOnly reports whether c carries anything a buyer may not see.
func (c Conversation) HasAgentsOnly() bool {
	return c.Transfer != nil || c.HelperIDs != nil || c.AwaitingSince != nil || c.GroupID != 0
}

// ForBuyer is c as its buyer may see it: without what is for agents only.
func (c Conversation) ForBuyer() Conversation {
	c.Transfer, c.HelperIDs, c.AwaitingSince, c.GroupID = nil, nil, nil, 0
	return c
}

// ConversationOf converts a summary; position is the queue place (0 if not queued).
func ConversationOf(s kefu.ConversationSummary, position int) Conversation {
	c := Conversation{ID: s.ID, Status: string(s.Status), Buyer: BuyerOf(s.Buyer), AgentName: s.AgentName,
		LastSeq: s.LastSeq, AgentReadSeq: s.AgentReadSeq, BuyerReadSeq: s.BuyerReadSeq, Unread: s.Unread,
		QueuePosition: position, CreatedAt: s.CreatedAt.UTC(), AssignedAt: utc(s.AssignedAt), ClosedAt: utc(s.ClosedAt),
		GroupID: s.GroupID, HelperIDs: s.HelperIDs, AwaitingSince: utc(s.AwaitingSince), Assistant: s.AssistantFirst && s.Status == kefu.StatusQueued,
		Rating: s.Rating, RatingComment: s.RatingComment, RatedAt: utc(s.RatedAt), RatingInvited: s.RatingInvitedAt != nil}
	if s.AgentID != 0 {
		id := s.AgentID
		c.AgentID = &id
	}
	if s.LastMessage != nil {
		m := MessageOf(*s.LastMessage)
		c.LastMessage = &m
	}
	if s.TransferFromAgentID != 0 {
		c.Transfer = &Transfer{FromAgentID: s.TransferFromAgentID, Note: s.TransferNote}
	}
	return c
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Agent is the JSON shape of an agent with live routing state.
type Agent struct {
	ID            int64  `json:"id"`
	ShopID        int64  `json:"shop_id"`
	Username      string `json:"username"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	Presence      string `json:"presence"`
	MaxConcurrent int    `json:"max_concurrent"`
	ActiveCount   int    `json:"active_count"`
	Disabled      bool   `json:"disabled"`
	// AwayReply is what the assistant tells a buyer who writes while the
	// agent is away.
	AwayReply string `json:"away_reply"`
}

// AgentOf converts a domain agent with its presence and current load.
func AgentOf(a kefu.Agent, presence kefu.Presence, active int) Agent {
	return Agent{ID: a.ID, ShopID: a.ShopID, Username: a.Username, Name: a.Name, Role: string(a.Role),
		Presence: string(presence), MaxConcurrent: a.MaxConcurrent, ActiveCount: active, Disabled: a.Disabled, AwayReply: a.AwayReply}
}

// Server frames. Each is encoded with Encode.

// ReadyBuyer is the first frame on a buyer socket.
type ReadyBuyer struct {
	Type          string        `json:"type"`
	Buyer         Buyer         `json:"buyer"`
	Conversation  *Conversation `json:"conversation"`
	QueuePosition int           `json:"queue_position"`
	HeartbeatSec  int           `json:"heartbeat_sec"`
}

// ReadyAgent is the first frame on an agent socket. Conversations is what
// GET /api/v1/conversations lists by default (never nil, so JSON shows []).
type ReadyAgent struct {
	Type          string         `json:"type"`
	Agent         Agent          `json:"agent"`
	Conversations []Conversation `json:"conversations"`
	HeartbeatSec  int            `json:"heartbeat_sec"`
}

// Ack confirms a stored message to its sender.
type Ack struct {
	Type        string  `json:"type"`
	ClientMsgID string  `json:"client_msg_id"`
	Message     Message `json:"message"`
	Duplicate   bool    `json:"duplicate"`
}

// MessageFrame carries a new message.
type MessageFrame struct {
	Type    string  `json:"type"`
	Message Message `json:"message"`
}

// History answers a sync. LastSeq is the conversation's last seq when the
// page was read: an after_seq above it names messages this conversation
// does not have.
type History struct {
	Type           string    `json:"type"`
	ConversationID int64     `json:"conversation_id"`
	Messages       []Message `json:"messages"`
	HasMore        bool      `json:"has_more"`
	LastSeq        int64     `json:"last_seq"`
}

// Typing says the other side is typing.
type Typing struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	Sender         string `json:"sender"`
	Name           string `json:"name"`
}

// Read says the other side has read up to Seq.
type Read struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	Reader         string `json:"reader"`
	Seq            int64  `json:"seq"`
}

// ConversationFrame says a conversation changed.
type ConversationFrame struct {
	Type         string       `json:"type"`
	Conversation Conversation `json:"conversation"`
}

// Queue tells a waiting buyer their place in line.
type Queue struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	Position       int    `json:"position"`
	// ETASeconds estimates the wait from the shop's recent pace; absent
	// when there is too little to go by.
	ETASeconds int64 `json:"eta_seconds,omitempty"`
	// Stage is the shop's overflow stage when it is not "normal".
	Stage string `json:"stage,omitempty"`
}

// OverflowFrame tells a shop's consoles its overflow stage, whether surge
// mode is on, and the numbers driving them; sent when any of them changes,
// at most once a second.
type OverflowFrame struct {
	Type         string    `json:"type"`
	Stage        string    `json:"stage"`
	Since        time.Time `json:"since"`
	Surge        bool      `json:"surge"`
	Waiting      int       `json:"waiting"`
	WaitSeconds  int       `json:"wait_seconds"`
	LeftMessages int       `json:"left_messages"`
}

// Nudge tells an agent (and the shop's supervisors) that a buyer has waited
// the shop's slow-reply limit for their answer.
type Nudge struct {
	Type           string    `json:"type"`
	ConversationID int64     `json:"conversation_id"`
	WaitingSince   time.Time `json:"waiting_since"`
}

// OrderLinkFrame tells a conversation's agents that an order was linked to
// it (an order card, a colleague, the API) or unlinked.
type OrderLinkFrame struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	OrderNo        string `json:"order_no"`
	Linked         bool   `json:"linked"`
}

// RatingFrame tells a conversation's buyer and agents that the buyer rated
// it; the buyer's socket that sent the rate frame gets it as the answer.
type RatingFrame struct {
	Type           string    `json:"type"`
	ConversationID int64     `json:"conversation_id"`
	Stars          int       `json:"stars"`
	Comment        string    `json:"comment"`
	RatedAt        time.Time `json:"rated_at"`
}

// PresenceFrame says an agent's presence changed.
type PresenceFrame struct {
	Type    string `json:"type"`
	AgentID int64  `json:"agent_id"`
	Status  string `json:"status"`
}

// ErrorFrame refuses a client frame.
type ErrorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
	// RetryAfterMs says when to send again, for rate_limited.
	RetryAfterMs int64 `json:"retry_after_ms,omitempty"`
}

// Reconnect asks the client to come back later.
type Reconnect struct {
	Type         string `json:"type"`
	Reason       string `json:"reason"`
	RetryAfterMs int    `json:"retry_after_ms"`
}

// Pong answers a ping.
var Pong = []byte(`{"type":"pong"}`)

// MessageAndAck encodes a new message once, as the message frame everyone
// concerned gets and as the ack its sender gets: the same bytes as
// Encode(MessageFrame{...}) and Encode(Ack{...}) with Duplicate false.
func MessageAndAck(m Message) (frame, ack []byte) {
	body := Encode(m)
	id := Encode(m.ClientMsgID)
	frame = make([]byte, 0, len(body)+32)
	frame = append(append(append(frame, `{"type":"message","message":`...), body...), '}')
	ack = make([]byte, 0, len(body)+len(id)+64)
	ack = append(append(ack, `{"type":"ack","client_msg_id":`...), id...)
	ack = append(append(append(ack, `,"message":`...), body...), `,"duplicate":false}`...)
	return frame, ack
}

// Encode marshals a server frame. Our frame types always marshal, so an error
// here is a programming mistake and panics rather than sending a broken frame.
func Encode(frame any) []byte {
	b, err := json.Marshal(frame)
	if err != nil {
		panic(fmt.Sprintf("protocol: encode %T: %v", frame, err))
	}
	return b
}

// ValidGroupSlug reports whether s can name a group: 1 to 32 lower-case
// ASCII letters, digits, '-' or '_', starting with a letter or digit.
func ValidGroupSlug(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// PrintableASCII reports whether s holds only '!' to '~' (an empty s does).
func PrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}
