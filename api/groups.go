package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

var errSupervisorOnly = newError(http.StatusForbidden, "supervisor_only", "Only the shop owner or a supervisor may do this.")

func requireSupervisor(a kefu.Agent) error {
	if !conversation.ManagesRouting(a) {
		return errSupervisorOnly
	}
	return nil
}

// supervisor is the signed-in agent when they are an owner or supervisor;
// otherwise it writes the refusal and reports false.
func (h *handlers) supervisor(c *gin.Context) (kefu.Agent, bool) {
	a := currentAgent(c)
	if err := requireSupervisor(a); err != nil {
		h.writeError(c, err)
		return a, false
	}
	return a, true
}

type groupMemberJSON struct {
	AgentID int64 `json:"agent_id"`
	Weight  int   `json:"weight"`
}

type groupJSON struct {
	ID      int64             `json:"id"`
	Slug    string            `json:"slug"`
	Name    string            `json:"name"`
	Scope   string            `json:"scope"`
	Menu    bool              `json:"menu"`
	Members []groupMemberJSON `json:"members"`
}

func groupView(g kefu.Group) groupJSON {
	v := groupJSON{ID: g.ID, Slug: g.Slug, Name: g.Name, Scope: string(g.Scope), Menu: g.InMenu, Members: []groupMemberJSON{}}
	for _, m := range g.Members {
		v.Members = append(v.Members, groupMemberJSON{AgentID: m.AgentID, Weight: m.Weight})
	}
	return v
}

type groupRequest struct {
	Slug    string            `json:"slug"`
	Name    string            `json:"name"`
	Scope   string            `json:"scope"`
	Menu    bool              `json:"menu"`
	Members []groupMemberJSON `json:"members"`
}

// group validates a group's fields; slug only when creating.
func (req groupRequest) group(shopID int64, creating bool) (kefu.Group, error) {
	name := strings.TrimSpace(req.Name)
	scope := kefu.GroupScope(req.Scope)
	switch {
	case creating && !protocol.ValidGroupSlug(req.Slug):
		return kefu.Group{}, badRequest("invalid_slug", "slug must be 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter or digit.")
	case name == "" || len([]rune(name)) > 32:
		return kefu.Group{}, badRequest(protocol.CodeInvalidName, "name must be 1 to 32 characters.")
	case !scope.Valid():
		return kefu.Group{}, badRequest("invalid_scope", "scope must be \"\", \"presales\" or \"aftersales\".")
	case len(req.Members) > 1000:
		return kefu.Group{}, badRequest("too_many_members", "a group has at most 1000 members.")
	}
	if err := protocol.ValidateName(name); err != nil {
		return kefu.Group{}, err
	}
	g := kefu.Group{ShopID: shopID, Slug: req.Slug, Name: name, Scope: scope, InMenu: req.Menu, Members: []kefu.GroupMember{}}
	seen := map[int64]bool{}
	for _, m := range req.Members {
		switch {
		case m.AgentID <= 0 || seen[m.AgentID]:
			return kefu.Group{}, badRequest("invalid_members", "members must name each agent once, by a positive agent_id.")
		case m.Weight < 0 || m.Weight > kefu.MaxGroupWeight:
			return kefu.Group{}, badRequest("invalid_weight", "weight must be from 1 to 100 (0 or absent means 1).")
		}
		seen[m.AgentID] = true
		w := m.Weight
		if w == 0 {
			w = 1
		}
		g.Members = append(g.Members, kefu.GroupMember{AgentID: m.AgentID, Weight: w})
	}
	return g, nil
}

func (h *handlers) listGroups(c *gin.Context) {
	groups, err := h.store.Groups(c.Request.Context(), currentAgent(c).ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	out := []groupJSON{}
	for _, g := range groups {
		out = append(out, groupView(g))
	}
	c.JSON(http.StatusOK, gin.H{"groups": out})
}

func (h *handlers) createGroup(c *gin.Context) { h.saveGroup(c, 0) }

func (h *handlers) updateGroup(c *gin.Context) {
	if id, ok := h.pathID(c); ok {
		h.saveGroup(c, id)
	}
}

// saveGroup creates a group (id 0) or replaces one, then lets the line move:
// the group's members may serve its waiting buyers now.
func (h *handlers) saveGroup(c *gin.Context, id int64) {
	agent, ok := h.supervisor(c)
	if !ok {
		return
	}
	var req groupRequest
	if !h.bindJSON(c, &req) {
		return
	}
	g, err := req.group(agent.ShopID, id == 0)
	if err != nil {
		h.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	status := http.StatusOK
	if id == 0 {
		g, err = h.store.CreateGroup(ctx, g)
		status = http.StatusCreated
	} else {
		g.ID = id
		g, err = h.store.UpdateGroup(ctx, g)
	}
	if err != nil {
		h.writeError(c, groupError(err))
		return
	}
	h.shops.forget(agent.ShopID) // the widget's menu may have changed
	h.convs.Reroute(ctx, agent.ShopID)
	c.JSON(status, gin.H{"group": groupView(g)})
}

func (h *handlers) deleteGroup(c *gin.Context) {
	agent, ok := h.supervisor(c)
	if !ok {
		return
	}
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	if err := h.store.DeleteGroup(c.Request.Context(), agent.ShopID, id); err != nil {
		h.writeError(c, err)
		return
	}
	h.shops.forget(agent.ShopID)
	h.convs.Reroute(c.Request.Context(), agent.ShopID) // its buyers wait for the whole shop now
	c.Status(http.StatusNoContent)
}

// groupError names what a group write ran into.
func groupError(err error) error {
	switch {
	case errors.Is(err, kefu.ErrTooMany):
		return newError(http.StatusConflict, "too_many_groups", "A shop has at most 50 groups.")
	case errors.Is(err, kefu.ErrConflict):
		return newError(http.StatusConflict, "group_conflict", "The shop already has a group with that slug.")
	case errors.Is(err, kefu.ErrNotFound):
		return newError(http.StatusNotFound, "not_found", "No such group, or a member is not an agent of this shop.")
	}
	return err
}

// routingView is the shop's routing settings.
type routingView struct {
	StickyDays       int   `json:"sticky_days"`
	AutoCloseMinutes int   `json:"auto_close_minutes"`
	SlowReplySeconds int   `json:"slow_reply_seconds"`
	ReassignSeconds  int   `json:"reassign_seconds"`
	AutoAwayMinutes  int   `json:"auto_away_minutes"`
	ReopenHours      int   `json:"reopen_hours"`
	HighValueCents   int64 `json:"high_value_cents"`
}

func routingOf(r kefu.RoutingSettings) routingView {
	return routingView{StickyDays: r.StickyDays, AutoCloseMinutes: r.AutoCloseMinutes,
		SlowReplySeconds: r.SlowReplySeconds, ReassignSeconds: r.ReassignSeconds, AutoAwayMinutes: r.AutoAwayMinutes, ReopenHours: r.ReopenHours,
		HighValueCents: r.HighValueCents}
}

// setShopRouting changes the shop's routing settings; a field left out
// keeps its value.
func (h *handlers) setShopRouting(c *gin.Context) {
	agent, ok := h.supervisor(c)
	if !ok {
		return
	}
	var req struct {
		StickyDays       *int   `json:"sticky_days"`
		AutoCloseMinutes *int   `json:"auto_close_minutes"`
		SlowReplySeconds *int   `json:"slow_reply_seconds"`
		ReassignSeconds  *int   `json:"reassign_seconds"`
		AutoAwayMinutes  *int   `json:"auto_away_minutes"`
		ReopenHours      *int   `json:"reopen_hours"`
		HighValueCents   *int64 `json:"high_value_cents"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	ctx := c.Request.Context()
	shop, err := h.store.Shop(ctx, agent.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	r := shop.RoutingSettings
	for _, f := range []struct {
		from *int
		to   *int
		max  int
		code string
		what string
	}{
		{req.StickyDays, &r.StickyDays, kefu.MaxStickyDays, "invalid_sticky_days", "sticky_days must be from 0 (off) to 90."},
		{req.AutoCloseMinutes, &r.AutoCloseMinutes, kefu.MaxAutoCloseMinutes, "invalid_auto_close_minutes", "auto_close_minutes must be from 0 (off) to 10080 (a week)."},
		{req.SlowReplySeconds, &r.SlowReplySeconds, kefu.MaxSlowReplySeconds, "invalid_slow_reply_seconds", "slow_reply_seconds must be from 0 (off) to 3600."},
		{req.ReassignSeconds, &r.ReassignSeconds, kefu.MaxReassignSeconds, "invalid_reassign_seconds", "reassign_seconds must be from 0 (off) to 3600."},
		{req.AutoAwayMinutes, &r.AutoAwayMinutes, kefu.MaxAutoAwayMinutes, "invalid_auto_away_minutes", "auto_away_minutes must be from 0 (off) to 240."},
		{req.ReopenHours, &r.ReopenHours, kefu.MaxReopenHours, "invalid_reopen_hours", "reopen_hours must be from 0 (off) to 72."},
	} {
		if f.from == nil {
			continue
		}
		if *f.from < 0 || *f.from > f.max {
			h.writeError(c, badRequest(f.code, f.what))
			return
		}
		*f.to = *f.from
	}
	if v := req.HighValueCents; v != nil {
		if *v < 0 || *v > kefu.MaxHighValueCents {
			h.writeError(c, badRequest("invalid_high_value_cents", "high_value_cents must be from 0 (off) to 1,000,000,000,000."))
			return
		}
		r.HighValueCents = *v
	}
	if err := h.store.SetShopRouting(ctx, agent.ShopID, r); err != nil {
		h.writeError(c, err)
		return
	}
	h.shops.forget(agent.ShopID)
	h.getShop(c)
}

// setBuyerRouting sets a buyer's dedicated agent and VIP mark.
func (h *handlers) setBuyerRouting(c *gin.Context) {
	agent, ok := h.supervisor(c)
	if !ok {
		return
	}
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req struct {
		DedicatedAgentID int64 `json:"dedicated_agent_id"`
		VIP              bool  `json:"vip"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if req.DedicatedAgentID < 0 {
		h.writeError(c, badRequest("invalid_agent", "dedicated_agent_id must be an agent's id, or 0 for none."))
		return
	}
	b, err := h.store.SetBuyerRouting(c.Request.Context(), agent.ShopID, id, req.DedicatedAgentID, req.VIP)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"routing": gin.H{"buyer_id": b.ID, "dedicated_agent_id": b.DedicatedAgentID, "vip": b.VIP}})
}
