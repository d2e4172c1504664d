package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Sign-in attempts are bounded so passwords cannot be guessed quickly and
// bcrypt cannot be used to burn the server's CPU.
const (
	loginWindow        = 10 * time.Minute
	maxFailsPerAccount = 10  // per shop + username
	maxFailsPerAddress = 50  // per client IP
	maxTrackedKeys     = 1e5 // memory bound: past it the oldest window is forgotten
)

var errTooManyAttempts = newError(http.StatusTooManyRequests, "too_many_attempts",
	"Too many failed sign-ins; wait a few minutes and try again.")

// loginLimiter counts failed sign-ins per key in a fixed window. It lives in
// one process: with several nodes each node counts its own, which still
// bounds guessing; a shared (Redis) limiter comes with the multi-node work.
type loginLimiter struct {
	mu    sync.Mutex
	now   func() time.Time
	fails map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, fails: map[string]*failWindow{}}
}

// wait returns how long the caller must wait before trying again (0: go ahead).
func (l *loginLimiter) wait(account, address string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	for key, max := range map[string]int{"a:" + account: maxFailsPerAccount, "i:" + address: maxFailsPerAddress} {
		w := l.fails[key]
		if w == nil || now.Sub(w.start) >= loginWindow {
			continue
		}
		if w.n >= max {
			if d := loginWindow - now.Sub(w.start); d > longest {
				longest = d
			}
		}
	}
	return longest
}

// failed counts a failed attempt against the account and the address.
func (l *loginLimiter) failed(account, address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) >= maxTrackedKeys {
		l.fails = map[string]*failWindow{}
	}
	for _, key := range []string{"a:" + account, "i:" + address} {
		w := l.fails[key]
		if w == nil || now.Sub(w.start) >= loginWindow {
			w = &failWindow{start: now}
			l.fails[key] = w
		}
		w.n++
	}
}

// succeeded forgets the account's failures.
func (l *loginLimiter) succeeded(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "a:"+account)
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(d.Seconds()) + 1)
}
