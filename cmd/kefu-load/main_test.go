package main

import (
	"io"
	"strings"
	"testing"
)

// Every scenario is reachable by name, and none is pointed anywhere but
// this machine.
func TestRunRefusesAnythingButLoopback(t *testing.T) {
	for _, scenario := range []string{"idle", "storm", "relay", "surge"} {
		t.Run(scenario, func(t *testing.T) {
			err := run(t.Context(), []string{scenario, "--url", "http://example.com"}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "loopback") {
				t.Errorf("run %s against example.com: %v, want a loopback refusal", scenario, err)
			}
		})
	}
	if err := run(t.Context(), []string{"nonsense"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("unknown scenario: %v, want the usage", err)
	}
}
