package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kefu/kefu"
)

// RateConversation stores the buyer's satisfaction rating (CSAT) of their
// conversation, stars and comment, with its event (EventRated: the agent who
// held it, the stars, whether there is a comment; the comment itself stays in
// the row), in one transaction. The statement that writes checks the rules
// again: the buyer's own conversation (else kefu.ErrNotFound), not rated yet
// (else kefu.ErrConflict), closed or invited to be rated (else
// kefu.ErrForbidden). Nothing is written on a refusal.
func (s *Store) RateConversation(ctx context.Context, shopID, id, buyerID int64, stars int, comment string,
	committed func(kefu.Change)) (kefu.Conversation, error) {
	var conv kefu.Conversation
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		now := s.now().UTC().Truncate(microsecond)
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET rating = $1, rating_comment = $2, rated_at = $3
			WHERE shop_id = $4 AND id = $5 AND buyer_id = $6 AND rating = 0 AND (status = 'closed' OR rating_invited_at IS NOT NULL)`),
			stars, comment, now, shopID, id, buyerID)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if conv, err = s.conversationIn(ctx, tx, shopID, id); err != nil {
			return nil, err
		}
		switch {
		case conv.BuyerID != buyerID:
			return nil, fmt.Errorf("conversation %d: %w", id, kefu.ErrNotFound)
		case n == 0 && conv.Rating != 0:
			return nil, fmt.Errorf("conversation %d is rated already: %w", id, kefu.ErrConflict)
		case n == 0:
			return nil, fmt.Errorf("conversation %d is open and nobody invited a rating: %w", id, kefu.ErrForbidden)
		}
		e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventRated,
			Actor: kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyerID}, ConversationID: id, BuyerID: buyerID, AgentID: conv.AgentID,
			Data: kefu.EventData{Stars: stars, Comment: comment != ""}, CreatedAt: now})
		if err != nil {
			return nil, err
		}
		return []kefu.Change{{Event: e, Conversation: conv}}, nil
	}, committed)
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: rate conversation %d: %w", id, err)
	}
	return conv, nil
}

// InviteRating records that by, an agent, invited the buyer of an assigned
// conversation to rate it while it is open, with line as its next message and
// their events (EventMessage, then EventRatingInvited), in one transaction.
// One not assigned, invited already or rated already is kefu.ErrConflict,
// checked in the statement that writes.
func (s *Store) InviteRating(ctx context.Context, shopID, id int64, by kefu.ActorRef, line kefu.Message,
	committed func(kefu.Change)) (kefu.Conversation, error) {
	var conv kefu.Conversation
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		now := s.now().UTC().Truncate(microsecond)
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET rating_invited_at = $1
			WHERE shop_id = $2 AND id = $3 AND status = 'assigned' AND rating_invited_at IS NULL AND rating = 0`), now, shopID, id)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			if _, err := s.conversationIn(ctx, tx, shopID, id); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("conversation %d is not assigned, or was invited or rated already: %w", id, kefu.ErrConflict)
		}
		before, err := s.conversationIn(ctx, tx, shopID, id)
		if err != nil {
			return nil, err
		}
		holder, err := s.agentName(ctx, tx, shopID, before.AgentID)
		if err != nil {
			return nil, err
		}
		var changes []kefu.Change
		conv, changes, err = s.lineThenEvent(ctx, tx, line, kefu.Event{ShopID: shopID, Type: kefu.EventRatingInvited, Actor: by,
			ConversationID: id, AgentID: by.ID, CreatedAt: now}, holder)
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: invite a rating of conversation %d: %w", id, err)
	}
	return conv, nil
}
