// Package docs embeds kefu's API description so the binary serves it at
// /api/openapi.yaml; the Markdown pages beside it are for people.
package docs

import (
	_ "embed"
	"net/http"

	"github.com/kefu/kefu/asset"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI is the OpenAPI 3 description of the HTTP API.
var OpenAPI = asset.NewFile("openapi.yaml", openAPI)

// Handler serves OpenAPI.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { OpenAPI.Serve(w, r, false) })
}
