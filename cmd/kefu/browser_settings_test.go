package main

import "testing"

// TestBrowserSettings drives the console's settings area in headless Chromium
// (e2e/settings.mjs): the owner creates groups and an agent, changes routing and
// reveals the identity secret, the new agent signs in, plain agents find only
// the quick phrases in Settings, and a buyer who follows the demo store's 咨询售后 link reaches the
// 售后 group. SQLite only: the settings pages add no storage of their own.
func TestBrowserSettings(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "settings.mjs", "", nil)
}

// TestBrowserPhraseSettings drives Settings › Quick phrases in headless Chromium
// (e2e/phrase-settings.mjs): a plain agent finds the phrases tab alone, adds a
// personal phrase with a shortcut, is refused a second one with that shortcut
// beside the input, exports the CSV and is shown the clashing row of an import
// that stores nothing; the owner is offered the shop scope.
func TestBrowserPhraseSettings(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "phrase-settings.mjs", "", nil)
}

// TestBrowserAutoReplySettings drives Settings › Auto-replies and Settings ›
// Assistant in headless Chromium (e2e/autoreply-settings.mjs): a regular
// expression that does not compile is refused beside its input and nothing is
// stored; fixed, the rule is listed, and 试一试 names it with its answer
// filled; a new greeting is saved and read back after a reload.
func TestBrowserAutoReplySettings(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "autoreply-settings.mjs", "", nil)
}
