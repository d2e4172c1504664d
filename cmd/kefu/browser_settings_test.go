package main

import (
	"path/filepath"
	"testing"
)

// TestBrowserSettings drives the console's settings area in headless Chromium
// (e2e/settings.mjs): the owner creates groups and an agent, changes routing and
// reveals the identity secret, the new agent signs in, plain agents see no
// settings, and a buyer who follows the demo store's 咨询售后 link reaches the
// 售后 group. SQLite only: the settings pages add no storage of their own.
func TestBrowserSettings(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e2eDir, err := filepath.Abs(filepath.Join("..", "..", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	node, chromium := browserTools(t, e2eDir)
	browse(t, node, chromium, e2eDir, "settings.mjs", filepath.Join(e2eDir, "artifacts"))
}
