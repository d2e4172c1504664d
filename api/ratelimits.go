package api

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
	"github.com/kefu/kefu/ratelimit"
)

// Rate limits (kefu.RateLimits, per shop; docs/protocol.md, "Limits").
// Every frame a buyer or an agent sends counts against their frame limit
// and every message against their message limit too, in this process's
// buckets (Config.Limiter): a socket lives on one node, and a frame must
// not wait on Redis. Widget sessions and new conversations count per client
// address and per shop in Config.Admission, shared by the nodes when Redis
// is configured. A refusal is rate_limited with when to retry, and nothing
// of the refused action is stored. The shop's limits are read from the
// shop cache, never from the store on a frame.

// Refusals of the rate limits; all are rate_limited, each says what was limited.
var (
	errRateLimited = newError(http.StatusTooManyRequests, protocol.CodeRateLimited,
		"Too many messages at once; this one will go through in a moment.")
	errFramesLimited = newError(http.StatusTooManyRequests, protocol.CodeRateLimited,
		"Too many frames at once; wait a moment before sending more.")
	errSessionsLimited = newError(http.StatusTooManyRequests, protocol.CodeRateLimited,
		"Too many chats opened from your network; try again in a moment.")
	errShopSessionsLimited = newError(http.StatusTooManyRequests, protocol.CodeRateLimited,
		"The shop's chat is very busy; try again in a moment.")
	errConversationsLimited = newError(http.StatusTooManyRequests, protocol.CodeRateLimited,
		"Too many new conversations from your network; send your message again in a moment.")
	errShopConversationsLimited = newError(http.StatusTooManyRequests, protocol.CodeRateLimited,
		"The shop is taking more new conversations than it can answer; send your message again in a moment.")
)

// limitOf is the limiter's form of a shop's limit.
func limitOf(l kefu.RateLimit) ratelimit.Limit { return ratelimit.PerMinute(l.PerMinute, l.Burst) }

// shopLimits are the shop's limits, from the shop cache; the defaults when
// the shop cannot be read (a limit must not fail the frame it guards).
func (h *handlers) shopLimits(ctx context.Context, shopID int64) kefu.RateLimits {
	shop, err := h.shops.shop(ctx, shopID)
	if err != nil {
		h.log.Warn("rate limits: shop not readable; using the defaults", "shop", shopID, "err", err)
		return kefu.DefaultRateLimits()
	}
	return shop.RateLimits
}

// check takes one action of key from l under limit, or returns refusal
// with the wait, counting the refusal under the limit's name (metrics). A limiter that fails lets the action through: a Fallback
// fails only when ctx has ended, and a limit that cannot be counted must
// not silence the buyers it protects.
func (h *handlers) check(ctx context.Context, l Limiter, name, key string, limit kefu.RateLimit, refusal *apiError) error {
	if limit.Off() {
		return nil
	}
	d, err := l.Allow(ctx, key, limitOf(limit))
	if err != nil {
		h.log.Warn("rate limit not counted", "key", key, "err", err)
		return nil
	}
	if !d.Allowed {
		h.metrics.RateLimited(name)
		return &retryLater{refusal, d.RetryAfter}
	}
	return nil
}

// actorKey is a buyer's or agent's part of a key; ids are per kind, shops
// share none.
func actorKey(actor conversation.Actor) string {
	return string(actor.Kind) + ":" + strconv.FormatInt(actor.ID, 10)
}

// allowFrame counts one frame of the actor's against their frame limit.
func (h *handlers) allowFrame(ctx context.Context, actor conversation.Actor) error {
	limits := h.shopLimits(ctx, actor.ShopID)
	if actor.Kind == kefu.SenderAgent {
		return h.check(ctx, h.limiter, "agent_frames", "frame:"+actorKey(actor), limits.AgentFrames, errFramesLimited)
	}
	return h.check(ctx, h.limiter, "buyer_frames", "frame:"+actorKey(actor), limits.BuyerFrames, errFramesLimited)
}

// allowSend counts one message of the actor's against their message limit.
func (h *handlers) allowSend(ctx context.Context, actor conversation.Actor) error {
	limits := h.shopLimits(ctx, actor.ShopID)
	if actor.Kind == kefu.SenderAgent {
		return h.check(ctx, h.limiter, "agent_messages", "msg:"+actorKey(actor), limits.AgentMessages, errRateLimited)
	}
	return h.check(ctx, h.limiter, "buyer_messages", "msg:"+actorKey(actor), limits.BuyerMessages, errRateLimited)
}

// admitSession counts a widget session of the shop's from address: per
// address first, so one address's flood is refused before it spends the
// shop's budget.
func (h *handlers) admitSession(ctx context.Context, shop kefu.Shop, address string) error {
	shopKey := strconv.FormatInt(shop.ID, 10)
	if err := h.check(ctx, h.admission, "sessions_per_address", "session:"+shopKey+":"+addressKey(address), shop.RateLimits.SessionsPerAddress, errSessionsLimited); err != nil {
		return err
	}
	perShop := scaled(shop.RateLimits.SessionsPerShop, h.convs.ShopLimitFactor(shop.ID))
	return h.check(ctx, h.admission, "sessions_per_shop", "session:"+shopKey, perShop, errShopSessionsLimited)
}

// AdmitConversation counts a conversation the buyer's message would start,
// per client address and then per shop (conversation.Admission). The
// refusal is a retryLater: the socket tells the buyer rate_limited with
// retry_after_ms, and the message is not stored.
func (s *Server) AdmitConversation(ctx context.Context, actor conversation.Actor) error {
	h := s.h
	limits := h.shopLimits(ctx, actor.ShopID)
	shopKey := strconv.FormatInt(actor.ShopID, 10)
	if actor.Address != "" {
		if err := h.check(ctx, h.admission, "conversations_per_address", "conv:"+shopKey+":"+addressKey(actor.Address), limits.ConversationsPerAddress, errConversationsLimited); err != nil {
			return err
		}
	}
	perShop := scaled(limits.ConversationsPerShop, h.convs.ShopLimitFactor(actor.ShopID))
	return h.check(ctx, h.admission, "conversations_per_shop", "conv:"+shopKey, perShop, errShopConversationsLimited)
}

// scaled is a per-shop limit multiplied by surge mode's factor (docs/overflow.md).
func scaled(l kefu.RateLimit, factor int) kefu.RateLimit {
	if factor <= 1 || l.Off() {
		return l
	}
	return kefu.RateLimit{PerMinute: l.PerMinute * factor, Burst: l.Burst * factor}
}

var _ conversation.Admission = (*Server)(nil)

// rateLimitsView is a shop's limits as the API shows them.
type rateLimitsView struct {
	Limits kefu.RateLimits `json:"limits"`
}

// getShopLimits serves GET /shop/limits: the shop's rate limits.
func (h *handlers) getShopLimits(c *gin.Context) {
	agent := currentAgent(c)
	shop, err := h.store.Shop(c.Request.Context(), agent.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, rateLimitsView{Limits: shop.RateLimits})
}

// setShopLimits serves PUT /shop/limits (owners only): the shop's rate
// limits, all of them; a limit left out keeps its default. They take
// effect on this node at once and on the others within the shop cache's TTL.
func (h *handlers) setShopLimits(c *gin.Context) {
	agent, ok := h.ownerOf(c)
	if !ok {
		return
	}
	limits := kefu.DefaultRateLimits()
	if !h.bindJSON(c, &limits) {
		return
	}
	if e := limits.Validate(); e != nil {
		h.writeError(c, fieldError(e.Field, e.Code, e.Message))
		return
	}
	if err := h.store.SetShopRateLimits(c.Request.Context(), agent.ShopID, limits); err != nil {
		h.writeError(c, err)
		return
	}
	h.shops.forget(agent.ShopID)
	c.JSON(http.StatusOK, rateLimitsView{Limits: limits})
}

// connSlots counts open sockets against a cap; max 0 is no cap. A slot is
// taken before the upgrade, so a refusal is a plain HTTP answer, and given
// back when the socket has ended.
type connSlots struct {
	max int64
	n   atomic.Int64
}

// acquire takes a slot; false when all are taken.
func (s *connSlots) acquire() bool {
	if s.max <= 0 {
		return true
	}
	if s.n.Add(1) > s.max {
		s.n.Add(-1)
		return false
	}
	return true
}

// release gives back a slot acquire took.
func (s *connSlots) release() {
	if s.max > 0 {
		s.n.Add(-1)
	}
}

// errTooManyConnections refuses a socket over Config.MaxConnections.
var errTooManyConnections = newError(http.StatusServiceUnavailable, "too_many_connections",
	"The chat server holds as many connections as it can; it will connect again in a few seconds.")

// tooManyConnections is the refusal with a wait of 2 to 12 s, spread so
// that the refused widgets do not all come back at once.
func tooManyConnections() error {
	return &retryLater{errTooManyConnections, 2*time.Second + rand.N(10*time.Second)}
}
