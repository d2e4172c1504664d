package main

import (
	"testing"

	"github.com/kefu/kefu/internal/testdb"
)

// TestBrowserWorkbench drives two agents' consoles and a buyer's widget in headless Chromium
// (e2e/workbench.mjs): a transfer with a note, an invitation, a helper's answer and leave, a
// confirmed close and the history tab, on the embedded default and on PostgreSQL.
func TestBrowserWorkbench(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	t.Run("sqlite", func(t *testing.T) { b.run(t, "workbench.mjs", "workbench", nil) })
	t.Run("postgres", func(t *testing.T) {
		b.run(t, "workbench.mjs", "workbench/postgres", nil, "--database-url", testdb.PostgresURL(t))
	})
}
