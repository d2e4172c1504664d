package api

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/ratelimit"
)

// countedRefusals records what the API tells its Metrics.
type countedRefusals struct {
	mu      sync.Mutex
	limits  []string
	refused []string
}

func (c *countedRefusals) RateLimited(limit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limits = append(c.limits, limit)
}

func (c *countedRefusals) ConnectionRefused(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refused = append(c.refused, reason)
}

type refuseAll struct{}

func (refuseAll) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
	return ratelimit.Decision{RetryAfter: time.Second}, nil
}

// A refusal by a limit is counted under the limit's name.
func TestRefusalsAreCounted(t *testing.T) {
	rec := &countedRefusals{}
	h := &handlers{metrics: rec, log: slog.New(slog.DiscardHandler)}
	limit := kefu.RateLimit{PerMinute: 60, Burst: 1}
	for _, name := range []string{"buyer_messages", "agent_frames", "conversations_per_shop"} {
		if h.check(context.Background(), refuseAll{}, name, "k", limit, errRateLimited) == nil {
			t.Fatalf("%s allowed", name)
		}
	}
	if h.check(context.Background(), refuseAll{}, "sessions_per_shop", "k", kefu.RateLimit{}, errRateLimited) != nil {
		t.Fatal("a limit that is off refused")
	}
	if want := []string{"buyer_messages", "agent_frames", "conversations_per_shop"}; !slices.Equal(rec.limits, want) {
		t.Fatalf("counted %v, want %v", rec.limits, want)
	}
}

// Sockets counts the hub's sockets by kind.
func TestSocketsByKind(t *testing.T) {
	s := &Server{hub: newHub()}
	for _, agentID := range []int64{0, 0, 0, 7, 8} {
		s.hub.add(&conn{agentID: agentID})
	}
	if buyers, agents := s.Sockets(); buyers != 3 || agents != 2 {
		t.Fatalf("%d buyer and %d agent sockets, want 3 and 2", buyers, agents)
	}
}
