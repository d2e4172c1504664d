package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
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
	store, _ := url.Parse(srv.storeURL)
	origin := store.Scheme + "://" + store.Host
	kefuURL := strings.TrimSuffix(srv.consoleURL, "/agent/")
	body, _ := json.Marshal(map[string]string{"visitor_id": "v_redisdown1"})
	req, _ := http.NewRequest("POST", kefuURL+"/api/v1/widget/shops/demo/session", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess struct {
		Token     string
		SocketURL string `json:"socket_url"`
	}
	json.NewDecoder(res.Body).Decode(&sess)
	res.Body.Close()
	if res.StatusCode != 200 || sess.Token == "" {
		t.Fatalf("widget session with Redis down: %d, want 200", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(ctx, sess.SocketURL+"?token="+url.QueryEscape(sess.Token),
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	}
	ws, _, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_, res, err = dial()
	if err == nil || res == nil || res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second socket over --max-connections 1: %v %v, want 503 with Retry-After", res, err)
	}
}
