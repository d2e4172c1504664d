// Package export builds an order's dispute export — every conversation
// linked to the order, with the order and its history, as one document (JSON
// for machines, HTML for people) — and checks an export against the store by
// the messages' tamper-evident chain (kefu.ChainHash). docs/orders.md §10
// documents the format.
package export

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Format names the JSON document's layout.
const Format = "kefu.dispute-export.v1"

// Store is what an export reads.
type Store interface {
	Shop(ctx context.Context, id int64) (kefu.Shop, error)
	Order(ctx context.Context, shopID int64, orderNo string) (kefu.Order, error)
	ListConversations(ctx context.Context, shopID int64, f kefu.ConversationFilter) ([]kefu.ConversationSummary, error)
	Messages(ctx context.Context, shopID, conversationID, afterSeq int64, limit int) ([]kefu.Message, bool, error)
}

// Document is a dispute export.
type Document struct {
	Format        string         `json:"format"`
	ExportedAt    time.Time      `json:"exported_at"`
	Shop          Shop           `json:"shop"`
	Order         Order          `json:"order"`
	Conversations []Conversation `json:"conversations"`
}

// Shop names the shop the export is of.
type Shop struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Order is the disputed order as kefu holds it.
type Order struct {
	OrderNo     string           `json:"order_no"`
	BuyerID     string           `json:"buyer_id,omitempty"`
	Status      string           `json:"status"`
	AmountCents int64            `json:"amount_cents"`
	Currency    string           `json:"currency"`
	TrackingNo  string           `json:"tracking_no,omitempty"`
	Items       []kefu.OrderItem `json:"items"`
	CreatedAt   time.Time        `json:"created_at"`
	History     []StatusChange   `json:"history"`
}

// StatusChange is one entry of the order's status history.
type StatusChange struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// Conversation is one conversation linked to the order, with every message.
type Conversation struct {
	ID        int64      `json:"id"`
	Status    string     `json:"status"`
	BuyerName string     `json:"buyer_name"`
	AgentName string     `json:"agent_name,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	Messages  []Message  `json:"messages"`
	// ChainHead is the last message's seq and link: everything before it
	// is pinned by it.
	ChainHead ChainHead `json:"chain_head"`
}

// ChainHead is where a conversation's chain stood when it was exported.
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Message is a stored message as the API shows it (protocol.Message), with
// its link in the chain.
type Message struct {
	protocol.Message
	Hash string `json:"hash"`
}

// Build is the dispute export of the shop's order orderNo: the order and
// every conversation linked to it, oldest first. An order the shop does not
// have is kefu.ErrNotFound.
func Build(ctx context.Context, st Store, shopID int64, orderNo string, now time.Time) (Document, error) {
	shop, err := st.Shop(ctx, shopID)
	if err != nil {
		return Document{}, err
	}
	o, err := st.Order(ctx, shopID, orderNo)
	if err != nil {
		return Document{}, err
	}
	doc := Document{Format: Format, ExportedAt: now.UTC(), Shop: Shop{ID: shop.ID, Slug: shop.Slug, Name: shop.Name},
		Order: orderOf(o), Conversations: []Conversation{}}
	convs, err := linkedConversations(ctx, st, shopID, orderNo)
	if err != nil {
		return Document{}, err
	}
	for i := len(convs) - 1; i >= 0; i-- { // listed newest first
		c := convs[i]
		msgs, err := allMessages(ctx, st, shopID, c.ID)
		if err != nil {
			return Document{}, err
		}
		out := Conversation{ID: c.ID, Status: string(c.Status), BuyerName: c.Buyer.Name, AgentName: c.AgentName,
			CreatedAt: c.CreatedAt.UTC(), ClosedAt: c.ClosedAt, Messages: make([]Message, len(msgs))}
		for j, m := range msgs {
			out.Messages[j] = messageOf(m)
		}
		if n := len(msgs); n > 0 {
			out.ChainHead = ChainHead{Seq: msgs[n-1].Seq, Hash: msgs[n-1].Hash}
		}
		doc.Conversations = append(doc.Conversations, out)
	}
	return doc, nil
}

func linkedConversations(ctx context.Context, st Store, shopID int64, orderNo string) ([]kefu.ConversationSummary, error) {
	var all []kefu.ConversationSummary
	f := kefu.ConversationFilter{OrderNo: orderNo, Limit: kefu.MaxPageSize}
	for {
		page, err := st.ListConversations(ctx, shopID, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.BeforeID = page[len(page)-1].ID
	}
}

func allMessages(ctx context.Context, st Store, shopID, conversationID int64) ([]kefu.Message, error) {
	var all []kefu.Message
	after := int64(0)
	for {
		page, more, err := st.Messages(ctx, shopID, conversationID, after, kefu.MaxPageSize)
		if err != nil {
			return nil, fmt.Errorf("export: messages of conversation %d: %w", conversationID, err)
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			return all, nil
		}
		after = page[len(page)-1].Seq
	}
}

func orderOf(o kefu.Order) Order {
	out := Order{OrderNo: o.OrderNo, BuyerID: o.BuyerExternalID, Status: o.Status, AmountCents: o.AmountCents, Currency: o.Currency,
		TrackingNo: o.TrackingNo, Items: o.Items, CreatedAt: o.CreatedAt.UTC(), History: make([]StatusChange, len(o.History))}
	if out.Items == nil {
		out.Items = []kefu.OrderItem{}
	}
	for i, h := range o.History {
		out.History[i] = StatusChange{Status: h.Status, At: h.At.UTC()}
	}
	return out
}

func messageOf(m kefu.Message) Message {
	return Message{Message: protocol.MessageOf(m), Hash: m.Hash}
}

// message is the kefu message an exported one stands for: all that its
// digest covers.
func (m Message) message(shopID, conversationID int64) kefu.Message {
	return kefu.Message{ShopID: shopID, ConversationID: conversationID, Seq: m.Seq, Kind: kefu.MessageKind(m.Kind),
		Sender: kefu.SenderKind(m.Sender), SenderID: m.SenderID, SenderName: m.SenderName, Text: m.Text, Code: m.Code,
		Card: m.Card, QuickReplies: m.QuickReplies, CreatedAt: m.CreatedAt}
}
