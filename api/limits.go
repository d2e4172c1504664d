package api

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// Limits: sign-in attempts (below) and message sends (allowSend).

// Sign-in attempts are bounded so passwords cannot be guessed quickly and
// bcrypt cannot be used to burn the server's CPU.
const (
	loginWindow        = 10 * time.Minute
	maxFailsPerAccount = 10     // per shop + username
	maxFailsPerAddress = 50     // per client IPv4 address or IPv6 /64
	maxTrackedKeys     = 100000 // memory bound, see reserve
)

var (
	errTooManyAttempts = newError(http.StatusTooManyRequests, "too_many_attempts",
		"Too many failed sign-ins; wait a few minutes and try again.")
	errRateLimited = newError(http.StatusTooManyRequests, protocol.CodeRateLimited,
		"Too many messages at once; this one will go through in a moment.")
)

// allowSend applies the sender's send limit (Config.BuyerSends, AgentSends).
func (h *handlers) allowSend(actor conversation.Actor) error {
	l := h.sends[actor.Kind]
	if l == nil {
		return nil
	}
	if d := l.Allow(string(actor.Kind) + ":" + strconv.FormatInt(actor.ID, 10)); !d.Allowed {
		return &retryLater{errRateLimited, d.RetryAfter}
	}
	return nil
}

// loginLimiter counts sign-in attempts per account and per client address
// in a fixed window. An attempt is counted before the password is checked,
// so parallel attempts cannot slip past the limit; a success gives it back.
// It lives in one process: with several nodes each counts its own, which
// still bounds guessing; a shared (Redis) limiter comes with the multi-node
// work.
type loginLimiter struct {
	mu       sync.Mutex
	now      func() time.Time
	attempts map[string]*window
}

type window struct {
	start time.Time
	n     int
	max   int
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, attempts: map[string]*window{}}
}

// addressKey groups IPv6 clients by /64, which one client usually holds whole.
func addressKey(ip string) string {
	parsed := net.ParseIP(ip)
	if parsed != nil && parsed.To4() == nil {
		return "i:" + parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return "i:" + ip
}

// reserve counts an attempt for the account and the address and returns 0,
// or, when either is at its limit, counts nothing and returns how long to wait.
func (l *loginLimiter) reserve(account, address string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	keys := []struct {
		key string
		max int
	}{{"a:" + account, maxFailsPerAccount}, {addressKey(address), maxFailsPerAddress}}
	var wait time.Duration
	for _, k := range keys {
		if w := l.live(k.key, now); w != nil && w.n >= k.max {
			wait = max(wait, loginWindow-now.Sub(w.start))
		}
	}
	if wait > 0 {
		return wait
	}
	for _, k := range keys {
		w := l.live(k.key, now)
		if w == nil {
			l.makeRoom(now)
			w = &window{start: now, max: k.max}
			l.attempts[k.key] = w
		}
		w.n++
	}
	return 0
}

// succeeded forgets the account's attempts and gives the address its attempt back.
func (l *loginLimiter) succeeded(account, address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.attempts, "a:"+account)
	if w := l.live(addressKey(address), l.now()); w != nil && w.n > 0 {
		w.n--
	}
}

// live returns key's window if it has not expired. l.mu is held.
func (l *loginLimiter) live(key string, now time.Time) *window {
	w := l.attempts[key]
	if w == nil || now.Sub(w.start) >= loginWindow {
		return nil
	}
	return w
}

// makeRoom keeps the map under maxTrackedKeys: expired windows go first,
// then windows that are not at their limit. Lockouts in force are never
// forgotten to make room. l.mu is held.
func (l *loginLimiter) makeRoom(now time.Time) {
	if len(l.attempts) < maxTrackedKeys {
		return
	}
	for k, w := range l.attempts {
		if now.Sub(w.start) >= loginWindow {
			delete(l.attempts, k)
		}
	}
	for k, w := range l.attempts {
		if len(l.attempts) < maxTrackedKeys*9/10 {
			break
		}
		if w.n < w.max {
			delete(l.attempts, k)
		}
	}
}
