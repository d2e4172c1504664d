package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/export"
)

// maxExportBodyBytes bounds an export sent back to be verified.
const maxExportBodyBytes = 32 << 20

var (
	errInvalidExport = fieldError("export", "invalid_export", "The body is not a kefu dispute export (the JSON or HTML file GET /api/v1/orders/{order_no}/export gave).")
	errExportOfOther = newError(http.StatusForbidden, "export_of_another_shop", "This export is of another shop: verify it signed in to that shop.")
)

// exportOrder is GET /orders/{order_no}/export: the order's dispute export,
// JSON (format=json, the default) or HTML (format=html) for owners and
// supervisors.
func (h *handlers) exportOrder(c *gin.Context) {
	agent, ok := h.supervisor(c)
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "html" {
		h.writeError(c, fieldError("format", "invalid_format", "format must be json or html."))
		return
	}
	ctx := c.Request.Context()
	orderNo := c.Param("order_no")
	doc, err := export.Build(ctx, h.store, agent.ShopID, orderNo, h.now())
	if errors.Is(err, kefu.ErrNotFound) {
		err = newError(http.StatusNotFound, "order_not_found", "The shop has no order "+orderNo+".")
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	name := "kefu-order-" + url.PathEscape(orderNo) + "." + format
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, "kefu-order-export."+format, name))
	c.Header("Cache-Control", "no-store")
	if format == "json" {
		c.JSON(http.StatusOK, doc)
		return
	}
	loc := time.UTC
	if a, err := h.store.AssistantSettings(ctx, agent.ShopID); err == nil && a.Hours.TimeZone != "" {
		if l, err := time.LoadLocation(a.Hours.TimeZone); err == nil {
			loc = l
		}
	}
	var b bytes.Buffer
	if err := export.WriteHTML(&b, doc, loc, c.Query("lang")); err != nil {
		h.writeError(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", b.Bytes())
}

// verifyExport is POST /exports/verify: the body, an export as GET
// …/export gave it (JSON or HTML), checked against the store. 200 with the
// report whether or not it matches; ok false names the first difference.
func (h *handlers) verifyExport(c *gin.Context) {
	agent, ok := h.supervisor(c)
	if !ok {
		return
	}
	body, ok := h.readBody(c, errInvalidExport)
	if !ok {
		return
	}
	doc, err := export.Parse(body)
	if err != nil {
		h.writeError(c, errInvalidExport)
		return
	}
	if doc.Shop.ID != agent.ShopID {
		h.writeError(c, errExportOfOther)
		return
	}
	report, err := export.Verify(c.Request.Context(), h.store, agent.ShopID, doc)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, report)
}
