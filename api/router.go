// Package api is kefu's HTTP surface: the REST API under /api/v1, the buyer
// and agent WebSockets, and the mount points of the embedded widget, console
// and docs. Every route is listed in routes below.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
	"github.com/kefu/kefu/ratelimit"
)

// Store is what the API reads and writes directly; conversation changes go
// through Conversations.
type Store interface {
	Ping(ctx context.Context) error
	ShopBySlug(ctx context.Context, slug string) (kefu.Shop, error)
	Shop(ctx context.Context, id int64) (kefu.Shop, error)
	AgentByUsername(ctx context.Context, shopID int64, username string) (kefu.Agent, error)
	Agents(ctx context.Context, shopID int64) ([]kefu.Agent, error)
	CreateAgent(ctx context.Context, a kefu.Agent) (kefu.Agent, error)
	Agent(ctx context.Context, shopID, id int64) (kefu.Agent, error)
	Groups(ctx context.Context, shopID int64) ([]kefu.Group, error)
	CreateGroup(ctx context.Context, g kefu.Group) (kefu.Group, error)
	Phrases(ctx context.Context, shopID, agentID int64) ([]kefu.Phrase, error)
	Phrase(ctx context.Context, shopID, id int64) (kefu.Phrase, error)
	SavePhrases(ctx context.Context, shopID, agentID int64, ps []kefu.Phrase) ([]kefu.Phrase, error)
	DeletePhrase(ctx context.Context, shopID, agentID, id int64) error
	UsePhrase(ctx context.Context, shopID, agentID, id int64) error
	UpdateGroup(ctx context.Context, g kefu.Group) (kefu.Group, error)
	DeleteGroup(ctx context.Context, shopID, id int64) error
	SetShopRouting(ctx context.Context, shopID int64, r kefu.RoutingSettings) error
	SetBuyerRouting(ctx context.Context, shopID, buyerID, dedicatedAgentID int64, vip bool) (kefu.Buyer, error)
	SetShopOrigins(ctx context.Context, shopID int64, origins []string) error
	SetIdentitySecret(ctx context.Context, shopID int64, secret string) error
	CreateSession(ctx context.Context, shopID, agentID int64, tokenHash string, expires time.Time) error
	SessionAgent(ctx context.Context, tokenHash string) (kefu.Agent, time.Time, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	VisitorBuyer(ctx context.Context, shopID int64, visitorID, name string) (kefu.Buyer, error)
	IdentifiedBuyer(ctx context.Context, shopID int64, externalID, visitorID, name string) (kefu.Buyer, error)
	Buyer(ctx context.Context, shopID, id int64) (kefu.Buyer, error)
	BuyerOrders(ctx context.Context, shopID, buyerID int64) ([]kefu.Order, error)
	LatestOrders(ctx context.Context, shopID, buyerID int64, n int) ([]kefu.Order, error)
	ListConversations(ctx context.Context, shopID int64, f kefu.ConversationFilter) ([]kefu.ConversationSummary, error)
	Messages(ctx context.Context, shopID, conversationID, afterSeq int64, limit int) ([]kefu.Message, bool, error)
	SearchConversations(ctx context.Context, shopID int64, f kefu.SearchFilter) (kefu.SearchPage, error)
	AssistantSettings(ctx context.Context, shopID int64) (kefu.AssistantSettings, error)
	SetAssistantSettings(ctx context.Context, shopID int64, a kefu.AssistantSettings) error
	OverflowSettings(ctx context.Context, shopID int64) (kefu.OverflowSettings, error)
	SetOverflowSettings(ctx context.Context, shopID int64, o kefu.OverflowSettings) error
	AutoReplyRules(ctx context.Context, shopID int64) ([]kefu.AutoReplyRule, error)
	ReportSessions(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportSession, error)
	ReportSpans(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportSpan, error)
	ReportOrders(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportOrder, error)
	LiveLine(ctx context.Context, shopID int64) (int, time.Time, error)
	SaveAutoReplyRule(ctx context.Context, r kefu.AutoReplyRule, check func([]kefu.AutoReplyRule) error) (kefu.AutoReplyRule, error)
	DeleteAutoReplyRule(ctx context.Context, shopID, id int64) error
	SetShopRetention(ctx context.Context, shopID int64, days int) error
	SetShopCSAT(ctx context.Context, shopID int64, enabled bool) error
	SetShopRateLimits(ctx context.Context, shopID int64, r kefu.RateLimits) error
	APIKeys(ctx context.Context, shopID int64) ([]kefu.APIKey, error)
	CreateAPIKey(ctx context.Context, k kefu.APIKey, by kefu.ActorRef) (kefu.APIKey, error)
	APIKeyByPrefix(ctx context.Context, prefix string) (kefu.APIKey, error)
	RotateAPIKey(ctx context.Context, shopID, id int64, prefix, secretHash string, by kefu.ActorRef) (kefu.APIKey, error)
	RevokeAPIKey(ctx context.Context, shopID, id int64, by kefu.ActorRef) error
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error
	UpsertOrder(ctx context.Context, shopID int64, in kefu.OrderUpsert) (kefu.Order, kefu.UpsertResult, error)
	Order(ctx context.Context, shopID int64, orderNo string) (kefu.Order, error)
	SetOrderWebhookSecret(ctx context.Context, shopID int64, secret string, by kefu.ActorRef) error
	OrderWebhookSecret(ctx context.Context, slug string) (int64, string, error)
	ClaimWebhookDelivery(ctx context.Context, shopID int64, signature string, at, forgetBefore time.Time) (bool, error)
	Webhook(ctx context.Context, shopID int64) (kefu.Webhook, error)
	SaveWebhook(ctx context.Context, w kefu.Webhook) (kefu.Webhook, bool, error)
	SetWebhookSecret(ctx context.Context, shopID int64, secret string) error
	WebhookDeliveries(ctx context.Context, shopID int64, limit int) ([]kefu.WebhookAttempt, error)
}

// Conversations is the conversation service (conversation.Service).
type Conversations interface {
	Send(ctx context.Context, actor conversation.Actor, conversationID int64, clientMsgID, text string) (kefu.Message, bool, error)
	SendCard(ctx context.Context, actor conversation.Actor, conversationID int64, clientMsgID string, card protocol.CardFrame) (kefu.Message, bool, error)
	LinkOrder(ctx context.Context, actor conversation.Actor, conversationID int64, orderNo string) (kefu.Order, bool, error)
	UnlinkOrder(ctx context.Context, actor conversation.Actor, conversationID int64, orderNo string) (bool, error)
	ConversationOrders(ctx context.Context, actor conversation.Actor, conversationID int64) ([]kefu.Order, error)
	Conversation(ctx context.Context, actor conversation.Actor, id int64) (kefu.Conversation, error)
	Sync(ctx context.Context, actor conversation.Actor, id, afterSeq int64, limit int) (conversation.Page, error)
	Read(ctx context.Context, actor conversation.Actor, id, seq int64) (kefu.Conversation, error)
	Typing(ctx context.Context, actor conversation.Actor, id int64) error
	Accept(ctx context.Context, actor conversation.Actor, id int64) (kefu.Conversation, error)
	Close(ctx context.Context, actor conversation.Actor, id int64) (kefu.Conversation, error)
	AgentConnected(ctx context.Context, a kefu.Agent) kefu.Presence
	AgentDisconnected(ctx context.Context, a kefu.Agent)
	BuyerConnected(b kefu.Buyer)
	BuyerDisconnected(b kefu.Buyer)
	SetPresence(ctx context.Context, a kefu.Agent, presence kefu.Presence) kefu.Presence
	Presence(ctx context.Context, a kefu.Agent) (kefu.Presence, int, error)
	BuyerState(ctx context.Context, b kefu.Buyer) (*protocol.Conversation, int, error)
	View(ctx context.Context, conv kefu.Conversation) (protocol.Conversation, error)
	QueuePositions(ctx context.Context, shopID int64) (map[int64]int, error)
	Reroute(ctx context.Context, shopID int64)
	Transfer(ctx context.Context, actor conversation.Actor, id int64, to kefu.Transfer) (kefu.Conversation, error)
	AgentActive(ctx context.Context, a kefu.Agent)
	TakeOver(ctx context.Context, actor conversation.Actor, id int64) (kefu.Conversation, error)
	Invite(ctx context.Context, actor conversation.Actor, id, helperID int64) (kefu.Conversation, error)
	Leave(ctx context.Context, actor conversation.Actor, id int64) (kefu.Conversation, error)
	Rate(ctx context.Context, actor conversation.Actor, id int64, stars int, comment string) (kefu.Conversation, error)
	InviteRating(ctx context.Context, actor conversation.Actor, id int64) (kefu.Conversation, error)
	UpdateAgent(ctx context.Context, viewer kefu.Agent, agentID int64, ch kefu.AgentChange) (kefu.AgentUpdate, error)
	Broker() conversation.Broker
	SetOverflowSettings(shopID int64, settings kefu.OverflowSettings)
	OverflowState(shopID int64) kefu.OverflowState
	ShopLimitFactor(shopID int64) int
}

var _ Conversations = (*conversation.Service)(nil)

// Limiter decides whether one more action of a key is allowed under a
// limit (ratelimit.Memory, ratelimit.Redis, ratelimit.Fallback).
type Limiter interface {
	Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Decision, error)
}

// Config is everything the HTTP surface needs.
type Config struct {
	Store         Store
	Conversations Conversations
	// Assistant is the shop's assistant, for the widget's welcome; nil: none.
	Assistant Assistant
	Log       *slog.Logger
	Now       func() time.Time
	// BuyerSecret signs buyer socket tokens.
	BuyerSecret []byte
	// Limiter counts the limits of each buyer and agent (frames and
	// messages, across their sockets). It is asked on every frame, so it
	// should count in this process (a buyer's socket lives on one node);
	// nil: a ratelimit.Memory on Now.
	Limiter Limiter
	// Admission counts widget sessions and new conversations per client
	// address and per shop: the limits every node must share, a
	// ratelimit.Fallback over Redis with several nodes; nil: Limiter.
	Admission Limiter
	// MaxConnections caps the open sockets, buyers' and agents' together,
	// below the process's open-file limit; 0: no cap.
	MaxConnections int
	// Metrics counts refusals (rate limits, sockets); nil counts nothing.
	Metrics Metrics
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For names the client; empty trusts none.
	TrustedProxies []string
	// PublicURL is how browsers reach this server (e.g. https://kefu.example.com);
	// empty means "as the request came in".
	PublicURL string
	// PasswordCost is the bcrypt cost of the password hashes the API makes
	// (new agents, and the hash a sign-in for an unknown user is checked
	// against, so that it takes as long as a real one); 0 means
	// DefaultPasswordCost. Tests lower it to bcrypt.MinCost.
	PasswordCost int
	// SocketWriteTimeout bounds one write to a socket's client: a client
	// that takes no bytes for this long is dropped; 10 s when 0.
	SocketWriteTimeout time.Duration
	// Reports keeps the report roll-up folded; a report first folds what
	// is left of the log. nil: reports read the roll-up as it stands.
	Reports Rollup
	// Widget, Console and Docs serve the embedded assets.
	Widget  http.Handler
	Console http.Handler
	OpenAPI http.Handler
}

// Server is the HTTP handler plus the sockets it holds open.
type Server struct {
	handler *gin.Engine
	hub     *hub
	h       *handlers
}

// Route is one registered method and path, in gin's syntax (/x/:id).
type Route struct {
	Method string
	Path   string
}

// Routes lists every registered route.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.handler.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}

// ServeHTTP serves kefu's HTTP surface.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Shutdown tells every connected socket to reconnect elsewhere, sends what
// each has pending, and waits for them to close or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { return s.hub.shutdown(ctx) }

type handlers struct {
	store     Store
	convs     Conversations
	rollup    Rollup    // nil: none
	assistant Assistant // nil: none
	log       *slog.Logger
	now       func() time.Time
	tokens    buyerTokens
	public    string
	hub       *hub
	logins    *loginLimiter
	shops     *shopCache
	// limiter and admission are Config.Limiter and Config.Admission.
	limiter, admission Limiter
	// slots counts open sockets against Config.MaxConnections.
	slots *connSlots
	// metrics is Config.Metrics, noMetrics when nil.
	metrics Metrics
	// passwordCost is Config.PasswordCost. dummyHash is compared against
	// when the username does not exist, so a wrong username takes as long as
	// a wrong password; it is made on first use, not at start.
	passwordCost int
	dummyHash    func() []byte
	// socketWriteTimeout is Config.SocketWriteTimeout.
	socketWriteTimeout time.Duration
	// agentAccept is how the agent socket is accepted (agentSocketOptions).
	agentAccept *websocket.AcceptOptions
}

// New builds the HTTP surface.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.NewMemory(cfg.Now)
	}
	if cfg.Admission == nil {
		cfg.Admission = cfg.Limiter
	}
	if cfg.SocketWriteTimeout <= 0 {
		cfg.SocketWriteTimeout = writeTimeout
	}
	h := &handlers{socketWriteTimeout: cfg.SocketWriteTimeout, agentAccept: agentSocketOptions(cfg.PublicURL), store: cfg.Store, convs: cfg.Conversations, assistant: cfg.Assistant, rollup: cfg.Reports, log: cfg.Log, now: cfg.Now,
		tokens: buyerTokens{secret: cfg.BuyerSecret}, public: cfg.PublicURL, hub: newHub(), logins: newLoginLimiter(cfg.Now),
		limiter: cfg.Limiter, admission: cfg.Admission, slots: &connSlots{max: int64(max(cfg.MaxConnections, 0))},
		shops: newShopCache(cfg.Store, cfg.Now), passwordCost: cfg.PasswordCost, metrics: cfg.Metrics}
	h.dummyHash = sync.OnceValue(func() []byte {
		hash, _ := HashPassword("kefu-timing-equalizer", h.passwordCost)
		return []byte(hash)
	})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Client addresses come from the connection, or from X-Forwarded-For
	// only when the connection is from a configured proxy.
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		h.log.Error("trusted proxies ignored", "err", err)
		r.SetTrustedProxies(nil)
	}
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		h.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", err)
		h.writeError(c, errInternal)
	}))
	r.Use(limitBody)
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) {
		h.writeError(c, newError(http.StatusNotFound, "no_route", "There is no such endpoint."))
	})
	r.NoMethod(func(c *gin.Context) {
		h.writeError(c, newError(http.StatusMethodNotAllowed, "method_not_allowed", "This endpoint does not take that method."))
	})
	routes(r, h, cfg)
	return &Server{handler: r, hub: h.hub, h: h}
}

// routes lists every route kefu serves.
func routes(r *gin.Engine, h *handlers, cfg Config) {
	r.GET("/healthz", h.health)
	r.GET("/api/openapi.yaml", gin.WrapH(cfg.OpenAPI))

	v1 := r.Group("/api/v1")
	v1.POST("/auth/login", h.login)
	v1.OPTIONS("/widget/shops/:shop/session", h.widgetPreflight)
	v1.POST("/widget/shops/:shop/session", h.widgetSession)
	// The shop's platform: orders with an API key, or pushed signed (docs/orders.md).
	v1.PUT("/orders/:order_no", h.requireAPIKey, h.putOrder)
	v1.GET("/orders/:order_no", h.requireAPIKey, h.getOrder)
	v1.POST("/orders/bulk", allowBody(maxBulkBodyBytes), h.requireAPIKey, h.bulkOrders)
	v1.POST("/webhooks/shops/:shop/orders", allowBody(maxBulkBodyBytes), h.orderWebhook)

	agent := v1.Group("", h.requireAgent)
	agent.POST("/auth/logout", h.logout)
	agent.GET("/me", h.me)
	agent.PUT("/me/presence", h.setPresence)
	agent.GET("/agents", h.listAgents)
	agent.POST("/agents", h.createAgent)
	agent.PATCH("/agents/:id", h.updateAgent)
	agent.GET("/groups", h.listGroups)
	agent.POST("/groups", h.createGroup)
	agent.PUT("/groups/:id", h.updateGroup)
	agent.DELETE("/groups/:id", h.deleteGroup)
	agent.GET("/phrases", h.listPhrases)
	agent.POST("/phrases", h.createPhrase)
	agent.GET("/phrases/export", h.exportPhrases)
	agent.POST("/phrases/import", h.importPhrases)
	agent.PUT("/phrases/:id", h.updatePhrase)
	agent.DELETE("/phrases/:id", h.deletePhrase)
	agent.POST("/phrases/:id/use", h.usePhrase)
	agent.GET("/assistant", h.getAssistant)
	agent.PUT("/assistant", h.putAssistant)
	agent.GET("/auto-replies", h.listAutoReplies)
	agent.POST("/auto-replies", h.createAutoReply)
	agent.POST("/auto-replies/test", h.testAutoReply)
	agent.PUT("/auto-replies/:id", h.updateAutoReply)
	agent.DELETE("/auto-replies/:id", h.deleteAutoReply)
	agent.GET("/shop", h.getShop)
	agent.PUT("/shop/origins", h.setShopOrigins)
	agent.POST("/shop/identity-secret", h.rotateIdentitySecret)
	agent.PUT("/shop/routing", h.setShopRouting)
	agent.GET("/shop/overflow", h.getOverflow)
	agent.PUT("/shop/overflow", h.putOverflow)
	agent.PUT("/shop/retention", h.setShopRetention)
	agent.PUT("/shop/csat", h.setShopCSAT)
	agent.GET("/shop/limits", h.getShopLimits)
	agent.PUT("/shop/limits", h.setShopLimits)
	agent.POST("/shop/order-webhook-secret", h.rotateOrderWebhookSecret)
	agent.GET("/api-keys", h.listAPIKeys)
	agent.POST("/api-keys", h.createAPIKey)
	agent.POST("/api-keys/:id/rotate", h.rotateAPIKey)
	agent.DELETE("/api-keys/:id", h.deleteAPIKey)
	agent.GET("/webhooks", h.getWebhook)
	agent.PUT("/webhooks", h.putWebhook)
	agent.POST("/webhooks/secret", h.rotateWebhookSecret)
	agent.GET("/webhooks/deliveries", h.listWebhookDeliveries)
	agent.GET("/reports", h.getReport)
	agent.GET("/reports/live", h.getLiveBoard)
	agent.GET("/reports/tables/:table", h.getReportCSV)
	agent.GET("/reports/charts/:chart", h.getReportChart)
	agent.GET("/conversations", h.listConversations)
	agent.GET("/search", h.search)
	agent.GET("/conversations/:id", h.getConversation)
	agent.GET("/conversations/:id/messages", h.listMessages)
	agent.POST("/conversations/:id/messages", h.sendMessage)
	agent.POST("/conversations/:id/read", h.markRead)
	agent.POST("/conversations/:id/accept", h.acceptConversation)
	agent.POST("/conversations/:id/close", h.closeConversation)
	agent.POST("/conversations/:id/transfer", h.transferConversation)
	agent.POST("/conversations/:id/takeover", h.takeOverConversation)
	agent.POST("/conversations/:id/invite", h.inviteAgent)
	agent.POST("/conversations/:id/leave", h.leaveConversation)
	agent.POST("/conversations/:id/rating-invite", h.inviteRating)
	agent.GET("/conversations/:id/orders", h.conversationOrders)
	agent.POST("/conversations/:id/orders", h.linkOrder)
	agent.DELETE("/conversations/:id/orders/:order_no", h.unlinkOrder)
	agent.GET("/buyers/:id/orders", h.buyerOrders)
	agent.GET("/orders/:order_no/export", h.exportOrder)
	agent.POST("/exports/verify", allowBody(maxExportBodyBytes), h.verifyExport)
	agent.PUT("/buyers/:id/routing", h.setBuyerRouting)

	r.GET("/ws/buyer", h.buyerSocket)
	r.GET("/ws/agent", h.agentSocket)

	r.GET("/widget.js", gin.WrapH(cfg.Widget))
	r.GET("/widget/*file", gin.WrapH(cfg.Widget))
	r.GET("/agent", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/agent/") })
	r.GET("/agent/*file", gin.WrapH(cfg.Console))
	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/agent/") })
}

func (h *handlers) health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.writeError(c, newError(http.StatusServiceUnavailable, "database_unavailable", "The database does not answer."))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "connections": h.hub.count()})
}
