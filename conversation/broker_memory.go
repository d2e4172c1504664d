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

// Publish hands frame to every subscriber of the topics, once each.
func (b *MemoryBroker) Publish(frame []byte, topics ...string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if len(topics) == 1 {
		for sub := range b.topics[topics[0]] {
			sub.Deliver(frame)
		}
		return
	}
	seen := map[Subscriber]bool{}
	for _, t := range topics {
		for sub := range b.topics[t] {
			if !seen[sub] {
				seen[sub] = true
				sub.Deliver(frame)
			}
		}
	}
}
