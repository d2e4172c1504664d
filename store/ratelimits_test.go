package store_test

import (
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
)

// A shop follows the default limits until its owner sets its own; setting
// one shop's leaves another's as they were, and a stored document that
// lacks a limit (saved before it existed) keeps that limit's default.
func TestShopRateLimits(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t, testclock.New(start).Now)
			ctx := t.Context()
			shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "limits", Name: "l", IdentitySecret: "x"})
			if err != nil {
				t.Fatal(err)
			}
			other, err := st.CreateShop(ctx, kefu.Shop{Slug: "other", Name: "o", IdentitySecret: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := st.Shop(ctx, shop.ID); got.RateLimits != kefu.DefaultRateLimits() {
				t.Fatalf("a new shop's limits: %+v, want the defaults", got.RateLimits)
			}
			want := kefu.DefaultRateLimits()
			want.BuyerFrames = kefu.RateLimit{PerMinute: 60, Burst: 5}
			want.SessionsPerShop = kefu.RateLimit{}
			if err := st.SetShopRateLimits(ctx, shop.ID, want); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.ShopBySlug(ctx, "limits"); got.RateLimits != want {
				t.Fatalf("limits read back: %+v, want %+v", got.RateLimits, want)
			}
			if got, _ := st.Shop(ctx, other.ID); got.RateLimits != kefu.DefaultRateLimits() {
				t.Fatalf("another shop's limits changed: %+v", got.RateLimits)
			}
			if err := st.SetRateLimitsDocument(ctx, other.ID, `{"buyer_frames":{"per_minute":60,"burst":5}}`); err != nil {
				t.Fatal(err)
			}
			got, err := st.Shop(ctx, other.ID)
			if err != nil {
				t.Fatal(err)
			}
			partial := kefu.DefaultRateLimits()
			partial.BuyerFrames = kefu.RateLimit{PerMinute: 60, Burst: 5}
			if got.RateLimits != partial {
				t.Fatalf("a document naming one limit: %+v, want the others at their defaults", got.RateLimits)
			}
			if err := st.SetShopRateLimits(ctx, 99999, want); err == nil {
				t.Fatal("limits set on a shop that does not exist")
			}
		})
	}
}
