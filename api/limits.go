package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits: sign-in attempts (below); the per-shop rate limits of frames,
// messages, sessions and new conversations are in ratelimits.go.

// Sign-in attempts are bounded so passwords cannot be guessed quickly and
// bcrypt cannot be used to burn the server's CPU, without letting anyone
// lock an agent out by failing on purpose:
//   - an account and client address pair with maxFailsPerPair failures in
//     the window is blocked until the window ends (the rightful user on
//     another address is not);
//   - so is an address with maxFailsPerAddress failures, whatever accounts;
//   - an account with slowAfterFails failures in the window, from anywhere,
//     is slowed, not blocked: it admits one attempt, then the next no sooner
//     than attemptSpacing later, so a user on another address waits a few
//     seconds at most, unless an attack from many addresses takes every slot;
//   - an address the account signed in from within knownAddressFor is not
//     slowed at all (only its pair and address limits apply), so a user on
//     their usual address gets in however many addresses an attack uses.
const (
	loginWindow        = 10 * time.Minute
	maxFailsPerPair    = 10 // per shop + username and client address
	maxFailsPerAddress = 50 // per client IPv4 address or IPv6 /64
	slowAfterFails     = 10 // per shop + username, from all addresses
	maxAttemptSpacing  = 5 * time.Second
	knownAddressFor    = 30 * 24 * time.Hour
	maxTrackedKeys     = 100000 // memory bound of each map, see makeRoom and remember
)

// attemptSpacing is how long a slowed account admits no attempt after
// admitting one, the account having fails failures: 1 s, 2 s, 4 s, then
// maxAttemptSpacing, so at most 12 attempts a minute.
func attemptSpacing(fails int) time.Duration {
	if k := fails - slowAfterFails; k < 3 {
		return time.Second << max(k, 0)
	}
	return maxAttemptSpacing
}

var (
	errTooManyAttempts = newError(http.StatusTooManyRequests, "too_many_attempts",
		"Too many failed sign-ins; wait a few minutes and try again.")
	errSignInSlowed = newError(http.StatusTooManyRequests, "too_many_attempts",
		"Many failed sign-ins for this account; try again in a few seconds.")
)

// loginLimiter counts sign-in attempts per account, per account and address
// pair, and per address, in fixed windows. An attempt is counted before the
// password is checked, so parallel attempts cannot slip past the limits; a
// success gives back the pair's attempts. It lives in one process: with
// several nodes each counts its own, which still bounds guessing; a shared
// (Redis) limiter comes with the multi-node work.
type loginLimiter struct {
	mu       sync.Mutex
	now      func() time.Time
	attempts map[string]*window
	// known holds when each account last signed in from an address.
	known map[string]time.Time
}

type window struct {
	start time.Time
	n     int
	max   int // the count at which the window takes effect
	// next is when a slowed account (account windows only) next admits an
	// attempt from an address it does not know.
	next time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, attempts: map[string]*window{}, known: map[string]time.Time{}}
}

// addressKey groups IPv6 clients by /64, which one client usually holds whole.
func addressKey(ip string) string {
	parsed := net.ParseIP(ip)
	if parsed != nil && parsed.To4() == nil {
		return "i:" + parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return "i:" + ip
}

// accountKey is the account's key; a long name (which no agent has, but
// anyone may send) is hashed so that a key stays small.
func accountKey(account string) string {
	if len(account) > 80 {
		sum := sha256.Sum256([]byte(account))
		return "a#" + hex.EncodeToString(sum[:])
	}
	return "a:" + account
}

// pairKey is the key of an account and address pair; the address part,
// last, never holds a '|'.
func pairKey(account, address string) string {
	return "p:" + accountKey(account) + "|" + addressKey(address)
}

// reserve counts an attempt for the account, the pair and the address and
// returns nil, or, when a limit applies, counts nothing and returns a
// retryLater saying how long to wait.
func (l *loginLimiter) reserve(account, address string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	keys := []struct {
		key string
		max int
	}{{pairKey(account, address), maxFailsPerPair}, {addressKey(address), maxFailsPerAddress}, {accountKey(account), slowAfterFails}}
	var wait time.Duration
	for _, k := range keys[:2] {
		if w := l.live(k.key, now); w != nil && w.n >= k.max {
			wait = max(wait, loginWindow-now.Sub(w.start))
		}
	}
	if wait > 0 {
		return &retryLater{errTooManyAttempts, wait}
	}
	if acct := l.live(keys[2].key, now); acct != nil && acct.n >= acct.max && !l.isKnown(account, address, now) {
		if now.Before(acct.next) {
			return &retryLater{errSignInSlowed, acct.next.Sub(now)}
		}
		acct.next = now.Add(attemptSpacing(acct.n))
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
	return nil
}

// succeeded forgets the pair's attempts (the account's count loses them
// too), gives the address its attempt back and remembers the address as
// one the account signs in from.
func (l *loginLimiter) succeeded(account, address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	pk := pairKey(account, address)
	if pair := l.live(pk, now); pair != nil {
		if acct := l.live(accountKey(account), now); acct != nil {
			acct.n = max(0, acct.n-pair.n)
		}
		delete(l.attempts, pk)
	}
	if w := l.live(addressKey(address), now); w != nil && w.n > 0 {
		w.n--
	}
	l.remember(account, address, now)
}

// isKnown reports whether the account signed in from the address within
// knownAddressFor. l.mu is held.
func (l *loginLimiter) isKnown(account, address string, now time.Time) bool {
	at, ok := l.known[pairKey(account, address)]
	return ok && now.Sub(at) < knownAddressFor
}

// remember records a sign-in from the address, keeping the map under
// maxTrackedKeys: expired entries go first, then any. Only successful
// sign-ins add entries, so an attacker cannot crowd a user's out. l.mu is held.
func (l *loginLimiter) remember(account, address string, now time.Time) {
	key := pairKey(account, address)
	if _, ok := l.known[key]; !ok && len(l.known) >= maxTrackedKeys {
		for k, at := range l.known {
			if now.Sub(at) >= knownAddressFor {
				delete(l.known, k)
			}
		}
		for k := range l.known {
			if len(l.known) < maxTrackedKeys*9/10 {
				break
			}
			delete(l.known, k)
		}
	}
	l.known[key] = now
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
// then windows that are not at their limit. Lockouts and slowed accounts in
// force are never forgotten to make room. l.mu is held.
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
