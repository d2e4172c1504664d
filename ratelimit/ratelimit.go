// Package ratelimit bounds how often one key (a buyer, an agent) may act.
// The interface's users declare it where they use it; this package has the
// in-process implementation (ratelimit_memory.go). A Redis implementation
// (go-redis/redis_rate) for many nodes comes with the multi-node work, behind
// the same Allow.
package ratelimit

import "time"

// Limit is a token bucket: Burst actions at once, refilled at Rate per second.
// The zero Limit allows everything.
type Limit struct {
	Rate  float64
	Burst int
}

// Unlimited reports whether the limit allows everything.
func (l Limit) Unlimited() bool { return l.Rate <= 0 && l.Burst <= 0 }

// Decision is the answer to one Allow.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // when not allowed: until one action is allowed again
}
