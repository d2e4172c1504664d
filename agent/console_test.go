package agent

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The console page points at content-hashed assets, which are served with a
// year-long cache; the page itself is revalidated and locked down by CSP.
func TestConsoleServesHashedAssets(t *testing.T) {
	c := New()
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest("GET", "/agent/", nil))
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("index: %d, CSP %q", rec.Code, rec.Header().Get("Content-Security-Policy"))
	}
	page := rec.Body.String()
	for _, name := range []string{"app.js", "app.css"} {
		hashed := regexp.MustCompile(`"(` + strings.Replace(regexp.QuoteMeta(name), `\.`, `\.[0-9a-f]{12}\.`, 1) + `)"`).FindStringSubmatch(page)
		if hashed == nil {
			t.Fatalf("index.html does not reference a hashed %s", name)
		}
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest("GET", "/agent/"+hashed[1], nil))
		if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", hashed[1], rec.Code, rec.Header().Get("Cache-Control"))
		}
	}
	rec = httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest("GET", "/agent/app.js", nil))
	if rec.Code != 404 {
		t.Errorf("unhashed app.js: %d, want 404", rec.Code)
	}
}
