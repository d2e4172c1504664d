// Package load drives a running kefu from outside, over loopback only and
// through the documented protocol alone (docs/protocol.md), and measures
// it. Every scenario is bounded: it stops by itself and returns an error
// when what it checks did not hold. cmd/kefu-load runs the scenarios from
// the command line; tests run them against a server started in-process.
//
// The scenarios, and what each measures:
//
//   - Idle: many buyer widget sessions and sockets held open; connect rate,
//     failures by cause and the server's resident memory per connection.
//   - Storm: buyers and agents in open conversations; every buyer socket is
//     dropped at once (as after a server restart), agents write to them
//     while they are away, and all buyers reconnect at once with their
//     token and resume by seq. Reconnects per second, failures by cause,
//     time until all are back, and buyers who missed a message.
//   - Relay: buyers and agents chatting both ways at a fixed rate; delivery
//     latency (p50/p95/p99), lost, doubled and out-of-order messages, and
//     the server's CPU time per message.
//   - Surge: new buyers arriving at a base rate, then at ten times it for a
//     minute (Double-11), then at the base rate again, served by simulated
//     agents who answer after a think time and close conversations to free
//     their slots. Time to first answer per buyer (p50/p99/max), buyers
//     never answered, lost / duplicated / out-of-order messages, refusals by
//     code, the server's memory in the surge against the steady phase, and
//     how long after the surge delivery latency is back to normal.
//
// Idle, Storm and Surge write JSON lines to their stdout: one progress
// object a second ({"type":"progress",…}) and a final summary
// ({"type":"summary",…}); a human summary goes to stderr. Relay writes its
// lines of text as it always has, so that its figures compare across
// versions.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Config is the target every scenario is pointed at.
type Config struct {
	// URL is kefu's base URL; only loopback addresses are accepted.
	URL string
	// Shop is the shop's slug; Origin one of its registered store origins,
	// sent as the buyers' Origin.
	Shop, Origin string
	// Owner and Password sign in the shop's owner (who creates the load
	// agents and closes what earlier runs left open); the load agents get
	// the same password.
	Owner, Password string
	// PID is the server's process id, to read its memory and CPU time from
	// /proc; 0 leaves them out.
	PID int
	// ForwardedFor has the storm's and surge's buyers each name an address
	// of their own in X-Forwarded-For (198.18.0.0/15, the benchmarking
	// range), for a server run with --trusted-proxies 127.0.0.1: limits per
	// client address then see many buyers, as a real surge brings, instead
	// of one address minting them all.
	ForwardedFor bool
}

// buyerAddress is the i-th buyer's address for X-Forwarded-For.
func buyerAddress(i int) string {
	return fmt.Sprintf("198.%d.%d.%d", 18+(i>>16)&1, (i>>8)&255, i&255)
}

// RequireLoopback refuses any target but this machine: the tool opens
// thousands of sockets and must never be pointed at someone's server.
func RequireLoopback(base string) error {
	if !strings.HasPrefix(base, "http://") || !isLoopback(base) {
		return errors.New("--url must be a loopback address")
	}
	return nil
}

// isLoopback says whether a URL's host is localhost or a loopback IP. The
// socket address a session answers with is checked too: a server behind
// --public-url could name another machine.
func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// jsonLines writes one JSON object a line; scenarios' goroutines share it.
type jsonLines struct {
	mu  sync.Mutex
	out io.Writer
}

func (j *jsonLines) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"type": "error", "error": err.Error()})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.out.Write(append(b, '\n'))
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
