package api_test

import (
	"testing"
	"time"
)

// A shop's origins are cached for a short while: a change made through this
// node applies at once (TestOwnerSetsWidgetOrigins); one made elsewhere (here:
// straight in the database) within 30 seconds.
func TestShopChangesMadeElsewhereApplyWithinTheTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]string{"visitor_id": "v_abcdefgh"}
	if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, body, nil); code != 200 {
		t.Fatalf("registered origin: %d", code)
	}
	if err := e.store.SetShopOrigins(t.Context(), e.shop.ID, []string{"https://elsewhere.example"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Second)
	if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, body, nil); code != 403 {
		t.Fatalf("removed origin still allowed after the TTL: %d", code)
	}
	if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", "https://elsewhere.example", body, nil); code != 200 {
		t.Fatalf("new origin refused after the TTL: %d", code)
	}
}
