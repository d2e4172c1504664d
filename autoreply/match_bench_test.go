package autoreply

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kefu/kefu"
)

// words are what a shop's rules are about, as buyers write them.
var words = []string{
	"发货", "快递", "物流", "单号", "退款", "退货", "换货", "尺码", "颜色", "优惠券",
	"包邮", "价格", "便宜", "质量", "正品", "售后", "保修", "发票", "地址", "修改",
	"取消", "订单", "付款", "到货", "多久", "什么时候", "有货", "缺货", "预售", "赠品",
	"会员", "积分", "活动", "满减", "直播", "链接", "客服", "人工", "投诉", "差评",
	"洗涤", "材质", "面料", "大码", "偏大", "偏小", "身高", "体重", "推荐", "搭配",
	"顺丰", "中通", "圆通", "韵达", "京东", "加急", "催单", "漏发", "错发", "破损",
}

// shopRules builds a realistic shop of n rules, the same each call: mostly
// contains and any rules of one to five words, some exact ones, up to 50
// regex rules, a few scoped to groups 1 or 2 and a few disabled.
func shopRules(n int) []kefu.AutoReplyRule {
	rng := rand.New(rand.NewPCG(7, 7))
	rules := make([]kefu.AutoReplyRule, 0, n)
	regexes := 0
	for i := range n {
		r := kefu.AutoReplyRule{ID: int64(i + 1), Name: fmt.Sprintf("规则%d", i+1), Answer: "您好", Enabled: true, Priority: rng.IntN(10)}
		switch k := rng.IntN(100); {
		case k < 5 && regexes < 50:
			regexes++
			r.Match = kefu.MatchRegex
			r.Patterns = []string{fmt.Sprintf(`%s\d{%d,}`, words[rng.IntN(len(words))], 4+rng.IntN(4))}
		case k < 15:
			r.Match = kefu.MatchExact
			r.Patterns = []string{words[rng.IntN(len(words))] + words[rng.IntN(len(words))]}
		default:
			r.Match = kefu.MatchContains
			if k%2 == 0 {
				r.Match = kefu.MatchAny
			}
			for range 1 + rng.IntN(5) {
				w := words[rng.IntN(len(words))]
				// Some patterns are longer: a word and a suffix or a second word.
				if rng.IntN(3) == 0 {
					w += words[rng.IntN(len(words))]
				}
				r.Patterns = append(r.Patterns, w)
			}
			if r.Match == kefu.MatchContains && len(r.Patterns) > 2 {
				r.Patterns = r.Patterns[:2]
			}
		}
		if rng.IntN(10) == 0 {
			r.GroupIDs = []int64{int64(1 + rng.IntN(2))}
		}
		if rng.IntN(20) == 0 {
			r.Enabled = false
		}
		rules = append(rules, r)
	}
	return rules
}

func sampleMessages() []string {
	return []string{
		"你好，请问我的订单什么时候发货呀？已经等了三天了",
		"請問快遞單號是多少，物流一直沒有更新",
		"这件衣服尺码偏大还是偏小，我身高170体重60公斤",
		"订单123456789 能不能加急发顺丰",
		"有没有优惠券或者满减活动，会员有积分吗",
		"收到的货破损了，要退款",
		"在吗",
		"发货地址",
		"我想问一下这个商品的面料是什么材质的，可以机洗吗",
		"hello, is anyone there?",
	}
}

func BenchmarkMatch1000Rules(b *testing.B) {
	m, err := Compile(shopRules(1000))
	if err != nil {
		b.Fatal(err)
	}
	msgs := sampleMessages()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Match(msgs[i%len(msgs)], int64(i%3))
	}
}

func BenchmarkFold(b *testing.B) {
	msg := "請問快遞單號是多少，物流一直沒有更新"
	b.ReportAllocs()
	for b.Loop() {
		Fold(msg)
	}
}

// BenchmarkMatch1000RulesNoMatch is the worst case: no rule answers, so every
// regex rule runs.
func BenchmarkMatch1000RulesNoMatch(b *testing.B) {
	m, err := Compile(shopRules(1000))
	if err != nil {
		b.Fatal(err)
	}
	msg := "你好，我想问一下这款商品能不能放进洗碗机里面用呢，谢谢"
	if _, ok := m.Match(msg, 0); ok {
		b.Fatal("the message matched a rule")
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Match(msg, 0)
	}
}
