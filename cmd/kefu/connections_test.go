package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The socket cap keeps 10 % of the open-file limit, at least 256, for the
// database, the listeners and HTTP.
func TestConnectionsUnderTheOpenFileLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		nofile uint64
		want   int
	}{
		{1024, 768},
		{65536, 58983},
		{1048576, 943719},
		{200, 1},
		{256, 1},
		{1 << 62, 1<<24 - 1<<24/10},
	} {
		if got := connectionsUnder(tc.nofile); got != tc.want {
			t.Errorf("connectionsUnder(%d) = %d, want %d", tc.nofile, got, tc.want)
		}
	}
	if n := defaultMaxConnections(); n < 1 {
		t.Fatalf("defaultMaxConnections() = %d", n)
	}
}

// --redis-url must parse (a Redis that is down is fine: it is not dialled
// here), and --max-connections is a whole number.
func TestServeFlagsRedisAndConnections(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		return map[string]string{"KEFU_REDIS_URL": "redis://127.0.0.1:1/0", "KEFU_MAX_CONNECTIONS": "500"}[k]
	}
	cfg, err := parseServeFlags(nil, io.Discard, getenv)
	if err != nil || cfg.redisURL != "redis://127.0.0.1:1/0" || cfg.maxConnections != 500 {
		t.Fatalf("from env: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{
		{"--redis-url", "http://127.0.0.1:6379"},
		{"--redis-url", "redis://127.0.0.1:6379/notadb"},
		{"--max-connections", "-1"},
		{"--max-connections", "many"},
	} {
		if _, err := parseServeFlags(args, io.Discard, getenv); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// kefu serve starts with a Redis that does not answer (admission is
// counted in memory meanwhile: a widget session is admitted), and caps
// sockets at --max-connections: the second is refused 503.
func TestServeWithRedisDownAndAConnectionCap(t *testing.T) {
	t.Parallel()
	srv := startDemoServer(t, "--redis-url", "unix://"+filepath.Join(t.TempDir(), "no-redis.sock"), "--max-connections", "1")
	origin, socketURL := demoBuyerSession(t, srv, "v_redisdown1") // admitted with Redis down
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(ctx, socketURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	}
	ws, _, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_, res, err := dial()
	if err == nil || res == nil || res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second socket over --max-connections 1: %v %v, want 503 with Retry-After", res, err)
	}
}
