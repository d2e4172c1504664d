// Package autoreply decides what the shop's assistant (店小蜜) answers: it
// folds text for matching, compiles a shop's keyword rules into a Matcher,
// validates rules and assistant settings field by field, fills variables in
// answers and reads business hours. It does no I/O and keeps no state beyond
// what a Matcher holds.
//
// # Folding
//
// Before matching, the buyer's message and every rule's patterns are folded
// (Fold):
//
//   - full-width ASCII forms (U+FF01–U+FF5E) become ASCII, so "ＶＩＰ" is
//     "VIP"; half-width katakana is left alone;
//   - letters are lower-cased (unicode.ToLower);
//   - traditional Chinese characters become simplified ones, character by
//     character. The table is OpenCC's t2s character dictionary
//     (github.com/longbridgeapp/opencc) reduced to single characters: every
//     character of U+4E00–U+9FFF and U+3400–U+4DBF that t2s turns, on its
//     own, into one different character (about 3,750 of them). Phrase-level
//     conversions are not applied, so a phrase whose simplified form differs
//     beyond its characters is not matched across scripts. The table is
//     built on first use (about 10 ms); Prepare builds it ahead and reports
//     whether OpenCC's dictionary loaded. Without it folding does everything
//     else and leaves traditional characters as they are;
//   - white space is removed, and so is punctuation: every ASCII character
//     that is not a letter or digit (?!.,~+-$ ...), every Unicode punctuation
//     character (。，？！、：；“”‘’（）《》【】…— ...), control characters and
//     invisible ones (zero-width spaces and joiners, variation selectors).
//     Emoji and other symbols (￥, ×, ❤) are kept.
//
// So "发 货 时间？" and "發貨時間" both fold to "发货时间", and a pattern that is
// only punctuation folds to "" and is refused.
//
// # Matching
//
// A Matcher holds a shop's enabled rules (disabled ones are skipped). For a
// message, each kind of rule matches as follows, on the folded message:
//
//   - exact: the message equals one of the folded patterns;
//   - contains: the message holds every pattern;
//   - any: the message holds at least one pattern;
//   - regex: the rule's one pattern, a Go (RE2) regular expression, matches
//     somewhere in the folded message. The expression itself is not folded
//     (folding would change its syntax), so it must be written for folded
//     text: lower case, simplified characters, no spaces or punctuation;
//     one whose literal text folded text never holds ("SF" outside (?i),
//     "訂單", a space, "\.") is refused, since it could never fire. An
//     expression is at most kefu.MaxRegexBytes bytes, its compiled
//     program at most 2,000 instructions, it must not match an empty
//     message (it would answer everything), and a shop has at most
//     MaxRegexRules regex rules, since each may run on every message.
//
// A rule with no GroupIDs applies to every conversation; one with GroupIDs
// only to conversations routed to one of those groups. Of the rules that
// match, the one with the highest Priority fires; among equals, the oldest
// (lowest ID).
//
// Matching does not try every pattern in turn: contains and any patterns are
// indexed by their first two characters (single-character ones by that
// character), the message is scanned once, exact patterns are a map lookup,
// and a regex rule runs only when it could outrank the best rule found so
// far. With 1,000 rules one match takes a few microseconds.
//
// # Variables
//
// Answers may hold variables, written {name}: {buyer.name}, {shop.name},
// {order.no}, {order.status}, {order.tracking_no} and {agent.name} in rule
// answers and every reply; besides those {queue.position} and {queue.eta} in
// the busy reply only, and {hours.next} in the off-hours reply only. Braces
// holding anything else are refused (unknown_variable). Fill replaces the
// variables; one with no value reads as a fallback (see Fill).
//
// # Business hours
//
// Spans are wall-clock minutes in the hours' time zone: 09:00–18:00 is
// 09:00–18:00 local on a day the clocks change, too. End is exclusive and
// 1440 is midnight. A holiday (a date in the zone) is closed all day. On a
// spring-forward day a span starting at a wall time that does not exist
// (02:30 in America/New_York on 2026-03-08) opens at the first instant after
// the gap (03:00 EDT). On a fall-back day the repeated hour is read from the
// clock: with a span 01:30–03:00 on 2026-11-01 in America/New_York the shop
// opens at 01:30 EDT, closes while the clocks show 01:00–01:29 EST the second
// time, and opens again at 01:30 EST until 03:00 EST.
package autoreply
