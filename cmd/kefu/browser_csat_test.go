package main

import "testing"

// TestBrowserWidgetCSAT drives the widget's satisfaction rating in headless Chromium
// (e2e/csat.mjs): stars when an agent invites a rating and when a conversation closes, a
// thank-you, and never asking twice, a reload included.
func TestBrowserWidgetCSAT(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "csat.mjs", "csat", nil)
}
