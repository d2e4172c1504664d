package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Outbound webhooks (docs/orders.md, "Outbound webhooks"): the shop's
// endpoint for its events, its signing secret and the delivery log. All
// owner only. The sending itself is package webhook's.

const (
	maxWebhookURLBytes       = 2048
	defaultWebhookDeliveries = 100
	maxWebhookDeliveries     = 1000
)

var errNoWebhook = newError(http.StatusNotFound, "no_webhook", "The shop has no webhook yet: PUT /api/v1/webhooks makes one, with its secret.")

type webhookJSON struct {
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func webhookView(w kefu.Webhook) webhookJSON {
	return webhookJSON{URL: w.URL, Events: w.Events, Enabled: w.Enabled, CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
}

// validWebhookURL reports whether kefu may post to s: https, or plain http
// to this machine only (a receiver in development).
func validWebhookURL(s string) bool {
	if len(s) > maxWebhookURLBytes || !protocol.PrintableASCII(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// newWebhookSecret is 32 random bytes in hex; the HMAC key is this text.
func newWebhookSecret() string {
	buf := make([]byte, 32)
	rand.Read(buf)
	return hex.EncodeToString(buf)
}

func (h *handlers) getWebhook(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	w, err := h.store.Webhook(c.Request.Context(), owner.ShopID)
	if errors.Is(err, kefu.ErrNotFound) {
		c.JSON(http.StatusOK, gin.H{"webhook": nil})
		return
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"webhook": webhookView(w)})
}

// putWebhook sets the shop's webhook; the first one is made with a secret,
// shown in this answer only (201).
func (h *handlers) putWebhook(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	var req struct {
		URL     string   `json:"url"`
		Events  []string `json:"events"`
		Enabled *bool    `json:"enabled"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if !validWebhookURL(req.URL) {
		h.writeError(c, fieldError("url", "invalid_url", "url must be an https URL (or http to localhost or 127.0.0.1, for development), at most 2048 characters, with no user or password."))
		return
	}
	if len(req.Events) == 0 || slices.ContainsFunc(req.Events, func(e string) bool { return !slices.Contains(kefu.WebhookEvents, e) }) {
		h.writeError(c, fieldError("events", "invalid_events", "events must list one or more of "+strings.Join(kefu.WebhookEvents, ", ")+"."))
		return
	}
	events := slices.Clone(req.Events)
	slices.Sort(events)
	events = slices.Compact(events)
	enabled := req.Enabled == nil || *req.Enabled
	secret := newWebhookSecret()
	w, created, err := h.store.SaveWebhook(c.Request.Context(), kefu.Webhook{ShopID: owner.ShopID, URL: req.URL, Events: events, Enabled: enabled, Secret: secret})
	if err != nil {
		h.writeError(c, err)
		return
	}
	if created {
		c.JSON(http.StatusCreated, gin.H{"webhook": webhookView(w), "secret": secret})
		return
	}
	c.JSON(http.StatusOK, gin.H{"webhook": webhookView(w)})
}

// rotateWebhookSecret gives the shop's webhook a new secret, used from the
// next delivery on, and shows it this once.
func (h *handlers) rotateWebhookSecret(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	secret := newWebhookSecret()
	err := h.store.SetWebhookSecret(c.Request.Context(), owner.ShopID, secret)
	if errors.Is(err, kefu.ErrNotFound) {
		err = errNoWebhook
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"secret": secret})
}

type webhookDeliveryJSON struct {
	ID         int64     `json:"id"`
	EventID    int64     `json:"event_id"`
	Type       string    `json:"type"`
	Attempt    int       `json:"attempt"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error"`
	Outcome    string    `json:"outcome"`
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
}

func (h *handlers) listWebhookDeliveries(c *gin.Context) {
	owner, ok := h.ownerOf(c)
	if !ok {
		return
	}
	limit, ok := h.queryInt(c, "limit", defaultWebhookDeliveries, 1, maxWebhookDeliveries)
	if !ok {
		return
	}
	as, err := h.store.WebhookDeliveries(c.Request.Context(), owner.ShopID, limit)
	if err != nil {
		h.writeError(c, err)
		return
	}
	out := make([]webhookDeliveryJSON, len(as))
	for i, a := range as {
		out[i] = webhookDeliveryJSON{ID: a.ID, EventID: a.EventID, Type: a.Type, Attempt: a.Attempt, StatusCode: a.StatusCode,
			Error: a.Error, Outcome: a.Outcome, At: a.At.UTC(), DurationMS: a.Duration.Milliseconds()}
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": out})
}
