package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The real binary path, without a browser: a buyer on the demo store chats,
// then SIGINT (ctx cancelled) tells the socket to reconnect, closes it with
// 1012 and run returns nil.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	srv := startDemoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws := dialDemoBuyer(ctx, t, srv, "v_shutdown01")
	defer ws.CloseNow()
	read := func() map[string]any {
		t.Helper()
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var f map[string]any
		json.Unmarshal(data, &f)
		return f
	}
	if f := read(); f["type"] != "ready" {
		t.Fatalf("first frame %v, want ready", f)
	}
	ws.Write(ctx, websocket.MessageText, []byte(`{"type":"send","client_msg_id":"c1","text":"在吗"}`))
	for f := read(); f["type"] != "ack"; f = read() {
	}

	stopped := make(chan error, 1)
	go func() { stopped <- srv.stop(15 * time.Second) }()
	var reconnect map[string]any
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusServiceRestart {
				t.Fatalf("socket ended with %v, want close 1012", err)
			}
			break
		}
		var f map[string]any
		json.Unmarshal(data, &f)
		if f["type"] == "reconnect" {
			reconnect = f
		}
	}
	if reconnect == nil || reconnect["reason"] != "server_restart" {
		t.Fatalf("no reconnect frame before the close (got %v)", reconnect)
	}
	if ms, _ := reconnect["retry_after_ms"].(float64); ms < 500 || ms > 3000 {
		t.Fatalf("retry_after_ms %v, want 500..3000", reconnect["retry_after_ms"])
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v after the signal, want nil", err)
	}
}

// demoBuyerSession opens a widget session on the demo shop for visitor, as
// the demo store's page does, and returns the page's origin and the URL of
// the buyer socket it names, token included.
func demoBuyerSession(t *testing.T, srv *demoServer, visitor string) (origin, socketURL string) {
	t.Helper()
	store, _ := url.Parse(srv.storeURL)
	origin = store.Scheme + "://" + store.Host
	body, _ := json.Marshal(map[string]string{"visitor_id": visitor})
	req, _ := http.NewRequest("POST", strings.TrimSuffix(srv.consoleURL, "/agent/")+"/api/v1/widget/shops/demo/session", bytes.NewReader(body))
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
		t.Fatalf("widget session: %d", res.StatusCode)
	}
	return origin, sess.SocketURL + "?token=" + url.QueryEscape(sess.Token)
}

// dialDemoBuyer opens a widget session on the demo shop for visitor and
// the buyer socket it names, from the demo store's origin.
func dialDemoBuyer(ctx context.Context, t *testing.T, srv *demoServer, visitor string) *websocket.Conn {
	t.Helper()
	origin, socketURL := demoBuyerSession(t, srv, visitor)
	ws, _, err := websocket.Dial(ctx, socketURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}
