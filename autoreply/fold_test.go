package autoreply

import "testing"

func TestPrepare(t *testing.T) {
	if err := Prepare(); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ascii unchanged", "vip123", "vip123"},
		{"ascii case", "VIP Order", "viporder"},
		{"full-width letters", "ＶＩＰ", "vip"},
		{"full-width digits", "１２３", "123"},
		{"full-width punctuation", "发货？！，", "发货"},
		{"ideographic space", "发\u3000货", "发货"},
		{"spaces", "发 货 时间？", "发货时间"},
		{"tabs and newlines", "发\t货\n", "发货"},
		{"cjk punctuation", "。，？！、：；“”‘’（）《》【】…—发货", "发货"},
		{"ascii punctuation", "?!.,~+-发货", "发货"},
		{"t2s 發貨", "發貨", "发货"},
		{"t2s 請問", "請問", "请问"},
		{"t2s 優惠券", "優惠券", "优惠券"},
		{"t2s 尺碼", "尺碼", "尺码"},
		{"t2s 退換貨", "退換貨", "退换货"},
		{"t2s 發票", "發票", "发票"},
		{"t2s 快遞單號", "快遞單號", "快递单号"},
		{"traditional with spaces", "發貨時間", "发货时间"},
		{"simplified unchanged", "请问什么时候发货呀", "请问什么时候发货呀"},
		{"emoji kept", "好的👍", "好的👍"},
		{"variation selector dropped", "❤\uFE0F", "❤"},
		{"zero-width space dropped", "发\u200b货", "发货"},
		{"symbols kept", "￥100×2", "￥100×2"},
		{"non-ascii case", "ÄÖÜ", "äöü"},
		{"half-width katakana kept", "ｶﾀｶﾅ", "ｶﾀｶﾅ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFoldAllocations(t *testing.T) {
	if err := Prepare(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		want float64
	}{
		{"unchanged ascii", "hello123", 0},
		{"unchanged chinese", "请问什么时候发货", 0},
		{"changed", "請問 什麼時候發貨？", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, func() { _ = Fold(tt.in) }); got != tt.want {
				t.Errorf("Fold(%q) allocates %v times, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestFoldIdempotent checks that folding folded text changes nothing, for
// every character the traditional→simplified table maps and for the
// characters folding changes otherwise: a pattern and a message are each
// folded once, so a chain in the table would keep them apart.
func TestFoldIdempotent(t *testing.T) {
	if err := Prepare(); err != nil {
		t.Fatal(err)
	}
	var samples []string
	for r := rune(t2sFirst); r <= t2sLast; r++ {
		if t2sTable()[r-t2sFirst] != 0 {
			samples = append(samples, string(r))
		}
	}
	samples = append(samples, "ＶＩＰ", "ÄÖÜ", "İ", "K", "薴苧苎")
	for _, s := range samples {
		once := Fold(s)
		if twice := Fold(once); twice != once {
			t.Errorf("Fold(%q) = %q, but Fold(%q) = %q", s, once, once, twice)
		}
	}
}
