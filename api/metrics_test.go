package api

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
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

func (refuseAll) Allow(string) ratelimit.Decision {
	return ratelimit.Decision{RetryAfter: time.Second}
}

// A send refused by its limit is counted under the sender kind's limit name.
func TestSendRefusalsAreCounted(t *testing.T) {
	rec := &countedRefusals{}
	h := &handlers{metrics: rec, sends: map[kefu.SenderKind]SendLimiter{kefu.SenderBuyer: refuseAll{}, kefu.SenderAgent: refuseAll{}}}
	for _, a := range []conversation.Actor{{Kind: kefu.SenderBuyer, ID: 1}, {Kind: kefu.SenderAgent, ID: 2}, {Kind: kefu.SenderBuyer, ID: 3}} {
		if h.allowSend(a) == nil {
			t.Fatalf("%v allowed", a)
		}
	}
	if want := []string{"buyer_messages", "agent_messages", "buyer_messages"}; !slices.Equal(rec.limits, want) {
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
