// Command kefu-load measures a running kefu from outside, over loopback
// only, and stops by itself. Scenarios:
//
//   - idle: many buyer widget sessions and sockets; connect rate, failures
//     and the server's resident memory per connection.
//
//   - relay: buyers and agents chatting both ways at a fixed rate; delivery
//     latency (p50/p95/p99), lost, doubled and out-of-order messages, and
//     the server's CPU time per message.
//
//     go run ./cmd/kefu-load idle --url http://127.0.0.1:8080 --shop demo \
//     --origin http://127.0.0.1:8081 --n 5000 --pid $(pgrep -f 'kefu serve')
//     go run ./cmd/kefu-load relay --url http://127.0.0.1:8080 --origin http://127.0.0.1:8081 \
//     --buyers 1000 --agents 200 --rate 5000 --duration 30s --pid $(pgrep -f 'kefu serve')
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kefu-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "idle":
		return idle(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "relay":
		return relay(ctx, args[1:], stdout, stderr)
	}
	return errors.New("usage: kefu-load idle|relay [flags] (kefu-load idle -h, kefu-load relay -h)")
}

// idle opens many buyer sockets and holds them.
func idle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kefu-load idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "kefu base URL (loopback)")
	shop := fs.String("shop", "demo", "shop slug")
	origin := fs.String("origin", "http://127.0.0.1:8081", "a registered store origin to send as Origin")
	n := fs.Int("n", 1000, "buyer connections to open")
	concurrency := fs.Int("concurrency", 256, "connections opened at once")
	hold := fs.Duration("hold", 5*time.Second, "how long to hold the idle connections (under 50s: no heartbeats are sent)")
	pid := fs.Int("pid", 0, "the kefu server's process id, to read its resident memory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := requireLoopback(*base); err != nil {
		return err
	}

	tokens := make([]string, *n)
	start := time.Now()
	if err := parallel(ctx, *n, *concurrency, func(i int) error {
		tok, err := session(ctx, *base, *shop, *origin, fmt.Sprintf("v_load%08d_%d", i, start.Unix()))
		tokens[i] = tok
		return err
	}); err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	fmt.Fprintf(stdout, "sessions: %d in %s\n", *n, time.Since(start).Round(time.Millisecond))

	before := rssKiB(*pid)
	conns := make([]*websocket.Conn, *n)
	var failed atomic.Int64
	wsURL := "ws" + strings.TrimPrefix(*base, "http") + "/ws/buyer?token="
	start = time.Now()
	parallel(ctx, *n, *concurrency, func(i int) error {
		c, err := connect(ctx, wsURL+tokens[i], *origin)
		if err != nil {
			failed.Add(1)
			return nil
		}
		conns[i] = c
		return nil
	})
	elapsed := time.Since(start)
	after := rssKiB(*pid)
	ok := int64(*n) - failed.Load()
	fmt.Fprintf(stdout, "connected: %d ok, %d failed in %s (%.0f connects/s)\n", ok, failed.Load(), elapsed.Round(time.Millisecond),
		float64(ok)/elapsed.Seconds())
	if *pid != 0 && ok > 0 {
		fmt.Fprintf(stdout, "server RSS: %d KiB before, %d KiB after: %.1f KiB per idle connection\n", before, after,
			float64(after-before)/float64(ok))
	}
	select {
	case <-time.After(*hold):
	case <-ctx.Done():
	}
	if *pid != 0 && ok > 0 {
		held := rssKiB(*pid)
		fmt.Fprintf(stdout, "server RSS after holding %s: %d KiB: %.1f KiB per idle connection\n", *hold, held,
			float64(held-before)/float64(ok))
	}
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
	if failed.Load() > 0 {
		return fmt.Errorf("%d connections failed", failed.Load())
	}
	return nil
}

// requireLoopback refuses any target but this machine.
func requireLoopback(base string) error {
	if !strings.HasPrefix(base, "http://127.") && !strings.HasPrefix(base, "http://localhost") {
		return errors.New("--url must be a loopback address")
	}
	return nil
}

// parallel runs f(0..n-1) with at most limit at once and returns the first error.
func parallel(ctx context.Context, n, limit int, f func(i int) error) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	var once sync.Once
	var first error
	for i := 0; i < n && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(i); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	return first
}

func session(ctx context.Context, base, shop, origin, visitor string) (string, error) {
	body, _ := json.Marshal(map[string]string{"visitor_id": visitor})
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/widget/shops/"+shop+"/session", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		return "", fmt.Errorf("session: status %d", res.StatusCode)
	}
	return out.Token, nil
}

// connect opens a buyer socket and waits for its ready frame.
func connect(ctx context.Context, url, origin string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		return nil, err
	}
	_, data, err := c.Read(ctx)
	if err != nil || !bytes.Contains(data, []byte(`"type":"ready"`)) {
		c.CloseNow()
		return nil, fmt.Errorf("no ready frame: %v", err)
	}
	return c, nil
}

// rssKiB reads a process's resident memory from /proc; 0 if unknown.
func rssKiB(pid int) int64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
