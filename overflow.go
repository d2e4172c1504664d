package kefu

import "time"

// OverflowStage is how a shop answers new buyers when its line is long
// (Double-11). The stages rise in this order; each one keeps what the
// stages below it do (docs/overflow.md).
type OverflowStage string

// Overflow stages, from the calmest.
const (
	// StageNormal: routing as usual.
	StageNormal OverflowStage = "normal"
	// StageBackup: the shop's backup group (an outsourced team, 外包客服)
	// also takes waiting conversations when their own agents have no room.
	StageBackup OverflowStage = "backup"
	// StageBotFirst: new conversations are answered by the shop's assistant
	// first; a person is one 转人工 away.
	StageBotFirst OverflowStage = "bot_first"
	// StageLeaveMessage: a new conversation is a left message (留言) with
	// the buyer's order attached, answered after the live line.
	StageLeaveMessage OverflowStage = "leave_message"
	// StageQueueFull: as leave_message, and the buyer is told the line is
	// full with an estimate of when the team gets to their message.
	StageQueueFull OverflowStage = "queue_full"
)

// OverflowStages lists the stages from the calmest.
var OverflowStages = []OverflowStage{StageNormal, StageBackup, StageBotFirst, StageLeaveMessage, StageQueueFull}

// Level is the stage's place in OverflowStages (normal 0, queue_full 4; an
// unknown stage is 0).
func (s OverflowStage) Level() int {
	for i, st := range OverflowStages {
		if st == s {
			return i
		}
	}
	return 0
}

// StageTrigger says when a stage engages: when the live line holds at
// least QueueLength waiting buyers, or when the estimated wait of the last
// of them is at least WaitSeconds. Either at 0 is not weighed; both at 0
// leave the stage out.
type StageTrigger struct {
	QueueLength int `json:"queue_length"`
	WaitSeconds int `json:"wait_seconds"`
}

// Off reports whether the trigger never engages its stage.
func (t StageTrigger) Off() bool { return t.QueueLength <= 0 && t.WaitSeconds <= 0 }

// OverflowPolicy is a shop's overflow stages. A stage engages as soon as
// its trigger is met; the shop steps down only when the line has fallen
// below StageExitPercent of the stage's trigger and the stage has been held
// HoldSeconds (hysteresis, so the stage does not flap at a threshold).
type OverflowPolicy struct {
	Enabled bool `json:"enabled"`
	// BackupGroupID is the backup group (0: none; the backup stage then
	// changes nothing but is still told). Its members who are in no other
	// group take conversations only in the backup stage and above, or
	// conversations sent to the backup group itself.
	BackupGroupID int64        `json:"backup_group_id"`
	Backup        StageTrigger `json:"backup"`
	BotFirst      StageTrigger `json:"bot_first"`
	LeaveMessage  StageTrigger `json:"leave_message"`
	QueueFull     StageTrigger `json:"queue_full"`
	HoldSeconds   int          `json:"hold_seconds"`
}

// StageExitPercent: a stage is left once the line is below this share of
// each of its trigger's measures.
const StageExitPercent = 70

// Trigger returns the trigger of a stage above normal (normal's is Off).
func (p OverflowPolicy) Trigger(s OverflowStage) StageTrigger {
	switch s {
	case StageBackup:
		return p.Backup
	case StageBotFirst:
		return p.BotFirst
	case StageLeaveMessage:
		return p.LeaveMessage
	case StageQueueFull:
		return p.QueueFull
	}
	return StageTrigger{}
}

// SurgeWindow is a scheduled surge (大促), from Start until End.
type SurgeWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// SurgeProfile is what surge mode (大促模式) changes while it is on; it
// reverts when surge mode ends.
type SurgeProfile struct {
	// CapBonus is added to every agent's cap of open conversations for
	// routing (an agent may still take more by hand).
	CapBonus int `json:"cap_bonus"`
	// BotFirst: every new conversation is answered by the shop's assistant
	// first, whatever the stage.
	BotFirst bool `json:"bot_first"`
	// Overflow replaces the shop's overflow policy (tighter limits), when
	// enabled.
	Overflow OverflowPolicy `json:"overflow"`
	// AutoCloseMinutes replaces the shop's auto_close_minutes when shorter
	// (0: the shop's own).
	AutoCloseMinutes int `json:"auto_close_minutes"`
	// ShopLimitFactor multiplies the shop's own admission limits, widget
	// sessions and new conversations per shop (RateLimits.SessionsPerShop,
	// ConversationsPerShop), so the shop takes the surge it staffed for;
	// 0 or 1 keeps them. The per-address limits stay: one address flooding
	// is no more welcome on Double-11.
	ShopLimitFactor int `json:"shop_limit_factor"`
}

// SurgeSettings is a shop's surge mode: switched on by hand (On) or by a
// schedule.
type SurgeSettings struct {
	On       bool          `json:"on"`
	Schedule []SurgeWindow `json:"schedule"`
	Profile  SurgeProfile  `json:"profile"`
}

// Active reports whether surge mode is on at now.
func (s SurgeSettings) Active(now time.Time) bool {
	if s.On {
		return true
	}
	for _, w := range s.Schedule {
		if !now.Before(w.Start) && now.Before(w.End) {
			return true
		}
	}
	return false
}

// OverflowSettings is a shop's overflow policy and surge mode
// (PUT /shop/overflow).
type OverflowSettings struct {
	Policy OverflowPolicy `json:"policy"`
	Surge  SurgeSettings  `json:"surge"`
}

// DefaultOverflowSettings are a new shop's: overflow off, no surge, and the
// thresholds a shop that switches overflow on starts from.
func DefaultOverflowSettings() OverflowSettings {
	p := OverflowPolicy{
		Backup:       StageTrigger{QueueLength: 20, WaitSeconds: 120},
		BotFirst:     StageTrigger{QueueLength: 50, WaitSeconds: 300},
		LeaveMessage: StageTrigger{QueueLength: 100, WaitSeconds: 600},
		QueueFull:    StageTrigger{QueueLength: 200, WaitSeconds: 1200},
		HoldSeconds:  60,
	}
	surge := p
	surge.Enabled = true
	surge.Backup = StageTrigger{QueueLength: 10, WaitSeconds: 60}
	surge.BotFirst = StageTrigger{QueueLength: 30, WaitSeconds: 180}
	surge.LeaveMessage = StageTrigger{QueueLength: 60, WaitSeconds: 420}
	surge.QueueFull = StageTrigger{QueueLength: 120, WaitSeconds: 900}
	return OverflowSettings{Policy: p, Surge: SurgeSettings{Schedule: []SurgeWindow{},
		Profile: SurgeProfile{CapBonus: 2, BotFirst: true, Overflow: surge, AutoCloseMinutes: 10, ShopLimitFactor: 3}}}
}

// Limits of overflow settings.
const (
	MaxSurgeWindows    = 20
	MaxStageQueue      = 100000
	MaxStageWait       = 24 * 3600
	MaxHoldSeconds     = 3600
	MaxCapBonus        = 50
	MaxSurgeAutoClose  = 24 * 60
	MaxShopLimitFactor = 10
)

// OverflowState is a shop's overflow as the supervisor view shows it: the
// stage, surge mode, and the numbers driving them.
type OverflowState struct {
	Stage OverflowStage `json:"stage"`
	Since time.Time     `json:"since,omitzero"`
	Surge bool          `json:"surge"`
	// Waiting is the live line (left messages not counted); WaitSeconds the
	// estimated wait of its last buyer (0: not known yet); LeftMessages the
	// left messages waiting for an answer.
	Waiting      int `json:"waiting"`
	WaitSeconds  int `json:"wait_seconds"`
	LeftMessages int `json:"left_messages"`
	// Policy is the policy in force (the surge profile's during surge).
	Policy OverflowPolicy `json:"policy"`
}
