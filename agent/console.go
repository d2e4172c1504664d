// Package agent serves the agent console: plain HTML, CSS and JS (ES modules, no
// build step) embedded in the binary, talking to the same REST API and socket any
// integration uses.
package agent

import (
	"bytes"
	"embed"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/kefu/kefu/asset"
)

// static is the console as the browser gets it. Its unit tests live in jstest/,
// outside, so they are neither embedded nor served.
//
//go:embed static
var static embed.FS

// Console serves index.html at /agent/ and every other file of static/ under
// one versioned prefix, /agent/<hash>/, <hash> being over all the files. The
// modules import each other by relative path, so files keep their names and
// the prefix is what changes: any edit to any file makes a new one, so each URL
// names one content and may be cached for a year.
type Console struct {
	prefix string // "<hash>/"
	index  *asset.File
	files  map[string]*asset.File // by path under static/, e.g. "views/chat.js"
}

// New prepares the console; index.html is rewritten to load app.js and app.css
// under the prefix, and to preload every other module (the browser would
// otherwise find them one import level at a time).
func New() *Console {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	bodies := map[string][]byte{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		bodies[name], err = fs.ReadFile(root, name)
		return err
	})
	if err != nil {
		panic(err)
	}
	c := &Console{prefix: asset.HashOf(bodies) + "/", files: map[string]*asset.File{}}
	var preload bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(bodies)) {
		if name == "index.html" {
			continue
		}
		c.files[name] = asset.NewFile(name, bodies[name])
		if path.Ext(name) == ".js" && name != "app.js" {
			preload.WriteString(`<link rel="modulepreload" href="` + c.prefix + name + `">` + "\n")
		}
	}
	index := bodies["index.html"]
	index = bytes.ReplaceAll(index, []byte(`href="app.css"`), []byte(`href="`+c.prefix+`app.css"`))
	index = bytes.ReplaceAll(index, []byte(`<script type="module" src="app.js">`),
		append(preload.Bytes(), `<script type="module" src="`+c.prefix+`app.js">`...))
	c.index = asset.NewFile("index.html", index)
	return c
}

// ServeHTTP serves /agent/ and the files under the current prefix; a name
// without it, or under an older one, is 404 (that page is gone: reloading gets
// the current index.html).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/agent/")
	if name == "" || name == "index.html" {
		// script-src 'self' (from default-src) admits the module scripts and their imports;
		// img-src blob: the report charts, fetched with the session's token and shown as object URLs.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'")
		w.Header().Set("X-Frame-Options", "DENY")
		c.index.Serve(w, r, false)
		return
	}
	if rest, ok := strings.CutPrefix(name, c.prefix); ok {
		if f, ok := c.files[rest]; ok {
			f.Serve(w, r, true)
			return
		}
	}
	http.NotFound(w, r)
}
