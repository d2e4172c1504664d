package widget

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The widget must stay small enough for a phone on a slow network.
func TestWidgetIsAtMost15KiBGzipped(t *testing.T) {
	if n := Script.GzipSize(); n > 15<<10 {
		t.Fatalf("widget.js is %d bytes gzipped, over the 15 KiB budget", n)
	}
}

// The served widget drops full-line comments, which is only safe while no string spans lines.
func TestWidgetStringsStayOnOneLine(t *testing.T) {
	src := string(widgetJS)
	if strings.Contains(src, "`") || regexp.MustCompile(`\\\r?\n`).MatchString(src) {
		t.Fatal("widget.js has a template literal or a line continuation: dropping comment lines could cut a string")
	}
	served := string(withoutLineComments(widgetJS))
	if strings.Contains(served, "\n  // ") || !strings.Contains(served, "kefu-bubble") || !strings.HasPrefix(served, "/*! kefu") {
		t.Fatal("the served widget is not the source without its comment lines")
	}
}

func TestWidgetServedWithCaching(t *testing.T) {
	h := Handler()
	cases := []struct {
		path, cache string
		status      int
	}{
		{"/widget.js", "public, max-age=300, must-revalidate", 200},
		{"/widget/" + Script.HashedName, "public, max-age=31536000, immutable", 200},
		{"/widget/widget.000000000000.js", "", 404},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("GET", tc.path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || rec.Header().Get("Cache-Control") != tc.cache {
			t.Errorf("%s: %d %q, want %d %q", tc.path, rec.Code, rec.Header().Get("Cache-Control"), tc.status, tc.cache)
		}
		if rec.Code == 200 && (rec.Header().Get("Content-Encoding") != "gzip" || rec.Body.Len() != Script.GzipSize()) {
			t.Errorf("%s: not served gzipped", tc.path)
		}
	}
	req := httptest.NewRequest("GET", "/widget.js", nil)
	req.Header.Set("If-None-Match", Script.ETag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation with the current ETag: %d, want 304", rec.Code)
	}
}

// Both languages word every string: a key missing from one would show as an error in the panel.
func TestWidgetStringTablesMatch(t *testing.T) {
	src := string(widgetJS)
	tables := map[string][]string{}
	for _, lang := range []string{"zh", "en"} {
		m := regexp.MustCompile(`(?s)\n    ` + lang + `: \{(.*?)\n    \}`).FindStringSubmatch(src)
		if m == nil {
			t.Fatalf("no %s string table in widget.js", lang)
		}
		for _, k := range regexp.MustCompile(`(\w+): '`).FindAllStringSubmatch(m[1], -1) {
			tables[lang] = append(tables[lang], k[1])
		}
		slices.Sort(tables[lang])
	}
	if !slices.Equal(tables["zh"], tables["en"]) {
		t.Errorf("string tables differ:\nzh %v\nen %v", tables["zh"], tables["en"])
	}
	for _, k := range []string{"unavailable", "human", "inLine", "inLineN", "bot", "replyEta", "offHours", "offHoursNow", "quick"} {
		if !slices.Contains(tables["en"], k) {
			t.Errorf("string %q missing", k)
		}
	}
}

// Every test hook docs/widget.md promises is in the widget, so browser tests can rely on them.
func TestWidgetHasDocumentedTestHooks(t *testing.T) {
	doc, err := os.ReadFile("../docs/widget.md")
	if err != nil {
		t.Fatal(err)
	}
	hooks := regexp.MustCompile(`data-testid=(kefu-[a-z-]+)`).FindAllStringSubmatch(string(doc), -1)
	if len(hooks) < 10 {
		t.Fatalf("docs/widget.md lists %d test hooks", len(hooks))
	}
	for _, m := range hooks {
		if !strings.Contains(string(widgetJS), "'"+m[1]+"'") {
			t.Errorf("docs/widget.md names %s, which widget.js does not have", m[1])
		}
	}
}
