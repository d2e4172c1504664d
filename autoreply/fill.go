package autoreply

import (
	"slices"
	"strings"
)

// fallbacks are what a variable with no value reads as. They are chosen so
// the usual sentences still read: "{buyer.name}您好" → "亲您好", "{order.no}已发货"
// → "您的订单已发货", "预计{queue.eta}为您服务" → "预计稍后为您服务". A value
// that no wording can stand in for (a status, a tracking number, a place in
// line) becomes "".
var fallbacks = map[string]string{
	"buyer.name":        "亲",
	"shop.name":         "本店",
	"agent.name":        "客服",
	"order.no":          "您的订单",
	"order.status":      "",
	"order.tracking_no": "",
	"queue.position":    "",
	"queue.eta":         "稍后",
	"hours.next":        "营业时间内",
}

// Fill replaces the variables in text with vals (keyed without braces, e.g.
// "buyer.name"). A known variable with no value (missing or "") is replaced
// by its fallback: buyer.name "亲", shop.name "本店", agent.name "客服",
// order.no "您的订单", queue.eta "稍后", hours.next "营业时间内"; order.status,
// order.tracking_no and queue.position by "". Braces holding anything else
// are left as they are (validation refuses them), and text outside variables
// is kept byte for byte.
func Fill(text string, vals map[string]string) string {
	if !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for {
		start, end, ok := nextVariable(text)
		if !ok {
			b.WriteString(text)
			return b.String()
		}
		name := text[start+1 : end]
		b.WriteString(text[:start])
		if fallback, known := fallbacks[name]; !known {
			b.WriteString(text[start : end+1])
		} else if v := vals[name]; v != "" {
			b.WriteString(v)
		} else {
			b.WriteString(fallback)
		}
		text = text[end+1:]
	}
}

// Variables returns the variables text holds (the names between braces), in
// order of first use and without duplicates. Like the quick phrases' check,
// braces with nothing or anything but a name in them ("{}", "{ order.no }")
// count as a variable, so validation can refuse them.
func Variables(text string) []string {
	var names []string
	for {
		start, end, ok := nextVariable(text)
		if !ok {
			return names
		}
		if name := text[start+1 : end]; !slices.Contains(names, name) {
			names = append(names, name)
		}
		text = text[end+1:]
	}
}

// nextVariable finds the first "{...}" in text holding no brace: the
// indexes of its "{" and "}".
func nextVariable(text string) (start, end int, ok bool) {
	start = -1
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '{':
			start = i
		case '}':
			if start >= 0 {
				return start, i, true
			}
		}
	}
	return 0, 0, false
}
