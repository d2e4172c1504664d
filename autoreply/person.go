package autoreply

import (
	"strings"

	"github.com/kefu/kefu"
)

// askExact are messages that, folded, ask for a person by themselves;
// askWithin are phrases that ask for one wherever they appear.
var (
	askExact  = []string{"转人工", "人工", "人工客服", "真人", "客服", "human", "agent", "person"}
	askWithin = []string{"转人工", "人工客服", "找人工", "真人客服"}
)

// AsksForPerson reports whether a buyer's message asks for a person (转人工).
func AsksForPerson(text string) bool {
	f := Fold(text)
	for _, w := range askExact {
		if f == w {
			return true
		}
	}
	for _, w := range askWithin {
		if strings.Contains(f, w) {
			return true
		}
	}
	return false
}

// ordinary are buyer messages of every kind, none about one topic: a rule
// that answers most of them would answer almost anything.
var ordinary = []string{
	"你好", "在吗", "这个多少钱", "hello", "有货吗", "什么时候发货", "能便宜点吗", "谢谢", "好的", "尺码怎么选",
	"可以退货吗", "我要投诉", "发票怎么开", "？", "亲", "这款有红色的吗", "质量怎么样", "明天能到吗", "ok", "😊",
}

// FiresOnEverything reports whether r, alone, answers at least 80 % of a
// set of ordinary buyer messages about every kind of thing: a rule the
// settings page warns about.
func FiresOnEverything(r kefu.AutoReplyRule) bool {
	r.Enabled, r.GroupIDs = true, nil
	m, err := Compile([]kefu.AutoReplyRule{r})
	if err != nil {
		return false
	}
	n := 0
	for _, msg := range ordinary {
		if _, ok := m.Match(msg, 0); ok {
			n++
		}
	}
	return n*5 >= len(ordinary)*4
}
