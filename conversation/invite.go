package conversation

import (
	"context"
	"errors"
	"fmt"

	"github.com/kefu/kefu"
)

// Errors of an invitation the caller can correct.
var (
	ErrCannotInvite = errors.New("the agent is in the conversation already, or it has as many helpers as it may")
	ErrNotHelping   = errors.New("the agent does not help in the conversation")
)

// Invite brings another agent of the shop, one with a console open (online
// or away), into a conversation the actor holds (an owner or supervisor:
// any held one), beside its holder (多方洽谈): the helper reads and writes it
// until they leave, and it does not count against their cap. The buyer is
// told who joined.
func (s *Service) Invite(ctx context.Context, actor Actor, id, helperID int64) (kefu.Conversation, error) {
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	switch {
	case !mayManage(actor, conv):
		return kefu.Conversation{}, fmt.Errorf("invite into conversation %d: %w", id, ErrForbidden)
	case conv.Status != kefu.StatusAssigned:
		return kefu.Conversation{}, fmt.Errorf("invite into conversation %d (%s): %w", id, conv.Status, ErrNotAssigned)
	}
	helper, err := s.store.Agent(ctx, actor.ShopID, helperID)
	if err != nil {
		return kefu.Conversation{}, err
	}
	if helper.Disabled || s.presence.Effective(actor.ShopID, helper.ID) == kefu.PresenceOffline {
		return kefu.Conversation{}, fmt.Errorf("invite agent %d into conversation %d: %w", helper.ID, id, ErrAgentUnavailable)
	}
	holder := conv.AgentID
	if actor.supervises() {
		holder = 0 // whoever holds it
	}
	by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: actor.ID}
	conv, err = s.store.InviteAgent(ctx, actor.ShopID, id, holder, helper.ID, by, joinedLine, s.committed(nil))
	switch {
	case errors.Is(err, kefu.ErrConflict):
		return kefu.Conversation{}, fmt.Errorf("invite into conversation %d: %w", id, ErrNotAssigned)
	case errors.Is(err, kefu.ErrAgentFull):
		return kefu.Conversation{}, fmt.Errorf("invite agent %d into conversation %d: %w", helper.ID, id, ErrCannotInvite)
	case errors.Is(err, kefu.ErrAgentDisabled):
		return kefu.Conversation{}, fmt.Errorf("invite agent %d into conversation %d: %w", helper.ID, id, ErrAgentUnavailable)
	}
	return conv, err
}

// Leave takes the actor out of a conversation they were invited into; the
// buyer is told. The agent holding it transfers or closes it instead.
func (s *Service) Leave(ctx context.Context, actor Actor, id int64) (kefu.Conversation, error) {
	if actor.Kind != kefu.SenderAgent {
		return kefu.Conversation{}, fmt.Errorf("leave conversation %d: %w", id, ErrForbidden)
	}
	by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: actor.ID}
	conv, err := s.store.LeaveConversation(ctx, actor.ShopID, id, actor.ID, by, helperLeft, s.committed(nil))
	if errors.Is(err, kefu.ErrConflict) {
		return kefu.Conversation{}, fmt.Errorf("leave conversation %d: %w", id, ErrNotHelping)
	}
	return conv, err
}
