package kefu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
)

// The digest covers every field it names: changing any one changes it; the
// link covers the previous link and the seq, and none counts as zeros.
func TestMessageDigest(t *testing.T) {
	base := kefu.Message{ShopID: 1, ConversationID: 2, Kind: kefu.KindOrder, Sender: kefu.SenderBuyer, SenderID: 3, SenderName: "张三",
		Text: "[订单] 2026111100123 已发货", Code: "", Card: &kefu.Card{OrderNo: "2026111100123", Status: "shipped"},
		QuickReplies: []string{"几天到？"}, CreatedAt: time.Date(2026, 11, 11, 8, 0, 0, 123456000, time.UTC)}
	d := kefu.MessageDigest(base)
	changes := map[string]func(m *kefu.Message){
		"shop": func(m *kefu.Message) { m.ShopID = 9 }, "conversation": func(m *kefu.Message) { m.ConversationID = 9 },
		"kind": func(m *kefu.Message) { m.Kind = kefu.KindText }, "sender": func(m *kefu.Message) { m.Sender = kefu.SenderAgent },
		"sender id": func(m *kefu.Message) { m.SenderID = 9 }, "sender name": func(m *kefu.Message) { m.SenderName = "李四" },
		"text": func(m *kefu.Message) { m.Text += "。" }, "code": func(m *kefu.Message) { m.Code = "x" },
		"card": func(m *kefu.Message) { m.Card = &kefu.Card{OrderNo: "2026111100124"} }, "quick replies": func(m *kefu.Message) { m.QuickReplies = nil },
		"time": func(m *kefu.Message) { m.CreatedAt = m.CreatedAt.Add(time.Microsecond) },
		// Fields moving between neighbours must not give the same bytes.
		"text into name": func(m *kefu.Message) { m.SenderName, m.Text = m.SenderName+m.Text, "" },
	}
	for name, change := range changes {
		m := base
		change(&m)
		if kefu.MessageDigest(m) == d {
			t.Errorf("changing the %s leaves the digest", name)
		}
	}
	h1 := kefu.ChainHash("", 1, d)
	if h1 != kefu.ChainHash(strings.Repeat("0", 64), 1, d) || h1 == kefu.ChainHash(h1, 1, d) || h1 == kefu.ChainHash("", 2, d) || len(h1) != 64 {
		t.Errorf("chain hash %s: the previous hash or the seq is not covered", h1)
	}
}

// BenchmarkChainLink is what the chain costs a message in Go: its digest and
// its link.
func BenchmarkChainLink(b *testing.B) {
	m := kefu.Message{ShopID: 1, ConversationID: 2, Kind: kefu.KindText, Sender: kefu.SenderBuyer, SenderID: 3, SenderName: "访客 3f2a",
		Text: string(make([]byte, 200)), CreatedAt: time.Now()}
	prev := ""
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		prev = kefu.ChainHash(prev, int64(i), kefu.MessageDigest(m))
	}
}
