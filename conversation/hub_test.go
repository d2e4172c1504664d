package conversation

import (
	"context"
	"sync/atomic"
	"testing"
)

type counter struct{ n atomic.Int64 }

func (c *counter) Deliver([]byte) { c.n.Add(1) }

func TestBrokerDeliversOncePerSubscriber(t *testing.T) {
	ctx := context.Background()
	b := NewMemoryBroker()
	both, onlyA, onlyB := &counter{}, &counter{}, &counter{}
	b.Subscribe("a", both)
	b.Subscribe("b", both)
	b.Subscribe("a", both) // twice is once
	b.Subscribe("a", onlyA)
	b.Subscribe("b", onlyB)

	b.Publish(ctx, []byte("x"), nil, "a", "b")
	b.Publish(ctx, []byte("y"), nil, "a")
	b.Publish(ctx, []byte("z"), nil, "nobody")
	if both.n.Load() != 2 || onlyA.n.Load() != 2 || onlyB.n.Load() != 1 {
		t.Fatalf("deliveries: both=%d onlyA=%d onlyB=%d, want 2 2 1", both.n.Load(), onlyA.n.Load(), onlyB.n.Load())
	}
	b.Unsubscribe("a", both)
	b.Unsubscribe("b", both)
	b.Publish(ctx, []byte("w"), nil, "a", "b")
	if both.n.Load() != 2 {
		t.Fatalf("unsubscribed subscriber got %d frames, want 2", both.n.Load())
	}
	if len(b.topics) != 2 {
		t.Fatalf("%d topics kept, want 2 (a and b still have subscribers)", len(b.topics))
	}
}

// Publish with except serves every subscriber of the topics once, but the one left out.
func TestBrokerPublishExcept(t *testing.T) {
	ctx := context.Background()
	b := NewMemoryBroker()
	sender, agent, both := &counter{}, &counter{}, &counter{}
	b.Subscribe("buyer/1", sender)
	b.Subscribe("agent/2", agent)
	b.Subscribe("buyer/1", both)
	b.Subscribe("agent/2", both)
	b.Publish(ctx, []byte("x"), sender, "agent/2", "buyer/1", "agent/2")
	if sender.n.Load() != 0 || agent.n.Load() != 1 || both.n.Load() != 1 {
		t.Errorf("sender %d, agent %d, both %d; want 0, 1, 1", sender.n.Load(), agent.n.Load(), both.n.Load())
	}
}
