package autoreply

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kefu/kefu"
)

func rule(id int64, kind kefu.MatchKind, patterns ...string) kefu.AutoReplyRule {
	return kefu.AutoReplyRule{ID: id, Name: fmt.Sprintf("rule %d", id), Match: kind, Patterns: patterns, Answer: "答", Enabled: true}
}

func withPriority(r kefu.AutoReplyRule, p int) kefu.AutoReplyRule { r.Priority = p; return r }

func withGroups(r kefu.AutoReplyRule, groups ...int64) kefu.AutoReplyRule {
	r.GroupIDs = groups
	return r
}

func disabled(r kefu.AutoReplyRule) kefu.AutoReplyRule { r.Enabled = false; return r }

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		rules   []kefu.AutoReplyRule
		text    string
		group   int64
		wantID  int64 // 0: no match
		comment string
	}{
		{name: "contains in chinese without spaces", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchContains, "发货")}, text: "请问什么时候发货呀", wantID: 1},
		{name: "contains needs every pattern", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchContains, "发货", "时间")}, text: "什么时候发货", wantID: 0},
		{name: "contains all present", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchContains, "发货", "时间")}, text: "发货时间是多久", wantID: 1},
		{name: "contains repeated pattern counts once", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchContains, "发货", "发 货")}, text: "发货", wantID: 1},
		{name: "any one present", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "退款", "退货")}, text: "我要退货", wantID: 1},
		{name: "any none present", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "退款", "退货")}, text: "我要换货", wantID: 0},
		{name: "full-width against ascii", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "vip")}, text: "我是ＶＩＰ会员", wantID: 1},
		{name: "case", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "iPhone")}, text: "IPHONE 有货吗", wantID: 1},
		{name: "emoji pattern", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "👍")}, text: "好的👍", wantID: 1},
		{name: "emoji absent", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "👍")}, text: "好的", wantID: 0},
		{name: "single character pattern", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "在", "亲")}, text: "在吗", wantID: 1},
		{name: "traditional message", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchContains, "快递单号")}, text: "請問快遞單號是多少", wantID: 1},
		{name: "traditional pattern", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "優惠券")}, text: "有优惠券吗", wantID: 1},
		{name: "exact equal after folding", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchExact, "在吗")}, text: "在嗎？", wantID: 1},
		{name: "exact is not contains", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchExact, "在吗")}, text: "老板在吗", wantID: 0},
		{name: "exact second pattern", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchExact, "你好", "在吗")}, text: "在吗", wantID: 1},
		{name: "regex on folded text", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchRegex, `^订单\d{6}$`)}, text: "订单 123456。", wantID: 1},
		{name: "regex sees lower case", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchRegex, `sf\d+`)}, text: "SF1234", wantID: 1},
		{name: "regex no match", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchRegex, `^订单\d{6}$`)}, text: "订单12345", wantID: 0},
		{name: "higher priority wins", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "发货"), withPriority(rule(2, kefu.MatchAny, "发货"), 5)}, text: "发货", wantID: 2},
		{name: "tie goes to lowest id", rules: []kefu.AutoReplyRule{rule(7, kefu.MatchAny, "发货"), rule(3, kefu.MatchContains, "发货")}, text: "发货", wantID: 3},
		{name: "exact loses to higher contains", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchExact, "发货"), withPriority(rule(2, kefu.MatchContains, "发货"), 1)}, text: "发货", wantID: 2},
		{name: "regex beats lower contains", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchContains, "订单"), withPriority(rule(2, kefu.MatchRegex, `订单\d+`), 1)}, text: "订单123", wantID: 2},
		{name: "regex loses to higher contains", rules: []kefu.AutoReplyRule{withPriority(rule(1, kefu.MatchContains, "订单"), 2), withPriority(rule(2, kefu.MatchRegex, `订单\d+`), 1)}, text: "订单123", wantID: 1},
		{name: "lower priority contains when higher incomplete", rules: []kefu.AutoReplyRule{withPriority(rule(1, kefu.MatchContains, "订单", "取消"), 2), rule(2, kefu.MatchAny, "订单")}, text: "订单在哪", wantID: 2},
		{name: "group scoped rule in its group", rules: []kefu.AutoReplyRule{withGroups(rule(1, kefu.MatchAny, "发货"), 4, 5)}, text: "发货", group: 5, wantID: 1},
		{name: "group scoped rule elsewhere", rules: []kefu.AutoReplyRule{withGroups(rule(1, kefu.MatchAny, "发货"), 4, 5)}, text: "发货", group: 6, wantID: 0},
		{name: "group scoped rule whole shop", rules: []kefu.AutoReplyRule{withGroups(rule(1, kefu.MatchAny, "发货"), 4)}, text: "发货", group: 0, wantID: 0},
		{name: "unscoped rule everywhere", rules: []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "发货")}, text: "发货", group: 9, wantID: 1},
		{name: "scoped higher skipped for unscoped", rules: []kefu.AutoReplyRule{withPriority(withGroups(rule(1, kefu.MatchAny, "发货"), 4), 9), rule(2, kefu.MatchAny, "发货")}, text: "发货", group: 3, wantID: 2},
		{name: "disabled rule skipped", rules: []kefu.AutoReplyRule{disabled(withPriority(rule(1, kefu.MatchAny, "发货"), 9)), rule(2, kefu.MatchAny, "发货")}, text: "发货", wantID: 2},
		{name: "disabled invalid rule ignored", rules: []kefu.AutoReplyRule{disabled(rule(1, kefu.MatchRegex, `(`)), rule(2, kefu.MatchAny, "发货")}, text: "发货", wantID: 2},
		{name: "no rules", text: "发货", wantID: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.rules)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, ok := m.Match(tt.text, tt.group)
			if tt.wantID == 0 {
				if ok {
					t.Fatalf("Match(%q) = rule %d, want none", tt.text, got.ID)
				}
				return
			}
			if !ok || got.ID != tt.wantID {
				t.Fatalf("Match(%q) = rule %d (%v), want rule %d", tt.text, got.ID, ok, tt.wantID)
			}
		})
	}
}

func TestMatchRepeated(t *testing.T) {
	// The scratch state is reused between calls; a pattern seen in one
	// message must not count for the next.
	m, err := Compile([]kefu.AutoReplyRule{rule(1, kefu.MatchContains, "发货", "时间")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, ok := m.Match("发货", 0); ok {
			t.Fatalf("call %d: 发货 alone matched", i)
		}
		if _, ok := m.Match("时间", 0); ok {
			t.Fatalf("call %d: 时间 alone matched", i)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	manyRegex := make([]kefu.AutoReplyRule, MaxRegexRules+1)
	for i := range manyRegex {
		manyRegex[i] = rule(int64(i+1), kefu.MatchRegex, `订单\d+`)
	}
	tests := []struct {
		name      string
		rules     []kefu.AutoReplyRule
		wantField string
		wantCode  string
	}{
		{"bad regex", []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "a"), rule(2, kefu.MatchRegex, `(`)}, "rules[1].patterns[0]", "invalid_regex"},
		{"pattern only punctuation", []kefu.AutoReplyRule{rule(1, kefu.MatchAny, "发货", "？？")}, "rules[0].patterns[1]", "invalid_pattern"},
		{"bad kind", []kefu.AutoReplyRule{rule(1, "fuzzy", "a")}, "rules[0].match", "invalid_match"},
		{"too many regex rules", manyRegex, "rules", "invalid_regex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.rules)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Compile error = %v, want a *FieldError", err)
			}
			if fe.Field != tt.wantField || fe.Code != tt.wantCode {
				t.Fatalf("Compile error = %s %s (%s), want %s %s", fe.Field, fe.Code, fe.Message, tt.wantField, tt.wantCode)
			}
		})
	}
}

// TestMatch1000Rules checks the indexed matcher against the obvious one:
// every rule tried in turn.
func TestMatch1000Rules(t *testing.T) {
	rules := shopRules(1000)
	m, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range sampleMessages() {
		for _, group := range []int64{0, 1, 2} {
			want, wantOK := naiveMatch(rules, text, group)
			got, ok := m.Match(text, group)
			if ok != wantOK || got.ID != want.ID {
				t.Errorf("Match(%q, %d) = %d %v, want %d %v", text, group, got.ID, ok, want.ID, wantOK)
			}
		}
	}
}

func naiveMatch(rules []kefu.AutoReplyRule, text string, group int64) (kefu.AutoReplyRule, bool) {
	msg := Fold(text)
	var best kefu.AutoReplyRule
	found := false
	for _, r := range rules {
		if !r.Enabled || (len(r.GroupIDs) > 0 && !containsID(r.GroupIDs, group)) {
			continue
		}
		if !naiveRuleMatches(r, msg) {
			continue
		}
		if !found || r.Priority > best.Priority || (r.Priority == best.Priority && r.ID < best.ID) {
			best, found = r, true
		}
	}
	return best, found
}

func naiveRuleMatches(r kefu.AutoReplyRule, msg string) bool {
	switch r.Match {
	case kefu.MatchExact:
		for _, p := range r.Patterns {
			if Fold(p) == msg {
				return true
			}
		}
	case kefu.MatchAny:
		for _, p := range r.Patterns {
			if strings.Contains(msg, Fold(p)) {
				return true
			}
		}
	case kefu.MatchContains:
		for _, p := range r.Patterns {
			if !strings.Contains(msg, Fold(p)) {
				return false
			}
		}
		return true
	case kefu.MatchRegex:
		re, err := compileRegex("", r.Patterns[0])
		return err == nil && re.MatchString(msg)
	}
	return false
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// TestMatchConcurrent has goroutines share one Matcher, as a shop's
// conversations do; run with -race it checks the scratch state is not shared.
func TestMatchConcurrent(t *testing.T) {
	rules := shopRules(1000)
	m, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	msgs := sampleMessages()
	want := make([]int64, len(msgs))
	for i, text := range msgs {
		r, _ := naiveMatch(rules, text, 0)
		want[i] = r.ID
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				i := (g + n) % len(msgs)
				if got, _ := m.Match(msgs[i], 0); got.ID != want[i] {
					errs <- fmt.Sprintf("Match(%q) = %d, want %d", msgs[i], got.ID, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
