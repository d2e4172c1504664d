// Package widget serves the buyer chat widget: one plain-JS file a store page
// embeds with <script src="https://HOST/widget.js" data-shop="..." async>.
package widget

import (
	"bytes"
	_ "embed"
	"net/http"
	"strings"

	"github.com/kefu/kefu/asset"
)

//go:embed widget.js
var widgetJS []byte

// Script is the embedded widget as served: without its full-line comments,
// which are for readers of this repository, not for a buyer's phone.
var Script = asset.NewFile("widget.js", withoutLineComments(widgetJS))

// withoutLineComments drops the lines of src that hold only a // comment.
// That is safe for widget.js because no string in it spans lines (it has no
// template literals and no line continuations; TestWidgetStringsStayOnOneLine).
func withoutLineComments(src []byte) []byte {
	var out []byte
	for line := range bytes.Lines(src) {
		if !bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("//")) {
			out = append(out, line...)
		}
	}
	return out
}

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
