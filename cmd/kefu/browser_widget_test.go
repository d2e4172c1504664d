package main

import "testing"

// TestBrowserWidgetUnavailable drives the widget on a page whose origin the demo shop did not
// register, and on one naming no shop, in headless Chromium (e2e/unavailable.mjs): the panel
// says chat is unavailable, offers nothing to type into and stops asking for a session.
func TestBrowserWidgetUnavailable(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "unavailable.mjs", "unavailable", nil)
}

// TestBrowserWidgetWelcome drives the widget's welcome block, bot messages, quick replies and
// 转人工 in headless Chromium (e2e/welcome.mjs). What the server does not send yet (the session's
// assistant and welcome, assistant conversations, bot messages) the script adds on the way.
func TestBrowserWidgetWelcome(t *testing.T) {
	t.Parallel()
	newBrowser(t).run(t, "welcome.mjs", "welcome", nil)
}
