package main

import "testing"

// TestBrowserWidgetMenu drives the widget's group menu in headless Chromium (e2e/menu.mjs):
// groups the owner marks are offered, and the buyer's pick routes their conversation.
func TestBrowserWidgetMenu(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "menu.mjs", "menu", nil)
}
