package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu/internal/testdb"
)

// A restart with --demo keeps the origins the demo shop's owner set and
// registers the store page of this run (whose port may be new) beside them.
func TestDemoKeepsOriginsTheOwnerSet(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testDemoKeepsOriginsTheOwnerSet(t, "--data-dir", t.TempDir())
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testDemoKeepsOriginsTheOwnerSet(t, "--database-url", testdb.PostgresURL(t))
	})
}

func testDemoKeepsOriginsTheOwnerSet(t *testing.T, dataArgs ...string) {
	first := startDemoServer(t, dataArgs...)
	kefuURL := strings.TrimSuffix(first.consoleURL, "/agent/")
	token := demoLogin(t, kefuURL, "owner")
	ownerOrigins := []string{"https://shop.example.com", "https://m.shop.example.com"}
	if code := call(t, "PUT", kefuURL+"/api/v1/shop/origins", token, map[string]any{"origins": ownerOrigins}, nil); code != 200 {
		t.Fatalf("PUT origins: %d", code)
	}
	if err := first.stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}

	second := startDemoServer(t, dataArgs...)
	kefuURL = strings.TrimSuffix(second.consoleURL, "/agent/")
	var got struct {
		Shop struct{ Origins []string }
	}
	if code := call(t, "GET", kefuURL+"/api/v1/shop", demoLogin(t, kefuURL, "owner"), nil, &got); code != 200 {
		t.Fatalf("GET shop: %d", code)
	}
	want := append(storeOrigins(strings.TrimSuffix(second.storeURL, "/")), ownerOrigins...)
	for _, o := range want {
		if !slices.Contains(got.Shop.Origins, o) {
			t.Errorf("origin %s missing after the restart; the shop has %v", o, got.Shop.Origins)
		}
	}
}

// demoLogin signs a demo agent in and returns the session token.
func demoLogin(t *testing.T, kefuURL, username string) string {
	t.Helper()
	var out struct{ Token string }
	if code := call(t, "POST", kefuURL+"/api/v1/auth/login", "", map[string]string{"shop": "demo", "username": username, "password": demoPassword}, &out); code != 200 {
		t.Fatalf("login %s: %d", username, code)
	}
	return out.Token
}

// call sends a JSON request and decodes the JSON answer into out (if non-nil).
func call(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}
