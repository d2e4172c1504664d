package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/autoreply"
	"github.com/kefu/kefu/conversation"
)

// Assistant is the shop's assistant (conversation.Bot): what the widget
// shows before the buyer writes, and the cache a settings change drops.
type Assistant interface {
	Welcome(ctx context.Context, shop kefu.Shop, buyer kefu.Buyer) (conversation.Welcome, bool, error)
	Forget(shopID int64)
}

var _ Assistant = (*conversation.Bot)(nil)

// assistantView is the settings as the API shows them: no list is null.
func assistantView(a kefu.AssistantSettings) kefu.AssistantSettings {
	if a.QuickQuestions == nil {
		a.QuickQuestions = []string{}
	}
	for i := range a.Hours.Weekly {
		if a.Hours.Weekly[i] == nil {
			a.Hours.Weekly[i] = []kefu.TimeSpan{}
		}
	}
	if a.Hours.Holidays == nil {
		a.Hours.Holidays = []string{}
	}
	return a
}

// fieldErr turns the validator's refusal into what the client sees.
func fieldErr(e *autoreply.FieldError) *apiError {
	return fieldError(e.Field, e.Code, e.Message)
}

func (h *handlers) getAssistant(c *gin.Context) {
	a, err := h.store.AssistantSettings(c.Request.Context(), currentAgent(c).ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, assistantView(a))
}

// putAssistant replaces the shop's assistant settings (owners and supervisors).
func (h *handlers) putAssistant(c *gin.Context) {
	viewer, ok := h.supervisor(c)
	if !ok {
		return
	}
	// A field left out keeps its default.
	a := kefu.DefaultAssistantSettings()
	if !h.bindJSON(c, &a) {
		return
	}
	if e := autoreply.ValidateSettings(a); e != nil {
		h.writeError(c, fieldErr(e))
		return
	}
	if err := h.store.SetAssistantSettings(c.Request.Context(), viewer.ShopID, a); err != nil {
		h.writeError(c, err)
		return
	}
	if h.assistant != nil {
		h.assistant.Forget(viewer.ShopID)
	}
	c.JSON(http.StatusOK, assistantView(a))
}

type ruleJSON struct {
	ID             int64          `json:"id"`
	Name           string         `json:"name"`
	Match          kefu.MatchKind `json:"match"`
	Patterns       []string       `json:"patterns"`
	GroupIDs       []int64        `json:"group_ids"`
	Priority       int            `json:"priority"`
	Answer         string         `json:"answer"`
	FollowUps      []string       `json:"follow_ups"`
	Handoff        kefu.Handoff   `json:"handoff"`
	HandoffGroupID int64          `json:"handoff_group_id"`
	Enabled        bool           `json:"enabled"`
	Hits           int64          `json:"hits"`
	// FiresOnEverything warns that the rule answers almost any message.
	FiresOnEverything bool      `json:"fires_on_everything"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func ruleView(r kefu.AutoReplyRule) ruleJSON {
	v := ruleJSON{ID: r.ID, Name: r.Name, Match: r.Match, Patterns: r.Patterns, GroupIDs: r.GroupIDs, Priority: r.Priority,
		Answer: r.Answer, FollowUps: r.FollowUps, Handoff: r.Handoff, HandoffGroupID: r.HandoffGroupID, Enabled: r.Enabled,
		Hits: r.Hits, FiresOnEverything: autoreply.FiresOnEverything(r), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if v.Patterns == nil {
		v.Patterns = []string{}
	}
	if v.GroupIDs == nil {
		v.GroupIDs = []int64{}
	}
	if v.FollowUps == nil {
		v.FollowUps = []string{}
	}
	return v
}

// ruleRequest is POST and PUT /auto-replies: every field, as a rule is
// replaced whole; enabled defaults to true.
type ruleRequest struct {
	Name           string         `json:"name"`
	Match          kefu.MatchKind `json:"match"`
	Patterns       []string       `json:"patterns"`
	GroupIDs       []int64        `json:"group_ids"`
	Priority       int            `json:"priority"`
	Answer         string         `json:"answer"`
	FollowUps      []string       `json:"follow_ups"`
	Handoff        kefu.Handoff   `json:"handoff"`
	HandoffGroupID int64          `json:"handoff_group_id"`
	Enabled        *bool          `json:"enabled"`
}

func (req ruleRequest) rule(shopID, id int64) kefu.AutoReplyRule {
	r := kefu.AutoReplyRule{ID: id, ShopID: shopID, Name: req.Name, Match: req.Match, Patterns: req.Patterns, GroupIDs: req.GroupIDs,
		Priority: req.Priority, Answer: req.Answer, FollowUps: req.FollowUps, Handoff: req.Handoff, HandoffGroupID: req.HandoffGroupID,
		Enabled: req.Enabled == nil || *req.Enabled}
	if r.Handoff != kefu.HandoffGroup {
		r.HandoffGroupID = 0
	}
	return r
}

var errUnknownGroup = fieldError("group_ids", "invalid_group", "group_ids and handoff_group_id must name groups of the shop.")

func (h *handlers) listAutoReplies(c *gin.Context) {
	rules, err := h.store.AutoReplyRules(c.Request.Context(), currentAgent(c).ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	out := make([]ruleJSON, len(rules))
	for i, r := range rules {
		out[i] = ruleView(r)
	}
	c.JSON(http.StatusOK, gin.H{"rules": out})
}

func (h *handlers) createAutoReply(c *gin.Context) { h.saveAutoReply(c, 0) }

func (h *handlers) updateAutoReply(c *gin.Context) {
	id, ok := h.pathID(c)
	if ok {
		h.saveAutoReply(c, id)
	}
}

// saveAutoReply validates a rule, then stores it if the shop's rules with
// it still compile (their number, their regular expressions).
func (h *handlers) saveAutoReply(c *gin.Context, id int64) {
	viewer, ok := h.supervisor(c)
	if !ok {
		return
	}
	var req ruleRequest
	if !h.bindJSON(c, &req) {
		return
	}
	r := req.rule(viewer.ShopID, id)
	if e := autoreply.ValidateRule(r); e != nil {
		h.writeError(c, fieldErr(e))
		return
	}
	saved, err := h.store.SaveAutoReplyRule(c.Request.Context(), r, func(all []kefu.AutoReplyRule) error {
		_, err := autoreply.Compile(all)
		return err
	})
	var fe *autoreply.FieldError
	switch {
	case errors.As(err, &fe):
		h.writeError(c, fieldErr(fe))
		return
	case errors.Is(err, kefu.ErrTooMany):
		h.writeError(c, newError(http.StatusConflict, "too_many", "A shop keeps at most 1,000 auto-reply rules."))
		return
	case errors.Is(err, kefu.ErrUnknownGroup):
		h.writeError(c, errUnknownGroup)
		return
	case err != nil:
		h.writeError(c, err)
		return
	}
	if h.assistant != nil {
		h.assistant.Forget(viewer.ShopID)
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	c.JSON(status, ruleView(saved))
}

func (h *handlers) deleteAutoReply(c *gin.Context) {
	viewer, ok := h.supervisor(c)
	if !ok {
		return
	}
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	if err := h.store.DeleteAutoReplyRule(c.Request.Context(), viewer.ShopID, id); err != nil {
		h.writeError(c, err)
		return
	}
	if h.assistant != nil {
		h.assistant.Forget(viewer.ShopID)
	}
	c.Status(http.StatusNoContent)
}

// testAutoReply says which of the shop's rules would answer a message, and
// how, without storing anything.
func (h *handlers) testAutoReply(c *gin.Context) {
	viewer := currentAgent(c)
	var req struct {
		Text    string `json:"text"`
		GroupID int64  `json:"group_id"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	ctx := c.Request.Context()
	rules, err := h.store.AutoReplyRules(ctx, viewer.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	m, err := autoreply.Compile(rules)
	if err != nil {
		h.writeError(c, err)
		return
	}
	shop, err := h.shops.shop(ctx, viewer.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	r, ok := m.Match(req.Text, req.GroupID)
	if !ok {
		c.JSON(http.StatusOK, gin.H{"rule": nil, "answer": "", "quick_replies": []string{}})
		return
	}
	v := ruleView(r)
	c.JSON(http.StatusOK, gin.H{"rule": v, "answer": autoreply.Fill(r.Answer, map[string]string{"shop.name": shop.Name, "agent.name": viewer.Name}),
		"quick_replies": v.FollowUps})
}

// welcomeJSON is what the widget shows before the buyer writes.
type welcomeJSON struct {
	Greeting       string   `json:"greeting"`
	QuickQuestions []string `json:"quick_questions"`
	Open           bool     `json:"open"`
	NextOpening    string   `json:"next_opening,omitempty"`
	ETASeconds     int64    `json:"eta_seconds,omitempty"`
	OffHoursMode   string   `json:"off_hours_mode"`
}

type assistantFace struct {
	Name   string `json:"name"`
	Avatar string `json:"avatar"`
}

// welcome is the session's assistant and welcome, both nil when the
// shop's assistant is off (or cannot be read: the widget works without).
func (h *handlers) welcome(ctx context.Context, shop kefu.Shop, buyer kefu.Buyer) (*assistantFace, *welcomeJSON) {
	if h.assistant == nil {
		return nil, nil
	}
	w, on, err := h.assistant.Welcome(ctx, shop, buyer)
	if err != nil {
		h.log.Error("welcome", "shop", shop.ID, "err", err)
		return nil, nil
	}
	if !on {
		return nil, nil
	}
	face := &assistantFace{Name: w.Assistant.Name, Avatar: w.Assistant.Avatar}
	out := &welcomeJSON{Greeting: w.Greeting, QuickQuestions: w.QuickQuestions, Open: w.Open, NextOpening: w.NextOpening,
		OffHoursMode: string(w.Assistant.OffHoursMode)}
	if out.QuickQuestions == nil {
		out.QuickQuestions = []string{}
	}
	if w.ETA > 0 {
		out.ETASeconds = int64((w.ETA + time.Second - 1) / time.Second)
	}
	return face, out
}
