package conversation

import (
	"errors"
	"fmt"

	"github.com/kefu/kefu"
)

// This file is the one place that says who may see, write and be told about
// what. The service's commands, the REST handlers, the sockets and the
// fan-out all ask here.
//
//   - A buyer sees and writes their own conversations only; anyone else's is
//     not found (never "forbidden": that would confirm it exists).
//   - A plain agent sees the shop's queue and the conversations they hold or
//     held; writes (messages, read marks, typing) and closes only what they
//     hold, and may close a waiting one. An agent invited into a
//     conversation (a helper) sees and writes it until they leave, and
//     neither closes nor transfers it.
//   - Owners and supervisors see, write and close everything in their shop.
//   - A buyer rates (CSAT) their own conversation, once, when it has closed
//     or an agent invited them to while it is open; whoever may write to an
//     assigned conversation (its holder, a helper, owners and supervisors)
//     may invite the rating, once. A rating is told to whoever is told
//     about the conversation.
//   - Only the owner manages the shop (origins, the identity secret, new
//     agents); owners and supervisors manage the team's routing (groups,
//     caps).
//   - An agent's account: owners and supervisors change names and caps,
//     supervisors only of agents who are not owners; only owners change
//     roles, disable and enable accounts and reset passwords; nobody demotes
//     or disables themselves (and the store keeps an enabled owner in every
//     shop, whatever else happens at the same time).

// supervises reports whether the actor is an owner or supervisor.
func (a Actor) supervises() bool {
	return a.Kind == kefu.SenderAgent && supervisorRole(a.Role)
}

func supervisorRole(r kefu.Role) bool { return r == kefu.RoleOwner || r == kefu.RoleSupervisor }

// ManagesShop reports whether an agent may change the shop's settings.
func ManagesShop(a kefu.Agent) bool { return a.Role == kefu.RoleOwner }

// ManagesRouting reports whether an agent may change groups and caps.
func ManagesRouting(a kefu.Agent) bool { return supervisorRole(a.Role) }

// Refusals of a change to an agent's account.
var (
	ErrOwnerOnly      = errors.New("only the shop owner may do this")
	ErrSupervisorOnly = errors.New("only the shop owner or a supervisor may do this")
	ErrSelfLockout    = errors.New("an owner cannot demote or disable themselves")
)

// MayChangeAgents returns nil if viewer may make a change of ch's fields to
// some agent of their shop, or why not (ErrSupervisorOnly, ErrOwnerOnly):
// what can be told before the agent is read.
func MayChangeAgents(viewer kefu.Agent, ch kefu.AgentChange) error {
	switch {
	case awayReplyOnly(ch):
		return nil // anyone's own; MayChangeAgent checks whose
	case !supervisorRole(viewer.Role):
		return ErrSupervisorOnly
	case (ch.Role != nil || ch.Disabled != nil || ch.PasswordHash != nil) && !ManagesShop(viewer):
		return ErrOwnerOnly
	}
	return nil
}

// awayReplyOnly reports whether ch changes nothing but the away reply,
// which every agent may set for themselves.
func awayReplyOnly(ch kefu.AgentChange) bool {
	return ch.AwayReply != nil && ch.Name == nil && ch.Role == nil && ch.MaxConcurrent == nil && ch.Disabled == nil && ch.PasswordHash == nil
}

// MayChangeAgent returns nil if viewer may make the change ch to target, an
// agent of their shop, or why not (ErrSupervisorOnly, ErrOwnerOnly,
// ErrSelfLockout).
func MayChangeAgent(viewer, target kefu.Agent, ch kefu.AgentChange) error {
	if err := MayChangeAgents(viewer, ch); err != nil {
		return err
	}
	switch {
	case awayReplyOnly(ch) && target.ID != viewer.ID && !supervisorRole(viewer.Role):
		return ErrSupervisorOnly
	case target.Role == kefu.RoleOwner && target.ID != viewer.ID && !ManagesShop(viewer):
		return ErrOwnerOnly
	case target.ID == viewer.ID && ((ch.Role != nil && *ch.Role != kefu.RoleOwner) || (ch.Disabled != nil && *ch.Disabled)):
		return ErrSelfLockout
	}
	return nil
}

// mayRead returns nil if the actor may see the conversation, or why not.
func mayRead(actor Actor, conv kefu.Conversation) error {
	switch {
	case actor.Kind == kefu.SenderBuyer && conv.BuyerID != actor.ID:
		return fmt.Errorf("conversation %d: %w", conv.ID, kefu.ErrNotFound)
	case actor.Kind == kefu.SenderAgent && !actor.supervises() && conv.AgentID != actor.ID && conv.Status != kefu.StatusQueued &&
		!conv.Helps(actor.ID):
		return fmt.Errorf("conversation %d belongs to another agent: %w", conv.ID, ErrForbidden)
	}
	return nil
}

// mayWrite says whether an agent may write to, mark read or type in a
// conversation: the agent holding it or helping in it, or an owner or
// supervisor.
func mayWrite(actor Actor, conv kefu.Conversation) bool {
	return actor.supervises() || mayHelp(actor, conv)
}

// mayHelp says whether an agent serves the conversation themselves: they
// hold it (or held it, once closed), or were invited into it.
func mayHelp(actor Actor, conv kefu.Conversation) bool {
	return conv.Status != kefu.StatusQueued && (conv.AgentID == actor.ID || conv.Helps(actor.ID))
}

// mayRate returns nil if a buyer may rate the conversation, or why not: not
// theirs (not found), rated already, or open without an agent's invitation.
func mayRate(actor Actor, conv kefu.Conversation) error {
	switch {
	case actor.Kind != kefu.SenderBuyer:
		return fmt.Errorf("rate conversation %d: only its buyer rates it: %w", conv.ID, ErrForbidden)
	case conv.BuyerID != actor.ID:
		return fmt.Errorf("conversation %d: %w", conv.ID, kefu.ErrNotFound)
	case conv.Rating != 0:
		return fmt.Errorf("rate conversation %d: %w", conv.ID, ErrAlreadyRated)
	case conv.Open() && conv.RatingInvitedAt == nil:
		return fmt.Errorf("rate conversation %d: %w", conv.ID, ErrNotRatable)
	}
	return nil
}

// mayInviteRating says whether an agent may invite the buyer to rate a
// conversation: whoever may write to it (mayWrite).
func mayInviteRating(actor Actor, conv kefu.Conversation) bool {
	return actor.Kind == kefu.SenderAgent && mayWrite(actor, conv)
}

// mayManage says whether an agent may hand a conversation on (transfer) or
// invite others into it: the agent holding it, or an owner or supervisor.
func mayManage(actor Actor, conv kefu.Conversation) bool {
	return actor.Kind == kefu.SenderAgent && (actor.supervises() || (conv.AgentID == actor.ID && conv.Status != kefu.StatusQueued))
}

// mayClose says whether an agent may close a conversation: their own, one
// still waiting, or any for an owner or supervisor.
func mayClose(actor Actor, conv kefu.Conversation) bool {
	return actor.Kind == kefu.SenderAgent && (conv.AgentID == actor.ID || conv.Status != kefu.StatusAssigned || actor.supervises())
}

// closeHolder is who the store checks a close against, in the statement that
// closes: the agent, who may close only what waits or what they hold; 0 for
// owners and supervisors, who may close anything of their shop.
func closeHolder(actor Actor) int64 {
	if actor.supervises() {
		return 0
	}
	return actor.ID
}

// writeRule is what the store checks, in the statement that writes, before
// it appends a message from the actor: a buyer writes to their own open
// conversation; an agent to an open one assigned to them or that they help
// in, or (owners and supervisors) to any assigned one.
func writeRule(actor Actor) kefu.WriteRule {
	if actor.Kind == kefu.SenderBuyer {
		return kefu.WriteRule{OpenOnly: true, BuyerID: actor.ID}
	}
	rule := kefu.WriteRule{OpenOnly: true, Assigned: true}
	if !actor.supervises() {
		rule.HolderID = actor.ID
	}
	return rule
}

// agentTopics is where the agents told about a conversation listen: owners
// and supervisors always; while it waits, every agent of the shop; then the
// agent holding it and those helping in it.
func agentTopics(conv kefu.Conversation) []string {
	if conv.Status == kefu.StatusQueued || conv.AgentID == 0 {
		return []string{ShopTopic(conv.ShopID), SupervisorTopic(conv.ShopID)}
	}
	topics := []string{AgentTopic(conv.AgentID), SupervisorTopic(conv.ShopID)}
	for _, id := range conv.HelperIDs {
		topics = append(topics, AgentTopic(id))
	}
	return topics
}

// conversationTopics is everyone told about a conversation: its agents and its buyer.
func conversationTopics(conv kefu.Conversation) []string {
	return append(agentTopics(conv), BuyerTopic(conv.BuyerID))
}

// BuyerSocketTopics are what a buyer's socket hears: their own conversations.
func BuyerSocketTopics(b kefu.Buyer) []string { return []string{BuyerTopic(b.ID)} }

// AgentSocketTopics are what an agent's socket hears: their own
// conversations, the shop's queue and presence, and for owners and
// supervisors everything in the shop.
func AgentSocketTopics(a kefu.Agent) []string {
	topics := []string{AgentTopic(a.ID), ShopTopic(a.ShopID)}
	if supervisorRole(a.Role) {
		topics = append(topics, SupervisorTopic(a.ShopID))
	}
	return topics
}

// ListFilters are the lists of conversations of the given statuses an agent
// is shown: a plain agent (and anyone asking for mine only) their own, plus
// the shared queue unless mine; owners and supervisors the whole shop.
func ListFilters(a kefu.Agent, statuses []kefu.ConversationStatus, mine bool, limit int) []kefu.ConversationFilter {
	if !mine && supervisorRole(a.Role) {
		return []kefu.ConversationFilter{{Statuses: statuses, Limit: limit}}
	}
	var own, queued []kefu.ConversationStatus
	for _, s := range statuses {
		if s == kefu.StatusQueued && !mine {
			queued = append(queued, s)
		} else {
			own = append(own, s)
		}
	}
	var filters []kefu.ConversationFilter
	if len(own) > 0 {
		filters = append(filters, kefu.ConversationFilter{Statuses: own, AgentID: a.ID, Limit: limit})
	}
	if len(queued) > 0 {
		filters = append(filters, kefu.ConversationFilter{Statuses: queued, Limit: limit})
	}
	return filters
}

// SearchFilter is f as agent a may search: within what they may read
// (mayRead: a plain agent the conversations they hold or held, help in, and
// the queue; owners and supervisors the whole shop). The store applies it in
// the query, so a page is never cut down after it is read.
func SearchFilter(a kefu.Agent, f kefu.SearchFilter) kefu.SearchFilter {
	f.ReaderID = 0
	if !supervisorRole(a.Role) {
		f.ReaderID = a.ID
	}
	return f
}
