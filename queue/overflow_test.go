package queue

import (
	"testing"
	"time"

	"github.com/kefu/kefu"
)

func testPolicy() kefu.OverflowPolicy {
	return kefu.OverflowPolicy{Enabled: true,
		Backup:       kefu.StageTrigger{QueueLength: 10, WaitSeconds: 60},
		BotFirst:     kefu.StageTrigger{QueueLength: 20},
		LeaveMessage: kefu.StageTrigger{QueueLength: 40, WaitSeconds: 600},
		QueueFull:    kefu.StageTrigger{QueueLength: 80},
		HoldSeconds:  60,
	}
}

func TestNextStage(t *testing.T) {
	t0 := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	state := func(st kefu.OverflowStage, since int) StageState { return StageState{Stage: st, Since: at(since)} }
	off := testPolicy()
	off.Enabled = false
	noBotFirst := testPolicy()
	noBotFirst.BotFirst = kefu.StageTrigger{}
	tests := []struct {
		name   string
		policy kefu.OverflowPolicy
		cur    StageState
		load   Load
		now    int
		want   StageState
	}{
		{"a short line stays normal", testPolicy(), state(kefu.StageNormal, 0), Load{Waiting: 9, Wait: 59 * time.Second}, 5,
			state(kefu.StageNormal, 0)},
		{"the queue length engages backup", testPolicy(), state(kefu.StageNormal, 0), Load{Waiting: 10}, 5,
			state(kefu.StageBackup, 5)},
		{"the wait alone engages backup", testPolicy(), state(kefu.StageNormal, 0), Load{Waiting: 3, Wait: time.Minute}, 5,
			state(kefu.StageBackup, 5)},
		{"a surge jumps straight to the highest stage met", testPolicy(), state(kefu.StageNormal, 0), Load{Waiting: 85}, 5,
			state(kefu.StageQueueFull, 5)},
		{"rising from backup is at once, hold or not", testPolicy(), state(kefu.StageBackup, 4), Load{Waiting: 21}, 5,
			state(kefu.StageBotFirst, 5)},
		{"below the trigger but above 70 % holds the stage", testPolicy(), state(kefu.StageBotFirst, 0), Load{Waiting: 14}, 500,
			state(kefu.StageBotFirst, 0)},
		{"below 70 % but not held long enough stays", testPolicy(), state(kefu.StageBotFirst, 0), Load{Waiting: 13}, 59,
			state(kefu.StageBotFirst, 0)},
		{"below 70 % and held steps down to the stage the line still holds", testPolicy(), state(kefu.StageBotFirst, 0), Load{Waiting: 13}, 60,
			state(kefu.StageBackup, 60)},
		{"an emptied line goes straight to normal", testPolicy(), state(kefu.StageQueueFull, 0), Load{}, 60,
			state(kefu.StageNormal, 60)},
		{"the wait keeps leave_message although the line is short", testPolicy(), state(kefu.StageLeaveMessage, 0), Load{Waiting: 5, Wait: 500 * time.Second}, 300,
			state(kefu.StageLeaveMessage, 0)},
		{"stepping down skips a stage that is off", noBotFirst, state(kefu.StageLeaveMessage, 0), Load{Waiting: 25}, 60,
			state(kefu.StageBackup, 60)},
		{"a stage that is off is never entered", noBotFirst, state(kefu.StageNormal, 0), Load{Waiting: 25}, 5,
			state(kefu.StageBackup, 5)},
		{"queue_full weighs the whole backlog, left messages included", testPolicy(), state(kefu.StageLeaveMessage, 0),
			Load{Waiting: 40, Backlog: 85}, 5, state(kefu.StageQueueFull, 5)},
		{"a short live line with a long backlog stays queue_full", testPolicy(), state(kefu.StageQueueFull, 0),
			Load{Waiting: 3, Backlog: 60}, 300, state(kefu.StageQueueFull, 0)},
		{"the backlog falling below 70 % leaves queue_full for what the live line holds", testPolicy(), state(kefu.StageQueueFull, 0),
			Load{Waiting: 25, Backlog: 55}, 300, state(kefu.StageBotFirst, 300)},
		{"overflow switched off is normal at once", off, state(kefu.StageQueueFull, 0), Load{Waiting: 500}, 1,
			state(kefu.StageNormal, 1)},
		{"overflow off and normal keeps its since", off, state(kefu.StageNormal, 0), Load{Waiting: 500}, 1,
			state(kefu.StageNormal, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextStage(tt.policy, tt.cur, tt.load, at(tt.now))
			if got.Stage != tt.want.Stage || !got.Since.Equal(tt.want.Since) {
				t.Errorf("NextStage = %s since %s, want %s since %s", got.Stage, got.Since.Sub(t0), tt.want.Stage, tt.want.Since.Sub(t0))
			}
		})
	}
}

// A line that hovers around a threshold does not flap: the stage changes
// once on the way up and once on the way down.
func TestNextStageHysteresis(t *testing.T) {
	t0 := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	cur := StageState{Stage: kefu.StageNormal, Since: t0}
	changes := 0
	lengths := []int{8, 10, 9, 10, 8, 11, 9, 10, 8, 9, 10, 9}
	for i := 0; i < 300; i++ {
		next := NextStage(testPolicy(), cur, Load{Waiting: lengths[i%len(lengths)]}, t0.Add(time.Duration(i)*time.Second))
		if next.Stage != cur.Stage {
			changes++
		}
		cur = next
	}
	if changes != 1 || cur.Stage != kefu.StageBackup {
		t.Fatalf("%d changes, ending in %s; want one change, to backup", changes, cur.Stage)
	}
	for i := 300; i < 400; i++ {
		cur = NextStage(testPolicy(), cur, Load{Waiting: 6}, t0.Add(time.Duration(i)*time.Second))
	}
	if cur.Stage != kefu.StageNormal || !cur.Since.Equal(t0.Add(300*time.Second)) {
		t.Fatalf("after the line fell: %s since %s, want normal since 300s", cur.Stage, cur.Since.Sub(t0))
	}
}

func TestEffectiveAt(t *testing.T) {
	t0 := time.Date(2026, 11, 10, 23, 0, 0, 0, time.UTC)
	s := kefu.DefaultOverflowSettings()
	s.Policy.Enabled = true
	s.Surge.Schedule = []kefu.SurgeWindow{{Start: t0.Add(time.Hour), End: t0.Add(25 * time.Hour)}}
	tests := []struct {
		name      string
		settings  func() kefu.OverflowSettings
		at        time.Time
		surge     bool
		backupLen int
		capBonus  int
	}{
		{"before the window: the shop's own policy", func() kefu.OverflowSettings { return s }, t0.Add(59 * time.Minute), false, 20, 0},
		{"from the window's start: the surge profile", func() kefu.OverflowSettings { return s }, t0.Add(time.Hour), true, 10, 2},
		{"the window's end is outside it", func() kefu.OverflowSettings { return s }, t0.Add(25 * time.Hour), false, 20, 0},
		{"the switch is surge whatever the schedule", func() kefu.OverflowSettings { c := s; c.Surge.On = true; return c }, t0, true, 10, 2},
		{"a profile without its own policy keeps the shop's", func() kefu.OverflowSettings {
			c := s
			c.Surge.On = true
			c.Surge.Profile.Overflow.Enabled = false
			return c
		}, t0, true, 20, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := EffectiveAt(tt.settings(), tt.at)
			if e.Surge != tt.surge || e.Policy.Backup.QueueLength != tt.backupLen || e.CapBonus != tt.capBonus {
				t.Errorf("got surge %v, backup at %d, cap bonus %d; want %v, %d, %d", e.Surge, e.Policy.Backup.QueueLength, e.CapBonus,
					tt.surge, tt.backupLen, tt.capBonus)
			}
			if e.Surge != e.BotFirst {
				t.Errorf("bot-first %v during surge %v: the default profile answers first in surge only", e.BotFirst, e.Surge)
			}
		})
	}
}

// Reserve agents (the backup group's own) take the whole shop's line only
// in the backup stage, and only what the regular agents have no room for.
func TestDecideReserve(t *testing.T) {
	const backup = 9
	agents := func() []Agent {
		return []Agent{
			{ID: 1, Presence: kefu.PresenceOnline, Cap: 1},
			{ID: 2, Presence: kefu.PresenceOnline, Cap: 2, Groups: map[int64]int{backup: 1}, Reserve: true},
		}
	}
	line := func(overflow bool, group int64) []Waiter {
		var w []Waiter
		for i := int64(1); i <= 4; i++ {
			w = append(w, Waiter{ConversationID: i, BuyerID: 100 + i, GroupID: group, Arrived: uint64(i), Overflow: overflow})
		}
		return w
	}
	assigned := func(as []Assignment) map[int64]int64 {
		out := map[int64]int64{}
		for _, a := range as {
			out[a.ConversationID] = a.AgentID
		}
		return out
	}
	t.Run("normal: the reserve agent takes nothing of the shop's line", func(t *testing.T) {
		got := assigned(Decide(agents(), line(false, 0), 0))
		if len(got) != 1 || got[1] != 1 {
			t.Fatalf("assignments %v, want only conversation 1 to agent 1", got)
		}
	})
	t.Run("backup stage: the reserve agent takes the overflow, first come first served", func(t *testing.T) {
		got := assigned(Decide(agents(), line(true, 0), 0))
		if len(got) != 3 || got[1] != 1 || got[2] != 2 || got[3] != 2 {
			t.Fatalf("assignments %v, want 1 to agent 1, then 2 and 3 to the reserve agent 2", got)
		}
	})
	t.Run("a conversation of the backup group itself goes to its members at any stage", func(t *testing.T) {
		got := assigned(Decide(agents(), line(false, backup), 0))
		if len(got) != 2 || got[1] != 2 || got[2] != 2 {
			t.Fatalf("assignments %v, want 1 and 2 to the reserve agent 2", got)
		}
	})
	t.Run("a reserve agent who is the buyer's last agent takes them back", func(t *testing.T) {
		w := line(false, 0)[:1]
		w[0].LastAgentID = 2
		a := agents()
		a[0].Active = 1 // agent 1 is full
		got := assigned(Decide(a, w, 0))
		if got[1] != 2 {
			t.Fatalf("assignments %v, want the buyer back with their last agent 2", got)
		}
	})
}
