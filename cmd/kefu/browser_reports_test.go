package main

import "testing"

// TestBrowserReports drives the console's reports page (报表) in headless Chromium
// (e2e/reports.mjs): the owner opens it after a conversation of today, the cards, the agent
// table and the live board show; another range reloads it and every chart image loads; a
// header sorts the agent table; the agents' CSV export downloads with its BOM and header.
// The demo has a week of generated history here (a new user's has three), so the
// screenshot shows what they see.
func TestBrowserReports(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "reports.mjs", "reports", nil, "--demo-history-days", "7")
}
