package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// DefaultPasswordCost is the bcrypt cost of stored password hashes.
const DefaultPasswordCost = bcrypt.DefaultCost

// HashPassword hashes a password for storage with bcrypt at cost (a cost
// below bcrypt.MinCost, such as 0, means DefaultPasswordCost).
func HashPassword(password string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(b), err
}

type loginRequest struct {
	Shop     string `json:"shop"`
	Username string `json:"username"`
	Password string `json:"password"`
}

func (h *handlers) login(c *gin.Context) {
	var req loginRequest
	if !h.bindJSON(c, &req) {
		return
	}
	if req.Shop == "" || req.Username == "" || req.Password == "" || len(req.Password) > 72 {
		h.writeError(c, badRequest("invalid_credentials_format", "shop, username and password are required; passwords are at most 72 bytes."))
		return
	}
	account, address := req.Shop+"/"+req.Username, c.ClientIP()
	if err := h.logins.reserve(account, address); err != nil {
		h.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	shop, err := h.store.ShopBySlug(ctx, req.Shop)
	var agent kefu.Agent
	if err == nil {
		agent, err = h.store.AgentByUsername(ctx, shop.ID, req.Username)
	}
	if errors.Is(err, kefu.ErrNotFound) {
		bcrypt.CompareHashAndPassword(h.dummyHash(), []byte(req.Password))
		h.writeError(c, errInvalidCredentials)
		return
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(agent.PasswordHash), []byte(req.Password)) != nil {
		h.writeError(c, errInvalidCredentials)
		return
	}
	// Said only to whoever knows the password: to anyone else a disabled
	// account is a wrong password like any other.
	if agent.Disabled {
		h.writeError(c, errAccountDisabled)
		return
	}
	h.logins.succeeded(account, address)
	token, hash := newSessionToken()
	expires := h.now().Add(AgentSessionTTL).UTC()
	if err := h.store.CreateSession(ctx, shop.ID, agent.ID, hash, expires); err != nil {
		h.writeError(c, err)
		return
	}
	view, err := h.agentView(ctx, agent)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"token": token, "expires_at": expires, "agent": view})
}

// requireAgent admits requests with a live agent session and puts the agent
// in the context.
func (h *handlers) requireAgent(c *gin.Context) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || token == "" {
		h.writeError(c, errUnauthorized)
		return
	}
	agent, _, err := h.store.SessionAgent(c.Request.Context(), hashToken(token))
	if errors.Is(err, kefu.ErrNotFound) {
		h.writeError(c, errUnauthorized)
		return
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.Set("agent", agent)
	c.Set("token_hash", hashToken(token))
	c.Next()
}

func currentAgent(c *gin.Context) kefu.Agent {
	return c.MustGet("agent").(kefu.Agent)
}

func actorOf(c *gin.Context) conversation.Actor {
	return conversation.AgentActor(currentAgent(c))
}

func (h *handlers) agentView(ctx context.Context, a kefu.Agent) (protocol.Agent, error) {
	presence, active, err := h.convs.Presence(ctx, a)
	if err != nil {
		return protocol.Agent{}, err
	}
	return protocol.AgentOf(a, presence, active), nil
}

// writeAgent answers with one agent and its live routing state.
func (h *handlers) writeAgent(c *gin.Context, status int, a kefu.Agent) {
	view, err := h.agentView(c.Request.Context(), a)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(status, gin.H{"agent": view})
}

func (h *handlers) logout(c *gin.Context) {
	hash := c.GetString("token_hash")
	if err := h.store.DeleteSession(c.Request.Context(), hash); err != nil {
		h.writeError(c, err)
		return
	}
	h.hub.endSession(hash, "logged_out")
	c.Status(http.StatusNoContent)
}

func (h *handlers) me(c *gin.Context) {
	h.writeAgent(c, http.StatusOK, currentAgent(c))
}

func (h *handlers) setPresence(c *gin.Context) {
	var req struct {
		Status string `json:"status"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	p := kefu.Presence(req.Status)
	if !p.Valid() {
		h.writeError(c, badRequest("invalid_presence", "status must be online, away or offline."))
		return
	}
	agent := currentAgent(c)
	h.convs.SetPresence(c.Request.Context(), agent, p)
	h.writeAgent(c, http.StatusOK, agent)
}

func (h *handlers) listAgents(c *gin.Context) {
	agents, err := h.store.Agents(c.Request.Context(), currentAgent(c).ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	out := make([]protocol.Agent, len(agents))
	for i, a := range agents {
		if out[i], err = h.agentView(c.Request.Context(), a); err != nil {
			h.writeError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"agents": out})
}
