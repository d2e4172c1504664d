package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The HTTP server cuts a connection that sends a request too slowly, sits
// idle, or starts a next request and stops; a socket is not bound by those
// timeouts. They are set small here; each case waits for the server to act,
// failing only after closeBound.
func TestHTTPTimeouts(t *testing.T) {
	t.Parallel()
	small := httpTimeouts{readHeader: time.Second, read: time.Second, write: time.Second, idle: 2 * time.Second}
	srv := startDemoServerWith(t, func(cfg *serveConfig) { cfg.timeouts = small })
	kefuURL := strings.TrimSuffix(srv.consoleURL, "/agent/")
	addr := strings.TrimPrefix(kefuURL, "http://")
	const closeBound = 20 * time.Second // a deadline for failing, far beyond every timeout above
	const get = "GET /healthz HTTP/1.1\r\nHost: kefu\r\n\r\n"

	dial := func(t *testing.T) (net.Conn, *bufio.Reader) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn, bufio.NewReader(conn)
	}
	write := func(t *testing.T, conn net.Conn, s string) {
		t.Helper()
		if _, err := io.WriteString(conn, s); err != nil {
			t.Fatal(err)
		}
	}
	// answered sends a whole request and reads its answer, leaving the
	// connection kept alive.
	answered := func(t *testing.T, conn net.Conn, r *bufio.Reader) {
		t.Helper()
		write(t, conn, get)
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Close {
			t.Fatalf("GET /healthz: %d, close %v", res.StatusCode, res.Close)
		}
	}
	// closedByServer reads until the server closes the connection.
	closedByServer := func(t *testing.T, conn net.Conn, r *bufio.Reader) {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(closeBound))
		_, err := io.Copy(io.Discard, r)
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			t.Fatalf("connection still open after %s", closeBound)
		}
	}

	t.Run("body sent a byte at a time", func(t *testing.T) {
		t.Parallel()
		conn, r := dial(t)
		write(t, conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: kefu\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
		stop := make(chan struct{})
		trickled := make(chan struct{})
		go func() {
			defer close(trickled)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		closedByServer(t, conn, r)
		close(stop)
		<-trickled
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		t.Parallel()
		conn, r := dial(t)
		answered(t, conn, r)
		closedByServer(t, conn, r)
	})
	t.Run("three bytes of a next request", func(t *testing.T) {
		t.Parallel()
		conn, r := dial(t)
		answered(t, conn, r)
		write(t, conn, "GET")
		closedByServer(t, conn, r)
	})
	t.Run("headers cut short", func(t *testing.T) {
		t.Parallel()
		conn, r := dial(t)
		write(t, conn, "GET /healthz HTTP/1.1\r\nHost:")
		closedByServer(t, conn, r)
	})
	t.Run("socket outlives them", func(t *testing.T) {
		t.Parallel()
		store, _ := url.Parse(srv.storeURL)
		origin := store.Scheme + "://" + store.Host
		body, _ := json.Marshal(map[string]string{"visitor_id": "v_timeouts01"})
		req, _ := http.NewRequest("POST", kefuURL+"/api/v1/widget/shops/demo/session", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var sess struct{ Token string }
		json.NewDecoder(res.Body).Decode(&sess)
		res.Body.Close()
		ctx, cancel := context.WithTimeout(t.Context(), closeBound)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, strings.Replace(kefuURL, "http", "ws", 1)+"/ws/buyer?token="+url.QueryEscape(sess.Token),
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		next := func(typ string) {
			t.Helper()
			for {
				_, data, err := ws.Read(ctx)
				if err != nil {
					t.Fatalf("waiting for %s: %v", typ, err)
				}
				var f struct{ Type string }
				json.Unmarshal(data, &f)
				if f.Type == typ {
					return
				}
			}
		}
		next("ready")

		// Opened after the socket, an idle connection is closed after the
		// idle timeout: by then the socket is older than every timeout.
		conn, r := dial(t)
		answered(t, conn, r)
		closedByServer(t, conn, r)

		if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		next("pong")
	})
}
