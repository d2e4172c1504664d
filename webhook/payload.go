package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kefu/kefu"
)

// platformType names an event of kefu's log as the shop's platform sees it;
// false for the events no webhook sends.
func platformType(e kefu.Event) (string, bool) {
	switch e.Type {
	case kefu.EventQueued:
		return kefu.WebhookConversationStarted, true
	case kefu.EventClosed:
		return kefu.WebhookConversationClosed, true
	case kefu.EventOrderLinked:
		return kefu.WebhookOrderLinked, true
	case kefu.EventMessage:
		if e.Actor.Kind == kefu.SenderBuyer {
			return kefu.WebhookMessageBuyer, true
		}
	}
	return "", false
}

// Payload is the JSON body of a delivery.
type Payload struct {
	ID        int64       `json:"id"` // the event's: the same on every attempt
	Type      string      `json:"type"`
	CreatedAt time.Time   `json:"created_at"`
	Shop      ShopRef     `json:"shop"`
	Data      PayloadData `json:"data"`
}

// ShopRef names the shop an event is of.
type ShopRef struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
}

// PayloadData is what an event is about; each type fills what it has.
type PayloadData struct {
	ConversationID int64       `json:"conversation_id"`
	Buyer          BuyerRef    `json:"buyer"`
	AgentID        int64       `json:"agent_id,omitempty"` // conversation.closed: who held it
	GroupID        int64       `json:"group_id,omitempty"` // conversation.started: the group it is routed to
	OrderNo        string      `json:"order_no,omitempty"` // order.linked
	Message        *MessageRef `json:"message,omitempty"`  // message.buyer
}

// BuyerRef is a buyer: kefu's id and, for a buyer the shop identified, the
// shop's own id (docs/widget.md).
type BuyerRef struct {
	ID         int64  `json:"id"`
	ExternalID string `json:"external_id,omitempty"`
}

// MessageRef is a buyer's message.
type MessageRef struct {
	ID   int64  `json:"id"`
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// payload builds the body of the delivery of e, the shop's platform's name.
func (s *Sender) payload(ctx context.Context, shop kefu.Shop, name string, e kefu.Event) ([]byte, error) {
	p := Payload{ID: e.ID, Type: name, CreatedAt: e.CreatedAt.UTC(), Shop: ShopRef{ID: shop.ID, Slug: shop.Slug},
		Data: PayloadData{ConversationID: e.ConversationID, Buyer: BuyerRef{ID: e.BuyerID}}}
	if e.BuyerID != 0 {
		b, err := s.store.Buyer(ctx, shop.ID, e.BuyerID)
		switch {
		case err == nil:
			if b.Identified() {
				p.Data.Buyer.ExternalID = b.ExternalID
			}
		case !errors.Is(err, kefu.ErrNotFound): // a deleted buyer is sent by id
			return nil, err
		}
	}
	switch name {
	case kefu.WebhookConversationStarted:
		p.Data.GroupID = e.Data.GroupID
	case kefu.WebhookConversationClosed:
		p.Data.AgentID = e.AgentID
	case kefu.WebhookOrderLinked:
		p.Data.OrderNo = e.Data.OrderNo
	case kefu.WebhookMessageBuyer:
		p.Data.Message = &MessageRef{ID: e.MessageID, Seq: e.Seq}
		ms, _, err := s.store.Messages(ctx, shop.ID, e.ConversationID, e.Seq-1, 1)
		if err != nil && !errors.Is(err, kefu.ErrNotFound) {
			return nil, err
		}
		if len(ms) == 1 && ms[0].ID == e.MessageID {
			p.Data.Message.Kind, p.Data.Message.Text = string(ms[0].Kind), ms[0].Text
		}
	}
	return json.Marshal(p)
}
