package autoreply

import (
	"slices"
	"testing"
)

func TestFill(t *testing.T) {
	vals := map[string]string{"buyer.name": "小王", "order.no": "A1001", "queue.position": "3", "shop.name": ""}
	tests := []struct {
		name, text, want string
	}{
		{"no variables", "您好，欢迎光临", "您好，欢迎光临"},
		{"values", "{buyer.name}您好，订单{order.no}已发货", "小王您好，订单A1001已发货"},
		{"queue", "您前面还有{queue.position}位", "您前面还有3位"},
		{"empty value falls back", "欢迎光临{shop.name}", "欢迎光临本店"},
		{"missing value falls back", "预计{queue.eta}为您服务，{agent.name}马上来", "预计稍后为您服务，客服马上来"},
		{"fallback to nothing", "物流单号：{order.tracking_no}", "物流单号："},
		{"hours fallback", "我们将在{hours.next}回复", "我们将在营业时间内回复"},
		{"unknown left as is", "{订单号} {buyer.nmae} {}", "{订单号} {buyer.nmae} {}"},
		{"stray braces kept", "a}b{{buyer.name}}c{", "a}b{小王}c{"},
		{"repeated", "{buyer.name}{buyer.name}", "小王小王"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fill(tt.text, vals); got != tt.want {
				t.Errorf("Fill(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestFillNoValues(t *testing.T) {
	if got, want := Fill("{buyer.name}，{order.no}已签收", nil), "亲，您的订单已签收"; got != want {
		t.Errorf("Fill with no values = %q, want %q", got, want)
	}
}

func TestVariables(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"none", "您好", nil},
		{"in order without duplicates", "{shop.name}{buyer.name}{shop.name}", []string{"shop.name", "buyer.name"}},
		{"anything in braces", "{ order.no }{}{订单号}", []string{" order.no ", "", "订单号"}},
		{"innermost braces", "{{buyer.name}}", []string{"buyer.name"}},
		{"unclosed", "{buyer.name", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Variables(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Variables(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
