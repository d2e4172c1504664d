package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu/kefu"
)

type overflowOut struct {
	Policy struct {
		Enabled       bool
		BackupGroupID int64 `json:"backup_group_id"`
		Backup        struct {
			QueueLength int `json:"queue_length"`
		}
	}
	Surge struct {
		On      bool
		Profile struct {
			CapBonus int `json:"cap_bonus"`
		}
	}
	State struct {
		Stage string
		Surge bool
	}
}

// Owners and supervisors set the overflow policy and surge mode; every
// agent reads them with the stage; bad input is refused by field and
// stores nothing; another shop's group cannot be the backup.
func TestOverflowSettingsREST(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		e.addAgent("lead", kefu.RoleSupervisor)
		lead, plain := e.login("acme", "lead"), e.login("acme", "wang")
		var got overflowOut
		if code := e.do("GET", "/api/v1/shop/overflow", plain, "", nil, &got); code != 200 || got.Policy.Enabled || got.State.Stage != "normal" ||
			got.Policy.Backup.QueueLength != 20 {
			t.Fatalf("a new shop's overflow: %d %+v, want off, normal, the default thresholds", code, got)
		}
		group, err := e.store.CreateGroup(context.Background(), kefu.Group{ShopID: e.shop.ID, Slug: "waibao", Name: "外包"})
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"policy": map[string]any{"enabled": true, "backup_group_id": group.ID, "backup": map[string]any{"queue_length": 5}},
			"surge": map[string]any{"on": true, "profile": map[string]any{"cap_bonus": 3}}}
		if code := e.do("PUT", "/api/v1/shop/overflow", lead, "", body, &got); code != 200 || !got.Policy.Enabled ||
			got.Policy.BackupGroupID != group.ID || got.Policy.Backup.QueueLength != 5 || got.Surge.Profile.CapBonus != 3 || !got.State.Surge {
			t.Fatalf("set: %d %+v", code, got)
		}
		var refused fieldErr
		if code := e.do("PUT", "/api/v1/shop/overflow", plain, "", body, &refused); code != 403 {
			t.Errorf("a plain agent set overflow: %d", code)
		}
		other := e.seedShop("other", "http://other.example", "zhao")
		foreign, err := e.store.CreateGroup(context.Background(), kefu.Group{ShopID: other.ID, Slug: "x", Name: "x"})
		if err != nil {
			t.Fatal(err)
		}
		bad := []struct {
			name  string
			body  map[string]any
			field string
			code  string
		}{
			{"another shop's group", map[string]any{"policy": map[string]any{"backup_group_id": foreign.ID}}, "policy.backup_group_id", "invalid_group"},
			{"a stage below the one before it", map[string]any{"policy": map[string]any{"backup": map[string]any{"queue_length": 60}}},
				"policy.bot_first.queue_length", "invalid_trigger"},
			{"a negative trigger", map[string]any{"surge": map[string]any{"profile": map[string]any{"overflow": map[string]any{
				"queue_full": map[string]any{"wait_seconds": -1}}}}}, "surge.profile.overflow.queue_full.wait_seconds", "invalid_trigger"},
			{"a window ending before it starts", map[string]any{"surge": map[string]any{"schedule": []map[string]any{
				{"start": "2026-11-11T00:00:00+08:00", "end": "2026-11-10T00:00:00+08:00"}}}}, "surge.schedule[0]", "invalid_schedule"},
			{"a cap bonus too large", map[string]any{"surge": map[string]any{"profile": map[string]any{"cap_bonus": 51}}}, "surge.profile.cap_bonus", "invalid_cap_bonus"},
		}
		for _, b := range bad {
			refused = fieldErr{}
			if code := e.do("PUT", "/api/v1/shop/overflow", lead, "", b.body, &refused); code != 400 || refused.Error.Field != b.field || refused.Error.Code != b.code {
				t.Errorf("%s: %d %+v, want 400 %s on %s", b.name, code, refused.Error, b.code, b.field)
			}
		}
		if e.do("GET", "/api/v1/shop/overflow", plain, "", nil, &got); got.Policy.Backup.QueueLength != 5 || got.Surge.Profile.CapBonus != 3 {
			t.Errorf("a refused change was stored: %+v", got)
		}
		e.do("GET", "/api/v1/shop/overflow", e.login("other", "zhao"), "", nil, &got)
		if got.Policy.Enabled || got.State.Surge {
			t.Errorf("another shop sees acme's overflow: %+v", got)
		}
	})
}

// In surge mode the shop's per-shop limit of new conversations is
// multiplied by the profile's factor, and back when surge mode ends.
func TestSurgeRaisesTheShopLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setLimits(func(l *kefu.RateLimits) { l.ConversationsPerShop = kefu.RateLimit{PerMinute: 1, Burst: 1} })
	lead := e.owner()
	surge := func(on bool) {
		body := map[string]any{"surge": map[string]any{"on": on, "profile": map[string]any{"shop_limit_factor": 3}}}
		if code := e.do("PUT", "/api/v1/shop/overflow", lead, "", body, nil); code != 200 {
			t.Fatalf("PUT /shop/overflow: %d", code)
		}
	}
	starts := func(visitorN int) bool {
		c := e.dial("/ws/buyer", e.buyerToken("acme", visitor(visitorN)), storeOrigin)
		c.next("ready")
		c.send(sendFrame(0, "c1", "在吗"))
		return c.next("error", "ack").Type == "ack"
	}
	if !starts(300) || starts(301) {
		t.Fatal("without surge mode the shop's burst of one new conversation should admit one and refuse the next")
	}
	surge(true)
	if !starts(302) || !starts(303) || !starts(304) {
		t.Fatal("in surge mode with a factor of 3 the shop's burst is three new conversations")
	}
	if starts(305) {
		t.Fatal("surge mode's burst of three was exceeded")
	}
	surge(false)
	e.clock.Advance(time.Minute)
	if !starts(306) || starts(307) {
		t.Fatal("after surge mode the shop's own burst of one applies again")
	}
}
