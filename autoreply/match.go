package autoreply

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/kefu/kefu"
)

// Matcher answers messages with a shop's keyword rules. It is built by
// Compile, never changed after, and safe for concurrent use.
type Matcher struct {
	// rules are the enabled rules, best first (priority desc, id asc), so
	// that of two matching rules the one with the lower index wins.
	rules []compiledRule
	// exact maps a folded exact pattern to the rules holding it, ascending.
	exact map[string][]int32
	// patterns are the distinct folded contains and any patterns;
	// patternRules[p] are the rules holding pattern p, ascending.
	patterns     []string
	patternRules [][]int32
	// singles finds one-character patterns by their character, bigrams the
	// longer ones by their first two characters.
	singles map[rune]int32
	bigrams map[uint64][]int32
	// regexes are the regex rules, ascending (best first).
	regexes []int32
	scratch sync.Pool
}

type compiledRule struct {
	rule   kefu.AutoReplyRule
	groups []int64
	need   int // distinct patterns a contains rule needs
	re     *regexp.Regexp
}

// scratch is one Match's working state. Marks are generation-stamped so a
// Match need not clear them.
type scratch struct {
	gen       uint32
	text      []byte
	seen      []uint32 // per pattern: gen when seen
	ruleGen   []uint32 // per rule: gen when counted
	ruleCount []int32
}

// Compile builds a Matcher over the shop's enabled rules (disabled ones are
// skipped). It returns a *FieldError for an invalid rule, its field
// prefixed with the rule's index ("rules[3].patterns[0]"), or when the
// enabled rules hold more than MaxRegexRules regex rules. It checks only
// what matching needs, so a rule stored under older limits still loads.
func Compile(rules []kefu.AutoReplyRule) (*Matcher, error) {
	// Pay the folding table's build here, not in the first Match. Without
	// OpenCC folding still works, leaving traditional characters be;
	// Prepare's caller reports that.
	_ = Prepare()
	type indexed struct {
		at   int
		rule kefu.AutoReplyRule
	}
	var enabled []indexed
	regexCount := 0
	for i, r := range rules {
		if !r.Enabled {
			continue
		}
		if err := validateMatch(r); err != nil {
			err.Field = fmt.Sprintf("rules[%d].%s", i, err.Field)
			return nil, err
		}
		if r.Match == kefu.MatchRegex {
			regexCount++
		}
		enabled = append(enabled, indexed{i, r})
	}
	if regexCount > MaxRegexRules {
		return nil, fieldError("rules", "invalid_regex", "a shop has at most %d enabled regex rules; these have %d.", MaxRegexRules, regexCount)
	}
	slices.SortStableFunc(enabled, func(a, b indexed) int {
		return cmp.Or(cmp.Compare(b.rule.Priority, a.rule.Priority), cmp.Compare(a.rule.ID, b.rule.ID))
	})

	m := &Matcher{
		rules:   make([]compiledRule, len(enabled)),
		exact:   map[string][]int32{},
		singles: map[rune]int32{},
		bigrams: map[uint64][]int32{},
	}
	patternID := map[string]int32{}
	for ri, e := range enabled {
		r := e.rule
		c := &m.rules[ri]
		c.rule = r
		c.groups = r.GroupIDs
		idx := int32(ri)
		switch r.Match {
		case kefu.MatchRegex:
			re, err := compileRegex("patterns[0]", r.Patterns[0])
			if err != nil {
				err.Field = fmt.Sprintf("rules[%d].%s", e.at, err.Field)
				return nil, err
			}
			c.re = re
			m.regexes = append(m.regexes, idx)
		case kefu.MatchExact:
			for _, p := range r.Patterns {
				f := Fold(p)
				if list := m.exact[f]; len(list) == 0 || list[len(list)-1] != idx {
					m.exact[f] = append(list, idx)
				}
			}
		case kefu.MatchContains, kefu.MatchAny:
			for _, p := range r.Patterns {
				f := Fold(p)
				id, ok := patternID[f]
				if !ok {
					id = int32(len(m.patterns))
					patternID[f] = id
					m.patterns = append(m.patterns, f)
					m.patternRules = append(m.patternRules, nil)
					m.index(f, id)
				}
				// A pattern given twice counts once toward contains.
				if list := m.patternRules[id]; len(list) == 0 || list[len(list)-1] != idx {
					m.patternRules[id] = append(list, idx)
					c.need++
				}
			}
		}
	}
	m.scratch.New = func() any {
		return &scratch{
			seen:      make([]uint32, len(m.patterns)),
			ruleGen:   make([]uint32, len(m.rules)),
			ruleCount: make([]int32, len(m.rules)),
		}
	}
	return m, nil
}

// index files a folded pattern under its first one or two characters.
func (m *Matcher) index(f string, id int32) {
	r1, n1 := utf8.DecodeRuneInString(f)
	if n1 == len(f) {
		m.singles[r1] = id
		return
	}
	r2, _ := utf8.DecodeRuneInString(f[n1:])
	k := bigram(r1, r2)
	m.bigrams[k] = append(m.bigrams[k], id)
}

func bigram(r1, r2 rune) uint64 { return uint64(uint32(r1))<<32 | uint64(uint32(r2)) }

// Match returns the rule that answers text in a conversation routed to
// groupID (0: the whole shop), or false when none does.
func (m *Matcher) Match(text string, groupID int64) (kefu.AutoReplyRule, bool) {
	if len(m.rules) == 0 {
		return kefu.AutoReplyRule{}, false
	}
	sc := m.scratch.Get().(*scratch)
	defer m.scratch.Put(sc)
	sc.gen++
	if sc.gen == 0 {
		clear(sc.seen)
		clear(sc.ruleGen)
		sc.gen = 1
	}
	sc.text = appendFold(sc.text[:0], text, t2sTable())
	msg := sc.text

	best := int32(len(m.rules)) // no rule yet; a lower index is a better rule
	for _, ri := range m.exact[string(msg)] {
		if m.rules[ri].applies(groupID) {
			best = ri
			break
		}
	}

	// hit records that pattern id occurs in the message.
	hit := func(id int32) {
		if sc.seen[id] == sc.gen {
			return
		}
		sc.seen[id] = sc.gen
		for _, ri := range m.patternRules[id] {
			if ri >= best {
				// Ascending: no later rule can win either, and best only
				// falls, so skipping a count here never loses a match.
				return
			}
			c := &m.rules[ri]
			if !c.applies(groupID) {
				continue
			}
			if c.rule.Match == kefu.MatchContains {
				if sc.ruleGen[ri] != sc.gen {
					sc.ruleGen[ri] = sc.gen
					sc.ruleCount[ri] = 0
				}
				sc.ruleCount[ri]++
				if int(sc.ruleCount[ri]) < c.need {
					continue
				}
			}
			best = ri
			return
		}
	}
	for i := 0; i < len(msg); {
		r1, n1 := utf8.DecodeRune(msg[i:])
		if id, ok := m.singles[r1]; ok {
			hit(id)
		}
		if i+n1 < len(msg) {
			r2, _ := utf8.DecodeRune(msg[i+n1:])
			for _, id := range m.bigrams[bigram(r1, r2)] {
				p := m.patterns[id]
				if sc.seen[id] != sc.gen && len(msg)-i >= len(p) && string(msg[i:i+len(p)]) == p {
					hit(id)
				}
			}
		}
		i += n1
	}

	for _, ri := range m.regexes {
		if ri >= best {
			break
		}
		if c := &m.rules[ri]; c.applies(groupID) && c.re.Match(msg) {
			best = ri
			break
		}
	}
	if int(best) == len(m.rules) {
		return kefu.AutoReplyRule{}, false
	}
	return m.rules[best].rule, true
}

// applies reports whether the rule is scoped to a conversation routed to
// groupID.
func (c *compiledRule) applies(groupID int64) bool {
	return len(c.groups) == 0 || slices.Contains(c.groups, groupID)
}
