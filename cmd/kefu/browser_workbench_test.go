package main

import (
	"path/filepath"
	"testing"
)

// TestBrowserWorkbench drives two agents' consoles and a buyer's widget in headless Chromium
// (e2e/workbench.mjs): a transfer with a note, an invitation, a helper's answer and leave, a
// confirmed close and the history tab.
func TestBrowserWorkbench(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e2eDir, err := filepath.Abs(filepath.Join("..", "..", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	node, chromium := browserTools(t, e2eDir)
	browse(t, node, chromium, e2eDir, "workbench.mjs", filepath.Join(e2eDir, "artifacts", "workbench"))
}
