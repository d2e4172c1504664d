package autoreply

import (
	"testing"

	"github.com/kefu/kefu"
)

func TestAsksForPerson(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"转人工", true}, {"人工", true}, {"  人 工！", true}, {"HUMAN", true}, {"我要转人工客服", true}, {"找人工啊", true},
		{"轉人工", true}, {"人工智能是什么", false}, {"发货", false}, {"客服在吗", false},
	} {
		if got := AsksForPerson(c.text); got != c.want {
			t.Errorf("AsksForPerson(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

func TestFiresOnEverything(t *testing.T) {
	for _, c := range []struct {
		name string
		rule kefu.AutoReplyRule
		want bool
	}{
		{"any character", kefu.AutoReplyRule{Match: kefu.MatchRegex, Patterns: []string{"."}, Answer: "x"}, true},
		{"common words", kefu.AutoReplyRule{Match: kefu.MatchAny, Patterns: []string{"你", "吗", "么", "好", "的", "亲", "o", "谢", "货", "价", "钱", "能", "可", "要", "开", "款", "质", "明", "😊"}, Answer: "x"}, true},
		{"one topic", kefu.AutoReplyRule{Match: kefu.MatchAny, Patterns: []string{"发货", "几天发"}, Answer: "x"}, false},
	} {
		if got := FiresOnEverything(c.rule); got != c.want {
			t.Errorf("%s: FiresOnEverything = %v, want %v", c.name, got, c.want)
		}
	}
}
