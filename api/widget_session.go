package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

type widgetSessionRequest struct {
	VisitorID string `json:"visitor_id"`
	BuyerID   string `json:"buyer_id"`
	Name      string `json:"name"`
	Signature string `json:"signature"`
}

// allowOrigin reports whether a browser request from origin may use the
// shop's widget. Requests without Origin are not from a browser page and
// cannot be cross-site; they are allowed.
func allowOrigin(shop kefu.Shop, origin string) bool {
	return origin == "" || slices.Contains(shop.Origins, origin)
}

func setCORS(c *gin.Context, origin string) {
	if origin == "" {
		return
	}
	c.Header("Access-Control-Allow-Origin", origin)
	c.Header("Vary", "Origin")
	c.Header("Access-Control-Allow-Methods", "POST, OPTIONS")
	c.Header("Access-Control-Allow-Headers", "Content-Type")
	c.Header("Access-Control-Max-Age", "600")
}

// setRefusalCORS lets the page at origin read a refusal (origin_not_allowed,
// shop_not_found), so its widget can say chat is unavailable instead of
// retrying forever. The refusal is all it reads; the socket still refuses
// the origin.
func setRefusalCORS(c *gin.Context, origin string) {
	if origin == "" {
		return
	}
	c.Header("Access-Control-Allow-Origin", origin)
	c.Header("Vary", "Origin")
}

// widgetShop loads the shop named in the path and checks the caller's origin.
func (h *handlers) widgetShop(c *gin.Context) (kefu.Shop, bool) {
	origin := c.GetHeader("Origin")
	shop, err := h.shops.shopBySlug(c.Request.Context(), c.Param("shop"))
	if err != nil {
		if _, known := toAPIError(err); known {
			err = errShopNotFound
			setRefusalCORS(c, origin)
		}
		h.writeError(c, err)
		return kefu.Shop{}, false
	}
	if !allowOrigin(shop, origin) {
		setRefusalCORS(c, origin)
		h.writeError(c, errOriginNotAllowed)
		return kefu.Shop{}, false
	}
	setCORS(c, origin)
	return shop, true
}

// widgetPreflight lets every origin go on to the POST, which decides: a
// refused origin or an unknown shop then gets a refusal it can read. The
// preflight itself touches no shop, so it tells nothing.
func (h *handlers) widgetPreflight(c *gin.Context) {
	setCORS(c, c.GetHeader("Origin"))
	c.Status(http.StatusNoContent)
}

func validVisitorID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// widgetSession creates or resumes a buyer and returns a token for the socket.
func (h *handlers) widgetSession(c *gin.Context) {
	shop, ok := h.widgetShop(c)
	if !ok {
		return
	}
	// Before anything is read or stored: a refused session makes no buyer.
	if err := h.admitSession(c.Request.Context(), shop, c.ClientIP()); err != nil {
		h.writeError(c, err)
		return
	}
	var req widgetSessionRequest
	if !h.bindJSON(c, &req) {
		return
	}
	if !validVisitorID(req.VisitorID) {
		h.writeError(c, errInvalidVisitorID)
		return
	}
	name := strings.TrimSpace(req.Name)
	if e := protocol.ValidateName(name); e != nil {
		h.writeError(c, e)
		return
	}
	ctx := c.Request.Context()
	var buyer kefu.Buyer
	var err error
	if req.BuyerID != "" {
		if e := protocol.ValidateBuyerID(req.BuyerID); e != nil {
			h.writeError(c, e)
			return
		}
		if !validSignature(shop.IdentitySecret, req.BuyerID, req.Signature) {
			h.writeError(c, errBadSignature)
			return
		}
		// Without a name the stored one is kept (a new buyer gets a default).
		buyer, err = h.store.IdentifiedBuyer(ctx, shop.ID, req.BuyerID, req.VisitorID, name)
	} else {
		buyer, err = h.store.VisitorBuyer(ctx, shop.ID, req.VisitorID, visitorName(req.VisitorID))
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	expires := h.now().Add(BuyerTokenTTL).UTC().Truncate(1e9)
	token := h.tokens.sign(buyerClaims{ShopID: shop.ID, BuyerID: buyer.ID, Expires: expires})
	face, welcome := h.welcome(ctx, shop, buyer)
	orders, err := h.buyerRecentOrders(ctx, buyer)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"assistant":  face,
		"orders":     orders,
		"welcome":    welcome,
		"token":      token,
		"expires_at": expires,
		"socket_url": h.socketURL(c.Request, "/ws/buyer"),
		"buyer":      protocol.BuyerOf(buyer),
		"shop":       gin.H{"slug": shop.Slug, "name": shop.Name},
		"menu":       menuView(shop.Menu),
		"csat":       shop.CSATEnabled,
	})
}

// visitorName is what an anonymous visitor is called: 访客 and a short tag.
func visitorName(visitorID string) string {
	tag := strings.TrimPrefix(visitorID, "v_")
	if len(tag) > 4 {
		tag = tag[:4]
	}
	return "访客 " + tag
}

// socketURL is the WebSocket URL for path as the browser should dial it.
func (h *handlers) socketURL(r *http.Request, path string) string {
	if h.public != "" {
		u, err := url.Parse(h.public)
		if err == nil {
			u.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
			u.Path = strings.TrimSuffix(u.Path, "/") + path
			return u.String()
		}
	}
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://" + r.Host + path
}

type menuEntry struct {
	Group string `json:"group"`
	Name  string `json:"name"`
}

// menuView is the groups the widget offers a buyer to pick from; [] for none.
func menuView(menu []kefu.MenuGroup) []menuEntry {
	out := make([]menuEntry, len(menu))
	for i, g := range menu {
		out[i] = menuEntry{Group: g.Slug, Name: g.Name}
	}
	return out
}

// recentOrder is one of a signed-in buyer's orders as the widget offers it
// to send as an order card.
type recentOrder struct {
	OrderNo     string    `json:"order_no"`
	Status      string    `json:"status"`
	AmountCents int64     `json:"amount_cents"`
	Currency    string    `json:"currency"`
	Title       string    `json:"title"`
	ItemCount   int       `json:"item_count"`
	CreatedAt   time.Time `json:"created_at"`
}

// maxRecentOrders bounds the orders a widget session offers.
const maxRecentOrders = 10

// buyerRecentOrders is a signed-in buyer's latest orders, newest first;
// [] for an anonymous visitor (nobody vouched that orders are theirs).
func (h *handlers) buyerRecentOrders(ctx context.Context, buyer kefu.Buyer) ([]recentOrder, error) {
	out := []recentOrder{}
	if !buyer.Identified() {
		return out, nil
	}
	orders, err := h.store.LatestOrders(ctx, buyer.ShopID, buyer.ID, maxRecentOrders)
	if err != nil {
		return nil, err
	}
	for _, o := range orders {
		r := recentOrder{OrderNo: o.OrderNo, Status: o.Status, AmountCents: o.AmountCents, Currency: o.Currency, CreatedAt: o.CreatedAt.UTC()}
		r.Title, _, r.ItemCount = o.Headline()
		out = append(out, r)
	}
	return out, nil
}
