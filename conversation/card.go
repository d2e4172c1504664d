package conversation

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Refusals of a card.
var (
	// ErrUnknownOrder: an order card names no order of the conversation's buyer.
	ErrUnknownOrder = errors.New("no such order of this buyer")
	// ErrImageOrigin: a card's image is neither https nor from one of the
	// shop's registered origins.
	ErrImageOrigin = errors.New("the card's image must be https or from the shop's registered origins")
	// ErrLinkOrigin: a buyer's product card links outside the shop's
	// registered origins.
	ErrLinkOrigin = errors.New("a buyer's product card must link to one of the shop's registered origins")
)

// SendCard stores a card message from the actor and delivers it, as Send
// does a text (the same conversation rules, retries and acks). A product
// card's fields are the sender's; an order card names one of the buyer's
// orders by number, and kefu fills in its status, amount and items from its
// own copy, so nobody can show a buyer an order that is not theirs. A
// buyer's order card starting a conversation routes it as a message about
// that order.
func (s *Service) SendCard(ctx context.Context, actor Actor, conversationID int64, clientMsgID string, f protocol.CardFrame) (kefu.Message, bool, error) {
	if e := protocol.ValidateClientMsgID(clientMsgID); e != nil {
		return kefu.Message{}, false, e
	}
	kind, card, e := protocol.ValidateCard(f)
	if e != nil {
		return kefu.Message{}, false, e
	}
	shop, err := s.store.Shop(ctx, actor.ShopID)
	if err != nil {
		return kefu.Message{}, false, err
	}
	if card.ImageURL != "" && !imageAllowed(shop, card.ImageURL) {
		return kefu.Message{}, false, fmt.Errorf("card image %q: %w", card.ImageURL, ErrImageOrigin)
	}
	if card.URL != "" && actor.Kind == kefu.SenderBuyer && !ofShop(shop, card.URL) {
		// A buyer's product card links only to the shop's own pages: an
		// agent must not be shown a lookalike card leading elsewhere.
		return kefu.Message{}, false, fmt.Errorf("card url %q: %w", card.URL, ErrLinkOrigin)
	}
	if kind == kefu.KindOrder {
		buyerID := actor.ID
		if actor.Kind != kefu.SenderBuyer {
			conv, err := s.Conversation(ctx, actor, conversationID)
			if err != nil {
				return kefu.Message{}, false, err
			}
			buyerID = conv.BuyerID
		}
		if card, err = s.orderCard(ctx, actor.ShopID, buyerID, card.OrderNo); err != nil {
			return kefu.Message{}, false, err
		}
		if card.ImageURL != "" && !imageAllowed(shop, card.ImageURL) {
			card.ImageURL = "" // the platform's picture, from where the card may not show it
		}
		if actor.Kind == kefu.SenderBuyer && actor.Entry.OrderNo == "" {
			actor.Entry.OrderNo = card.OrderNo
		}
	}
	msg := kefu.Message{ShopID: actor.ShopID, ConversationID: conversationID, Kind: kind, Sender: actor.Kind,
		SenderID: actor.ID, SenderName: actor.Name, Text: cardText(kind, card), Card: &card, ClientMsgID: clientMsgID}
	var stored kefu.Message
	var dup bool
	if actor.Kind == kefu.SenderBuyer {
		stored, dup, err = s.buyerSend(ctx, actor, msg)
	} else {
		stored, dup, err = s.agentSend(ctx, actor, msg)
	}
	if err == nil && !dup && stored.Kind == kefu.KindOrder && stored.Card != nil {
		// The card links the order it shows, once: a retry under the same
		// client id must not link again what an agent unlinked since. (A
		// link the store failed to write after the card is logged, and an
		// agent links it by hand.)
		by := kefu.ActorRef{Kind: actor.Kind, ID: actor.ID}
		if _, _, err := s.store.LinkOrder(context.WithoutCancel(ctx), actor.ShopID, stored.ConversationID, stored.Card.OrderNo, by, s.committed(nil)); err != nil {
			s.log.Error("link the card's order", "conversation", stored.ConversationID, "order", stored.Card.OrderNo, "err", err)
		}
	}
	return stored, dup, err
}

// LinkOrder links one of the conversation's buyer's orders to it by hand
// (an agent who may write in it, or a supervisor); linked says whether it
// was not linked before.
func (s *Service) LinkOrder(ctx context.Context, actor Actor, conversationID int64, orderNo string) (kefu.Order, bool, error) {
	if err := s.mayLink(ctx, actor, conversationID); err != nil {
		return kefu.Order{}, false, err
	}
	return s.store.LinkOrder(ctx, actor.ShopID, conversationID, orderNo, kefu.ActorRef{Kind: actor.Kind, ID: actor.ID}, s.committed(nil))
}

// UnlinkOrder removes an order's link to the conversation, by hand.
func (s *Service) UnlinkOrder(ctx context.Context, actor Actor, conversationID int64, orderNo string) (bool, error) {
	if err := s.mayLink(ctx, actor, conversationID); err != nil {
		return false, err
	}
	return s.store.UnlinkOrder(ctx, actor.ShopID, conversationID, orderNo, kefu.ActorRef{Kind: actor.Kind, ID: actor.ID}, s.committed(nil))
}

// ConversationOrders lists the orders linked to a conversation the actor may see.
func (s *Service) ConversationOrders(ctx context.Context, actor Actor, conversationID int64) ([]kefu.Order, error) {
	if _, err := s.Conversation(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	return s.store.ConversationOrders(ctx, actor.ShopID, conversationID)
}

// mayLink is who may link and unlink a conversation's orders: agents who
// may write in it.
func (s *Service) mayLink(ctx context.Context, actor Actor, conversationID int64) error {
	conv, err := s.Conversation(ctx, actor, conversationID)
	if err != nil {
		return err
	}
	if actor.Kind != kefu.SenderAgent || !mayWrite(actor, conv) {
		return fmt.Errorf("link orders of conversation %d: %w", conversationID, ErrForbidden)
	}
	return nil
}

// orderCard is the card of the buyer's order orderNo, from kefu's copy.
func (s *Service) orderCard(ctx context.Context, shopID, buyerID int64, orderNo string) (kefu.Card, error) {
	o, err := s.store.BuyerOrder(ctx, shopID, buyerID, orderNo)
	if errors.Is(err, kefu.ErrNotFound) {
		return kefu.Card{}, fmt.Errorf("order %s: %w", orderNo, ErrUnknownOrder)
	}
	if err != nil {
		return kefu.Card{}, err
	}
	c := kefu.Card{OrderNo: o.OrderNo, Status: o.Status, PriceCents: o.AmountCents, Currency: o.Currency}
	c.Title, c.ImageURL, c.ItemCount = o.Headline()
	return c, nil
}

// ofShop reports whether raw is a page of one of the shop's registered origins.
func ofShop(shop kefu.Shop, raw string) bool {
	u := protocol.WebURL(raw)
	return u != nil && slices.Contains(shop.Origins, u.Scheme+"://"+u.Host)
}

// imageAllowed reports whether a card may show an image from raw: https, or
// one of the shop's registered store-page origins.
func imageAllowed(shop kefu.Shop, raw string) bool {
	u := protocol.WebURL(raw)
	if u == nil {
		return false
	}
	return u.Scheme == "https" || slices.Contains(shop.Origins, u.Scheme+"://"+u.Host)
}

// cardText is a card as plain text, for previews, search and clients that
// do not draw cards: [商品] title ¥299.00, [订单] 2026111100123 已发货.
func cardText(kind kefu.MessageKind, c kefu.Card) string {
	if kind == kefu.KindOrder {
		return "[订单] " + c.OrderNo + " " + kefu.OrderStatusName(c.Status)
	}
	return "[商品] " + c.Title + " " + kefu.FormatAmount(c.PriceCents, c.Currency)
}
