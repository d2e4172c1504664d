package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/history"
	"github.com/kefu/kefu/store"
)

// maxDemoHistoryDays bounds --demo-history-days.
const maxDemoHistoryDays = 366

// demoHistorySeed makes every new demo shop's history the same.
const demoHistorySeed = 20261111

// demoHistorySpan is how much history a new demo shop starts with: days
// up to the server's clock.
type demoHistorySpan struct {
	days int
	now  func() time.Time
}

func (cfg serveConfig) demoHistory() demoHistorySpan {
	now := cfg.store.Now
	if now == nil {
		now = time.Now
	}
	return demoHistorySpan{days: cfg.demoHistoryDays, now: now}
}

// demoRuleTopics are the demo's keyword rules (by name) that answer a topic
// of the generated buyers' questions; the order-number rule is left out,
// its answer needs the buyer's order.
var demoRuleTopics = map[string]string{"发货时间": "发货时间", "尺码": "尺码", "退换货": "退换货", "发票": "发票", "优惠券": "优惠券", "运费": "运费"}

// seedHistory gives the new demo shop span.days of generated past (issue
// 10: the reports have something to show): buyers of its own (never 张三 or
// 李四), conversations served by 小王 and 小丽 (外包小张 on the surge
// evening), all closed, orders, and the event log. The live demo starts
// with an empty line.
func seedHistory(ctx context.Context, st *store.Store, shop kefu.Shop, span demoHistorySpan) error {
	if span.days <= 0 {
		return nil
	}
	end := span.now().UTC()
	p := history.Params{Seed: demoHistorySeed, ShopID: shop.ID, ShopName: shop.Name, Start: end.Add(-time.Duration(span.days) * 24 * time.Hour), End: end}
	conversion := map[string]float64{"xiaowang": 0.48, "xiaoli": 0.38, "waibao": 0.25}
	for _, username := range []string{"xiaowang", "xiaoli", "waibao"} {
		a, err := st.AgentByUsername(ctx, shop.ID, username)
		if err != nil {
			return err
		}
		p.Agents = append(p.Agents, history.Agent{ID: a.ID, Name: a.Name, Backup: username == "waibao", Conversion: conversion[username]})
	}
	if backup, err := st.GroupBySlug(ctx, shop.ID, "waibao"); err == nil {
		p.Agents[2].GroupID = backup.ID
	}
	settings, err := st.AssistantSettings(ctx, shop.ID)
	if err != nil {
		return err
	}
	if settings.Enabled {
		rules, err := st.AutoReplyRules(ctx, shop.ID)
		if err != nil {
			return err
		}
		a := &history.Assistant{Name: settings.Name, Greeting: settings.Greeting, QuickQuestions: settings.QuickQuestions, BusyReply: settings.BusyReply,
			HandoverReply: settings.HandoverReply}
		for _, r := range rules {
			if topic, ok := demoRuleTopics[r.Name]; ok && r.Enabled && !strings.Contains(r.Answer, "{order.") {
				a.Rules = append(a.Rules, history.Rule{ID: r.ID, Topic: topic, Answer: r.Answer, FollowUps: r.FollowUps})
			}
		}
		p.Assistant = a
	}
	if err := st.ImportHistory(ctx, shop.ID, history.Generate(p)); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}
