package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/agent"
	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/docs"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/protocol"
	"github.com/kefu/kefu/ratelimit"
	"github.com/kefu/kefu/report"
	"github.com/kefu/kefu/store"
	"github.com/kefu/kefu/widget"
)

const (
	storeOrigin = "http://shop.example"
	password    = "secret-pass"
	waitFor     = 10 * time.Second // a deadline for failing, never a pause
	// passwordCost keeps bcrypt cheap in tests; the cost is a setting
	// (api.Config.PasswordCost), not what is tested.
	passwordCost = bcrypt.MinCost
)

// env is a running kefu over a real SQLite database, with one or two shops.
type env struct {
	t      *testing.T
	dir    string
	dbURL  string // PostgreSQL; empty for SQLite in dir
	clock  *testclock.Clock
	store  *store.Store
	convs  *conversation.Service
	srv    *api.Server
	ts     *httptest.Server
	shop   kefu.Shop
	agents map[string]kefu.Agent
	// maxConnections for the next start; no cap when 0.
	maxConnections int
	// socketWriteTimeout for the next start; the server's default when 0.
	socketWriteTimeout time.Duration
	// publicURL for the next start; none by default.
	publicURL string
	// Proxies trusted to name the client in X-Forwarded-For, for the next
	// start; none by default.
	trustedProxies []string
}

func newEnv(t *testing.T) *env { return newEnvOn(t, "") }

// newEnvOn is newEnv on PostgreSQL at dbURL (SQLite when empty).
func newEnvOn(t *testing.T, dbURL string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), dbURL: dbURL, clock: testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)), agents: map[string]kefu.Agent{}}
	e.start()
	e.shop = e.seedShop("acme", storeOrigin, "wang", "li")
	return e
}

// onEachDatabase runs a scenario on SQLite and on PostgreSQL (which is
// skipped without KEFU_TEST_POSTGRES_URL, except in CI).
func onEachDatabase(t *testing.T, scenario func(*testing.T, *env)) {
	t.Run("sqlite", func(t *testing.T) { scenario(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { scenario(t, newEnvOn(t, testdb.PostgresURL(t))) })
}

// start opens the store and serves the API; restart calls it again over the same data.
func (e *env) start() {
	t := e.t
	st, err := store.Open(context.Background(), store.Config{DataDir: e.dir, DatabaseURL: e.dbURL, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := st.Secret(context.Background(), "buyer_token_secret")
	if err != nil {
		t.Fatal(err)
	}
	convs := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), slog.New(slog.NewTextHandler(os.Stderr, nil)))
	convs.SetClock(e.clock.Now)
	bot := conversation.NewBot(convs, st, nil)
	botCtx, stopBot := context.WithCancel(context.Background())
	botDone := make(chan struct{})
	go func() { defer close(botDone); bot.Run(botCtx, time.Hour) }()
	t.Cleanup(func() { stopBot(); <-botDone })
	e.convs = convs
	e.store = st
	e.srv = api.New(api.Config{Store: st, Conversations: convs, Assistant: bot, Now: e.clock.Now, BuyerSecret: secret,
		Limiter: ratelimit.NewMemory(e.clock.Now), MaxConnections: e.maxConnections, PublicURL: e.publicURL,
		PasswordCost: passwordCost, TrustedProxies: e.trustedProxies, SocketWriteTimeout: e.socketWriteTimeout,
		Widget: widget.Handler(), Console: agent.New(), OpenAPI: docs.Handler(),
		Reports: report.NewRoller(st, nil, func(err error) bool { return errors.Is(err, store.ErrReportMarkMoved) })})
	convs.SetAdmission(e.srv)
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.ts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	e.srv.Shutdown(ctx)
	e.ts.Close()
	e.store.Close()
	e.ts = nil
}

// restart stops the server and starts a new one over the same database.
func (e *env) restart() {
	e.stop()
	e.start()
}

func (e *env) seedShop(slug, origin string, agentNames ...string) kefu.Shop {
	e.t.Helper()
	ctx := context.Background()
	shop, err := e.store.CreateShop(ctx, kefu.Shop{Slug: slug, Name: slug + " shop", IdentitySecret: slug + "-identity", Origins: []string{origin}})
	if err != nil {
		e.t.Fatal(err)
	}
	// Every client of a test comes from one address, faster than any
	// person: a seeded shop has every rate limit off. The limit tests set
	// their own (setLimits).
	if err := e.store.SetShopRateLimits(ctx, shop.ID, kefu.RateLimits{}); err != nil {
		e.t.Fatal(err)
	}
	shop.RateLimits = kefu.RateLimits{}
	hash, err := api.HashPassword(password, passwordCost)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, name := range agentNames {
		a, err := e.store.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: name, Name: name, Role: kefu.RoleAgent, PasswordHash: hash})
		if err != nil {
			e.t.Fatal(err)
		}
		e.agents[slug+"/"+name] = a
	}
	return shop
}

// addAgent adds an agent with the test password to the env's first shop.
func (e *env) addAgent(username string, role kefu.Role) kefu.Agent {
	e.t.Helper()
	hash, err := api.HashPassword(password, passwordCost)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.store.CreateAgent(context.Background(), kefu.Agent{ShopID: e.shop.ID, Username: username, Name: username, Role: role, PasswordHash: hash})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// do sends a JSON request and decodes the JSON answer into out (if non-nil).
func (e *env) do(method, path, token, origin string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return res.StatusCode
}

type apiErr struct {
	Error struct{ Code, Message string } `json:"error"`
}

func (e *env) login(shop, username string) string {
	e.t.Helper()
	var out struct{ Token string }
	if code := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"shop": shop, "username": username, "password": password}, &out); code != 200 {
		e.t.Fatalf("login %s/%s: status %d", shop, username, code)
	}
	return out.Token
}

// buyerToken opens a widget session for a visitor and returns the socket token.
func (e *env) buyerToken(shop, visitorID string) string {
	e.t.Helper()
	var out struct{ Token string }
	if code := e.do("POST", "/api/v1/widget/shops/"+shop+"/session", "", storeOrigin, map[string]string{"visitor_id": visitorID}, &out); code != 200 {
		e.t.Fatalf("widget session: status %d", code)
	}
	return out.Token
}

// signedInToken is a widget session token of acme's buyer the shop knows
// as buyerID (signed by the shop's identity secret), on visitor visitorID.
func (e *env) signedInToken(visitorID, buyerID string) string {
	e.t.Helper()
	var out struct{ Token string }
	body := map[string]string{"visitor_id": visitorID, "buyer_id": buyerID, "signature": api.BuyerSignature(e.shop.IdentitySecret, buyerID)}
	if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, body, &out); code != 200 {
		e.t.Fatalf("signed-in widget session: status %d", code)
	}
	return out.Token
}

// buyerWrites opens a buyer socket for visitor n of acme, sends text as the
// buyer's first message and returns the socket and the ack.
func (e *env) buyerWrites(n int, text string) (*client, frame) {
	e.t.Helper()
	b := e.dial("/ws/buyer", e.buyerToken("acme", visitor(n)), storeOrigin)
	b.next("ready")
	b.send(sendFrame(0, "c1", text))
	return b, b.next("ack")
}

func (e *env) wsURL(path, token string) string {
	return "ws" + strings.TrimPrefix(e.ts.URL, "http") + path + "?token=" + token
}

// frame is any server frame, decoded by type.
type frame struct {
	Type           string                 `json:"type"`
	ClientMsgID    string                 `json:"client_msg_id"`
	Duplicate      bool                   `json:"duplicate"`
	Code           string                 `json:"code"`
	Ref            string                 `json:"ref"`
	ConversationID int64                  `json:"conversation_id"`
	Position       int                    `json:"position"`
	QueuePosition  int                    `json:"queue_position"`
	Messages       []protocol.Message     `json:"messages"`
	HasMore        bool                   `json:"has_more"`
	Conversation   *protocol.Conversation `json:"conversation"`
	Reason         string                 `json:"reason"`
	RetryAfterMs   int64                  `json:"retry_after_ms"`
	Sender         string                 `json:"sender"`
	Reader         string                 `json:"reader"`
	Seq            int64                  `json:"seq"`
	RawMessage     json.RawMessage        `json:"message"`
	Msg            protocol.Message       `json:"-"` // ack and message frames
	Text           string                 `json:"-"` // error frames

	Conversations []protocol.Conversation `json:"conversations"` // agent ready
	LastSeq       int64                   `json:"last_seq"`      // history
	OrderNo       string                  `json:"order_no"`      // order_link
	Linked        bool                    `json:"linked"`        // order_link
	Stars         int                     `json:"stars"`         // rating
	Comment       string                  `json:"comment"`       // rating
}

// client is a test socket: a reader goroutine queues every frame it gets.
type client struct {
	t       *testing.T
	ws      *websocket.Conn
	frames  chan frame
	done    chan struct{}
	mu      sync.Mutex
	closed  error   // why the reader stopped
	pending []frame // read but not yet asked for; used by one goroutine only
}

func (e *env) dial(path, token, origin string) *client {
	e.t.Helper()
	c, err := e.tryDial(path, token, origin)
	if err != nil {
		e.t.Fatalf("dial %s: %v", path, err)
	}
	return c
}

func (e *env) tryDial(path, token, origin string) (*client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ws, _, err := websocket.Dial(ctx, e.wsURL(path, token), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &client{t: e.t, ws: ws, frames: make(chan frame, 20000), done: make(chan struct{})}
	go c.read()
	e.t.Cleanup(func() { ws.CloseNow() })
	return c, nil
}

func (c *client) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.closed = err
			c.mu.Unlock()
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.t.Errorf("server sent invalid JSON %q: %v", data, err)
			continue
		}
		switch f.Type {
		case "ack", "message":
			json.Unmarshal(f.RawMessage, &f.Msg)
		case "error":
			json.Unmarshal(f.RawMessage, &f.Text)
		}
		c.frames <- f
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	var data []byte
	switch v := v.(type) {
	case string:
		data = []byte(v)
	default:
		data, _ = json.Marshal(v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the earliest frame of one of the given types. Frames of
// other types are kept, in order, for later calls.
func (c *client) next(types ...string) frame {
	c.t.Helper()
	match := func(f frame) bool {
		for _, t := range types {
			if f.Type == t {
				return true
			}
		}
		return false
	}
	for i, f := range c.pending {
		if match(f) {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return f
		}
	}
	deadline := time.After(waitFor)
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return f
			}
			c.pending = append(c.pending, f)
		case <-c.done:
			// Frames read before the close are still queued.
			select {
			case f := <-c.frames:
				if match(f) {
					return f
				}
				c.pending = append(c.pending, f)
				continue
			default:
			}
			c.t.Fatalf("socket closed while waiting for %v: %v", types, c.closed)
		case <-deadline:
			c.t.Fatalf("no %v frame within %s", types, waitFor)
		}
	}
}

// closeStatus waits for the server to close the socket and returns the code.
func (c *client) closeStatus() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitFor):
		c.t.Fatalf("socket still open after %s", waitFor)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return websocket.CloseStatus(c.closed)
}

func sendFrame(convID int64, clientMsgID, text string) map[string]any {
	f := map[string]any{"type": "send", "client_msg_id": clientMsgID, "text": text}
	if convID != 0 {
		f["conversation_id"] = convID
	}
	return f
}

func (e *env) agentURL() string { return e.ts.URL }

// tick runs the service's once-a-second work now (kefu serve runs it on a
// timer): waiting buyers hear their places.
func (e *env) tick() { e.convs.Tick(context.Background()) }

func visitor(n int) string { return fmt.Sprintf("v_visitor%08d", n) }
