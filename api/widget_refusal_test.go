package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// A refused widget session is readable by the page that asked (CORS for its
// origin), so the widget can say chat is unavailable instead of retrying;
// the preflight lets the browser go on to read it, and the socket still
// refuses the origin.
func TestWidgetRefusalReadableCrossOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const foreign = "http://evil.example"
	cases := []struct {
		name, shop, origin string
		code               int
		err                string
	}{
		{"unregistered origin", "acme", foreign, 403, "origin_not_allowed"},
		{"unknown shop", "ghost", storeOrigin, 404, "shop_not_found"},
		{"unknown shop, unregistered origin", "ghost", foreign, 404, "shop_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := e.ts.URL + "/api/v1/widget/shops/" + tc.shop + "/session"

			pre, _ := http.NewRequest("OPTIONS", path, nil)
			pre.Header.Set("Origin", tc.origin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "content-type")
			res, err := http.DefaultClient.Do(pre)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != tc.origin ||
				res.Header.Get("Access-Control-Allow-Methods") == "" || res.Header.Get("Access-Control-Allow-Headers") == "" {
				t.Fatalf("preflight: %d, headers %v; want 204 letting %s go on to the POST", res.StatusCode, res.Header, tc.origin)
			}

			body, _ := json.Marshal(map[string]string{"visitor_id": "v_abcdefgh"})
			req, _ := http.NewRequest("POST", path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", tc.origin)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out struct {
				apiErr
				Token string `json:"token"`
			}
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.code || out.Error.Code != tc.err || out.Token != "" {
				t.Fatalf("POST: %d %+v token %q, want %d %s and no token", res.StatusCode, out.Error, out.Token, tc.code, tc.err)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tc.origin {
				t.Errorf("POST refusal: Access-Control-Allow-Origin %q, want %q", got, tc.origin)
			}
			if got := res.Header.Values("Vary"); len(got) == 0 || got[0] != "Origin" {
				t.Errorf("POST refusal: Vary %q, want Origin", got)
			}
		})
	}

	t.Run("the socket still refuses the origin", func(t *testing.T) {
		token := e.buyerToken("acme", "v_abcdefgh")
		if _, err := e.tryDial("/ws/buyer", token, foreign); err == nil {
			t.Fatal("buyer socket opened from an unregistered origin")
		}
	})
}
