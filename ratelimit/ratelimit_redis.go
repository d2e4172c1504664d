package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis counts in one Redis for every node, with go-redis/redis_rate (GCRA,
// the token bucket's equivalent: Burst at once, then one action every
// 1/Rate seconds). Time is Redis's own clock, not the caller's. Each call
// is one round trip (a Lua script), which is why kefu keeps Redis off the
// per-message path and asks it only to admit sessions and new
// conversations. It fails when Redis does not answer; wrap it in a Fallback.
type Redis struct {
	limiter *redis_rate.Limiter
	prefix  string
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter over client whose keys start with prefix
// (redis_rate adds its own "rate:" in front).
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{limiter: redis_rate.NewLimiter(client), prefix: prefix}
}

// RedisOptions parses a redis:// (or rediss://, unix://) URL into client
// options for a limiter: short timeouts and no retries, because an
// admission decision that waits seconds for a dead Redis is worse than one
// the Fallback takes in memory.
func RedisOptions(rawURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: redis url: %w", err)
	}
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 300 * time.Millisecond
	opts.WriteTimeout = 300 * time.Millisecond
	opts.MaxRetries = -1
	return opts, nil
}

// errBadLimit is a limit Redis cannot count: not zero, but without a
// positive rate and burst.
var errBadLimit = errors.New("ratelimit: a limit needs a positive rate and burst")

// Allow asks Redis for one action of key under limit.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	if limit.Unlimited() {
		return Decision{Allowed: true}, nil
	}
	rl, err := redisLimit(limit)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: %s under %s: %w", key, limit, err)
	}
	// The limit is part of the key, as Memory keeps a bucket per key and limit.
	res, err := r.limiter.Allow(ctx, r.prefix+key+"|"+limit.String(), rl)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis allow %s: %w", key, err)
	}
	if res.Allowed > 0 {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: max(res.RetryAfter, time.Millisecond)}, nil
}

// redisLimit converts a Limit to redis_rate's Rate actions per Period with
// the same burst. GCRA depends only on the interval between actions,
// Period/Rate, which must be 1/l.Rate seconds; the first that states it
// exactly is taken:
//   - a whole rate per second: {n, 1 s} (3/s is 3 per second);
//   - a whole number of seconds between actions: {1, k s} (0.5/s is 1 per 2 s,
//     20 a minute is 1 per 3 s);
//   - a whole rate per minute: {n, 1 min} (7 a minute);
//   - otherwise 1 per the interval rounded to the nanosecond.
func redisLimit(l Limit) (redis_rate.Limit, error) {
	if l.Rate <= 0 || l.Burst < 1 || math.IsInf(l.Rate, 0) || math.IsNaN(l.Rate) {
		return redis_rate.Limit{}, errBadLimit
	}
	if n, ok := whole(l.Rate); ok {
		return redis_rate.Limit{Rate: n, Burst: l.Burst, Period: time.Second}, nil
	}
	if k, ok := whole(1 / l.Rate); ok {
		return redis_rate.Limit{Rate: 1, Burst: l.Burst, Period: time.Duration(k) * time.Second}, nil
	}
	if n, ok := whole(l.Rate * 60); ok {
		return redis_rate.Limit{Rate: n, Burst: l.Burst, Period: time.Minute}, nil
	}
	return redis_rate.Limit{Rate: 1, Burst: l.Burst, Period: time.Duration(math.Round(float64(time.Second) / l.Rate))}, nil
}

// whole reports whether f is a whole number of at least 1, allowing for
// the rounding of the division that made it (1/3*3).
func whole(f float64) (int, bool) {
	r := math.Round(f)
	if r < 1 || r > math.MaxInt32 || math.Abs(f-r) > 1e-9*r {
		return 0, false
	}
	return int(r), true
}
