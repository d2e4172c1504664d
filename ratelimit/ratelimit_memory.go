package ratelimit

import (
	"sync"
	"time"
)

// Memory is a token-bucket limiter in this process's memory. Each node
// counts on its own, so with n nodes a key may act up to n times as often;
// buckets of keys idle for a minute are dropped to bound memory.
type Memory struct {
	limit   Limit
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewMemory returns a limiter for limit; now is the clock (time.Now if nil).
func NewMemory(limit Limit, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{limit: limit, now: now, buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket if there is one.
func (m *Memory) Allow(key string) Decision {
	if m.limit.Unlimited() {
		return Decision{Allowed: true}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	b := m.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(m.limit.Burst), at: now}
		m.buckets[key] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(float64(m.limit.Burst), b.tokens+elapsed*m.limit.Rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return Decision{Allowed: true}
	}
	if m.limit.Rate <= 0 {
		return Decision{RetryAfter: time.Minute}
	}
	wait := time.Duration((1 - b.tokens) / m.limit.Rate * float64(time.Second))
	return Decision{RetryAfter: wait}
}

// sweep drops buckets that have been full for a while, at most once a minute. m.mu is held.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.swept) < time.Minute {
		return
	}
	m.swept = now
	for k, b := range m.buckets {
		if now.Sub(b.at) > time.Minute {
			delete(m.buckets, k)
		}
	}
}
