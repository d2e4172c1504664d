package main

import "testing"

// TestBrowserSettings drives the console's settings area in headless Chromium
// (e2e/settings.mjs): the owner creates groups and an agent, changes routing and
// reveals the identity secret, the new agent signs in, plain agents see no
// settings, and a buyer who follows the demo store's 咨询售后 link reaches the
// 售后 group. SQLite only: the settings pages add no storage of their own.
func TestBrowserSettings(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "settings.mjs", "", nil)
}
