package load

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// IdleConfig is what the idle scenario is told.
type IdleConfig struct {
	Config
	// N buyer connections are opened, Concurrency at once, and held for
	// Hold (under 50 s: idle sockets send no heartbeats).
	N, Concurrency int
	Hold           time.Duration
}

// IdleSummary is the idle scenario's result, its last JSON line.
type IdleSummary struct {
	Type           string         `json:"type"`
	Scenario       string         `json:"scenario"`
	Sessions       int            `json:"sessions"`
	Connected      int64          `json:"connected"`
	Failed         int64          `json:"failed"`
	Failures       map[string]int `json:"failures"` // by cause
	ConnectSeconds float64        `json:"connect_s"`
	ConnectsPerSec float64        `json:"connects_per_s"`
	// Server memory (with a PID): before the sockets, once they are open,
	// after holding them, and per connection after holding.
	RSSBeforeKiB int64   `json:"rss_before_kib,omitempty"`
	RSSAfterKiB  int64   `json:"rss_after_kib,omitempty"`
	RSSHeldKiB   int64   `json:"rss_held_kib,omitempty"`
	KiBPerConn   float64 `json:"kib_per_conn,omitempty"`
}

// Idle opens many buyer widget sessions and sockets and holds them; it
// fails if any connection failed.
func Idle(ctx context.Context, cfg IdleConfig, stdout, stderr io.Writer) (IdleSummary, error) {
	sum := IdleSummary{Type: "summary", Scenario: "idle", Sessions: cfg.N, Failures: map[string]int{}}
	if err := RequireLoopback(cfg.URL); err != nil {
		return sum, err
	}
	if cfg.N < 1 || cfg.Concurrency < 1 {
		return sum, fmt.Errorf("need --n >= 1 and --concurrency >= 1")
	}
	out := &jsonLines{out: stdout}
	begin := time.Now()
	var phase atomic.Value
	phase.Store("sessions")
	var sessions, connected, failed atomic.Int64
	var mu sync.Mutex
	fail := func(err error) {
		failed.Add(1)
		mu.Lock()
		sum.Failures[causeOf(err)]++
		mu.Unlock()
	}
	stopProgress := everySecond(ctx, func(now time.Time) {
		out.write(map[string]any{"type": "progress", "scenario": "idle", "t_s": int(now.Sub(begin).Seconds()),
			"phase": phase.Load(), "sessions": sessions.Load(), "connected": connected.Load(), "failed": failed.Load(),
			"rss_kib": rssKiB(cfg.PID)})
	})
	defer stopProgress()

	tokens := make([]string, cfg.N)
	start := time.Now()
	if err := parallel(ctx, cfg.N, cfg.Concurrency, func(i int) error {
		tok, err := session(ctx, cfg.URL, cfg.Shop, cfg.Origin, fmt.Sprintf("v_load%08d_%d", i, start.Unix()))
		tokens[i] = tok
		sessions.Add(1)
		return err
	}); err != nil {
		return sum, fmt.Errorf("sessions: %w", err)
	}
	fmt.Fprintf(stderr, "sessions: %d in %s\n", cfg.N, time.Since(start).Round(time.Millisecond))

	phase.Store("connect")
	sum.RSSBeforeKiB = rssKiB(cfg.PID)
	conns := make([]*websocket.Conn, cfg.N)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
	}()
	wsURL := "ws" + strings.TrimPrefix(cfg.URL, "http") + "/ws/buyer?token="
	start = time.Now()
	parallel(ctx, cfg.N, cfg.Concurrency, func(i int) error {
		c, err := connect(ctx, wsURL+tokens[i], cfg.Origin)
		if err != nil {
			fail(err)
			return nil
		}
		conns[i] = c
		connected.Add(1)
		return nil
	})
	elapsed := time.Since(start)
	sum.RSSAfterKiB = rssKiB(cfg.PID)
	sum.Connected, sum.Failed = connected.Load(), failed.Load()
	sum.ConnectSeconds = round3(elapsed.Seconds())
	sum.ConnectsPerSec = round3(float64(sum.Connected) / elapsed.Seconds())
	fmt.Fprintf(stderr, "connected: %d ok, %d failed in %s (%.0f connects/s)\n", sum.Connected, sum.Failed,
		elapsed.Round(time.Millisecond), sum.ConnectsPerSec)

	phase.Store("hold")
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
	}
	if cfg.PID != 0 && sum.Connected > 0 {
		sum.RSSHeldKiB = rssKiB(cfg.PID)
		sum.KiBPerConn = round3(float64(sum.RSSHeldKiB-sum.RSSBeforeKiB) / float64(sum.Connected))
		fmt.Fprintf(stderr, "server RSS: %d KiB before, %d KiB with the sockets open, %d KiB after holding %s: %.1f KiB per idle connection\n",
			sum.RSSBeforeKiB, sum.RSSAfterKiB, sum.RSSHeldKiB, cfg.Hold, sum.KiBPerConn)
	}
	stopProgress()
	out.write(sum)
	if sum.Failed > 0 {
		return sum, fmt.Errorf("%d connections failed: %v", sum.Failed, sum.Failures)
	}
	return sum, ctx.Err()
}

// everySecond calls f once a second until the returned stop is called (it
// waits for a call under way) or ctx ends.
func everySecond(ctx context.Context, f func(now time.Time)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case now := <-tick.C:
				f(now)
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// causeOf names a failure's cause in a few words, to count failures by it.
func causeOf(err error) string {
	s := err.Error()
	for _, c := range []struct{ needle, cause string }{
		{"got 503", "http_503"}, {"got 429", "http_429"}, {"got 403", "http_403"},
		{"status 503", "http_503"}, {"status 429", "http_429"},
		{"deadline exceeded", "timeout"}, {"timeout", "timeout"},
		{"connection refused", "refused"}, {"connection reset", "reset"},
		{"no ready", "no_ready"}, {"4401", "close_4401"}, {"1012", "close_1012"},
		{"too many open files", "fd_limit"},
	} {
		if strings.Contains(s, c.needle) {
			return c.cause
		}
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}
