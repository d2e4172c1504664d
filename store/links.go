package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

// LinkOrder links the shop's order orderNo to a conversation of the same
// buyer, with EventOrderLinked (by is who linked it), in one transaction.
// changed is false when they were linked already (nothing written). An
// order the shop does not have, or of another buyer, is kefu.ErrNotFound.
func (s *Store) LinkOrder(ctx context.Context, shopID, conversationID int64, orderNo string, by kefu.ActorRef,
	committed func(kefu.Change)) (kefu.Order, bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var o kefu.Order
	changed := false
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		changed = false
		conv, orderID, err := s.linkable(ctx, tx, shopID, conversationID, orderNo)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC().Truncate(microsecond)
		res, err := tx.ExecContext(ctx, s.sql(`INSERT INTO conversation_orders (shop_id, conversation_id, order_id, linked_by_kind,
			linked_by_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conversation_id, order_id) DO NOTHING`),
			shopID, conversationID, orderID, string(by.Kind), by.ID, now)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err
		}
		changed = true
		e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventOrderLinked, Actor: by, ConversationID: conversationID,
			BuyerID: conv.BuyerID, AgentID: conv.AgentID, Data: kefu.EventData{OrderNo: orderNo}, CreatedAt: now})
		if err != nil {
			return nil, err
		}
		return []kefu.Change{{Event: e, Conversation: conv}}, nil
	}, committed)
	if err != nil {
		return kefu.Order{}, false, fmt.Errorf("store: link order %q to conversation %d: %w", orderNo, conversationID, err)
	}
	if o, err = s.Order(ctx, shopID, orderNo); err != nil {
		return kefu.Order{}, false, err
	}
	return o, changed, nil
}

// UnlinkOrder removes an order's link to a conversation, with
// EventOrderUnlinked; changed is false when there was none.
func (s *Store) UnlinkOrder(ctx context.Context, shopID, conversationID int64, orderNo string, by kefu.ActorRef,
	committed func(kefu.Change)) (bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	changed := false
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		changed = false
		conv, err := s.conversationIn(ctx, tx, shopID, conversationID)
		if err != nil {
			return nil, err
		}
		// Any order of the shop: one moved to another buyer since it was
		// linked can still be unlinked.
		var orderID int64
		err = tx.QueryRowContext(ctx, s.sql(`SELECT id FROM orders WHERE shop_id = $1 AND order_no = $2`), shopID, orderNo).Scan(&orderID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("order %q: %w", orderNo, kefu.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		res, err := tx.ExecContext(ctx, s.sql(`DELETE FROM conversation_orders WHERE shop_id = $1 AND conversation_id = $2 AND order_id = $3`),
			shopID, conversationID, orderID)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err
		}
		changed = true
		e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventOrderUnlinked, Actor: by, ConversationID: conversationID,
			BuyerID: conv.BuyerID, AgentID: conv.AgentID, Data: kefu.EventData{OrderNo: orderNo}})
		if err != nil {
			return nil, err
		}
		return []kefu.Change{{Event: e, Conversation: conv}}, nil
	}, committed)
	if err != nil {
		return false, fmt.Errorf("store: unlink order %q from conversation %d: %w", orderNo, conversationID, err)
	}
	return changed, nil
}

// linkable reads the conversation and the id of the order of its buyer
// numbered orderNo; either missing is kefu.ErrNotFound.
func (s *Store) linkable(ctx context.Context, tx *sql.Tx, shopID, conversationID int64, orderNo string) (kefu.Conversation, int64, error) {
	conv, err := s.conversationIn(ctx, tx, shopID, conversationID)
	if err != nil {
		return kefu.Conversation{}, 0, err
	}
	var orderID int64
	err = tx.QueryRowContext(ctx, s.sql(`SELECT id FROM orders WHERE shop_id = $1 AND order_no = $2 AND buyer_id = $3`),
		shopID, orderNo, conv.BuyerID).Scan(&orderID)
	if errors.Is(err, sql.ErrNoRows) {
		return kefu.Conversation{}, 0, fmt.Errorf("order %q of the conversation's buyer: %w", orderNo, kefu.ErrNotFound)
	}
	return conv, orderID, err
}

// ConversationOrders lists the orders linked to a conversation, newest
// link first, each with its status history.
func (s *Store) ConversationOrders(ctx context.Context, shopID, conversationID int64) ([]kefu.Order, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []orderRow
	db := s.rdb.WithContext(ctx)
	if err := db.Raw(orderSelect+`JOIN conversation_orders co ON co.order_id = o.id
		WHERE o.shop_id = ? AND co.shop_id = ? AND co.conversation_id = ? ORDER BY co.created_at DESC, o.id DESC`,
		shopID, shopID, conversationID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: orders of conversation %d: %w", conversationID, err)
	}
	out, err := withHistory(db, shopID, rows)
	if err != nil {
		return nil, fmt.Errorf("store: orders of conversation %d: %w", conversationID, err)
	}
	return out, nil
}

// unlinkAllGorm removes every link of an order, each with EventOrderUnlinked
// (actor kefu), inside an order command's transaction.
func (s *Store) unlinkAllGorm(tx *gorm.DB, shopID, orderID int64, orderNo string, now time.Time) error {
	var convs []struct {
		ID      int64
		BuyerID int64
	}
	if err := tx.Raw(`SELECT c.id, c.buyer_id FROM conversation_orders co JOIN conversations c ON c.id = co.conversation_id
		WHERE co.shop_id = ? AND co.order_id = ? ORDER BY c.id`, shopID, orderID).Scan(&convs).Error; err != nil {
		return fmt.Errorf("links of order %q: %w", orderNo, err)
	}
	if len(convs) == 0 {
		return nil
	}
	if err := tx.Exec(`DELETE FROM conversation_orders WHERE shop_id = ? AND order_id = ?`, shopID, orderID).Error; err != nil {
		return fmt.Errorf("unlink order %q: %w", orderNo, err)
	}
	for _, c := range convs {
		if err := s.insertEventGorm(tx, kefu.Event{ShopID: shopID, Type: kefu.EventOrderUnlinked, Actor: kefu.SystemActor,
			ConversationID: c.ID, BuyerID: c.BuyerID, Data: kefu.EventData{OrderNo: orderNo}, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// BuyerOrder loads one order of a buyer of the shop by its number, with its
// history; one not of that buyer is kefu.ErrNotFound.
func (s *Store) BuyerOrder(ctx context.Context, shopID, buyerID int64, orderNo string) (kefu.Order, error) {
	o, err := s.Order(ctx, shopID, orderNo)
	if err != nil {
		return kefu.Order{}, err
	}
	if o.BuyerID != buyerID {
		return kefu.Order{}, fmt.Errorf("store: order %q of buyer %d: %w", orderNo, buyerID, kefu.ErrNotFound)
	}
	return o, nil
}
