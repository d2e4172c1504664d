package ratelimit

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testredis"
)

// counting counts the calls that reach the shared limiter.
type counting struct {
	Limiter
	calls atomic.Int64
}

func (c *counting) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	c.calls.Add(1)
	return c.Limiter.Allow(ctx, key, limit)
}

// Redis stopped mid-test: the Fallback goes on deciding (in memory, per
// node: neither open nor closed), logs the outage once, asks Redis no more
// than once per FallbackRetry while it is down, and counts in Redis again
// once it answers.
func TestFallbackWhenRedisStops(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	opts, err := RedisOptions("redis://localhost")
	if err != nil {
		t.Fatal(err)
	}
	shared := &counting{Limiter: NewRedis(srv.Client(opts), "fb:")}
	clock := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	local := NewMemory(clock.Now)
	var logs bytes.Buffer
	f := NewFallback(shared, local, slog.New(slog.NewTextHandler(&logs, nil)), clock.Now)
	limit := Limit{Rate: 1.0 / 60, Burst: 3}
	ctx := context.Background()
	try := func() Decision {
		t.Helper()
		d, err := f.Allow(ctx, "addr:203.0.113.7", limit)
		if err != nil {
			t.Fatalf("fallback failed: %v", err)
		}
		return d
	}
	burst := func(when string) {
		t.Helper()
		for i := 0; i < 3; i++ {
			if !try().Allowed {
				t.Fatalf("%s: action %d refused", when, i+1)
			}
		}
		if d := try(); d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Minute {
			t.Fatalf("%s: over the burst: %+v, want refused with a wait of at most a minute", when, d)
		}
	}

	burst("Redis up")
	if n := shared.calls.Load(); n != 4 || local.size() != 0 {
		t.Fatalf("Redis up: %d calls reached Redis, %d local buckets; want 4 and 0", n, local.size())
	}

	srv.Stop()
	// The first call finds Redis gone and decides in memory: a full local
	// bucket (the shared count is lost), then the limit as usual.
	burst("Redis stopped")
	if n := shared.calls.Load(); n != 5 {
		t.Fatalf("Redis stopped: %d calls reached Redis, want 5: after the failure none until FallbackRetry", n)
	}
	if !f.Down() {
		t.Fatal("the fallback does not report Redis down")
	}
	clock.Advance(FallbackRetry)
	if d := try(); d.Allowed {
		t.Fatal("the probe's failure let an action through the local limit")
	}
	if n := shared.calls.Load(); n != 6 {
		t.Fatalf("after FallbackRetry: %d calls reached Redis, want 6 (one probe)", n)
	}
	try()
	if n := shared.calls.Load(); n != 6 {
		t.Fatalf("right after a failed probe: %d calls reached Redis, want still 6", n)
	}
	if n := strings.Count(logs.String(), "Redis is unreachable"); n != 1 {
		t.Fatalf("the outage was logged %d times, want once:\n%s", n, logs.String())
	}

	srv.Restart() // empty: Redis keeps nothing across the restart
	try()         // still within FallbackRetry of the last probe: memory
	if n := shared.calls.Load(); n != 6 {
		t.Fatalf("Redis back within FallbackRetry: %d calls reached Redis, want 6", n)
	}
	clock.Advance(FallbackRetry)
	burst("Redis back")
	if n := shared.calls.Load(); n != 10 || f.Down() {
		t.Fatalf("Redis back: %d calls reached Redis (want 10), down %v", n, f.Down())
	}
	if !strings.Contains(logs.String(), "Redis answers again") {
		t.Fatalf("the recovery was not logged:\n%s", logs.String())
	}
}

// A caller whose context ends gets its error; Redis is not taken for down.
func TestFallbackCallerGaveUp(t *testing.T) {
	t.Parallel()
	client, prefix := testredis.Client(t)
	f := NewFallback(NewRedis(client, prefix), NewMemory(nil), nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Allow(ctx, "k", Limit{Rate: 1, Burst: 1}); err == nil {
		t.Fatal("a cancelled call decided")
	}
	if f.Down() {
		t.Fatal("a cancelled call marked Redis down")
	}
}
