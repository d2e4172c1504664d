// Package agent serves the agent console: plain HTML, CSS and JS embedded in
// the binary, talking to the same REST API and socket any integration uses.
package agent

import (
	"bytes"
	"embed"
	"net/http"
	"strings"

	"github.com/kefu/kefu/asset"
)

//go:embed static
var static embed.FS

// Console holds the console's files with content-hashed names.
type Console struct {
	index *asset.File
	files map[string]*asset.File // by hashed name
}

// New prepares the console; index.html is rewritten to point at the hashed
// names of app.js and app.css.
func New() *Console {
	c := &Console{files: map[string]*asset.File{}}
	index, _ := static.ReadFile("static/index.html")
	for _, name := range []string{"app.js", "app.css"} {
		body, err := static.ReadFile("static/" + name)
		if err != nil {
			continue
		}
		f := asset.NewFile(name, body)
		c.files[f.HashedName] = f
		index = bytes.ReplaceAll(index, []byte(`"`+name+`"`), []byte(`"`+f.HashedName+`"`))
	}
	c.index = asset.NewFile("index.html", index)
	return c
}

// ServeHTTP serves /agent/ and its assets.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/agent/")
	if name == "" || name == "index.html" {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
		w.Header().Set("X-Frame-Options", "DENY")
		c.index.Serve(w, r, false)
		return
	}
	if f, ok := c.files[name]; ok {
		f.Serve(w, r, true)
		return
	}
	http.NotFound(w, r)
}
