package ratelimit

import (
	"testing"
	"time"

	"github.com/kefu/kefu/internal/testclock"
)

func TestMemoryTokenBucket(t *testing.T) {
	c := testclock.New(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	m := NewMemory(Limit{Rate: 2, Burst: 3}, c.Now)
	for i := 0; i < 3; i++ {
		if d := m.Allow("b1"); !d.Allowed {
			t.Fatalf("burst action %d refused", i+1)
		}
	}
	d := m.Allow("b1")
	if d.Allowed || d.RetryAfter != 500*time.Millisecond {
		t.Fatalf("over the burst: %+v, want refused with retry after 500ms", d)
	}
	if !m.Allow("b2").Allowed {
		t.Fatal("another key was limited by b1's actions")
	}
	c.Advance(500 * time.Millisecond)
	if !m.Allow("b1").Allowed {
		t.Fatal("refilled token refused")
	}
	if m.Allow("b1").Allowed {
		t.Fatal("more than the refill was allowed")
	}
	c.Advance(time.Hour)
	for i := 0; i < 3; i++ {
		if !m.Allow("b1").Allowed {
			t.Fatalf("after a long pause, action %d refused: the bucket must refill to its burst", i+1)
		}
	}
	if m.Allow("b1").Allowed {
		t.Fatal("the bucket refilled past its burst")
	}
	if len(m.buckets) != 1 {
		t.Fatalf("%d buckets kept, want b2's idle one swept", len(m.buckets))
	}
}

func TestZeroLimitAllowsEverything(t *testing.T) {
	m := NewMemory(Limit{}, nil)
	for i := 0; i < 1000; i++ {
		if !m.Allow("k").Allowed {
			t.Fatal("the zero limit refused")
		}
	}
}
