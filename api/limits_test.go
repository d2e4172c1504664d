package api

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu/internal/testclock"
)

func newTestLimiter() (*loginLimiter, *testclock.Clock) {
	clock := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	return newLoginLimiter(clock.Now), clock
}

// signIn is what the login handler does with the limiter: reserve, then,
// with the right password, succeeded. It returns whether the attempt was
// let through to the password check and, if not, how long to wait.
func signIn(l *loginLimiter, account, address string, rightPassword bool) (checked bool, wait time.Duration) {
	if err := l.reserve(account, address); err != nil {
		var later *retryLater
		if !errors.As(err, &later) {
			panic(err)
		}
		return false, later.after
	}
	if rightPassword {
		l.succeeded(account, address)
	}
	return true, 0
}

// Parallel attempts are counted before any password is checked: no more
// than the limits let through get through (slowAfterFails, then the first
// attempt of the slowed account).
func TestLoginLimiterCountsBeforeChecking(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter()
	var wg sync.WaitGroup
	var mu sync.Mutex
	through := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.reserve("acme/wang", fmt.Sprintf("10.0.%d.%d", i/250, i%250)) == nil {
				mu.Lock()
				through++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if through != slowAfterFails+1 {
		t.Fatalf("%d parallel attempts got through, want %d", through, slowAfterFails+1)
	}
}

// Ten wrong passwords from one address block that address for the account,
// not the rightful user on another address.
func TestLoginLockoutIsPerAccountAndAddress(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	const account, attacker, user = "acme/owner", "203.0.113.7", "198.51.100.20"
	for i := 0; i < maxFailsPerPair; i++ {
		if checked, _ := signIn(l, account, attacker, false); !checked {
			t.Fatalf("attempt %d from the attacker's address refused, want it checked", i+1)
		}
		clock.Advance(time.Second)
	}
	if checked, wait := signIn(l, account, attacker, true); checked || wait < loginWindow-time.Minute {
		t.Fatalf("the attacker's address after %d failures: checked %v, wait %s; want blocked for the window", maxFailsPerPair, checked, wait)
	}
	if checked, wait := signIn(l, account, user, true); !checked {
		t.Fatalf("the rightful user on another address refused (wait %s)", wait)
	}
	if checked, _ := signIn(l, account, attacker, true); checked {
		t.Fatal("the user's sign-in lifted the attacker address's lockout")
	}
	clock.Advance(loginWindow)
	if checked, _ := signIn(l, account, attacker, true); !checked {
		t.Fatal("the lockout outlived its window")
	}
}

// An attack spread over 1000 addresses, each trying again and again, is
// slowed to a bounded rate on the account, never to a lockout: a user on an
// address they signed in from before gets in at once during the attack, and
// one on a new address within maxAttemptSpacing once it stops.
func TestSpreadAttackIsSlowedAndTheUserGetsIn(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	const account, known, fresh = "acme/owner", "198.51.100.20", "192.0.2.99"
	if checked, _ := signIn(l, account, known, true); !checked {
		t.Fatal("first sign-in refused")
	}
	const tick = 100 * time.Millisecond // the attacker tries every tick, from the next address
	start := clock.Now()
	perMinute := make([]int, loginWindow/time.Minute)
	for i := 0; clock.Now().Sub(start) < loginWindow; i++ {
		elapsed := clock.Now().Sub(start)
		if checked, _ := signIn(l, account, fmt.Sprintf("10.1.%d.%d", i%1000/250, i%1000%250), false); checked {
			perMinute[elapsed/time.Minute]++
		}
		if elapsed%time.Minute == 30*time.Second {
			if checked, wait := signIn(l, account, known, true); !checked {
				t.Fatalf("at %s the user on a known address was refused (wait %s)", elapsed, wait)
			}
		}
		clock.Advance(tick)
	}
	// One attempt per maxAttemptSpacing once the ramp (1 s, 2 s, 4 s) is
	// over; the first minute adds the unslowed attempts and the ramp.
	perSlot := int(time.Minute/maxAttemptSpacing) + 1
	for m, n := range perMinute {
		limit := perSlot
		if m == 0 {
			limit = slowAfterFails + 3 + perSlot
		}
		if n > limit {
			t.Errorf("minute %d: %d attempts checked, want at most %d", m, n, limit)
		}
		if n == 0 {
			t.Errorf("minute %d: no attempt checked; the account is slowed, not locked", m)
		}
	}
	checked, wait := signIn(l, account, fresh, true)
	if !checked {
		if wait > maxAttemptSpacing {
			t.Fatalf("a new address waits %s after the attack, want at most %s", wait, maxAttemptSpacing)
		}
		clock.Advance(wait)
		checked, wait = signIn(l, account, fresh, true)
	}
	if !checked {
		t.Fatalf("a new address refused after waiting as told (wait %s)", wait)
	}
}

// An attacker trying one password a minute never keeps the rightful user
// out: at any moment, from a new address, they get in at once or after one
// wait of at most maxAttemptSpacing.
func TestOnePasswordAMinuteLocksNobodyOut(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	const account = "acme/owner"
	for minute := 0; minute < 120; minute++ {
		signIn(l, account, "203.0.113.7", false)
		clock.Advance(time.Minute / 2)
		user := fmt.Sprintf("198.51.100.%d", minute)
		checked, wait := signIn(l, account, user, true)
		if !checked && wait <= maxAttemptSpacing {
			clock.Advance(wait)
			checked, wait = signIn(l, account, user, true)
		}
		if !checked {
			t.Fatalf("minute %d: the user was refused (wait %s)", minute, wait)
		}
		clock.Advance(time.Minute / 2)
	}
}

// Filling the table with other keys never lifts a lockout or a slowed
// account in force; IPv6 clients count per /64.
func TestLoginLimiterKeepsLockoutsWhenFull(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	for i := 0; i < maxFailsPerPair; i++ {
		l.reserve("acme/wang", "10.0.0.1")
	}
	// Each attempt below adds three keys: account, pair, address.
	for i := 0; i < maxTrackedKeys/3+10; i++ {
		l.reserve(fmt.Sprintf("acme/u%d", i), fmt.Sprintf("2001:db8:%x::1", i))
	}
	if len(l.attempts) > maxTrackedKeys {
		t.Fatalf("%d keys tracked, over the bound %d", len(l.attempts), maxTrackedKeys)
	}
	if l.reserve("acme/wang", "10.0.0.1") == nil {
		t.Fatal("the pair's lockout was forgotten to make room")
	}
	if l.reserve("acme/wang", "10.9.9.9") != nil {
		t.Fatal("a clean address was refused the slowed account's first slot")
	}
	if l.reserve("acme/wang", "10.9.9.10") == nil {
		t.Fatal("the account's slow-down was forgotten to make room")
	}
	for i := 0; i < maxFailsPerAddress; i++ {
		l.reserve(fmt.Sprintf("shop/x%d", i), "2001:db8:ffff:1::1")
	}
	if l.reserve("shop/y", "2001:db8:ffff:1::2") == nil {
		t.Fatal("another address in the same IPv6 /64 was not limited")
	}
	clock.Advance(loginWindow)
	if l.reserve("acme/wang", "10.0.0.1") != nil {
		t.Fatal("the lockout outlived its window")
	}
}

// However long the name sent, an account's keys stay small.
func TestLoginLimiterKeysAreBounded(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter()
	long := fmt.Sprintf("acme/%0100000d", 7)
	l.reserve(long, "10.0.0.1")
	for k := range l.attempts {
		if len(k) > 200 {
			t.Fatalf("a key of %d bytes", len(k))
		}
	}
}

// Remembered sign-in addresses stay under the memory bound too.
func TestKnownAddressesAreBounded(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter()
	for i := 0; i < maxTrackedKeys+10; i++ {
		l.succeeded(fmt.Sprintf("acme/u%d", i), "10.0.0.1")
	}
	if len(l.known) > maxTrackedKeys {
		t.Fatalf("%d known addresses, over the bound %d", len(l.known), maxTrackedKeys)
	}
}
