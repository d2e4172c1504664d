package autoreply

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu/kefu"
)

// MaxRegexRules is how many regex rules a shop's enabled rules may hold:
// unlike the other kinds, each may run on every message.
const MaxRegexRules = 100

// maxRegexInsts bounds a regex's compiled program, which is what a match
// costs per byte of the message; 2,000 admits any sensible keyword
// expression and refuses repetitions such as (a{100}){100}.
const maxRegexInsts = 2000

// maxDaySpans bounds the open spans of one weekday.
const maxDaySpans = 24

// maxHolidays bounds the holidays of a schedule: a year of them.
const maxHolidays = 366

// Limits of the assistant's own name and avatar.
const (
	maxAssistantNameRunes = 32
	maxAvatarRunes        = 2
)

// FieldError names the field of a request that is wrong (a JSON path such
// as "patterns[1]", "answer", "hours.weekly[2][0]") with a stable code and
// an English sentence.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// Error returns the field and the sentence.
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldError(field, code, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidateRule checks one keyword rule as a client sent it: its name, match
// kind and patterns (a regex must compile within the caps), answer (always
// required, with known variables only), follow-up questions, priority and
// handoff. It returns nil for a valid rule.
func ValidateRule(r kefu.AutoReplyRule) *FieldError {
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Name)); n < 1 || n > kefu.MaxNameRunes {
		return fieldError("name", "invalid_name", "name must be 1 to %d characters.", kefu.MaxNameRunes)
	}
	if err := validateMatch(r); err != nil {
		return err
	}
	if err := validateReply("answer", r.Answer, true, nil); err != nil {
		return err
	}
	if len(r.FollowUps) > kefu.MaxRuleFollowUps {
		return fieldError("follow_ups", "invalid_follow_ups", "a rule has at most %d follow-up questions.", kefu.MaxRuleFollowUps)
	}
	for i, q := range r.FollowUps {
		if !questionOK(q) {
			return fieldError(fmt.Sprintf("follow_ups[%d]", i), "invalid_follow_ups", "a follow-up question must be 1 to %d characters.", kefu.MaxQuestionRunes)
		}
	}
	if r.Priority < 0 || r.Priority > kefu.MaxRulePriority {
		return fieldError("priority", "invalid_priority", "priority must be 0 to %d.", kefu.MaxRulePriority)
	}
	switch r.Handoff {
	case kefu.HandoffNone, kefu.HandoffHuman:
		if r.HandoffGroupID != 0 {
			return fieldError("handoff_group_id", "invalid_handoff", "handoff_group_id is only for handoff \"group\".")
		}
	case kefu.HandoffGroup:
		if r.HandoffGroupID <= 0 {
			return fieldError("handoff_group_id", "invalid_handoff", "handoff \"group\" needs handoff_group_id.")
		}
	default:
		return fieldError("handoff", "invalid_handoff", "handoff must be \"\", \"human\" or \"group\".")
	}
	return nil
}

// validateMatch checks what matching needs of a rule: its kind and patterns.
// Compile checks no more, so a rule stored under older limits still loads.
func validateMatch(r kefu.AutoReplyRule) *FieldError {
	if !r.Match.Valid() {
		return fieldError("match", "invalid_match", "match must be \"exact\", \"contains\", \"any\" or \"regex\".")
	}
	if r.Match == kefu.MatchRegex {
		if len(r.Patterns) != 1 {
			return fieldError("patterns", "invalid_regex", "a regex rule has exactly one pattern.")
		}
		_, err := compileRegex("patterns[0]", r.Patterns[0])
		return err
	}
	if len(r.Patterns) < 1 || len(r.Patterns) > kefu.MaxRulePatterns {
		return fieldError("patterns", "invalid_pattern", "a rule has 1 to %d patterns.", kefu.MaxRulePatterns)
	}
	for i, p := range r.Patterns {
		field := fmt.Sprintf("patterns[%d]", i)
		if n := utf8.RuneCountInString(p); n < 1 || n > kefu.MaxPatternRunes {
			return fieldError(field, "invalid_pattern", "a pattern must be 1 to %d characters.", kefu.MaxPatternRunes)
		}
		if Fold(p) == "" {
			return fieldError(field, "invalid_pattern", "a pattern must hold more than spaces and punctuation, which matching ignores.")
		}
	}
	return nil
}

// compileRegex compiles a regex rule's pattern within the caps.
func compileRegex(field, src string) (*regexp.Regexp, *FieldError) {
	if strings.TrimSpace(src) == "" {
		return nil, fieldError(field, "invalid_regex", "the regular expression is empty.")
	}
	if len(src) > kefu.MaxRegexBytes {
		return nil, fieldError(field, "regex_too_large", "a regular expression is at most %d bytes.", kefu.MaxRegexBytes)
	}
	// The program's size is checked before regexp compiles it for real: it
	// is what each message pays, and the source's length does not bound it.
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, fieldError(field, "invalid_regex", "the regular expression does not compile: %v.", err)
	}
	if r, ok := unfoldedLiteral(re); ok {
		return nil, fieldError(field, "invalid_regex", "the regular expression is matched against folded text (lower case, simplified characters, no spaces or punctuation), so its %q never matches.", r)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, fieldError(field, "invalid_regex", "the regular expression does not compile: %v.", err)
	}
	if len(prog.Inst) > maxRegexInsts {
		return nil, fieldError(field, "regex_too_large", "the regular expression is too complex (%d instructions, at most %d).", len(prog.Inst), maxRegexInsts)
	}
	compiled, err := regexp.Compile(src)
	if err != nil {
		return nil, fieldError(field, "invalid_regex", "the regular expression does not compile: %v.", err)
	}
	if compiled.MatchString("") {
		return nil, fieldError(field, "invalid_regex", "the regular expression matches an empty message, so it would answer every message.")
	}
	return compiled, nil
}

// Which variables each reply may hold beside kefu.PhraseVariables.
var (
	busyVariables     = []string{"queue.position", "queue.eta"}
	offHoursVariables = []string{"hours.next"}
)

// validateReply checks a reply text: its length and variables (the phrase
// variables and extra).
func validateReply(field, text string, required bool, extra []string) *FieldError {
	if strings.TrimSpace(text) == "" {
		if required {
			return fieldError(field, "empty_answer", "%s must not be empty.", field)
		}
		return nil
	}
	if utf8.RuneCountInString(text) > kefu.MaxReplyRunes {
		return fieldError(field, "text_too_long", "%s must be at most %d characters.", field, kefu.MaxReplyRunes)
	}
	for _, v := range Variables(text) {
		if !slices.Contains(kefu.PhraseVariables, v) && !slices.Contains(extra, v) {
			allowed := append(slices.Clone(kefu.PhraseVariables), extra...)
			for i, a := range allowed {
				allowed[i] = "{" + a + "}"
			}
			return fieldError(field, "unknown_variable", "unknown variable {%s}; %s may hold %s.", truncateRunes(v, 40), field, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

func questionOK(q string) bool {
	n := utf8.RuneCountInString(strings.TrimSpace(q))
	return n >= 1 && n <= kefu.MaxQuestionRunes
}

// ValidateSettings checks the assistant settings: its name and avatar,
// every reply (length, and the variables that reply may hold), the quick
// questions, the reply rate, the holding delay, the off-hours mode and the
// business hours (time zone, spans, holidays). It returns nil for valid
// settings.
func ValidateSettings(s kefu.AssistantSettings) *FieldError {
	if n := utf8.RuneCountInString(strings.TrimSpace(s.Name)); n < 1 || n > maxAssistantNameRunes {
		return fieldError("name", "invalid_name", "name must be 1 to %d characters.", maxAssistantNameRunes)
	}
	if utf8.RuneCountInString(s.Avatar) > maxAvatarRunes {
		return fieldError("avatar", "invalid_avatar", "avatar is at most %d characters.", maxAvatarRunes)
	}
	replies := []struct {
		field string
		text  string
		extra []string
	}{
		{"greeting", s.Greeting, nil},
		{"fallback_reply", s.FallbackReply, nil},
		{"handover_reply", s.HandoverReply, nil},
		{"busy_reply", s.BusyReply, busyVariables},
		{"holding_reply", s.HoldingReply, nil},
		{"off_hours_reply", s.OffHoursReply, offHoursVariables},
	}
	for _, r := range replies {
		if err := validateReply(r.field, r.text, false, r.extra); err != nil {
			return err
		}
	}
	if len(s.QuickQuestions) > kefu.MaxQuickQuestions {
		return fieldError("quick_questions", "invalid_quick_questions", "at most %d quick questions.", kefu.MaxQuickQuestions)
	}
	for i, q := range s.QuickQuestions {
		if !questionOK(q) {
			return fieldError(fmt.Sprintf("quick_questions[%d]", i), "invalid_quick_questions", "a quick question must be 1 to %d characters.", kefu.MaxQuestionRunes)
		}
	}
	if s.RepliesPerMinute < 1 || s.RepliesPerMinute > kefu.MaxRepliesPerMinute {
		return fieldError("replies_per_minute", "invalid_replies_per_minute", "replies_per_minute must be 1 to %d.", kefu.MaxRepliesPerMinute)
	}
	if s.HoldingSeconds < 0 || s.HoldingSeconds > kefu.MaxHoldingSeconds {
		return fieldError("holding_seconds", "invalid_holding_seconds", "holding_seconds must be 0 to %d.", kefu.MaxHoldingSeconds)
	}
	if s.OffHoursMode != kefu.OffHoursQueue && s.OffHoursMode != kefu.OffHoursLeaveMessage {
		return fieldError("off_hours_mode", "invalid_off_hours_mode", "off_hours_mode must be \"queue\" or \"leave_message\".")
	}
	return validateHours(s.Hours)
}

// validateHours checks a schedule, enabled or not, so that turning it on
// later cannot start a broken one. Only a disabled schedule may leave the
// time zone empty.
func validateHours(h kefu.BusinessHours) *FieldError {
	if h.Enabled || h.TimeZone != "" {
		// "Local" would be whatever zone the server runs in.
		if _, err := time.LoadLocation(h.TimeZone); err != nil || h.TimeZone == "" || h.TimeZone == "Local" {
			return fieldError("hours.time_zone", "invalid_time_zone", "time_zone must be an IANA time zone such as Asia/Shanghai.")
		}
	}
	for d, spans := range h.Weekly {
		if len(spans) > maxDaySpans {
			return fieldError(fmt.Sprintf("hours.weekly[%d]", d), "invalid_hours", "a day has at most %d spans.", maxDaySpans)
		}
		for i, sp := range spans {
			if sp.Start < 0 || sp.Start >= sp.End || sp.End > 24*60 {
				return fieldError(fmt.Sprintf("hours.weekly[%d][%d]", d, i), "invalid_hours", "a span's start and end are minutes after midnight with 0 <= start < end <= 1440.")
			}
			for j, other := range spans[:i] {
				if sp.Start < other.End && other.Start < sp.End {
					return fieldError(fmt.Sprintf("hours.weekly[%d][%d]", d, i), "invalid_hours", "the span overlaps hours.weekly[%d][%d].", d, j)
				}
			}
		}
	}
	if len(h.Holidays) > maxHolidays {
		return fieldError("hours.holidays", "invalid_holiday", "at most %d holidays.", maxHolidays)
	}
	for i, day := range h.Holidays {
		if t, err := time.Parse(time.DateOnly, day); err != nil || t.Format(time.DateOnly) != day {
			return fieldError(fmt.Sprintf("hours.holidays[%d]", i), "invalid_holiday", "a holiday is a date written YYYY-MM-DD.")
		}
	}
	return nil
}

// unfoldedLiteral finds a literal character in re that folded text never
// holds (an upper-case letter outside (?i), a traditional character, a space
// or punctuation), which would make the rule silently never fire.
func unfoldedLiteral(re *syntax.Regexp) (rune, bool) {
	if re.Op == syntax.OpLiteral {
		table := t2sTable()
		for _, r := range re.Rune {
			f, keep := r, true
			if r < utf8.RuneSelf {
				keep = asciiClass[r] == asciiKeep || (asciiClass[r] == asciiLower && re.Flags&syntax.FoldCase != 0)
			} else {
				f, keep = foldRune(r, table)
			}
			if !keep || (f != r && (re.Flags&syntax.FoldCase == 0 || unicode.ToLower(r) != f)) {
				return r, true
			}
		}
	}
	for _, sub := range re.Sub {
		if r, ok := unfoldedLiteral(sub); ok {
			return r, true
		}
	}
	return 0, false
}
