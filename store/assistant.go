package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

// autoReplyLockSpace is the first key of the shops' auto-reply locks: rule
// writes of one shop run one at a time, so the checks over all its rules
// (their number, their regular expressions) see every other write.
const autoReplyLockSpace = 0x6175746f // "auto"

type assistantRow struct {
	ShopID    int64 `gorm:"primaryKey"`
	Settings  string
	UpdatedAt time.Time
}

func (assistantRow) TableName() string { return "assistant_settings" }

// AssistantSettings reads the shop's assistant settings; a shop that never
// saved any gets kefu.DefaultAssistantSettings (switched off).
func (s *Store) AssistantSettings(ctx context.Context, shopID int64) (kefu.AssistantSettings, error) {
	a := kefu.DefaultAssistantSettings()
	if err := s.readSettings(ctx, "assistant_settings", shopID, &a); err != nil {
		return kefu.AssistantSettings{}, fmt.Errorf("store: assistant settings of shop %d: %w", shopID, err)
	}
	return a, nil
}

// SetAssistantSettings replaces the shop's assistant settings.
func (s *Store) SetAssistantSettings(ctx context.Context, shopID int64, a kefu.AssistantSettings) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	if err := writeSettings(s.db.WithContext(ctx), "assistant_settings", shopID, a, s.now().UTC().Truncate(microsecond)); err != nil {
		return fmt.Errorf("store: save assistant settings of shop %d: %w", shopID, err)
	}
	return nil
}

type ruleRow struct {
	ID             int64 `gorm:"primaryKey"`
	ShopID         int64
	Name           string
	Match          string
	Patterns       string // JSON array
	GroupIDs       string `gorm:"column:group_ids"` // comma-separated
	Priority       int
	Answer         string
	FollowUps      string // JSON array
	Handoff        string
	HandoffGroupID int64
	Enabled        bool
	Hits           int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (ruleRow) TableName() string { return "auto_reply_rules" }

func (r ruleRow) rule() kefu.AutoReplyRule {
	var patterns, followUps []string
	_ = json.Unmarshal([]byte(r.Patterns), &patterns)   // written by ruleRowOf
	_ = json.Unmarshal([]byte(r.FollowUps), &followUps) // written by ruleRowOf
	return kefu.AutoReplyRule{ID: r.ID, ShopID: r.ShopID, Name: r.Name, Match: kefu.MatchKind(r.Match), Patterns: patterns,
		GroupIDs: parseIDs(r.GroupIDs), Priority: r.Priority, Answer: r.Answer, FollowUps: followUps, Handoff: kefu.Handoff(r.Handoff),
		HandoffGroupID: r.HandoffGroupID, Enabled: r.Enabled, Hits: r.Hits, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func ruleRowOf(r kefu.AutoReplyRule) ruleRow {
	patterns, _ := json.Marshal(nonNil(r.Patterns))
	followUps, _ := json.Marshal(nonNil(r.FollowUps))
	return ruleRow{ID: r.ID, ShopID: r.ShopID, Name: r.Name, Match: string(r.Match), Patterns: string(patterns),
		GroupIDs: formatIDs(r.GroupIDs), Priority: r.Priority, Answer: r.Answer, FollowUps: string(followUps), Handoff: string(r.Handoff),
		HandoffGroupID: r.HandoffGroupID, Enabled: r.Enabled}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AutoReplyRules lists the shop's keyword rules in the order they are
// weighed: highest priority first, then oldest.
func (s *Store) AutoReplyRules(ctx context.Context, shopID int64) ([]kefu.AutoReplyRule, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []ruleRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ?", shopID).Order("priority DESC, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: auto-reply rules of shop %d: %w", shopID, err)
	}
	out := make([]kefu.AutoReplyRule, len(rows))
	for i, r := range rows {
		out[i] = r.rule()
	}
	return out, nil
}

// SaveAutoReplyRule stores a new rule (ID 0) or changes one of the shop's
// (keeping its hits), then hands check every rule of the shop as they would
// stand; an error from check (or more than kefu.MaxAutoReplyRules rules,
// kefu.ErrTooMany; a rule not of the shop, kefu.ErrNotFound; a group not of
// the shop, kefu.ErrUnknownGroup) stores nothing. It returns the
// rule as stored.
func (s *Store) SaveAutoReplyRule(ctx context.Context, r kefu.AutoReplyRule, check func([]kefu.AutoReplyRule) error) (kefu.AutoReplyRule, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var saved kefu.AutoReplyRule
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockShopGorm(tx, autoReplyLockSpace, r.ShopID); err != nil {
			return err
		}
		if err := s.groupsOfShop(tx, r.ShopID, append(append([]int64(nil), r.GroupIDs...), r.HandoffGroupID)); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(microsecond)
		row := ruleRowOf(r)
		row.UpdatedAt = now
		if r.ID == 0 {
			row.CreatedAt = now
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		} else {
			res := tx.Model(&ruleRow{}).Where("shop_id = ? AND id = ?", r.ShopID, r.ID).Updates(map[string]any{
				"name": row.Name, "match": row.Match, "patterns": row.Patterns, "group_ids": row.GroupIDs, "priority": row.Priority,
				"answer": row.Answer, "follow_ups": row.FollowUps, "handoff": row.Handoff, "handoff_group_id": row.HandoffGroupID,
				"enabled": row.Enabled, "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return fmt.Errorf("auto-reply rule %d: %w", r.ID, kefu.ErrNotFound)
			}
		}
		var rows []ruleRow
		if err := tx.Where("shop_id = ?", r.ShopID).Order("priority DESC, id").Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > kefu.MaxAutoReplyRules {
			return fmt.Errorf("%d auto-reply rules, at most %d: %w", len(rows), kefu.MaxAutoReplyRules, kefu.ErrTooMany)
		}
		all := make([]kefu.AutoReplyRule, len(rows))
		for i, x := range rows {
			all[i] = x.rule()
			if x.ID == row.ID {
				saved = all[i]
			}
		}
		if check != nil {
			return check(all)
		}
		return nil
	})
	if err != nil {
		return kefu.AutoReplyRule{}, fmt.Errorf("store: save auto-reply rule: %w", err)
	}
	return saved, nil
}

// groupsOfShop checks that every non-zero id names a group of the shop.
func (s *Store) groupsOfShop(tx *gorm.DB, shopID int64, ids []int64) error {
	want := map[int64]bool{}
	for _, id := range ids {
		if id != 0 {
			want[id] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	list := make([]int64, 0, len(want))
	for id := range want {
		list = append(list, id)
	}
	var n int64
	if err := tx.Table("agent_groups").Where("shop_id = ? AND id IN ?", shopID, list).Count(&n).Error; err != nil {
		return err
	}
	if n != int64(len(list)) {
		return kefu.ErrUnknownGroup
	}
	return nil
}

// DeleteAutoReplyRule removes one of the shop's rules.
func (s *Store) DeleteAutoReplyRule(ctx context.Context, shopID, id int64) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Where("shop_id = ? AND id = ?", shopID, id).Delete(&ruleRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete auto-reply rule %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete auto-reply rule %d: %w", id, kefu.ErrNotFound)
	}
	return nil
}

// CountRuleHit counts one answer of a rule.
func (s *Store) CountRuleHit(ctx context.Context, shopID, id int64) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Model(&ruleRow{}).Where("shop_id = ? AND id = ?", shopID, id).Update("hits", gorm.Expr("hits + 1")).Error
	if err != nil {
		return fmt.Errorf("store: count hit of auto-reply rule %d: %w", id, err)
	}
	return nil
}

// HandOver ends the assistant's turn in a conversation it answers first
// (转人工), or moves a waiting one to groupID's line: one the assistant held
// joins its line (groupID's, when not 0) at the back, as of now,
// with line as its next message and EventHandedOver (data.reason) after it,
// in one transaction inside the shop's routing serialization. changed is
// false when there was nothing to do (a person took it, it closed, or it
// already waits in that group's line): nothing is written.
func (s *Store) HandOver(ctx context.Context, shopID, id, groupID int64, reason string, line kefu.Message,
	committed func(kefu.Change)) (kefu.Conversation, bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var conv kefu.Conversation
	changed := false
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		changed = false
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		groupID, err := s.groupOrShop(ctx, tx, shopID, groupID)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC().Truncate(microsecond)
		// A conversation already waiting for people moves to the group's
		// line keeping its place in time; one the assistant held joins at
		// the back.
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET assistant_first = FALSE,
			queued_at = CASE WHEN assistant_first THEN $1 ELSE queued_at END,
			group_id = CASE WHEN CAST($2 AS BIGINT) = 0 THEN group_id ELSE CAST($2 AS BIGINT) END
			WHERE shop_id = $3 AND id = $4 AND status = 'queued'
			AND (assistant_first OR (CAST($2 AS BIGINT) <> 0 AND group_id <> CAST($2 AS BIGINT)))`), now, groupID, shopID, id)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err
		}
		changed = true
		var changes []kefu.Change
		conv, changes, err = s.lineThenEvent(ctx, tx, line, kefu.Event{ShopID: shopID, Type: kefu.EventHandedOver,
			Actor: kefu.SystemActor, ConversationID: id, Data: kefu.EventData{Reason: reason, GroupID: groupID}, CreatedAt: now}, "")
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, false, fmt.Errorf("store: hand over conversation %d: %w", id, err)
	}
	return conv, changed, nil
}

// LongQueued returns the conversations waiting for a person (not the
// assistant's) since before their shop's holding_seconds, that have not had
// the holding reply in this wait. holding maps shop ids to their
// holding_seconds; only those shops are looked at.
func (s *Store) LongQueued(ctx context.Context, holding map[int64]int, now time.Time) ([]kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var out []kefu.Conversation
	for shopID, secs := range holding {
		var rows []conversationRow
		err := s.rdb.WithContext(ctx).Where("shop_id = ? AND status = ? AND NOT assistant_first AND NOT holding_replied AND queued_at <= ?",
			shopID, kefu.StatusQueued, now.Add(-time.Duration(secs)*time.Second).UTC()).Order("id").Limit(500).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("store: long waits of shop %d: %w", shopID, err)
		}
		for _, r := range rows {
			out = append(out, r.conversation())
		}
	}
	return out, nil
}

// Holding stores the holding reply m in a conversation that still waits
// for a person and has not had it in this wait; told is false (nothing
// written) otherwise. The mark is cleared when the conversation leaves the
// line, so each wait gets it once.
func (s *Store) Holding(ctx context.Context, shopID, id int64, m kefu.Message, committed func(kefu.Change)) (bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	told := false
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		told = false
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET holding_replied = TRUE
			WHERE shop_id = $1 AND id = $2 AND status = 'queued' AND NOT assistant_first AND NOT holding_replied`), shopID, id)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err
		}
		told = true
		m.ShopID, m.ConversationID = shopID, id
		ch, err := s.appendIn(ctx, tx, m)
		if err != nil {
			return nil, err
		}
		return []kefu.Change{ch}, nil
	}, committed)
	if err != nil {
		return false, fmt.Errorf("store: holding reply in conversation %d: %w", id, err)
	}
	return told, nil
}

// AssistantConfigured reports whether the shop ever saved its assistant
// settings.
func (s *Store) AssistantConfigured(ctx context.Context, shopID int64) (bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var n int64
	if err := s.rdb.WithContext(ctx).Model(&assistantRow{}).Where("shop_id = ?", shopID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("store: assistant settings of shop %d: %w", shopID, err)
	}
	return n > 0, nil
}

// HoldingShops returns the shops whose assistant is on with a holding
// reply, and their holding_seconds.
func (s *Store) HoldingShops(ctx context.Context) (map[int64]int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []assistantRow
	if err := s.rdb.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: shops with a holding reply: %w", err)
	}
	out := map[int64]int{}
	for _, r := range rows {
		a := kefu.DefaultAssistantSettings()
		if json.Unmarshal([]byte(r.Settings), &a) != nil {
			continue
		}
		if a.Enabled && a.HoldingSeconds > 0 && a.HoldingReply != "" {
			out[r.ShopID] = a.HoldingSeconds
		}
	}
	return out, nil
}
