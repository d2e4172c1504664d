package conversation

import "sync"

// MemoryBroker is the in-process Broker. It reaches only sockets connected to
// this process, so a deployment with several nodes needs a shared broker.
type MemoryBroker struct {
	mu     sync.RWMutex
	topics map[string]map[Subscriber]struct{}
}

var _ Broker = (*MemoryBroker)(nil)

// NewMemoryBroker returns an empty broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{topics: map[string]map[Subscriber]struct{}{}}
}

// Subscribe adds sub to topic; subscribing twice is the same as once.
func (b *MemoryBroker) Subscribe(topic string, sub Subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := b.topics[topic]
	if subs == nil {
		subs = map[Subscriber]struct{}{}
		b.topics[topic] = subs
	}
	subs[sub] = struct{}{}
}

// Unsubscribe removes sub from topic.
func (b *MemoryBroker) Unsubscribe(topic string, sub Subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if subs := b.topics[topic]; subs != nil {
		delete(subs, sub)
		if len(subs) == 0 {
			delete(b.topics, topic)
		}
	}
}

// Publish hands frame to every subscriber of topic.
func (b *MemoryBroker) Publish(topic string, frame []byte) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for sub := range b.topics[topic] {
		sub.Deliver(frame)
	}
}
