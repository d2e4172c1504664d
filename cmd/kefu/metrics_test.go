package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// kefu serve --metrics-addr serves /metrics on that listener (and
// --debug-addr beside the profiler), never on the public one; a buyer's
// socket and message show in it.
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	srv := startDemoServer(t, "--metrics-addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0")
	if srv.metricsURL == "" || srv.profilerURL == "" {
		t.Fatalf("kefu printed no metrics (%q) or profiler (%q) URL", srv.metricsURL, srv.profilerURL)
	}
	kefuURL := strings.TrimSuffix(srv.consoleURL, "/agent/")
	if res, err := http.Get(kefuURL + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("public listener's /metrics: %v %v, want 404", res.Status, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws := dialDemoBuyer(ctx, t, srv, "v_metrics01")
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

	// A socket with a token nobody signed is refused, and counted.
	bad, _, err := websocket.Dial(ctx, strings.Replace(kefuURL, "http", "ws", 1)+"/ws/buyer?token=forged", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bad.Read(ctx); websocket.CloseStatus(err) != 4401 {
		t.Fatalf("forged token: %v, want close 4401", err)
	}

	// The consumers after the fan-out count the message just after the ack
	// went to the socket: wait for the scrape to catch up.
	// No agent is online: the conversation waits in the demo shop's (id 1) line.
	want := map[string]float64{`kefu_messages_stored_total{sender="buyer"}`: 1, `kefu_open_sockets{kind="buyer"}`: 1,
		`kefu_queue_length{shop="1"}`: 1, `kefu_connections_refused_total{reason="unauthorized"}`: 1}
	var got map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; {
		got = scrapeMetrics(t, srv.metricsURL)
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for _, k := range []string{"kefu_store_commit_messages_count", "kefu_message_delivery_seconds_count"} {
		if got[k] < 1 {
			t.Errorf("%s = %v, want at least 1", k, got[k])
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	profiler, _ := url.Parse(srv.profilerURL)
	if debug := scrapeMetrics(t, "http://"+profiler.Host+"/metrics"); debug[`kefu_messages_stored_total{sender="buyer"}`] != 1 {
		t.Errorf("--debug-addr's /metrics: buyer messages %v, want 1", debug[`kefu_messages_stored_total{sender="buyer"}`])
	}
}

// scrapeMetrics reads a /metrics page into series (name and labels as
// printed) and values.
func scrapeMetrics(t *testing.T, u string) map[string]float64 {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %s %s", u, res.Status, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
