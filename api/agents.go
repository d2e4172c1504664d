package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// Refusals of a change to an agent's account.
var (
	errSelfLockout     = newError(http.StatusForbidden, "self_lockout", "An owner cannot demote or disable themselves; another owner can.")
	errLastOwner       = newError(http.StatusConflict, "last_owner", "The shop must keep at least one enabled owner.")
	errAccountDisabled = newError(http.StatusForbidden, "account_disabled", "This account is disabled; ask the shop owner.")
	errNoAgentField    = newError(http.StatusBadRequest, "invalid_json", "Send at least one of name, max_concurrent, role, disabled, password and away_reply.")
)

// updateAgentRequest is PATCH /agents/{id}: a field left out (or null) keeps
// its value.
type updateAgentRequest struct {
	Name          *string `json:"name"`
	MaxConcurrent *int    `json:"max_concurrent"`
	Role          *string `json:"role"`
	Disabled      *bool   `json:"disabled"`
	Password      *string `json:"password"`
	AwayReply     *string `json:"away_reply"`
}

// change is the request as a change to an agent, its values not yet
// checked and the password not yet hashed (PasswordHash is set, empty, when
// one was sent): who may send which fields is told first.
func (req updateAgentRequest) change() kefu.AgentChange {
	ch := kefu.AgentChange{Name: req.Name, MaxConcurrent: req.MaxConcurrent, Disabled: req.Disabled, AwayReply: req.AwayReply}
	if req.Role != nil {
		role := kefu.Role(*req.Role)
		ch.Role = &role
	}
	if req.Password != nil {
		ch.PasswordHash = new(string)
	}
	return ch
}

// validate checks the change's values, trims the name and hashes the
// password at cost.
func (req updateAgentRequest) validate(ch *kefu.AgentChange, cost int) error {
	if ch.Name != nil {
		name, err := agentName(*ch.Name)
		if err != nil {
			return err
		}
		ch.Name = &name
	}
	switch {
	case ch.MaxConcurrent != nil && (*ch.MaxConcurrent < 1 || *ch.MaxConcurrent > 100):
		return badRequest("invalid_max_concurrent", "max_concurrent must be from 1 to 100.")
	case ch.Role != nil && !ch.Role.Valid():
		return errInvalidRole
	case req.Password != nil && !validPassword(*req.Password):
		return errWeakPassword
	case ch.AwayReply != nil && utf8.RuneCountInString(*ch.AwayReply) > kefu.MaxReplyRunes:
		return fieldError("away_reply", "text_too_long", "away_reply must be at most 500 characters.")
	}
	if req.Password != nil {
		hash, err := HashPassword(*req.Password, cost)
		if err != nil {
			return err
		}
		ch.PasswordHash = &hash
	}
	return nil
}

// updateAgent changes an agent's account (conversation.MayChangeAgent says
// who may change what), then closes the sockets the change ends: those of
// the sessions it ended, and every socket of an agent whose role or name
// changed, which acts with the old ones until it reconnects.
func (h *handlers) updateAgent(c *gin.Context) {
	viewer := currentAgent(c)
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req updateAgentRequest
	if !h.bindJSON(c, &req) {
		return
	}
	ch := req.change()
	if ch.Empty() {
		h.writeError(c, errNoAgentField)
		return
	}
	if err := conversation.MayChangeAgents(viewer, ch); err != nil {
		h.writeError(c, err)
		return
	}
	if err := req.validate(&ch, h.passwordCost); err != nil {
		h.writeError(c, err)
		return
	}
	if id == viewer.ID {
		// Owners changing their own password stay signed in where they are.
		ch.KeepSession = c.GetString("token_hash")
	}
	up, err := h.convs.UpdateAgent(c.Request.Context(), viewer, id, ch)
	if err != nil {
		h.writeError(c, err)
		return
	}
	reason := "password_changed"
	if up.Changed("disabled") && up.Agent.Disabled {
		reason = "account_disabled"
	}
	for _, hash := range up.EndedSessions {
		h.hub.endSession(hash, reason)
	}
	if up.Changed("role") || up.Changed("name") {
		h.hub.endAgent(id, closeAccountChanged, "account_changed")
	}
	h.writeAgent(c, http.StatusOK, up.Agent)
}
