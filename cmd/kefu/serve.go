package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu/kefu/agent"
	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/docs"
	"github.com/kefu/kefu/metrics"
	"github.com/kefu/kefu/ratelimit"
	"github.com/kefu/kefu/report"
	"github.com/kefu/kefu/store"
	"github.com/kefu/kefu/webhook"
	"github.com/kefu/kefu/widget"
)

// httpTimeouts bound how long one connection may hold the server outside a
// socket: a request's headers (readHeader) and whole request, body included
// (read), counted from its first byte; writing the answer, counted from the
// end of the headers (write); the wait for the next request on a kept-alive
// connection, whose first bytes must also come within it (idle). An upgraded
// socket is not bound by them (net/http clears a connection's deadlines
// when the upgrade hijacks it): it has its own heartbeat and write deadlines
// (docs/protocol.md).
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// defaultHTTPTimeouts are roomy for a phone on a slow network: a request
// body is at most 64 KiB and no answer is large.
var defaultHTTPTimeouts = httpTimeouts{readHeader: 10 * time.Second, read: 30 * time.Second, write: 60 * time.Second, idle: 60 * time.Second}

// server is an http.Server for h with these timeouts.
func (t httpTimeouts) server(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.readHeader, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle}
}

type serveConfig struct {
	addr      string
	store     store.Config
	proxies   []string // --trusted-proxies, parsed
	publicURL string
	demo      bool
	demoAddr  string
	// demoHistoryDays is --demo-history-days: how many days of generated
	// history a new demo shop starts with (0: none).
	demoHistoryDays int
	debugAddr       string
	// metricsAddr is --metrics-addr: /metrics alone on a listener of its own.
	metricsAddr string
	// redisURL is --redis-url: where admission limits are counted for all
	// nodes; "" counts them in this process.
	redisURL string
	// maxConnections is --max-connections; 0 derives it from the
	// open-file limit (defaultMaxConnections).
	maxConnections int
	// passwordCost is the bcrypt cost of the hashes serve makes, and
	// timeouts the HTTP servers' (no flags: api.DefaultPasswordCost and
	// defaultHTTPTimeouts; tests lower them).
	passwordCost int
	timeouts     httpTimeouts
	// presenceGrace, if set, replaces conversation.DefaultPresenceGrace (no
	// flag: browser tests watch a departure in real time).
	presenceGrace time.Duration
}

// parseServeFlags reads flags; each flag's default comes from its env var.
func parseServeFlags(args []string, stderr io.Writer, getenv func(string) string) (serveConfig, error) {
	env := envOr(getenv)
	cfg := serveConfig{passwordCost: api.DefaultPasswordCost, timeouts: defaultHTTPTimeouts}
	fs := flag.NewFlagSet("kefu serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", env("KEFU_ADDR", "127.0.0.1:8080"), "listen address (env KEFU_ADDR)")
	storeFlags(fs, env, &cfg.store)
	trustedProxies := fs.String("trusted-proxies", env("KEFU_TRUSTED_PROXIES", ""), "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client (env KEFU_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.publicURL, "public-url", env("KEFU_PUBLIC_URL", ""), "URL browsers reach kefu at, when behind a proxy (env KEFU_PUBLIC_URL)")
	demoDefault, _ := strconv.ParseBool(env("KEFU_DEMO", "false"))
	fs.BoolVar(&cfg.demo, "demo", demoDefault, "create the demo shop if absent, register the demo store page's origins if missing, serve the page (env KEFU_DEMO)")
	fs.StringVar(&cfg.demoAddr, "demo-addr", env("KEFU_DEMO_ADDR", ""), "listen address of the demo store page; default: the port after --addr (env KEFU_DEMO_ADDR)")
	historyDays := fs.String("demo-history-days", env("KEFU_DEMO_HISTORY_DAYS", "21"), "days of generated history (conversations, orders, the event log) a new demo shop starts with, for its reports; 0: none (env KEFU_DEMO_HISTORY_DAYS)")
	fs.StringVar(&cfg.debugAddr, "debug-addr", env("KEFU_DEBUG_ADDR", ""), "listen address of Go's profiler (/debug/pprof/) and /metrics; keep it private; default: off (env KEFU_DEBUG_ADDR)")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", env("KEFU_METRICS_ADDR", ""), "listen address of /metrics (Prometheus) alone; keep it private; default: off (env KEFU_METRICS_ADDR)")
	fs.StringVar(&cfg.redisURL, "redis-url", env("KEFU_REDIS_URL", ""), "Redis URL (redis://host:6379/0) where widget-session and new-conversation limits are counted for all nodes; default: in this process (env KEFU_REDIS_URL)")
	maxConns := fs.String("max-connections", env("KEFU_MAX_CONNECTIONS", "0"), "cap on open sockets, buyers' and agents'; 0: the open-file limit less a reserve of 10% (at least 256) (env KEFU_MAX_CONNECTIONS)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.redisURL != "" {
		if _, err := ratelimit.RedisOptions(cfg.redisURL); err != nil {
			return cfg, fmt.Errorf("--redis-url: %w", err)
		}
	}
	n, err := strconv.Atoi(*maxConns)
	if err != nil || n < 0 {
		return cfg, fmt.Errorf("--max-connections: %q is not a whole number of at least 0", *maxConns)
	}
	cfg.maxConnections = n
	if cfg.demoHistoryDays, err = strconv.Atoi(*historyDays); err != nil || cfg.demoHistoryDays < 0 || cfg.demoHistoryDays > maxDemoHistoryDays {
		return cfg, fmt.Errorf("--demo-history-days: %q is not a whole number from 0 to %d", *historyDays, maxDemoHistoryDays)
	}
	cfg.proxies, err = parseProxies(*trustedProxies)
	return cfg, err
}

// parseProxies parses --trusted-proxies.
func parseProxies(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an IP nor a CIDR", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// serve is `kefu serve`: it reads the flags and runs the server.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := parseServeFlags(args, stderr, getenv)
	if err != nil {
		return err
	}
	return runServer(ctx, cfg, stdout, stderr)
}

// runServer runs the server until ctx ends, then shuts down gracefully: stop
// accepting, tell sockets to reconnect, flush, close the database.
func runServer(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The metrics are served only on private listeners (--metrics-addr,
	// --debug-addr), never on the public one.
	m := metrics.New(log)
	cfg.store.Commits = m.StoreCommit
	st, err := store.Open(ctx, cfg.store)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, err := st.Secret(ctx, "buyer_token_secret")
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	// Until the servers take them over, a failed start closes the listeners.
	listeners, serving := []net.Listener{ln}, false
	defer func() {
		if !serving {
			for _, l := range listeners {
				l.Close()
			}
		}
	}()
	baseURL := "http://" + browsable(ln.Addr().String())

	var demoLn net.Listener
	var demoInfo *demoShop
	if cfg.demo {
		demoAddr := cfg.demoAddr
		if demoAddr == "" {
			demoAddr = nextPort(ln.Addr().String())
		}
		if demoLn, err = net.Listen("tcp", demoAddr); err != nil {
			return fmt.Errorf("listen on %s for the demo store: %w", demoAddr, err)
		}
		listeners = append(listeners, demoLn)
		storeURL := "http://" + browsable(demoLn.Addr().String())
		if demoInfo, err = seedDemo(ctx, st, storeOrigins(storeURL), cfg.passwordCost, cfg.demoHistory()); err != nil {
			return err
		}
		demoInfo.storeURL, demoInfo.kefuURL = storeURL, baseURL
	}

	var debug *http.Server
	var debugLn net.Listener
	if cfg.debugAddr != "" {
		if debug, debugLn, err = debugServer(cfg.debugAddr, m.Handler()); err != nil {
			return err
		}
		listeners = append(listeners, debugLn)
	}
	var metricsSrv *http.Server
	var metricsLn net.Listener
	if cfg.metricsAddr != "" {
		if metricsSrv, metricsLn, err = metricsServer(cfg.metricsAddr, m.Handler()); err != nil {
			return err
		}
		listeners = append(listeners, metricsLn)
	}

	// Routing state is in the store; the line moves as agents come online.
	presence := conversation.NewMemoryPresence()
	if cfg.presenceGrace > 0 {
		presence.SetGrace(cfg.presenceGrace)
	}
	// The shops' outbound webhooks read the event log; a commit wakes them.
	hooks := webhook.New(st, nil, log)
	convs := conversation.New(st, presence, conversation.NewMemoryBroker(), log, hooks, m.Consumer())
	m.CountQueues(st.QueueLengths)
	bot := conversation.NewBot(convs, st, log)
	if err := convs.Start(ctx); err != nil {
		return err
	}
	// Waiting buyers hear their place and wait each second their shop's line
	// moved. The ticker ends before the store closes.
	tickCtx, stopTicks := context.WithCancel(ctx)
	ticked := make(chan struct{})
	botDone := make(chan struct{})
	hooksDone := make(chan struct{})
	rollupDone := make(chan struct{})
	// The reports' roll-up folds the event log every few seconds (and
	// whatever is left before each report).
	rollup := report.NewRoller(st, log, func(err error) bool { return errors.Is(err, store.ErrReportMarkMoved) })
	go func() { defer close(ticked); convs.Run(tickCtx, time.Second) }()
	go func() { defer close(botDone); bot.Run(tickCtx, time.Second) }()
	go func() { defer close(hooksDone); hooks.Run(tickCtx, time.Second) }()
	go func() { defer close(rollupDone); rollup.Run(tickCtx, 5*time.Second) }()
	defer func() { stopTicks(); <-ticked; <-botDone; <-hooksDone; <-rollupDone }()
	admission, closeRedis, err := admissionLimiter(ctx, cfg.redisURL, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	maxConns := cfg.maxConnections
	if maxConns == 0 {
		maxConns = defaultMaxConnections()
	}
	srv := api.New(api.Config{
		Store: st, Conversations: convs, Assistant: bot, Log: log, BuyerSecret: secret, PublicURL: cfg.publicURL, TrustedProxies: cfg.proxies,
		Limiter: ratelimit.NewMemory(nil), Admission: admission, MaxConnections: maxConns,
		PasswordCost: cfg.passwordCost, Widget: widget.Handler(), Console: agent.New(), OpenAPI: docs.Handler(), Metrics: m,
		Reports: rollup,
	})
	m.CountSockets(srv.Sockets)
	// New conversations are admitted by the api's limits per address and shop.
	convs.SetAdmission(srv)
	httpServer := cfg.timeouts.server(srv)
	servers := []*http.Server{httpServer}
	errc := make(chan error, 4)
	serving = true
	go func() { errc <- httpServer.Serve(ln) }()
	if demoInfo != nil {
		demoServer := cfg.timeouts.server(demoInfo.handler())
		servers = append(servers, demoServer)
		go func() { errc <- demoServer.Serve(demoLn) }()
	}

	if debug != nil {
		servers = append(servers, debug)
		go func() { errc <- debug.Serve(debugLn) }()
	}
	if metricsSrv != nil {
		servers = append(servers, metricsSrv)
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
	}
	fmt.Fprintf(stdout, "kefu listening on %s (database: %s)\n", baseURL, st.Dialect())
	fmt.Fprintf(stdout, "  agent console: %s/agent/\n", baseURL)
	if debug != nil {
		fmt.Fprintf(stdout, "  profiler:      http://%s/debug/pprof/\n", browsable(debugLn.Addr().String()))
	}
	if metricsSrv != nil {
		fmt.Fprintf(stdout, "  metrics:       http://%s/metrics\n", browsable(metricsLn.Addr().String()))
	}
	if demoInfo != nil {
		demoInfo.printWelcome(stdout)
	}

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// Stop accepting first, then send every socket away; hijacked sockets are
	// not waited for by http.Server, so the api server waits for them itself.
	for _, s := range servers {
		go s.Shutdown(shutdownCtx)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			log.Warn("shutdown", "err", err)
		}
	}
	fmt.Fprintln(stdout, "kefu stopped")
	return nil
}

// admissionLimiter is where widget sessions and new conversations are
// counted: in this process without a Redis URL; otherwise in Redis behind
// a ratelimit.Fallback, which counts in this process while Redis is
// unreachable, so a Redis that is down at start delays nothing (it is
// logged, and used once it answers). The URL was checked with the flags.
func admissionLimiter(ctx context.Context, redisURL string, log *slog.Logger) (api.Limiter, func(), error) {
	if redisURL == "" {
		return ratelimit.NewMemory(nil), func() {}, nil
	}
	opts, err := ratelimit.RedisOptions(redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis-url: %w", err)
	}
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		log.Warn("Redis at --redis-url does not answer; counting admission limits in this process until it does", "addr", opts.Addr, "err", err)
	}
	return ratelimit.NewFallback(ratelimit.NewRedis(client, "kefu:"), ratelimit.NewMemory(nil), log, nil), func() { client.Close() }, nil
}

// browsable turns a listen address into one a browser can open.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// nextPort is addr with the port after its own (port 0 stays 0).
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	n, _ := strconv.Atoi(port)
	if n != 0 {
		n++
	}
	return net.JoinHostPort(host, strconv.Itoa(n))
}
