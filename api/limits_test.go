package api

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu/internal/testclock"
)

// Parallel attempts are counted before any password is checked: no more
// than the limit get through.
func TestLoginLimiterCountsBeforeChecking(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	l := newLoginLimiter(clock.Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	through := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.reserve("acme/wang", fmt.Sprintf("10.0.%d.%d", i/250, i%250)) == 0 {
				mu.Lock()
				through++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if through != maxFailsPerAccount {
		t.Fatalf("%d parallel attempts got through, want %d", through, maxFailsPerAccount)
	}
}

// Filling the table with other keys never lifts a lockout in force; IPv6
// clients count per /64.
func TestLoginLimiterKeepsLockoutsWhenFull(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	l := newLoginLimiter(clock.Now)
	for i := 0; i < maxFailsPerAccount; i++ {
		l.reserve("acme/wang", "10.0.0.1")
	}
	for i := 0; i < maxTrackedKeys+10; i++ {
		l.reserve(fmt.Sprintf("acme/u%d", i), fmt.Sprintf("2001:db8:%x::1", i))
	}
	if len(l.attempts) > maxTrackedKeys {
		t.Fatalf("%d keys tracked, over the bound %d", len(l.attempts), maxTrackedKeys)
	}
	if l.reserve("acme/wang", "10.9.9.9") == 0 {
		t.Fatal("the account's lockout was forgotten to make room")
	}
	for i := 0; i < maxFailsPerAddress; i++ {
		l.reserve(fmt.Sprintf("shop/x%d", i), "2001:db8:ffff:1::1")
	}
	if l.reserve("shop/y", "2001:db8:ffff:1::2") == 0 {
		t.Fatal("another address in the same IPv6 /64 was not limited")
	}
	clock.Advance(loginWindow)
	if l.reserve("acme/wang", "10.0.0.1") != 0 {
		t.Fatal("the lockout outlived its window")
	}
}
