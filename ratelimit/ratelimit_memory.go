package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory is a token-bucket limiter in this process's memory. Each node
// counts on its own, so with n nodes a key may act up to n times as often.
// Buckets are kept per key and limit (a shop that changes a limit starts
// its keys on fresh buckets); a bucket that has refilled is dropped, as a
// full bucket and no bucket are the same, so memory holds only keys that
// acted lately.
type Memory struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	swept   time.Time
	// sweepAt is the number of buckets that sweeps before the minute is up,
	// so a flood of new keys cannot grow the map unchecked for a minute.
	sweepAt int
}

var _ Limiter = (*Memory)(nil)

type bucketKey struct {
	key   string
	limit Limit
}

type bucket struct {
	tokens float64
	at     time.Time
}

// minSweepAt is the smallest map that sweeps early.
const minSweepAt = 4096

// NewMemory returns an in-process limiter; now is the clock (time.Now if nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, buckets: map[bucketKey]*bucket{}, sweepAt: minSweepAt}
}

// Allow takes one token from the bucket of key under limit if there is one.
// It never fails.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (Decision, error) {
	return m.allow(key, limit), nil
}

func (m *Memory) allow(key string, limit Limit) Decision {
	if limit.Unlimited() {
		return Decision{Allowed: true}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	k := bucketKey{key, limit}
	b := m.buckets[k]
	if b == nil {
		b = &bucket{tokens: float64(limit.Burst), at: now}
		m.buckets[k] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(float64(limit.Burst), b.tokens+elapsed*limit.Rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return Decision{Allowed: true}
	}
	if limit.Rate <= 0 {
		return Decision{RetryAfter: time.Minute}
	}
	wait := time.Duration((1 - b.tokens) / limit.Rate * float64(time.Second))
	return Decision{RetryAfter: wait}
}

// sweep drops buckets that have refilled by now, once a minute or when the
// map has doubled since the last sweep. m.mu is held.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.swept) < time.Minute && len(m.buckets) < m.sweepAt {
		return
	}
	m.swept = now
	for k, b := range m.buckets {
		idle := now.Sub(b.at)
		refilled := k.limit.Rate > 0 && b.tokens+idle.Seconds()*k.limit.Rate >= float64(k.limit.Burst)
		// A bucket that never refills is forgotten after a minute, the wait
		// its refusals name.
		if refilled || (k.limit.Rate <= 0 && idle > time.Minute) {
			delete(m.buckets, k)
		}
	}
	m.sweepAt = max(minSweepAt, 2*len(m.buckets))
}

// size is how many buckets are kept (tests).
func (m *Memory) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
