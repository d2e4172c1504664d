package main

import (
	"path/filepath"
	"testing"

	"github.com/kefu/kefu/internal/testdb"
)

// TestBrowserWorkbench drives two agents' consoles and a buyer's widget in headless Chromium
// (e2e/workbench.mjs): a transfer with a note, an invitation, a helper's answer and leave, a
// confirmed close and the history tab, on the embedded default and on PostgreSQL.
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
	t.Run("sqlite", func(t *testing.T) {
		browse(t, node, chromium, e2eDir, "workbench.mjs", filepath.Join(e2eDir, "artifacts", "workbench"))
	})
	t.Run("postgres", func(t *testing.T) {
		url := testdb.PostgresURL(t)
		browse(t, node, chromium, e2eDir, "workbench.mjs", filepath.Join(e2eDir, "artifacts", "workbench", "postgres"), "--database-url", url)
	})
}
