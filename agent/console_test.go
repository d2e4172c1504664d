package agent

import (
	"context"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func get(c *Console, url string, header ...string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c.ServeHTTP(rec, req)
	return rec
}

// The page is revalidated and locked down by CSP; it loads app.js and app.css
// under one versioned prefix, where every file is cached for a year.
func TestConsoleServesFilesUnderVersionedPrefix(t *testing.T) {
	c := New()
	rec := get(c, "/agent/")
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") ||
		!strings.Contains(rec.Header().Get("Content-Security-Policy"), "img-src 'self' data: blob:;") ||
		rec.Header().Get("X-Frame-Options") != "DENY" || strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("index: %d, headers %v", rec.Code, rec.Header())
	}
	page := rec.Body.String()
	m := regexp.MustCompile(`<script type="module" src="([0-9a-f]{12})/app\.js"></script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("index.html does not load <hash>/app.js as a module:\n%s", page)
	}
	prefix := m[1]
	if !strings.Contains(page, `href="`+prefix+`/app.css"`) {
		t.Errorf("index.html does not load %s/app.css", prefix)
	}
	// Everything the page names under the prefix is there, immutable, gzipped on request and
	// revalidated by ETag.
	for _, ref := range regexp.MustCompile(`(?:src|href)="(`+prefix+`/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		url := "/agent/" + ref[1]
		rec := get(c, url, "Accept-Encoding", "gzip")
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || rec.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: %d %v", url, rec.Code, rec.Header())
			continue
		}
		if etag := rec.Header().Get("ETag"); etag == "" || get(c, url, "If-None-Match", etag).Code != 304 {
			t.Errorf("%s: ETag %q does not revalidate", url, etag)
		}
	}

	for _, url := range []string{
		"/agent/app.js",                    // unversioned
		"/agent/views/chat.js",             // unversioned
		"/agent/000000000000/app.js",       // an old or made-up prefix
		"/agent/" + prefix,                 // the prefix itself
		"/agent/" + prefix + "/",           // a directory
		"/agent/" + prefix + "/index.html", // the page is only at /agent/, revalidated
		"/agent/" + prefix + "/../app.js",
		"/agent/" + prefix + "/jstest/convlog.test.js",
	} {
		if rec := get(c, url); rec.Code != 404 {
			t.Errorf("%s: %d, want 404", url, rec.Code)
		}
	}
}

// importRE finds the module specifiers of static and dynamic imports and of re-exports.
var importRE = regexp.MustCompile(`(?m)(?:^\s*(?:import|export)\b[^'"]*?\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]`)

// Every module the entry imports, directly or not, is served under the prefix as
// JavaScript (module scripts are refused under any other type), and every JS
// file of the console is reached that way: none is left unwired.
func TestConsoleServesEveryImportedModule(t *testing.T) {
	c := New()
	prefix := strings.TrimSuffix(c.prefix, "/")
	seen := map[string]bool{"app.js": true}
	queue := []string{"app.js"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		rec := get(c, "/agent/"+prefix+"/"+name)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		imports := importRE.FindAllStringSubmatch(rec.Body.String(), -1)
		if name == "app.js" && len(imports) == 0 {
			t.Fatal("found no imports in app.js")
		}
		for _, m := range imports {
			spec := m[1]
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q: the console imports only its own files, by relative path", name, spec)
				continue
			}
			dep := path.Join(path.Dir(name), spec)
			if strings.HasPrefix(dep, "../") {
				t.Errorf("%s imports %q, outside the console", name, spec)
				continue
			}
			if !seen[dep] {
				seen[dep] = true
				queue = append(queue, dep)
			}
		}
	}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".js" {
			return err
		}
		if name := strings.TrimPrefix(p, "static/"); !seen[name] {
			t.Errorf("%s is not imported from app.js", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The console's JS unit tests (jstest/, node:test) run here so that go test
// covers them. Without node they skip, except in CI.
func TestConsoleModules(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not on PATH; the console's unit tests (agent/jstest) need it")
		}
		t.Skip("node is not on PATH: the console's unit tests (agent/jstest) skipped")
	}
	files, err := filepath.Glob(filepath.Join("jstest", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tests in jstest/: %v", err)
	}
	for _, f := range files {
		// Stat'ing them makes go test's cache notice an edit (node reads them, not this process).
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, files...)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// Tests are not shipped: nothing under static/ is a test file.
func TestConsoleEmbedsNoTests(t *testing.T) {
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(p, ".test.") || strings.Contains(p, "jstest")) {
			t.Errorf("%s is embedded", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
