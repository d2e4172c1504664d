package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/kefu/kefu"
)

// InviteAgent adds helperID to the agents helping in an assigned
// conversation beside its holder (多方洽谈), with line(the helper's name) as
// its next message and their events (EventMessage, then EventInvited), in
// one transaction inside the shop's routing serialization. holderID, if not
// 0, must hold the conversation (kefu.ErrForbidden otherwise); by is who
// invited. A conversation not assigned is kefu.ErrConflict; a helper not of
// the shop kefu.ErrNotFound, one disabled kefu.ErrAgentDisabled; the holder, an agent already helping, or a
// conversation with kefu.MaxHelpers helpers kefu.ErrAgentFull.
func (s *Store) InviteAgent(ctx context.Context, shopID, id, holderID, helperID int64, by kefu.ActorRef,
	line func(helperName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error) {
	var conv kefu.Conversation
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		before, err := s.heldIn(ctx, tx, shopID, id, holderID)
		if err != nil {
			return nil, err
		}
		switch {
		case before.AgentID == helperID || before.Helps(helperID):
			return nil, fmt.Errorf("agent %d is in conversation %d already: %w", helperID, id, kefu.ErrAgentFull)
		case len(before.HelperIDs) >= kefu.MaxHelpers:
			return nil, fmt.Errorf("conversation %d has %d helpers: %w", id, len(before.HelperIDs), kefu.ErrAgentFull)
		}
		helper, err := s.agentIn(ctx, tx, shopID, helperID)
		if err != nil {
			return nil, err
		}
		if helper.Disabled {
			return nil, fmt.Errorf("agent %d: %w", helperID, kefu.ErrAgentDisabled)
		}
		holder, err := s.agentName(ctx, tx, shopID, before.AgentID)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET helpers = $1 WHERE shop_id = $2 AND id = $3`),
			formatIDs(append(before.HelperIDs, helperID)), shopID, id); err != nil {
			return nil, err
		}
		var changes []kefu.Change
		conv, changes, err = s.lineThenEvent(ctx, tx, line(helper.Name), kefu.Event{ShopID: shopID, Type: kefu.EventInvited, Actor: by,
			ConversationID: id, AgentID: helperID, CreatedAt: s.now().UTC().Truncate(microsecond)}, holder)
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: invite agent %d into conversation %d: %w", helperID, id, err)
	}
	return conv, nil
}

// LeaveConversation takes helperID out of the agents helping in a
// conversation, with line(the helper's name) as its next message and their
// events (EventMessage, then EventLeft), in one transaction inside the
// shop's routing serialization. One the agent does not help in (any more) is
// kefu.ErrConflict.
func (s *Store) LeaveConversation(ctx context.Context, shopID, id, helperID int64, by kefu.ActorRef,
	line func(helperName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error) {
	var conv kefu.Conversation
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		before, err := s.conversationIn(ctx, tx, shopID, id)
		if err != nil {
			return nil, err
		}
		if !before.Helps(helperID) {
			return nil, fmt.Errorf("agent %d does not help in conversation %d: %w", helperID, id, kefu.ErrConflict)
		}
		var changes []kefu.Change
		conv, changes, err = s.leaveIn(ctx, tx, before, helperID, by, line)
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: agent %d leaves conversation %d: %w", helperID, id, err)
	}
	return conv, nil
}

// leaveIn takes helperID out of conv's helpers inside tx, with line and the
// EventLeft event, and returns the conversation after and the changes.
func (s *Store) leaveIn(ctx context.Context, tx *sql.Tx, conv kefu.Conversation, helperID int64, by kefu.ActorRef,
	line func(helperName string) kefu.Message) (kefu.Conversation, []kefu.Change, error) {
	name, err := s.agentName(ctx, tx, conv.ShopID, helperID)
	if err != nil {
		return kefu.Conversation{}, nil, err
	}
	var holder string
	if conv.AgentID != 0 {
		if holder, err = s.agentName(ctx, tx, conv.ShopID, conv.AgentID); err != nil {
			return kefu.Conversation{}, nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET helpers = $1 WHERE shop_id = $2 AND id = $3`),
		formatIDs(without(conv.HelperIDs, helperID)), conv.ShopID, conv.ID); err != nil {
		return kefu.Conversation{}, nil, err
	}
	return s.lineThenEvent(ctx, tx, line(name), kefu.Event{ShopID: conv.ShopID, Type: kefu.EventLeft, Actor: by,
		ConversationID: conv.ID, AgentID: helperID, CreatedAt: s.now().UTC().Truncate(microsecond)}, holder)
}

// leaveAllIn takes helperID out of every open conversation of the shop they
// help in (their account was disabled), each with line and EventLeft.
func (s *Store) leaveAllIn(ctx context.Context, tx *sql.Tx, shopID, helperID int64, by kefu.ActorRef,
	line func(helperName string) kefu.Message) ([]kefu.Change, error) {
	rows, err := tx.QueryContext(ctx, s.sql(`SELECT id FROM conversations WHERE shop_id = $1 AND status = 'assigned'
		AND helpers <> '' AND ',' || helpers || ',' LIKE $2`), shopID, "%,"+strconv.FormatInt(helperID, 10)+",%")
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	var changes []kefu.Change
	for _, id := range ids {
		conv, err := s.conversationIn(ctx, tx, shopID, id)
		if err != nil {
			return nil, err
		}
		_, ch, err := s.leaveIn(ctx, tx, conv, helperID, by, line)
		if err != nil {
			return nil, err
		}
		changes = append(changes, ch...)
	}
	return changes, nil
}

// agentName reads, inside tx, the name of agent id. An agent not of the shop
// is kefu.ErrNotFound.
func (s *Store) agentName(ctx context.Context, tx *sql.Tx, shopID, id int64) (string, error) {
	var name string
	err := tx.QueryRowContext(ctx, s.sql(`SELECT name FROM agents WHERE shop_id = $1 AND id = $2`), shopID, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("agent %d: %w", id, kefu.ErrNotFound)
	}
	return name, err
}

// without is ids less id.
func without(ids []int64, id int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
