package conversation

import (
	"context"
	"fmt"

	"github.com/kefu/kefu"
)

// UpdateAgent changes an agent's account as viewer asks, if the access rules
// allow it (MayChangeAgents and MayChangeAgent, checked on the viewer and
// the agent as the store's transaction reads them). A disabled agent also
// stops helping in every conversation they were invited into. Disabling an agent is a departure made at once: their open
// conversations go back to the front of the line, each buyer told
// 客服 <name> 已离开 (code requeued), and routing never gives them another.
// The line then moves, as a larger cap, an account enabled again or the
// conversations back in line may be served at once. The update says what
// changed and which sessions ended, whose sockets the caller closes.
func (s *Service) UpdateAgent(ctx context.Context, viewer kefu.Agent, agentID int64, ch kefu.AgentChange) (kefu.AgentUpdate, error) {
	if err := MayChangeAgents(viewer, ch); err != nil {
		return kefu.AgentUpdate{}, fmt.Errorf("change agent %d: %w", agentID, err)
	}
	// Asked again about the viewer as the store's transaction reads them.
	allow := func(viewer, target kefu.Agent) error {
		if err := MayChangeAgents(viewer, ch); err != nil {
			return err
		}
		return MayChangeAgent(viewer, target, ch)
	}
	by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: viewer.ID}
	up, err := s.store.UpdateAgent(ctx, viewer.ShopID, agentID, ch, by, allow, leftNotice, helperLeft, s.committed(nil))
	if err != nil {
		return kefu.AgentUpdate{}, err
	}
	if len(up.Fields) > 0 {
		s.drain(context.WithoutCancel(ctx), viewer.ShopID)
	}
	return up, nil
}
