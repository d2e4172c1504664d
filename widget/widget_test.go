package widget

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The widget must stay small enough for a phone on a slow network.
func TestWidgetIsAtMost15KiBGzipped(t *testing.T) {
	if n := Script.GzipSize(); n > 15<<10 {
		t.Fatalf("widget.js is %d bytes gzipped, over the 15 KiB budget", n)
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
