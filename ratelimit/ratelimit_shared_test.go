package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testredis"
)

// The shared suite: what every Limiter does, run against Memory (with an
// injected clock) and Redis (KEFU_TEST_REDIS_URL; Redis's own clock, so no
// test on it depends on how fast time passes, only on what a burst allows
// and on the bounds of the wait it names).

type limiterTarget struct {
	limiter Limiter
	prefix  string           // keys of this test
	clock   *testclock.Clock // nil: the limiter reads real time (Redis)
}

func eachLimiter(t *testing.T, test func(t *testing.T, lt limiterTarget)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		c := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
		test(t, limiterTarget{limiter: NewMemory(c.Now), prefix: "t:", clock: c})
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		client, prefix := testredis.Client(t)
		test(t, limiterTarget{limiter: NewRedis(client, prefix), prefix: "t:"})
	})
}

func allow(t *testing.T, l Limiter, key string, limit Limit) Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("allow %s: %v", key, err)
	}
	return d
}

// A burst is allowed at once and not one action more; the refusal names a
// wait of at most one refill interval.
func TestSharedBurstThenRefused(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lt limiterTarget) {
		limit := Limit{Rate: 1.0 / 60, Burst: 3} // one a minute: nothing refills during the test
		for i := 0; i < 3; i++ {
			if d := allow(t, lt.limiter, lt.prefix+"b1", limit); !d.Allowed {
				t.Fatalf("burst action %d refused: %+v", i+1, d)
			}
		}
		d := allow(t, lt.limiter, lt.prefix+"b1", limit)
		if d.Allowed {
			t.Fatal("an action over the burst was allowed")
		}
		if d.RetryAfter <= 50*time.Second || d.RetryAfter > time.Minute {
			t.Fatalf("retry after %s, want about a minute (one refill interval)", d.RetryAfter)
		}
		if lt.clock != nil && d.RetryAfter != time.Minute {
			t.Fatalf("retry after %s on the injected clock, want exactly 1m", d.RetryAfter)
		}
	})
}

// Keys count apart, and so do two limits on one key.
func TestSharedKeysAndLimitsApart(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lt limiterTarget) {
		one := Limit{Rate: 1.0 / 60, Burst: 1}
		if !allow(t, lt.limiter, lt.prefix+"a", one).Allowed || allow(t, lt.limiter, lt.prefix+"a", one).Allowed {
			t.Fatal("a burst of 1 did not allow exactly one action")
		}
		if !allow(t, lt.limiter, lt.prefix+"b", one).Allowed {
			t.Fatal("key b was limited by key a's action")
		}
		two := Limit{Rate: 1.0 / 60, Burst: 2}
		if !allow(t, lt.limiter, lt.prefix+"a", two).Allowed {
			t.Fatal("another limit on key a shares the first limit's bucket")
		}
	})
}

// Parallel callers on one key get exactly the burst between them.
func TestSharedParallelCallersShareTheBurst(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lt limiterTarget) {
		limit := Limit{Rate: 1.0 / 3600, Burst: 10}
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := lt.limiter.Allow(context.Background(), lt.prefix+"shared", limit)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if allowed != 10 {
			t.Fatalf("%d of 40 parallel actions allowed, want the burst, 10", allowed)
		}
	})
}

// The zero limit allows everything.
func TestSharedZeroLimitAllowsEverything(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lt limiterTarget) {
		for i := 0; i < 200; i++ {
			if !allow(t, lt.limiter, lt.prefix+"k", Limit{}).Allowed {
				t.Fatal("the zero limit refused")
			}
		}
	})
}

// After the wait a refusal names, one action is allowed again, and only
// one (timed on the injected clock only: Redis keeps its own time).
func TestSharedRefillAfterRetry(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lt limiterTarget) {
		if lt.clock == nil {
			t.Skip("refill timing is tested on the injected clock; Redis keeps its own time")
		}
		limit := Limit{Rate: 2, Burst: 3}
		for i := 0; i < 3; i++ {
			allow(t, lt.limiter, lt.prefix+"b1", limit)
		}
		d := allow(t, lt.limiter, lt.prefix+"b1", limit)
		if d.Allowed || d.RetryAfter != 500*time.Millisecond {
			t.Fatalf("over the burst: %+v, want refused with retry after 500ms", d)
		}
		lt.clock.Advance(d.RetryAfter)
		if !allow(t, lt.limiter, lt.prefix+"b1", limit).Allowed {
			t.Fatal("refilled token refused")
		}
		if allow(t, lt.limiter, lt.prefix+"b1", limit).Allowed {
			t.Fatal("more than the refill was allowed")
		}
		lt.clock.Advance(time.Hour)
		for i := 0; i < 3; i++ {
			if !allow(t, lt.limiter, lt.prefix+"b1", limit).Allowed {
				t.Fatalf("after a long pause, action %d refused: the bucket must refill to its burst", i+1)
			}
		}
		if allow(t, lt.limiter, lt.prefix+"b1", limit).Allowed {
			t.Fatal("the bucket refilled past its burst")
		}
	})
}

// Memory keeps only buckets that have not refilled, and sweeps early when
// a flood of keys doubles the map.
func TestMemoryDropsRefilledBuckets(t *testing.T) {
	t.Parallel()
	c := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	m := NewMemory(c.Now)
	ctx := context.Background()
	slow := Limit{Rate: 1.0 / 600, Burst: 2} // refills in 20 minutes
	fast := Limit{Rate: 10, Burst: 2}
	m.Allow(ctx, "slow", slow)
	m.Allow(ctx, "fast", fast)
	c.Advance(2 * time.Minute)
	m.Allow(ctx, "other", fast) // sweeps: fast has refilled, slow has not
	if n := m.size(); n != 2 {
		t.Fatalf("%d buckets kept, want 2 (slow, other)", n)
	}
	for i := 0; i < 3*minSweepAt; i++ {
		m.Allow(ctx, fmt.Sprintf("flood-%d", i), fast)
		if i%100 == 0 {
			c.Advance(time.Second) // each flood bucket refills within 200ms
		}
	}
	if n := m.size(); n > 2*minSweepAt {
		t.Fatalf("%d buckets after a flood of %d keys, want at most %d", n, 3*minSweepAt, 2*minSweepAt)
	}
}

// Our Limit becomes redis_rate's with the same interval between actions.
func TestRedisLimitConversion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   Limit
		rate int
		per  time.Duration
	}{
		{Limit{Rate: 3, Burst: 30}, 3, time.Second},
		{Limit{Rate: 0.5, Burst: 1}, 1, 2 * time.Second},
		{PerMinute(20, 5), 1, 3 * time.Second},
		{PerMinute(7, 5), 7, time.Minute},
		{PerMinute(600, 60), 10, time.Second},
		{Limit{Rate: 1.5, Burst: 2}, 90, time.Minute},
		{Limit{Rate: 1 / 2.7, Burst: 2}, 1, 2700 * time.Millisecond},
	} {
		got, err := redisLimit(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		interval := float64(got.Period) / float64(got.Rate)
		if want := float64(time.Second) / tc.in.Rate; interval < want-1 || interval > want+1 {
			t.Errorf("%s: %d per %s is an interval of %.0fns, want %.0fns", tc.in, got.Rate, got.Period, interval, want)
		}
		if got.Burst != tc.in.Burst {
			t.Errorf("%s: burst %d", tc.in, got.Burst)
		}
		if got.Rate != tc.rate || got.Period != tc.per {
			t.Errorf("%s: %d per %s, want %d per %s", tc.in, got.Rate, got.Period, tc.rate, tc.per)
		}
	}
	for _, bad := range []Limit{{Rate: 0, Burst: 3}, {Rate: 1, Burst: 0}, {Rate: -1, Burst: 1}} {
		if _, err := redisLimit(bad); err == nil {
			t.Errorf("%s converted, want refused", bad)
		}
	}
}
