package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
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
	// The first start makes the shop with a week of history (the second
	// adds none: TestDemoHistory).
	first := startDemoServer(t, append(dataArgs, "--demo-history-days", "7")...)
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
	// The demo's quick phrases came with the first start, once, and hold
	// only variables the console fills.
	var phrases struct {
		Phrases []struct{ Shortcut, Text, Scope string }
	}
	if code := call(t, "GET", kefuURL+"/api/v1/phrases", demoLogin(t, kefuURL, "xiaowang"), nil, &phrases); code != 200 || len(phrases.Phrases) != len(demoPhrases) {
		t.Fatalf("GET phrases after a restart: %d, %d phrases, want %d", code, len(phrases.Phrases), len(demoPhrases))
	}
	variable := regexp.MustCompile(`\{([^}]*)\}`)
	for _, p := range phrases.Phrases {
		for _, m := range variable.FindAllStringSubmatch(p.Text, -1) {
			if !slices.Contains(kefu.PhraseVariables, m[1]) {
				t.Errorf("demo phrase %q holds unknown variable {%s}", p.Shortcut, m[1])
			}
		}
		if p.Scope != "shop" {
			t.Errorf("demo phrase %q is %s, want the shop's", p.Shortcut, p.Scope)
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

// The demo store page passes ?group= to its widget tag as data-group, escaped,
// and links to the 售前 and 售后 groups.
func TestDemoStorePageNamesTheGroup(t *testing.T) {
	t.Parallel()
	d := &demoShop{kefuURL: "http://kefu.test"}
	d.shop.Slug = "demo"
	h := d.handler()
	get := func(query string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+query, nil))
		if rec.Code != 200 {
			t.Fatalf("GET /%s: %d", query, rec.Code)
		}
		return rec.Body.String()
	}
	for _, tc := range []struct{ query, want, not string }{
		{"", `data-shop="demo" async`, "data-group"},
		{"?group=aftersales", `data-shop="demo" data-group="aftersales" async`, ""},
		{`?group="><script>x</script>`, `data-group="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"`, "<script>x"},
	} {
		body := get(tc.query)
		if !strings.Contains(body, tc.want) {
			t.Errorf("GET /%s: no %s in the page", tc.query, tc.want)
		}
		if tc.not != "" && strings.Contains(body, tc.not) {
			t.Errorf("GET /%s: the page holds %s", tc.query, tc.not)
		}
		for _, link := range []string{`href="?group=presales"`, `href="?group=aftersales"`} {
			if !strings.Contains(body, link) {
				t.Errorf("GET /%s: no link %s", tc.query, link)
			}
		}
	}
}
