package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// The order API the shop's platform puts orders in with (docs/orders.md):
// an upsert by the shop's order number, a bulk call, and the same as a
// signed webhook.

type orderItemRequest struct {
	Title      string `json:"title"`
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"price_cents"`
	ImageURL   string `json:"image_url"`
}

type orderRequest struct {
	OrderNo     string             `json:"order_no"`
	BuyerID     string             `json:"buyer_id"`
	BuyerName   string             `json:"buyer_name"`
	Status      string             `json:"status"`
	AmountCents int64              `json:"amount_cents"`
	Currency    string             `json:"currency"`
	Items       []orderItemRequest `json:"items"`
	TrackingNo  string             `json:"tracking_no"`
	CreatedAt   string             `json:"created_at"`
	StatusAt    string             `json:"status_at"`
}

// validImageURL reports whether s is an absolute http(s) URL kefu may show.
func validImageURL(s string) bool { return protocol.WebURL(s) != nil }

// upsert validates the request into an upsert, naming the first field that
// is wrong as a JSON path within the order ("items[2].price_cents").
func (req orderRequest) upsert() (kefu.OrderUpsert, error) {
	in := kefu.OrderUpsert{Order: kefu.Order{OrderNo: req.OrderNo, BuyerExternalID: req.BuyerID, Status: req.Status,
		AmountCents: req.AmountCents, Currency: req.Currency, TrackingNo: req.TrackingNo}, BuyerName: strings.TrimSpace(req.BuyerName)}
	if in.Currency == "" {
		in.Currency = "CNY"
	}
	switch {
	case req.OrderNo == "" || len(req.OrderNo) > kefu.MaxOrderNoBytes || !protocol.PrintableASCII(req.OrderNo):
		return in, fieldError("order_no", "invalid_order_no", fmt.Sprintf("order_no must be 1 to %d printable ASCII characters (no spaces).", kefu.MaxOrderNoBytes))
	case protocol.ValidateBuyerID(req.BuyerID) != nil:
		return in, fieldError("buyer_id", protocol.CodeInvalidBuyerID, protocol.ValidateBuyerID(req.BuyerID).Message+".")
	case in.BuyerName != "" && protocol.ValidateName(in.BuyerName) != nil:
		return in, fieldError("buyer_name", protocol.CodeInvalidName, protocol.ValidateName(in.BuyerName).Message+".")
	case !slices.Contains(kefu.OrderStatuses, req.Status):
		return in, fieldError("status", "invalid_status", "status must be one of "+strings.Join(kefu.OrderStatuses, ", ")+".")
	case req.AmountCents < 0 || req.AmountCents > kefu.MaxHighValueCents:
		return in, fieldError("amount_cents", "invalid_amount", fmt.Sprintf("amount_cents must be from 0 to %d.", int64(kefu.MaxHighValueCents)))
	case !protocol.ValidCurrency(in.Currency):
		return in, fieldError("currency", "invalid_currency", "currency must be 3 upper-case letters (ISO 4217, e.g. CNY); CNY when absent.")
	case len(req.Items) > kefu.MaxOrderItems:
		return in, fieldError("items", "too_many_items", fmt.Sprintf("An order has at most %d items.", kefu.MaxOrderItems))
	case len(req.TrackingNo) > kefu.MaxTrackingNoBytes || !protocol.PrintableASCII(req.TrackingNo):
		return in, fieldError("tracking_no", "invalid_tracking_no", fmt.Sprintf("tracking_no must be at most %d printable ASCII characters (no spaces).", kefu.MaxTrackingNoBytes))
	}
	for i, it := range req.Items {
		at := func(f string) string { return "items[" + strconv.Itoa(i) + "]." + f }
		title := strings.TrimSpace(it.Title)
		switch {
		case title == "" || utf8.RuneCountInString(title) > kefu.MaxItemTitleRunes || protocol.LabelProblem(title, "title") != "":
			return in, fieldError(at("title"), "invalid_title", fmt.Sprintf("title must be 1 to %d characters, one line, no control characters.", kefu.MaxItemTitleRunes))
		case len(it.SKU) > kefu.MaxSKUBytes || protocol.LabelProblem(it.SKU, "sku") != "":
			return in, fieldError(at("sku"), "invalid_sku", fmt.Sprintf("sku must be at most %d bytes, one line, no control characters.", kefu.MaxSKUBytes))
		case it.Quantity < 1 || it.Quantity > kefu.MaxOrderItemQty:
			return in, fieldError(at("quantity"), "invalid_quantity", fmt.Sprintf("quantity must be from 1 to %d.", kefu.MaxOrderItemQty))
		case it.PriceCents < 0 || it.PriceCents > kefu.MaxHighValueCents:
			return in, fieldError(at("price_cents"), "invalid_price", fmt.Sprintf("price_cents must be from 0 to %d.", int64(kefu.MaxHighValueCents)))
		case it.ImageURL != "" && !validImageURL(it.ImageURL):
			return in, fieldError(at("image_url"), "invalid_image_url", fmt.Sprintf("image_url must be empty or an absolute https or http URL of at most %d bytes.", kefu.MaxImageURLBytes))
		}
		in.Items = append(in.Items, kefu.OrderItem{Title: title, SKU: it.SKU, Quantity: it.Quantity, PriceCents: it.PriceCents, ImageURL: it.ImageURL})
	}
	var err error
	if in.CreatedAt, in.CreatedAtSet, err = orderTime(req.CreatedAt, "created_at"); err != nil {
		return in, err
	}
	if in.StatusAt, in.StatusAtSet, err = orderTime(req.StatusAt, "status_at"); err != nil {
		return in, err
	}
	return in, nil
}

// orderTime reads an optional RFC 3339 time of an order.
func orderTime(s, field string) (time.Time, bool, error) {
	if s == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, false, fieldError(field, "invalid_time", field+" must be an RFC 3339 time, e.g. 2026-11-11T10:00:00+08:00.")
	}
	return t, true, nil
}

type statusJSON struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// orderJSON is an order as agents and the shop's platform see it.
type orderJSON struct {
	ID          int64            `json:"id"`
	OrderNo     string           `json:"order_no"`
	Status      string           `json:"status"`
	StatusAt    time.Time        `json:"status_at"`
	AmountCents int64            `json:"amount_cents"`
	Currency    string           `json:"currency"`
	Items       []kefu.OrderItem `json:"items"`
	TrackingNo  string           `json:"tracking_no"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	History     []statusJSON     `json:"history"`
}

func orderView(o kefu.Order) orderJSON {
	v := orderJSON{ID: o.ID, OrderNo: o.OrderNo, Status: o.Status, StatusAt: o.StatusAt.UTC(), AmountCents: o.AmountCents,
		Currency: o.Currency, Items: o.Items, TrackingNo: o.TrackingNo, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		History: make([]statusJSON, len(o.History))}
	if v.Items == nil {
		v.Items = []kefu.OrderItem{}
	}
	for i, h := range o.History {
		v.History[i] = statusJSON{Status: h.Status, At: h.At.UTC()}
	}
	return v
}

// platformOrderJSON is an order as the shop's platform sees it: with its
// own buyer id.
type platformOrderJSON struct {
	orderJSON
	BuyerID string `json:"buyer_id"`
}

func platformOrderView(o kefu.Order) platformOrderJSON {
	return platformOrderJSON{orderJSON: orderView(o), BuyerID: o.BuyerExternalID}
}

func (h *handlers) putOrder(c *gin.Context) {
	key := currentAPIKey(c)
	var req orderRequest
	if !h.bindJSON(c, &req) {
		return
	}
	orderNo := c.Param("order_no")
	if req.OrderNo != "" && req.OrderNo != orderNo {
		h.writeError(c, fieldError("order_no", "order_no_mismatch", "The body's order_no differs from the path's; leave it out or send the same."))
		return
	}
	req.OrderNo = orderNo
	in, err := req.upsert()
	if err != nil {
		h.writeError(c, err)
		return
	}
	in.APIKeyID = key.ID
	o, result, err := h.store.UpsertOrder(c.Request.Context(), key.ShopID, in)
	if err != nil {
		h.writeError(c, err)
		return
	}
	status := http.StatusOK
	if result == kefu.OrderCreated {
		status = http.StatusCreated
	}
	c.JSON(status, gin.H{"result": result, "order": platformOrderView(o)})
}

func (h *handlers) getOrder(c *gin.Context) {
	key := currentAPIKey(c)
	o, err := h.store.Order(c.Request.Context(), key.ShopID, c.Param("order_no"))
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"order": platformOrderView(o)})
}

type bulkRequest struct {
	Orders []json.RawMessage `json:"orders"`
}

type bulkError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

type bulkResult struct {
	OrderNo string     `json:"order_no"`
	Result  string     `json:"result"`
	Error   *bulkError `json:"error,omitempty"`
}

// checkBulk refuses a bulk body that is not {"orders": [...]} of at most
// kefu.MaxBulkOrders.
func checkBulk(req bulkRequest) error {
	if req.Orders == nil {
		return fieldError("orders", "invalid_json", `Send {"orders": [{"order_no": ..., ...}, ...]}.`)
	}
	if len(req.Orders) > kefu.MaxBulkOrders {
		return fieldError("orders", "too_many_orders", fmt.Sprintf("At most %d orders in one call; this has %d.", kefu.MaxBulkOrders, len(req.Orders)))
	}
	return nil
}

func (h *handlers) bulkOrders(c *gin.Context) {
	key := currentAPIKey(c)
	var req bulkRequest
	if !h.bindJSON(c, &req) {
		return
	}
	if err := checkBulk(req); err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"results": h.upsertOrders(c, key.ShopID, key.ID, req.Orders)})
}

// upsertOrders stores each order on its own, all of it or nothing of it,
// and says what became of each, in input order. keyID is the API key they
// came with (0: the signed webhook).
func (h *handlers) upsertOrders(c *gin.Context, shopID, keyID int64, orders []json.RawMessage) []bulkResult {
	out := make([]bulkResult, len(orders))
	for i, raw := range orders {
		var req orderRequest
		err := json.Unmarshal(raw, &req)
		if err != nil {
			// Name the order if its number can be read at all.
			var named struct {
				OrderNo any `json:"order_no"`
			}
			json.Unmarshal(raw, &named)
			no, _ := named.OrderNo.(string)
			out[i] = bulkResult{OrderNo: no, Result: "refused", Error: &bulkError{Code: "invalid_json", Message: "The order is not a JSON object of the order's fields and types."}}
			continue
		}
		out[i] = bulkResult{OrderNo: req.OrderNo}
		in, err := req.upsert()
		in.APIKeyID = keyID
		if err == nil {
			var result kefu.UpsertResult
			_, result, err = h.store.UpsertOrder(c.Request.Context(), shopID, in)
			out[i].Result = string(result)
		}
		if err != nil {
			ae, known := toAPIError(err)
			if !known {
				h.log.Error("order not stored", "shop", shopID, "order_no", req.OrderNo, "err", err)
			}
			out[i].Result, out[i].Error = "refused", &bulkError{Code: ae.Code, Message: ae.Message, Field: ae.Field}
		}
	}
	return out
}

// Order webhooks: the shop's platform pushes the bulk body, signed.
const (
	webhookTolerance = 5 * time.Minute  // how far a delivery's timestamp may be from now
	webhookMemory    = 10 * time.Minute // how long accepted signatures are kept (twice the tolerance)
)

var (
	errBadWebhookSignature = newError(http.StatusUnauthorized, "bad_signature", "X-Kefu-Signature must be sha256=<hex HMAC-SHA256 of X-Kefu-Timestamp + \".\" + body with the shop's order-webhook secret>; this one is missing or does not match.")
	errStaleDelivery       = newError(http.StatusUnauthorized, "stale_delivery", "X-Kefu-Timestamp is more than 5 minutes from now: sign each delivery when sending it, and check the sender's clock.")
	errReplayed            = newError(http.StatusConflict, "replayed", "This delivery (its signature) was accepted already; nothing was stored again.")
)

// WebhookSignature is what X-Kefu-Signature carries for a delivery:
// "sha256=" and hex(HMAC-SHA256(secret, timestamp + "." + body)).
func WebhookSignature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (h *handlers) orderWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	shopID, secret, err := h.store.OrderWebhookSecret(ctx, c.Param("shop"))
	if errors.Is(err, kefu.ErrNotFound) {
		err = errShopNotFound
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	body, ok := h.readBody(c, errInvalidJSON)
	if !ok {
		return
	}
	stamp, sig := c.GetHeader("X-Kefu-Timestamp"), strings.ToLower(c.GetHeader("X-Kefu-Signature"))
	sent, err := strconv.ParseInt(stamp, 10, 64)
	if secret == "" || err != nil || !hmac.Equal([]byte(sig), []byte(WebhookSignature(secret, stamp, body))) {
		h.writeError(c, errBadWebhookSignature)
		return
	}
	now := h.now()
	if d := now.Sub(time.Unix(sent, 0)); d > webhookTolerance || d < -webhookTolerance {
		h.writeError(c, errStaleDelivery)
		return
	}
	var req bulkRequest
	if err := json.Unmarshal(body, &req); err != nil {
		h.writeError(c, errInvalidJSON)
		return
	}
	if err := checkBulk(req); err != nil {
		h.writeError(c, err)
		return
	}
	claimed, err := h.store.ClaimWebhookDelivery(ctx, shopID, sig, now, now.Add(-webhookMemory))
	if err != nil {
		h.writeError(c, err)
		return
	}
	if !claimed {
		h.writeError(c, errReplayed)
		return
	}
	c.JSON(http.StatusOK, gin.H{"results": h.upsertOrders(c, shopID, 0, req.Orders)})
}
