// Package widget serves the buyer chat widget: one plain-JS file a store page
// embeds with <script src="https://HOST/widget.js" data-shop="..." async>.
package widget

import (
	_ "embed"
	"net/http"
	"strings"

	"github.com/kefu/kefu/asset"
)

//go:embed widget.js
var widgetJS []byte

// Script is the embedded widget.
var Script = asset.NewFile("widget.js", widgetJS)

// Handler serves /widget.js (stable URL, revalidated) and
// /widget/widget.<hash>.js (cached forever).
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/widget.js":
			Script.Serve(w, r, false)
		case strings.TrimPrefix(r.URL.Path, "/widget/") == Script.HashedName:
			Script.Serve(w, r, true)
		default:
			http.NotFound(w, r)
		}
	})
}
