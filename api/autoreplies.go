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
	Try(ctx context.Context, agent kefu.Agent, text string, groupID int64) (kefu.AutoReplyRule, string, bool, error)
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

// ruleJSON is a rule as the API shows it: no list is null, and a warning
// when it would answer almost anything.
type ruleJSON struct {
	kefu.AutoReplyRule
	FiresOnEverything bool `json:"fires_on_everything"`
}

func ruleView(r kefu.AutoReplyRule) ruleJSON {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if r.Patterns == nil {
		r.Patterns = []string{}
	}
	if r.GroupIDs == nil {
		r.GroupIDs = []int64{}
	}
	if r.FollowUps == nil {
		r.FollowUps = []string{}
	}
	return ruleJSON{AutoReplyRule: r, FiresOnEverything: autoreply.FiresOnEverything(r)}
}

// ruleRequest reads POST and PUT /auto-replies: every field, as a rule is
// replaced whole; enabled defaults to true, and what the server keeps (id,
// hits, times) is not taken from the client.
func ruleRequest(c *gin.Context, h *handlers, shopID, id int64) (kefu.AutoReplyRule, bool) {
	r := kefu.AutoReplyRule{Enabled: true}
	if !h.bindJSON(c, &r) {
		return r, false
	}
	r.ID, r.ShopID, r.Hits, r.CreatedAt, r.UpdatedAt = id, shopID, 0, time.Time{}, time.Time{}
	if r.Handoff != kefu.HandoffGroup {
		r.HandoffGroupID = 0
	}
	return r, true
}

var errUnknownGroup = fieldError("group_ids", "invalid_group", "group_ids and handoff_group_id must name groups of the shop.")

func (h *handlers) listAutoReplies(c *gin.Context) {
	rules, err := h.store.AutoReplyRules(c.Request.Context(), currentAgent(c).ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rules": viewsOf(rules, ruleView)})
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
	r, ok := ruleRequest(c, h, viewer.ShopID, id)
	if !ok {
		return
	}
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
// how, without storing anything: the assistant's own rules, as it would
// match them now.
func (h *handlers) testAutoReply(c *gin.Context) {
	viewer := currentAgent(c)
	var req struct {
		Text    string `json:"text"`
		GroupID int64  `json:"group_id"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	var (
		r      kefu.AutoReplyRule
		answer string
		ok     bool
	)
	if h.assistant != nil {
		var err error
		if r, answer, ok, err = h.assistant.Try(c.Request.Context(), viewer, req.Text, req.GroupID); err != nil {
			h.writeError(c, err)
			return
		}
	}
	if !ok {
		c.JSON(http.StatusOK, gin.H{"rule": nil, "answer": "", "quick_replies": []string{}})
		return
	}
	v := ruleView(r)
	c.JSON(http.StatusOK, gin.H{"rule": v, "answer": answer, "quick_replies": v.FollowUps})
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
