package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// API keys: how the shop's platform calls the order API (docs/orders.md).
// A key reads kefu_sk_<prefix>_<secret>; the store keeps the prefix, by
// which a request's key is found, and the SHA-256 of the whole key.

// APIKeyTag starts every API key.
const APIKeyTag = "kefu_sk_"

var (
	errInvalidAPIKey  = newError(http.StatusUnauthorized, "invalid_api_key", "Send the shop's API key as Authorization: Bearer kefu_sk_...; this one is unknown, revoked or rotated.")
	errTooManyAPIKeys = newError(http.StatusConflict, "too_many_api_keys", "A shop has at most 20 API keys; revoke one first.")
)

// newAPIKey returns a new random key, its public prefix (8 hex digits) and
// the hash stored for it.
func newAPIKey() (key, prefix, hash string) {
	p := make([]byte, 4)
	rand.Read(p)
	secret := make([]byte, 20)
	rand.Read(secret)
	prefix = hex.EncodeToString(p)
	key = APIKeyTag + prefix + "_" + hex.EncodeToString(secret)
	return key, prefix, hashToken(key)
}

// apiKeyPrefix is the prefix of a key as a client sends it, if it has the form of one.
func apiKeyPrefix(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, APIKeyTag)
	if !ok {
		return "", false
	}
	prefix, secret, ok := strings.Cut(rest, "_")
	if !ok || len(prefix) != 8 || len(secret) < 32 || len(secret) > 128 {
		return "", false
	}
	return prefix, true
}

// requireAPIKey admits requests with a live API key of a shop and puts the
// key in the context. It records the key's use at most once a minute.
func (h *handlers) requireAPIKey(c *gin.Context) {
	token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	prefix, ok := apiKeyPrefix(token)
	if !ok {
		h.writeError(c, errInvalidAPIKey)
		return
	}
	ctx := c.Request.Context()
	k, err := h.store.APIKeyByPrefix(ctx, prefix)
	if errors.Is(err, kefu.ErrNotFound) {
		h.writeError(c, errInvalidAPIKey)
		return
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(k.SecretHash)) != 1 || k.Revoked {
		h.writeError(c, errInvalidAPIKey)
		return
	}
	if now := h.now(); now.Sub(k.LastUsedAt) >= kefu.APIKeyUseResolution {
		if err := h.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			h.log.Warn("API key use not recorded", "key", k.ID, "err", err)
		}
	}
	c.Set("api_key", k)
	c.Next()
}

func agentRef(a kefu.Agent) kefu.ActorRef { return kefu.ActorRef{Kind: kefu.SenderAgent, ID: a.ID} }

func currentAPIKey(c *gin.Context) kefu.APIKey { return c.MustGet("api_key").(kefu.APIKey) }

type apiKeyJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func apiKeyView(k kefu.APIKey) apiKeyJSON {
	v := apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt.UTC()}
	if !k.LastUsedAt.IsZero() {
		t := k.LastUsedAt.UTC()
		v.LastUsedAt = &t
	}
	return v
}

// ownerOf answers 403 owner_only unless the caller is the shop's owner.
func (h *handlers) ownerOf(c *gin.Context) (kefu.Agent, bool) {
	a := currentAgent(c)
	if err := requireOwner(a); err != nil {
		h.writeError(c, err)
		return a, false
	}
	return a, true
}

func (h *handlers) listAPIKeys(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	keys, err := h.store.APIKeys(c.Request.Context(), owner.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"api_keys": viewsOf(keys, apiKeyView)})
}

func (h *handlers) createAPIKey(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	var req struct {
		Name string `json:"name"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > kefu.MaxAPIKeyNameRunes || protocol.ValidateName(name) != nil {
		h.writeError(c, fieldError("name", "invalid_name", "name must be 1 to 64 characters, one line, no control characters."))
		return
	}
	// A prefix is 32 random bits: taken by another key once in billions.
	for attempt := 0; ; attempt++ {
		key, prefix, hash := newAPIKey()
		k, err := h.store.CreateAPIKey(c.Request.Context(), kefu.APIKey{ShopID: owner.ShopID, Name: name, Prefix: prefix, SecretHash: hash}, agentRef(owner))
		if errors.Is(err, kefu.ErrConflict) && attempt < 2 {
			continue
		}
		if errors.Is(err, kefu.ErrTooMany) {
			err = errTooManyAPIKeys
		}
		if err != nil {
			h.writeError(c, err)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"api_key": apiKeyView(k), "key": key})
		return
	}
}

// rotateAPIKey gives a key a new secret (and prefix), at once: the old
// secret is refused from this answer on.
func (h *handlers) rotateAPIKey(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	for attempt := 0; ; attempt++ {
		key, prefix, hash := newAPIKey()
		k, err := h.store.RotateAPIKey(c.Request.Context(), owner.ShopID, id, prefix, hash, agentRef(owner))
		if errors.Is(err, kefu.ErrConflict) && attempt < 2 {
			continue
		}
		if err != nil {
			h.writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"api_key": apiKeyView(k), "key": key})
		return
	}
}

func (h *handlers) deleteAPIKey(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	if err := h.store.RevokeAPIKey(c.Request.Context(), owner.ShopID, id, agentRef(owner)); err != nil {
		h.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateOrderWebhookSecret gives the shop a new order-webhook secret, at
// once, and shows it this once.
func (h *handlers) rotateOrderWebhookSecret(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	secret := hex.EncodeToString(buf)
	if err := h.store.SetOrderWebhookSecret(c.Request.Context(), owner.ShopID, secret, kefu.ActorRef{Kind: kefu.SenderAgent, ID: owner.ID}); err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"order_webhook_secret": secret})
}
