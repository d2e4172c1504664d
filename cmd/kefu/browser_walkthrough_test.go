package main

import (
	"testing"
	"time"

	"github.com/kefu/kefu/internal/testdb"
)

// TestBrowserWalkthrough is the "tried as a new user" walk-through in headless Chromium
// (e2e/walkthrough.mjs): the owner sets up 售前 and 售后 and a cap of 1, agents go away and come
// back, three buyers follow the store page's 咨询售后 link (one answered and closed, one queued
// with its place and estimate), a transfer with a note, and an agent's departure after the
// presence grace (2 s here) sending his conversations back to the front of the line, on the
// embedded default and on PostgreSQL.
func TestBrowserWalkthrough(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	shortGrace := func(c *serveConfig) { c.presenceGrace = 2 * time.Second }
	t.Run("sqlite", func(t *testing.T) { b.run(t, "walkthrough.mjs", "walkthrough", shortGrace) })
	t.Run("postgres", func(t *testing.T) {
		b.run(t, "walkthrough.mjs", "walkthrough/postgres", shortGrace, "--database-url", testdb.PostgresURL(t))
	})
}
