package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
)

type fieldErr struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

type ruleOut struct {
	ID                int64
	Name              string
	Patterns          []string
	Hits              int64
	FiresOnEverything bool `json:"fires_on_everything"`
}

// The assistant's settings and keyword rules over REST: owners and
// supervisors change them, every agent reads them; each bad input is
// refused naming its field and stores nothing; another shop sees none of
// it; the widget's session carries the welcome once the assistant is on.
func TestAutoReplyAPI(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		lead := e.login("acme", e.addAgent("lead", kefu.RoleSupervisor).Username)
		wang := e.login("acme", "wang")
		var refused fieldErr
		settings := map[string]any{"enabled": true, "name": "小蜜", "avatar": "蜜", "greeting": "欢迎光临{shop.name}",
			"quick_questions": []string{"什么时候发货？"}, "replies_per_minute": 5, "holding_seconds": 60, "holding_reply": "请稍候",
			"busy_reply": "您排在第 {queue.position} 位", "off_hours_reply": "{hours.next} 上线", "off_hours_mode": "queue",
			"hours": map[string]any{"enabled": false, "time_zone": "Asia/Shanghai"}}
		if code := e.do("PUT", "/api/v1/assistant", wang, "", settings, &refused); code != 403 || refused.Error.Code != "supervisor_only" {
			t.Fatalf("a plain agent changes the assistant: %d %q", code, refused.Error.Code)
		}
		for _, bad := range []struct {
			change      func(map[string]any)
			code, field string
		}{
			{func(s map[string]any) { s["hours"] = map[string]any{"enabled": true, "time_zone": "Mars/Olympus"} }, "invalid_time_zone", "hours.time_zone"},
			{func(s map[string]any) { s["busy_reply"] = "第 {queue.place} 位" }, "unknown_variable", "busy_reply"},
			{func(s map[string]any) { s["greeting"] = strings.Repeat("长", 501) }, "text_too_long", "greeting"},
			{func(s map[string]any) { s["off_hours_mode"] = "sleep" }, "invalid_off_hours_mode", "off_hours_mode"},
		} {
			body := map[string]any{}
			for k, v := range settings {
				body[k] = v
			}
			bad.change(body)
			refused = fieldErr{}
			if code := e.do("PUT", "/api/v1/assistant", lead, "", body, &refused); code != 400 || refused.Error.Code != bad.code || refused.Error.Field != bad.field {
				t.Errorf("%s: %d %q field %q, want 400 %s at %s", bad.code, code, refused.Error.Code, refused.Error.Field, bad.code, bad.field)
			}
		}
		var got struct{ Enabled bool }
		if e.do("GET", "/api/v1/assistant", wang, "", nil, &got); got.Enabled {
			t.Fatal("a refused change switched the assistant on")
		}
		if code := e.do("PUT", "/api/v1/assistant", lead, "", settings, nil); code != 200 {
			t.Fatalf("save the assistant: %d", code)
		}

		rule := map[string]any{"name": "发货", "match": "any", "patterns": []string{"发货", "几天发"}, "priority": 10,
			"answer": "亲，{shop.name}48 小时内发货", "follow_ups": []string{"用什么快递？"}}
		for _, bad := range []struct {
			change      func(map[string]any)
			code, field string
		}{
			{func(r map[string]any) { r["match"], r["patterns"] = "regex", []string{"(发货"} }, "invalid_regex", "patterns[0]"},
			{func(r map[string]any) { r["answer"] = "" }, "empty_answer", "answer"},
			{func(r map[string]any) { r["answer"] = "{buyer.nick}" }, "unknown_variable", "answer"},
			{func(r map[string]any) { r["patterns"] = []string{"发货", "？？"} }, "invalid_pattern", "patterns[1]"},
			{func(r map[string]any) { r["match"] = "fuzzy" }, "invalid_match", "match"},
			{func(r map[string]any) { r["group_ids"] = []int64{999} }, "invalid_group", "group_ids"},
		} {
			body := map[string]any{}
			for k, v := range rule {
				body[k] = v
			}
			bad.change(body)
			refused = fieldErr{}
			if code := e.do("POST", "/api/v1/auto-replies", lead, "", body, &refused); code != 400 || refused.Error.Code != bad.code || refused.Error.Field != bad.field {
				t.Errorf("%s: %d %q field %q, want 400 %s at %s", bad.code, code, refused.Error.Code, refused.Error.Field, bad.code, bad.field)
			}
		}
		var list struct{ Rules []ruleOut }
		if e.do("GET", "/api/v1/auto-replies", wang, "", nil, &list); len(list.Rules) != 0 {
			t.Fatalf("refused rules were stored: %+v", list.Rules)
		}
		if code := e.do("POST", "/api/v1/auto-replies", wang, "", rule, &refused); code != 403 {
			t.Errorf("a plain agent adds a rule: %d", code)
		}
		var made ruleOut
		if code := e.do("POST", "/api/v1/auto-replies", lead, "", rule, &made); code != 201 || made.ID == 0 || made.FiresOnEverything {
			t.Fatalf("add a rule: %d %+v", code, made)
		}
		everything := map[string]any{"name": "全部", "match": "regex", "patterns": []string{"."}, "answer": "在的"}
		var broad ruleOut
		if code := e.do("POST", "/api/v1/auto-replies", lead, "", everything, &broad); code != 201 || !broad.FiresOnEverything {
			t.Errorf("a rule answering any message: %d, flagged %v", code, broad.FiresOnEverything)
		}
		var tried struct {
			Rule   *ruleOut
			Answer string
		}
		e.do("POST", "/api/v1/auto-replies/test", wang, "", map[string]any{"text": "请问幾天發貨？"}, &tried)
		if tried.Rule == nil || tried.Rule.ID != made.ID || tried.Answer != "亲，acme shop48 小时内发货" {
			t.Errorf("try a message: %+v", tried)
		}

		// Another shop sees none of it and changes none of it.
		otherShop := e.seedShop("other", "http://other.example", "zhao")
		zhao := e.login("other", "zhao")
		hash, _ := api.HashPassword(password, passwordCost)
		if _, err := e.store.CreateAgent(context.Background(), kefu.Agent{ShopID: otherShop.ID, Username: "boss", Name: "boss",
			Role: kefu.RoleOwner, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		boss := e.login("other", "boss")
		if e.do("GET", "/api/v1/auto-replies", zhao, "", nil, &list); len(list.Rules) != 0 {
			t.Errorf("another shop lists %d of acme's rules", len(list.Rules))
		}
		path := "/api/v1/auto-replies/" + itoa(made.ID)
		if code := e.do("PUT", path, boss, "", rule, &refused); code != 404 {
			t.Errorf("another shop's owner replaces acme's rule: %d", code)
		}
		if code := e.do("DELETE", path, boss, "", nil, &refused); code != 404 {
			t.Errorf("another shop's owner deletes acme's rule: %d", code)
		}
		withGroup := map[string]any{}
		for k, v := range rule {
			withGroup[k] = v
		}
		withGroup["group_ids"] = []int64{999}
		refused = fieldErr{}
		if code := e.do("PUT", path, lead, "", withGroup, &refused); code != 400 || refused.Error.Code != "invalid_group" {
			t.Errorf("replace a rule naming a group not of the shop: %d %q, want 400 invalid_group", code, refused.Error.Code)
		}
		if e.do("GET", "/api/v1/auto-replies", wang, "", nil, &list); len(list.Rules) != 2 {
			t.Errorf("acme has %d rules after the refused changes, want 2", len(list.Rules))
		}

		var session struct {
			Assistant *struct{ Name, Avatar string }
			Welcome   *struct {
				Greeting       string
				QuickQuestions []string `json:"quick_questions"`
				Open           bool
			}
		}
		if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, map[string]string{"visitor_id": visitor(1)}, &session); code != 200 {
			t.Fatalf("widget session: %d", code)
		}
		if session.Assistant == nil || session.Assistant.Name != "小蜜" || session.Welcome == nil ||
			session.Welcome.Greeting != "欢迎光临acme shop" || !session.Welcome.Open || len(session.Welcome.QuickQuestions) != 1 {
			t.Errorf("the session's assistant %+v and welcome %+v", session.Assistant, session.Welcome)
		}
		var other struct{ Assistant, Welcome any }
		e.do("POST", "/api/v1/widget/shops/other/session", "", "http://other.example", map[string]string{"visitor_id": visitor(2)}, &other)
		if other.Assistant != nil || other.Welcome != nil {
			t.Errorf("a shop with its assistant off has assistant %v welcome %v, want null", other.Assistant, other.Welcome)
		}

		// Every agent sets their own away reply, and nobody else's.
		wangID := e.agents["acme/wang"].ID
		liID := e.agents["acme/li"].ID
		var me struct {
			Agent struct {
				AwayReply string `json:"away_reply"`
			}
		}
		if code := e.do("PATCH", "/api/v1/agents/"+itoa(wangID), wang, "", map[string]any{"away_reply": "马上回来"}, &me); code != 200 || me.Agent.AwayReply != "马上回来" {
			t.Errorf("an agent sets their away reply: %d %+v", code, me)
		}
		if code := e.do("PATCH", "/api/v1/agents/"+itoa(liID), wang, "", map[string]any{"away_reply": "x"}, &refused); code != 403 {
			t.Errorf("an agent sets a colleague's away reply: %d", code)
		}
		if code := e.do("PATCH", "/api/v1/agents/"+itoa(wangID), wang, "", map[string]any{"away_reply": "x", "max_concurrent": 50}, &refused); code != 403 {
			t.Errorf("an agent raises their own cap beside the away reply: %d", code)
		}
	})
}
