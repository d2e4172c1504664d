package main

import "testing"

// TestBrowserPhrases drives the console's quick-phrase picker in headless Chromium
// (e2e/phrases.mjs): `/hi` and Enter insert the greeting with the buyer's and the agent's names,
// the buyer receives it; a phrase whose {order.no} stays unfilled is refused before sending.
func TestBrowserPhrases(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "phrases.mjs", "phrases", nil)
}
