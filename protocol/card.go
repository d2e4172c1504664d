package protocol

import (
	"net/url"
	"unicode/utf8"

	"github.com/kefu/kefu"
)

// CodeInvalidCard refuses a card whose fields are missing, too long or malformed.
const CodeInvalidCard = "invalid_card"

// CardFrame is a card a send frame carries instead of (or beside) text:
// kind "product" with the product's fields, or kind "order" with the number
// of one of the buyer's orders (kefu fills in the rest from its copy).
type CardFrame struct {
	Kind       string `json:"kind"`
	ProductID  string `json:"product_id,omitempty"`
	Title      string `json:"title,omitempty"`
	PriceCents int64  `json:"price_cents,omitempty"`
	Currency   string `json:"currency,omitempty"`
	ImageURL   string `json:"image_url,omitempty"`
	URL        string `json:"url,omitempty"`
	OrderNo    string `json:"order_no,omitempty"`
}

// ValidateCard checks a card's fields and returns its kind and fields:
// a product's title (1 to kefu.MaxCardTitleRunes characters, one line),
// price (0 to kefu.MaxHighValueCents), currency (3 capital letters, CNY
// when absent), product id, page and image URLs (absolute http or https, at
// most kefu.MaxCardURLBytes); an order's number. Where an image may come
// from is the shop's rule, checked by the caller.
func ValidateCard(c CardFrame) (kefu.MessageKind, kefu.Card, *Error) {
	switch c.Kind {
	case string(kefu.KindOrder):
		if c.OrderNo == "" || len(c.OrderNo) > kefu.MaxOrderNoBytes || !PrintableASCII(c.OrderNo) {
			return "", kefu.Card{}, Errorf(CodeInvalidCard, "an order card needs the order_no of one of the buyer's orders (1 to %d printable ASCII characters)", kefu.MaxOrderNoBytes)
		}
		return kefu.KindOrder, kefu.Card{OrderNo: c.OrderNo}, nil
	case string(kefu.KindProduct):
	default:
		return "", kefu.Card{}, Errorf(CodeInvalidCard, "card kind must be \"product\" or \"order\"")
	}
	if c.Title == "" || utf8.RuneCountInString(c.Title) > kefu.MaxCardTitleRunes {
		return "", kefu.Card{}, Errorf(CodeInvalidCard, "a product card needs a title of 1 to %d characters", kefu.MaxCardTitleRunes)
	}
	if why := checkLabel(c.Title, "title"); why != "" {
		return "", kefu.Card{}, Errorf(CodeInvalidCard, "%s", why)
	}
	if c.PriceCents < 0 || c.PriceCents > kefu.MaxHighValueCents {
		return "", kefu.Card{}, Errorf(CodeInvalidCard, "price_cents must be from 0 to %d", int64(kefu.MaxHighValueCents))
	}
	if len(c.ProductID) > kefu.MaxProductIDBytes || !PrintableASCII(c.ProductID) {
		return "", kefu.Card{}, Errorf(CodeInvalidCard, "product_id must be at most %d printable ASCII characters", kefu.MaxProductIDBytes)
	}
	currency := c.Currency
	if currency == "" {
		currency = "CNY"
	}
	if !ValidCurrency(currency) {
		return "", kefu.Card{}, Errorf(CodeInvalidCard, "currency must be 3 capital letters, e.g. CNY")
	}
	for _, u := range []struct{ name, value string }{{"url", c.URL}, {"image_url", c.ImageURL}} {
		if u.value != "" && WebURL(u.value) == nil {
			return "", kefu.Card{}, Errorf(CodeInvalidCard, "%s must be an absolute http or https URL of at most %d bytes", u.name, kefu.MaxCardURLBytes)
		}
	}
	return kefu.KindProduct, kefu.Card{ProductID: c.ProductID, Title: c.Title, PriceCents: c.PriceCents, Currency: currency,
		ImageURL: c.ImageURL, URL: c.URL}, nil
}

// WebURL parses an absolute http or https URL of at most
// kefu.MaxCardURLBytes, with a host and no user info; nil if s is not one.
func WebURL(s string) *url.URL {
	if len(s) > kefu.MaxCardURLBytes || !PrintableASCII(s) {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil
	}
	return u
}

// ValidCurrency reports whether s is a currency code: 3 capital letters.
func ValidCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
