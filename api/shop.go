package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// maxOrigins bounds how many store origins one shop registers.
const maxOrigins = 50

var errOwnerOnly = newError(http.StatusForbidden, "owner_only", "Only the shop owner may do this.")

func requireOwner(a kefu.Agent) error {
	if !conversation.ManagesShop(a) {
		return errOwnerOnly
	}
	return nil
}

type shopView struct {
	Slug    string      `json:"slug"`
	Name    string      `json:"name"`
	Origins []string    `json:"origins"`
	Routing routingView `json:"routing"`
	// IdentitySecret is shown to the owner only: the shop's server signs
	// logged-in buyers with it.
	IdentitySecret string `json:"identity_secret,omitempty"`
	// OrderWebhookSecretSet says an owner made an order-webhook secret
	// (POST /shop/order-webhook-secret shows it, once).
	OrderWebhookSecretSet bool `json:"order_webhook_secret_set"`
	// RetentionDays is how long closed transcripts are kept (0: always).
	RetentionDays int `json:"retention_days"`
	// CSATEnabled: the widget asks buyers to rate their conversations.
	CSATEnabled bool `json:"csat_enabled"`
}

func shopViewFor(shop kefu.Shop, viewer kefu.Agent) shopView {
	v := shopView{Slug: shop.Slug, Name: shop.Name, Origins: shop.Origins, Routing: routingOf(shop.RoutingSettings),
		OrderWebhookSecretSet: shop.HasOrderWebhookSecret, RetentionDays: shop.RetentionDays,
		CSATEnabled: shop.CSATEnabled}
	if v.Origins == nil {
		v.Origins = []string{}
	}
	if conversation.ManagesShop(viewer) {
		v.IdentitySecret = shop.IdentitySecret
	}
	return v
}

func (h *handlers) getShop(c *gin.Context) {
	agent := currentAgent(c)
	shop, err := h.store.Shop(c.Request.Context(), agent.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"shop": shopViewFor(shop, agent)})
}

// NormalizeOrigin checks that s is a web origin (scheme://host[:port], no
// path) and returns it in the form browsers send in the Origin header.
func NormalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(host, ":443")) {
		host = host[:strings.LastIndex(host, ":")]
	}
	return u.Scheme + "://" + host, true
}

func (h *handlers) setShopOrigins(c *gin.Context) {
	agent := currentAgent(c)
	if err := requireOwner(agent); err != nil {
		h.writeError(c, err)
		return
	}
	var req struct {
		Origins []string `json:"origins"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if req.Origins == nil {
		h.writeError(c, badRequest("invalid_json", "Send {\"origins\": [\"https://store.example.com\", ...]}."))
		return
	}
	if len(req.Origins) > maxOrigins {
		h.writeError(c, badRequest("too_many_origins", "A shop registers at most 50 origins."))
		return
	}
	origins := make([]string, 0, len(req.Origins))
	for _, o := range req.Origins {
		n, ok := NormalizeOrigin(o)
		if !ok {
			h.writeError(c, badRequest("invalid_origin", "Not an origin (scheme://host[:port], no path): "+truncate(o, 100)))
			return
		}
		origins = append(origins, n)
	}
	ctx := c.Request.Context()
	if err := h.store.SetShopOrigins(ctx, agent.ShopID, origins); err != nil {
		h.writeError(c, err)
		return
	}
	h.shops.forget(agent.ShopID)
	h.getShop(c)
}

// rotateIdentitySecret gives the shop a new identity secret, at once: a
// signature made with the old one no longer identifies a buyer.
func (h *handlers) rotateIdentitySecret(c *gin.Context) {
	agent := currentAgent(c)
	if err := requireOwner(agent); err != nil {
		h.writeError(c, err)
		return
	}
	if err := h.store.SetIdentitySecret(c.Request.Context(), agent.ShopID, NewIdentitySecret()); err != nil {
		h.writeError(c, err)
		return
	}
	h.shops.forget(agent.ShopID)
	h.getShop(c)
}

type createAgentRequest struct {
	Username      string `json:"username"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	Password      string `json:"password"`
	MaxConcurrent int    `json:"max_concurrent"`
}

// ValidUsername reports whether s is a username: 2–32 of a-z, 0-9, '_', '-', '.'.
func ValidUsername(s string) bool {
	if len(s) < 2 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func (h *handlers) createAgent(c *gin.Context) {
	owner := currentAgent(c)
	if err := requireOwner(owner); err != nil {
		h.writeError(c, err)
		return
	}
	var req createAgentRequest
	if !h.bindJSON(c, &req) {
		return
	}
	a, err := newAgent(owner.ShopID, req, h.passwordCost)
	if err != nil {
		h.writeError(c, err)
		return
	}
	created, err := h.store.CreateAgent(c.Request.Context(), a)
	if errors.Is(err, kefu.ErrConflict) {
		h.writeError(c, newError(http.StatusConflict, "username_taken", "That username is already used in this shop."))
		return
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	h.writeAgent(c, http.StatusCreated, created)
}

// newAgent validates a new agent's fields and hashes the password at cost.
func newAgent(shopID int64, req createAgentRequest, cost int) (kefu.Agent, error) {
	role := kefu.Role(req.Role)
	if req.Role == "" {
		role = kefu.RoleAgent
	}
	if !ValidUsername(req.Username) {
		return kefu.Agent{}, badRequest("invalid_username", "username must be 2 to 32 of a-z, 0-9, '_', '-', '.'.")
	}
	name, err := agentName(req.Name)
	if err != nil {
		return kefu.Agent{}, err
	}
	switch {
	case !role.Valid():
		return kefu.Agent{}, errInvalidRole
	case !validPassword(req.Password):
		return kefu.Agent{}, errWeakPassword
	case req.MaxConcurrent < 0 || req.MaxConcurrent > 100:
		return kefu.Agent{}, badRequest("invalid_max_concurrent", "max_concurrent must be from 1 to 100 (0 means the default, 5).")
	}
	hash, err := HashPassword(req.Password, cost)
	if err != nil {
		return kefu.Agent{}, err
	}
	return kefu.Agent{ShopID: shopID, Username: req.Username, Name: name, Role: role, PasswordHash: hash, MaxConcurrent: req.MaxConcurrent}, nil
}

// Refusals of an agent's fields, on create and change alike.
var (
	errInvalidRole  = badRequest("invalid_role", "role must be owner, supervisor or agent.")
	errWeakPassword = badRequest("weak_password", "password must be 8 to 72 bytes.")
)

// agentName is an agent's display name as sent, trimmed, if it is one.
func agentName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return "", badRequest(protocol.CodeInvalidName, "name must be 1 to 64 characters.")
	}
	if err := protocol.ValidateName(name); err != nil {
		return "", err
	}
	return name, nil
}

// validPassword reports whether s may be a password: 8 to 72 bytes (bcrypt
// reads no further).
func validPassword(s string) bool { return len(s) >= 8 && len(s) <= 72 }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// setShopRetention sets how long closed transcripts are kept (owners only):
// {"days": 0} keeps them, 1 to 3650 deletes a closed conversation's
// messages that many days after it closed, unless it is linked to an order
// still open or in dispute (docs/orders.md, "Retention").
func (h *handlers) setShopRetention(c *gin.Context) {
	agent, ok := h.ownerOf(c)
	if !ok {
		return
	}
	var req struct {
		Days *int `json:"days"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if req.Days == nil || *req.Days < 0 || *req.Days > kefu.MaxRetentionDays {
		h.writeError(c, fieldError("days", "invalid_days", "days must be from 0 (keep transcripts) to 3650."))
		return
	}
	ctx := c.Request.Context()
	if err := h.store.SetShopRetention(ctx, agent.ShopID, *req.Days); err != nil {
		h.writeError(c, err)
		return
	}
	h.shops.forget(agent.ShopID)
	shop, err := h.store.Shop(ctx, agent.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"shop": shopViewFor(shop, agent)})
}

// setShopCSAT switches the shop's satisfaction ratings (CSAT) on or off
// (owners and supervisors): {"enabled": false} and the widget stops asking,
// and ratings are refused.
func (h *handlers) setShopCSAT(c *gin.Context) {
	agent, ok := h.supervisor(c)
	if !ok {
		return
	}
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if req.Enabled == nil {
		h.writeError(c, fieldError("enabled", "invalid_enabled", "Send {\"enabled\": true} or {\"enabled\": false}."))
		return
	}
	if err := h.store.SetShopCSAT(c.Request.Context(), agent.ShopID, *req.Enabled); err != nil {
		h.writeError(c, err)
		return
	}
	h.shops.forget(agent.ShopID)
	h.getShop(c)
}
