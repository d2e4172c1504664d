package autoreply

import (
	"strings"
	"testing"

	"github.com/kefu/kefu"
)

func validRule() kefu.AutoReplyRule {
	return kefu.AutoReplyRule{Name: "发货时间", Match: kefu.MatchContains, Patterns: []string{"发货"}, Answer: "{buyer.name}您好，48小时内发货", Priority: 1}
}

func TestValidateRule(t *testing.T) {
	tests := []struct {
		name      string
		change    func(r *kefu.AutoReplyRule)
		wantField string
		wantCode  string
	}{
		{"valid", func(r *kefu.AutoReplyRule) {}, "", ""},
		{"valid regex", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`订单\d+`} }, "", ""},
		{"valid group handoff", func(r *kefu.AutoReplyRule) { r.Handoff, r.HandoffGroupID = kefu.HandoffGroup, 3 }, "", ""},
		{"empty name", func(r *kefu.AutoReplyRule) { r.Name = "  " }, "name", "invalid_name"},
		{"long name", func(r *kefu.AutoReplyRule) { r.Name = strings.Repeat("名", kefu.MaxNameRunes+1) }, "name", "invalid_name"},
		{"bad match", func(r *kefu.AutoReplyRule) { r.Match = "fuzzy" }, "match", "invalid_match"},
		{"no patterns", func(r *kefu.AutoReplyRule) { r.Patterns = nil }, "patterns", "invalid_pattern"},
		{"too many patterns", func(r *kefu.AutoReplyRule) { r.Patterns = make([]string, kefu.MaxRulePatterns+1) }, "patterns", "invalid_pattern"},
		{"empty pattern", func(r *kefu.AutoReplyRule) { r.Patterns = []string{"发货", ""} }, "patterns[1]", "invalid_pattern"},
		{"long pattern", func(r *kefu.AutoReplyRule) { r.Patterns = []string{strings.Repeat("字", kefu.MaxPatternRunes+1)} }, "patterns[0]", "invalid_pattern"},
		{"pattern folds to empty", func(r *kefu.AutoReplyRule) { r.Patterns = []string{"？！ 。"} }, "patterns[0]", "invalid_pattern"},
		{"regex two patterns", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{"a", "b"} }, "patterns", "invalid_regex"},
		{"regex does not compile", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`订单(`} }, "patterns[0]", "invalid_regex"},
		{"regex matches empty", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`a*`} }, "patterns[0]", "invalid_regex"},
		{"regex too long", func(r *kefu.AutoReplyRule) {
			r.Match, r.Patterns = kefu.MatchRegex, []string{strings.Repeat("a", kefu.MaxRegexBytes+1)}
		}, "patterns[0]", "regex_too_large"},
		{"regex program too large", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`((abc){30}){30}`} }, "patterns[0]", "regex_too_large"},
		{"regex upper-case literal", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`SF\d+`} }, "patterns[0]", "invalid_regex"},
		{"regex traditional literal", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`訂單\d+`} }, "patterns[0]", "invalid_regex"},
		{"regex space literal", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`订单 \d+`} }, "patterns[0]", "invalid_regex"},
		{"regex case-insensitive literal", func(r *kefu.AutoReplyRule) { r.Match, r.Patterns = kefu.MatchRegex, []string{`(?i)SF\d+`} }, "", ""},
		{"regex escapes and classes", func(r *kefu.AutoReplyRule) {
			r.Match, r.Patterns = kefu.MatchRegex, []string{`^(订单|单号)[0-9a-z]{6,}$`}
		}, "", ""},
		{"empty answer", func(r *kefu.AutoReplyRule) { r.Answer = " " }, "answer", "empty_answer"},
		{"empty answer with handoff", func(r *kefu.AutoReplyRule) { r.Answer, r.Handoff = "", kefu.HandoffHuman }, "answer", "empty_answer"},
		{"long answer", func(r *kefu.AutoReplyRule) { r.Answer = strings.Repeat("答", kefu.MaxReplyRunes+1) }, "answer", "text_too_long"},
		{"unknown variable", func(r *kefu.AutoReplyRule) { r.Answer = "单号{订单号}" }, "answer", "unknown_variable"},
		{"queue variable in answer", func(r *kefu.AutoReplyRule) { r.Answer = "您排第{queue.position}位" }, "answer", "unknown_variable"},
		{"too many follow-ups", func(r *kefu.AutoReplyRule) { r.FollowUps = make([]string, kefu.MaxRuleFollowUps+1) }, "follow_ups", "invalid_follow_ups"},
		{"empty follow-up", func(r *kefu.AutoReplyRule) { r.FollowUps = []string{"运费多少", ""} }, "follow_ups[1]", "invalid_follow_ups"},
		{"negative priority", func(r *kefu.AutoReplyRule) { r.Priority = -1 }, "priority", "invalid_priority"},
		{"priority too high", func(r *kefu.AutoReplyRule) { r.Priority = kefu.MaxRulePriority + 1 }, "priority", "invalid_priority"},
		{"unknown handoff", func(r *kefu.AutoReplyRule) { r.Handoff = "bot" }, "handoff", "invalid_handoff"},
		{"group handoff without group", func(r *kefu.AutoReplyRule) { r.Handoff = kefu.HandoffGroup }, "handoff_group_id", "invalid_handoff"},
		{"group id without group handoff", func(r *kefu.AutoReplyRule) { r.Handoff, r.HandoffGroupID = kefu.HandoffHuman, 2 }, "handoff_group_id", "invalid_handoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRule()
			tt.change(&r)
			checkFieldError(t, ValidateRule(r), tt.wantField, tt.wantCode)
		})
	}
}

func checkFieldError(t *testing.T, err *FieldError, wantField, wantCode string) {
	t.Helper()
	if wantCode == "" {
		if err != nil {
			t.Fatalf("error %s %s (%s), want none", err.Field, err.Code, err.Message)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %s %s", wantField, wantCode)
	}
	if err.Field != wantField || err.Code != wantCode {
		t.Fatalf("error %s %s (%s), want %s %s", err.Field, err.Code, err.Message, wantField, wantCode)
	}
	if err.Message == "" || !strings.HasPrefix(err.Error(), wantField+": ") {
		t.Fatalf("Error() = %q, want the field and a sentence", err.Error())
	}
}

func validSettings() kefu.AssistantSettings {
	s := kefu.AssistantSettings{
		Enabled:          true,
		Name:             "小蜜",
		Avatar:           "蜜",
		Greeting:         "{buyer.name}您好，欢迎光临{shop.name}",
		QuickQuestions:   []string{"什么时候发货", "运费多少"},
		BusyReply:        "您前面还有{queue.position}位，预计{queue.eta}",
		OffHoursReply:    "我们{hours.next}上班",
		RepliesPerMinute: kefu.DefaultRepliesPerMin,
		HoldingSeconds:   60,
		OffHoursMode:     kefu.OffHoursQueue,
	}
	s.Hours = kefu.BusinessHours{Enabled: true, TimeZone: "Asia/Shanghai", Holidays: []string{"2026-10-01"}}
	for d := 1; d <= 5; d++ {
		s.Hours.Weekly[d] = []kefu.TimeSpan{{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 18 * 60}}
	}
	return s
}

func TestValidateSettings(t *testing.T) {
	tests := []struct {
		name      string
		change    func(s *kefu.AssistantSettings)
		wantField string
		wantCode  string
	}{
		{"valid", func(s *kefu.AssistantSettings) {}, "", ""},
		{"disabled hours without zone", func(s *kefu.AssistantSettings) { s.Hours.Enabled, s.Hours.TimeZone = false, "" }, "", ""},
		{"span to midnight", func(s *kefu.AssistantSettings) { s.Hours.Weekly[6] = []kefu.TimeSpan{{Start: 1200, End: 1440}} }, "", ""},
		{"adjacent spans", func(s *kefu.AssistantSettings) {
			s.Hours.Weekly[6] = []kefu.TimeSpan{{Start: 60, End: 120}, {Start: 120, End: 180}}
		}, "", ""},
		{"empty name", func(s *kefu.AssistantSettings) { s.Name = "" }, "name", "invalid_name"},
		{"long name", func(s *kefu.AssistantSettings) { s.Name = strings.Repeat("蜜", 33) }, "name", "invalid_name"},
		{"long avatar", func(s *kefu.AssistantSettings) { s.Avatar = "小蜜蜂" }, "avatar", "invalid_avatar"},
		{"long greeting", func(s *kefu.AssistantSettings) { s.Greeting = strings.Repeat("好", kefu.MaxReplyRunes+1) }, "greeting", "text_too_long"},
		{"queue variable in greeting", func(s *kefu.AssistantSettings) { s.Greeting = "第{queue.position}位" }, "greeting", "unknown_variable"},
		{"hours variable in busy reply", func(s *kefu.AssistantSettings) { s.BusyReply = "{hours.next}" }, "busy_reply", "unknown_variable"},
		{"queue variable in off-hours reply", func(s *kefu.AssistantSettings) { s.OffHoursReply = "{queue.eta}" }, "off_hours_reply", "unknown_variable"},
		{"typo in holding reply", func(s *kefu.AssistantSettings) { s.HoldingReply = "{buyer.nmae}" }, "holding_reply", "unknown_variable"},
		{"long fallback", func(s *kefu.AssistantSettings) { s.FallbackReply = strings.Repeat("好", kefu.MaxReplyRunes+1) }, "fallback_reply", "text_too_long"},
		{"too many quick questions", func(s *kefu.AssistantSettings) { s.QuickQuestions = make([]string, kefu.MaxQuickQuestions+1) }, "quick_questions", "invalid_quick_questions"},
		{"long quick question", func(s *kefu.AssistantSettings) {
			s.QuickQuestions = []string{"好", strings.Repeat("问", kefu.MaxQuestionRunes+1)}
		}, "quick_questions[1]", "invalid_quick_questions"},
		{"zero replies per minute", func(s *kefu.AssistantSettings) { s.RepliesPerMinute = 0 }, "replies_per_minute", "invalid_replies_per_minute"},
		{"too many replies per minute", func(s *kefu.AssistantSettings) { s.RepliesPerMinute = kefu.MaxRepliesPerMinute + 1 }, "replies_per_minute", "invalid_replies_per_minute"},
		{"negative holding", func(s *kefu.AssistantSettings) { s.HoldingSeconds = -1 }, "holding_seconds", "invalid_holding_seconds"},
		{"holding too long", func(s *kefu.AssistantSettings) { s.HoldingSeconds = kefu.MaxHoldingSeconds + 1 }, "holding_seconds", "invalid_holding_seconds"},
		{"bad off-hours mode", func(s *kefu.AssistantSettings) { s.OffHoursMode = "ignore" }, "off_hours_mode", "invalid_off_hours_mode"},
		{"unknown zone", func(s *kefu.AssistantSettings) { s.Hours.TimeZone = "Mars/Olympus" }, "hours.time_zone", "invalid_time_zone"},
		{"local zone", func(s *kefu.AssistantSettings) { s.Hours.TimeZone = "Local" }, "hours.time_zone", "invalid_time_zone"},
		{"enabled without zone", func(s *kefu.AssistantSettings) { s.Hours.TimeZone = "" }, "hours.time_zone", "invalid_time_zone"},
		{"span end before start", func(s *kefu.AssistantSettings) { s.Hours.Weekly[2][0] = kefu.TimeSpan{Start: 600, End: 540} }, "hours.weekly[2][0]", "invalid_hours"},
		{"span past midnight", func(s *kefu.AssistantSettings) { s.Hours.Weekly[0] = []kefu.TimeSpan{{Start: 1380, End: 1500}} }, "hours.weekly[0][0]", "invalid_hours"},
		{"overlapping spans", func(s *kefu.AssistantSettings) {
			s.Hours.Weekly[3] = []kefu.TimeSpan{{Start: 540, End: 720}, {Start: 700, End: 800}}
		}, "hours.weekly[3][1]", "invalid_hours"},
		{"bad holiday", func(s *kefu.AssistantSettings) { s.Hours.Holidays = []string{"2026-10-01", "2026-02-30"} }, "hours.holidays[1]", "invalid_holiday"},
		{"holiday format", func(s *kefu.AssistantSettings) { s.Hours.Holidays = []string{"2026-1-1"} }, "hours.holidays[0]", "invalid_holiday"},
		{"too many holidays", func(s *kefu.AssistantSettings) { s.Hours.Holidays = make([]string, 367) }, "hours.holidays", "invalid_holiday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSettings()
			tt.change(&s)
			checkFieldError(t, ValidateSettings(s), tt.wantField, tt.wantCode)
		})
	}
}
