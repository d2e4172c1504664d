package queue

import (
	"time"

	"github.com/kefu/kefu"
)

// The overflow core: which stage a shop is in, from its policy and its live
// line, with no I/O and the clock passed in.

// Load is the line a stage is decided on: the live line, buyers waiting for
// a person (left messages not counted), and the estimated wait of the last
// of them (0 when there is no estimate yet); and the whole backlog, left
// messages included, with the estimated wait of its last. The queue_full
// stage weighs the backlog: once new buyers leave messages the live line
// stops growing, the backlog does not.
type Load struct {
	Waiting     int
	Wait        time.Duration
	Backlog     int
	BacklogWait time.Duration
}

// measure is the load a stage's trigger is weighed against.
func (l Load) measure(s kefu.OverflowStage) Load {
	if s == kefu.StageQueueFull {
		return Load{Waiting: max(l.Backlog, l.Waiting), Wait: max(l.BacklogWait, l.Wait)}
	}
	return l
}

// StageState is a shop's stage and when it entered it.
type StageState struct {
	Stage kefu.OverflowStage
	Since time.Time
}

// meets reports whether load reaches trigger t.
func meets(t kefu.StageTrigger, load Load) bool {
	return (t.QueueLength > 0 && load.Waiting >= t.QueueLength) ||
		(t.WaitSeconds > 0 && load.Wait >= time.Duration(t.WaitSeconds)*time.Second)
}

// below reports whether load is under the exit share of each measure of t,
// so a shop in t's stage may leave it.
func below(t kefu.StageTrigger, load Load) bool {
	if t.QueueLength > 0 && load.Waiting*100 >= t.QueueLength*kefu.StageExitPercent {
		return false
	}
	if t.WaitSeconds > 0 && load.Wait*100 >= time.Duration(t.WaitSeconds)*time.Second*kefu.StageExitPercent {
		return false
	}
	return true
}

// NextStage decides the shop's stage at now:
//
//   - A disabled policy is normal at once.
//   - The highest stage whose trigger the load meets is engaged at once
//     when it is above the current one: a buyer arriving in a surge must be
//     told at once.
//   - The shop steps down only when the load is below StageExitPercent of
//     the current stage's trigger and the stage has been held HoldSeconds;
//     it then goes to the highest lower stage the load is not below the exit
//     share of (normal at the bottom), so a line that emptied does not walk
//     down stage by stage.
//   - Stages whose trigger is off are never entered.
//
// The Since of the result is now when the stage changed, the current one's
// otherwise.
func NextStage(p kefu.OverflowPolicy, cur StageState, load Load, now time.Time) StageState {
	if !p.Enabled {
		if cur.Stage == kefu.StageNormal || cur.Stage == "" {
			return StageState{Stage: kefu.StageNormal, Since: cur.Since}
		}
		return StageState{Stage: kefu.StageNormal, Since: now}
	}
	level := cur.Stage.Level()
	engaged := 0
	for i := len(kefu.OverflowStages) - 1; i > 0; i-- {
		if st := kefu.OverflowStages[i]; !p.Trigger(st).Off() && meets(p.Trigger(st), load.measure(st)) {
			engaged = i
			break
		}
	}
	switch {
	case engaged > level:
		return StageState{Stage: kefu.OverflowStages[engaged], Since: now}
	case level == 0:
		return StageState{Stage: kefu.StageNormal, Since: cur.Since}
	}
	t := p.Trigger(cur.Stage)
	held := now.Sub(cur.Since) >= time.Duration(p.HoldSeconds)*time.Second
	if !t.Off() && (!below(t, load.measure(cur.Stage)) || !held) {
		return cur
	}
	if t.Off() && !held {
		return cur // the policy changed under the stage: it still holds its time
	}
	to := 0
	for i := level - 1; i > 0; i-- {
		if st := kefu.OverflowStages[i]; !p.Trigger(st).Off() && !below(p.Trigger(st), load.measure(st)) {
			to = i
			break
		}
	}
	return StageState{Stage: kefu.OverflowStages[to], Since: now}
}

// Effective is what a shop's overflow settings put in force at now: the
// policy (the surge profile's while surge mode is on and its policy is
// enabled), whether surge mode is on, and what surge changes.
type Effective struct {
	Policy           kefu.OverflowPolicy
	Surge            bool
	CapBonus         int
	BotFirst         bool
	AutoCloseMinutes int // 0: the shop's own
	ShopLimitFactor  int // multiplies the per-shop admission limits; 1 keeps them
}

// EffectiveAt applies the surge profile when surge mode is on at now.
func EffectiveAt(s kefu.OverflowSettings, now time.Time) Effective {
	if !s.Surge.Active(now) {
		return Effective{Policy: s.Policy, ShopLimitFactor: 1}
	}
	e := Effective{Policy: s.Policy, Surge: true, CapBonus: s.Surge.Profile.CapBonus, BotFirst: s.Surge.Profile.BotFirst,
		AutoCloseMinutes: s.Surge.Profile.AutoCloseMinutes, ShopLimitFactor: max(1, s.Surge.Profile.ShopLimitFactor)}
	if s.Surge.Profile.Overflow.Enabled {
		e.Policy = s.Surge.Profile.Overflow
	}
	return e
}
