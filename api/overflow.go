package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
)

// overflowView is a shop's overflow settings with the state they produce.
type overflowView struct {
	kefu.OverflowSettings
	State kefu.OverflowState `json:"state"`
}

func (h *handlers) overflowView(shopID int64, o kefu.OverflowSettings) overflowView {
	if o.Surge.Schedule == nil {
		o.Surge.Schedule = []kefu.SurgeWindow{}
	}
	return overflowView{OverflowSettings: o, State: h.convs.OverflowState(shopID)}
}

// getOverflow shows the shop's overflow policy, surge mode and the stage
// they are in now, to every agent of the shop (the consoles show the stage).
func (h *handlers) getOverflow(c *gin.Context) {
	shopID := currentAgent(c).ShopID
	o, err := h.store.OverflowSettings(c.Request.Context(), shopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, h.overflowView(shopID, o))
}

// putOverflow replaces the shop's overflow policy and surge mode (owners and
// supervisors); a field left out keeps its default. It takes effect at once
// in this process, within seconds in others.
func (h *handlers) putOverflow(c *gin.Context) {
	viewer, ok := h.supervisor(c)
	if !ok {
		return
	}
	o := kefu.DefaultOverflowSettings()
	if !h.bindJSON(c, &o) {
		return
	}
	if e := validateOverflow(o); e != nil {
		h.writeError(c, e)
		return
	}
	err := h.store.SetOverflowSettings(c.Request.Context(), viewer.ShopID, o)
	if errors.Is(err, kefu.ErrNotFound) {
		h.writeError(c, fieldError("policy.backup_group_id", "invalid_group", "The backup group is not a group of this shop."))
		return
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	h.convs.SetOverflowSettings(viewer.ShopID, o)
	c.JSON(http.StatusOK, h.overflowView(viewer.ShopID, o))
}

// validateOverflow checks every field of the settings; the first wrong one
// is refused by name.
func validateOverflow(o kefu.OverflowSettings) *apiError {
	if e := validatePolicy("policy", o.Policy); e != nil {
		return e
	}
	s := o.Surge
	if len(s.Schedule) > kefu.MaxSurgeWindows {
		return fieldError("surge.schedule", "invalid_schedule", fmt.Sprintf("At most %d surge windows.", kefu.MaxSurgeWindows))
	}
	for i, w := range s.Schedule {
		if w.Start.IsZero() || !w.End.After(w.Start) {
			return fieldError(fmt.Sprintf("surge.schedule[%d]", i), "invalid_schedule",
				"A surge window needs a start and an end after it (RFC 3339 times).")
		}
	}
	p := s.Profile
	if p.CapBonus < 0 || p.CapBonus > kefu.MaxCapBonus {
		return fieldError("surge.profile.cap_bonus", "invalid_cap_bonus", fmt.Sprintf("cap_bonus must be from 0 to %d.", kefu.MaxCapBonus))
	}
	if p.ShopLimitFactor < 0 || p.ShopLimitFactor > kefu.MaxShopLimitFactor {
		return fieldError("surge.profile.shop_limit_factor", "invalid_shop_limit_factor",
			fmt.Sprintf("shop_limit_factor must be from 0 (as set) to %d.", kefu.MaxShopLimitFactor))
	}
	if p.AutoCloseMinutes < 0 || p.AutoCloseMinutes > kefu.MaxSurgeAutoClose {
		return fieldError("surge.profile.auto_close_minutes", "invalid_auto_close_minutes",
			fmt.Sprintf("auto_close_minutes must be from 0 (the shop's own) to %d.", kefu.MaxSurgeAutoClose))
	}
	return validatePolicy("surge.profile.overflow", p.Overflow)
}

// validatePolicy checks one overflow policy; prefix names it in the error.
func validatePolicy(prefix string, p kefu.OverflowPolicy) *apiError {
	if p.BackupGroupID < 0 {
		return fieldError(prefix+".backup_group_id", "invalid_group", "backup_group_id is a group id, or 0 for none.")
	}
	if p.HoldSeconds < 0 || p.HoldSeconds > kefu.MaxHoldSeconds {
		return fieldError(prefix+".hold_seconds", "invalid_hold_seconds", fmt.Sprintf("hold_seconds must be from 0 to %d.", kefu.MaxHoldSeconds))
	}
	// Each stage, when on, must engage at a longer line (or a longer
	// wait) than the stages below it: otherwise a stage could never be
	// left for the one below.
	var prev kefu.StageTrigger
	prevName := ""
	for _, st := range kefu.OverflowStages[1:] {
		t := p.Trigger(st)
		field := prefix + "." + string(st)
		if t.QueueLength < 0 || t.QueueLength > kefu.MaxStageQueue {
			return fieldError(field+".queue_length", "invalid_trigger", fmt.Sprintf("queue_length must be from 0 (not weighed) to %d.", kefu.MaxStageQueue))
		}
		if t.WaitSeconds < 0 || t.WaitSeconds > kefu.MaxStageWait {
			return fieldError(field+".wait_seconds", "invalid_trigger", fmt.Sprintf("wait_seconds must be from 0 (not weighed) to %d.", kefu.MaxStageWait))
		}
		if t.Off() {
			continue
		}
		if prevName != "" && t.QueueLength > 0 && prev.QueueLength > 0 && t.QueueLength <= prev.QueueLength {
			return fieldError(field+".queue_length", "invalid_trigger", fmt.Sprintf("%s must engage at a longer line than %s.", st, prevName))
		}
		if prevName != "" && t.WaitSeconds > 0 && prev.WaitSeconds > 0 && t.WaitSeconds <= prev.WaitSeconds {
			return fieldError(field+".wait_seconds", "invalid_trigger", fmt.Sprintf("%s must engage at a longer wait than %s.", st, prevName))
		}
		prev, prevName = t, string(st)
	}
	return nil
}
