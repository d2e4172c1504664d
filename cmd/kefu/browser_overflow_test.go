package main

import "testing"

// TestBrowserOverflow drives the supervisor view of the overflow stages in headless Chromium
// (e2e/overflow.mjs): a line of one engages the backup stage, the console's banner above the
// queue shows it with the line, a buyer arriving is told, and surge mode switched on shows.
func TestBrowserOverflow(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "overflow.mjs", "overflow", nil)
}
