package conversation

import "context"

// MemoryBroker is the Broker of one process: a frame published reaches the
// sockets of this process only, straight through its Hub, and Publish never
// fails. A deployment with several nodes needs a shared broker.
type MemoryBroker struct {
	*Hub
}

var _ Broker = MemoryBroker{}

// NewMemoryBroker returns a broker with an empty hub.
func NewMemoryBroker() MemoryBroker { return MemoryBroker{Hub: NewHub()} }

// Publish delivers frame to the hub's subscribers of the topics but except.
func (b MemoryBroker) Publish(_ context.Context, frame []byte, except Subscriber, topics ...string) error {
	b.Deliver(frame, except, topics...)
	return nil
}
