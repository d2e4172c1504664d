package main

import (
	"path/filepath"
	"testing"
)

// TestBrowserWidgetMenu drives the widget's group menu in headless Chromium (e2e/menu.mjs):
// groups the owner marks are offered, and the buyer's pick routes their conversation.
func TestBrowserWidgetMenu(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e2eDir, err := filepath.Abs(filepath.Join("..", "..", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	node, chromium := browserTools(t, e2eDir)
	browse(t, node, chromium, e2eDir, "menu.mjs", filepath.Join(e2eDir, "artifacts", "menu"))
}
