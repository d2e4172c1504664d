package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// FallbackRetry is how long a Fallback counts in memory after Redis failed
// before it asks Redis again.
const FallbackRetry = 5 * time.Second

// Fallback asks a shared limiter (Redis) and, when it does not answer,
// counts in this process instead (see the package doc): neither fail open
// nor closed. After a failure it does not ask the shared limiter for
// FallbackRetry; then one call at a time tries it again, the others still
// counting locally. The outage is logged when it starts and when it ends.
// The local buckets start full: during an outage a key gets at most one
// burst more than its limit on each node.
type Fallback struct {
	shared Limiter
	local  *Memory
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	down    bool      // the shared limiter failed and has not answered since
	retryAt time.Time // when down: when it is asked again
	probing bool      // a call is asking it now
}

var _ Limiter = (*Fallback)(nil)

// NewFallback counts in shared, and in local while shared fails; log hears
// of outages; now is the clock of the circuit breaker (time.Now if nil).
func NewFallback(shared Limiter, local *Memory, log *slog.Logger, now func() time.Time) *Fallback {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Fallback{shared: shared, local: local, log: log, now: now}
}

// Allow decides in the shared limiter if it answers, in memory otherwise;
// it fails only when ctx has ended.
func (f *Fallback) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	if limit.Unlimited() {
		return Decision{Allowed: true}, nil
	}
	ask, probe := f.ask()
	if !ask {
		return f.local.allow(key, limit), nil
	}
	d, err := f.shared.Allow(ctx, key, limit)
	if err != nil && ctx.Err() != nil {
		// The caller gave up; that says nothing about Redis.
		f.answered(nil, probe, false)
		return Decision{}, err
	}
	f.answered(err, probe, true)
	if err != nil {
		return f.local.allow(key, limit), nil
	}
	return d, nil
}

// Down reports whether the shared limiter is taken to be unreachable.
func (f *Fallback) Down() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

// ask reports whether this call asks the shared limiter, and whether it
// does so as the one probe of a limiter that is down.
func (f *Fallback) ask() (ask, probe bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		return true, false
	}
	if f.probing || f.now().Before(f.retryAt) {
		return false, false
	}
	f.probing = true
	return true, true
}

// answered records how a call to the shared limiter went; counted is false
// for a call that tells nothing.
func (f *Fallback) answered(err error, probe, counted bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if probe {
		f.probing = false
	}
	if !counted {
		return
	}
	switch {
	case err != nil && !f.down:
		f.down, f.retryAt = true, f.now().Add(FallbackRetry)
		f.log.Warn("rate limits: Redis is unreachable; counting in this process until it answers", "err", err)
	case err != nil:
		f.retryAt = f.now().Add(FallbackRetry)
	case f.down && probe:
		f.down = false
		f.log.Info("rate limits: Redis answers again; counting there")
	}
}
