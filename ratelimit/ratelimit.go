// Package ratelimit bounds how often one key (a buyer, an agent, a client
// address, a shop) may act. Limiter is the concept; Memory
// (ratelimit_memory.go) counts in this process, Redis (ratelimit_redis.go)
// counts for every node in one Redis with go-redis/redis_rate, and Fallback
// (ratelimit_fallback.go) puts Memory behind Redis for when Redis is
// unreachable.
//
// The limit is an argument of every call, not of the limiter: kefu's limits
// are configurable per shop, so one limiter serves every shop's limits.
//
// When Redis is unreachable a Fallback neither lets everything through (a
// flood would reach the store) nor refuses everything (every buyer would be
// told to wait for as long as Redis is down): it counts in this process's
// buckets until Redis answers again, so each node enforces the limit on its
// own (n nodes admit up to n times the limit). The outage is logged once,
// and for FallbackRetry after a failure calls do not ask Redis at all, so
// a dead Redis adds no dial timeout to every call.
package ratelimit

import (
	"context"
	"strconv"
	"time"
)

// Limiter decides whether one more action of key is allowed under limit.
// An error means nothing was decided (Redis did not answer); the caller
// chooses what that means, or wraps the limiter in a Fallback.
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// Limit is a token bucket: Burst actions at once, refilled at Rate per second.
// The zero Limit allows everything. A limit that is not zero has a
// positive Rate and a Burst of at least 1 (Redis refuses any other).
type Limit struct {
	Rate  float64
	Burst int
}

// Unlimited reports whether the limit allows everything.
func (l Limit) Unlimited() bool { return l.Rate <= 0 && l.Burst <= 0 }

// String names the limit in keys and logs ("0.5/s,20").
func (l Limit) String() string {
	return strconv.FormatFloat(l.Rate, 'g', -1, 64) + "/s," + strconv.Itoa(l.Burst)
}

// PerMinute is the limit of n actions a minute, burst at once.
func PerMinute(n, burst int) Limit {
	if n <= 0 && burst <= 0 {
		return Limit{}
	}
	return Limit{Rate: float64(n) / 60, Burst: burst}
}

// Decision is the answer to one Allow.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // when not allowed: until one action is allowed again
}
