package webhook

import (
	"testing"
	"time"
)

// The waits double from 1 s up to 5 min; all of MaxAttempts tries span
// about an hour.
func TestWebhookBackoff(t *testing.T) {
	for _, c := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {9, 256 * time.Second}, {10, MaxRetry}, {19, MaxRetry}} {
		if got := Backoff(c.attempts); got != c.want {
			t.Errorf("Backoff(%d) = %s, want %s", c.attempts, got, c.want)
		}
	}
	var total time.Duration
	for n := 1; n < MaxAttempts; n++ {
		total += Backoff(n)
	}
	if total < 50*time.Minute || total > 65*time.Minute {
		t.Errorf("the last try comes %s after the first, want about an hour", total)
	}
}
