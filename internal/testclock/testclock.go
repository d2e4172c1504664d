// Package testclock is a settable clock for tests: code under test takes a
// `now func() time.Time`, and tests pass Clock.Now and move it with Advance
// instead of sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock is a settable test clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New starts a clock at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
