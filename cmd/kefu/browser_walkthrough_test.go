package main

import (
	"path/filepath"
	"testing"
	"time"
)

// TestBrowserWalkthrough is the "tried as a new user" walk-through in headless Chromium
// (e2e/walkthrough.mjs): the owner sets up 售前 and 售后 and a cap of 1, agents go away and come
// back, three buyers follow the store page's 咨询售后 link (one answered and closed, one queued
// with its place and estimate), a transfer with a note, and an agent's departure after the
// presence grace (2 s here) sending his conversations back to the front of the line. SQLite
// only: it adds no storage of its own.
func TestBrowserWalkthrough(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e2eDir, err := filepath.Abs(filepath.Join("..", "..", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	node, chromium := browserTools(t, e2eDir)
	browseWith(t, func(c *serveConfig) { c.presenceGrace = 2 * time.Second }, node, chromium, e2eDir, "walkthrough.mjs", filepath.Join(e2eDir, "artifacts", "walkthrough"))
}
