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
	b.PublishExcept(frame, nil, topics...)
}

// PublishExcept hands frame to every subscriber of the topics but except,
// once each.
func (b *MemoryBroker) PublishExcept(frame []byte, except Subscriber, topics ...string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if len(topics) == 1 {
		for sub := range b.topics[topics[0]] {
			if sub != except {
				sub.Deliver(frame)
			}
		}
		return
	}
	// A subscriber of an earlier topic has been served already: the topics'
	// own sets tell, so nothing is allocated per publish.
	for i, t := range topics {
	subs:
		for sub := range b.topics[t] {
			if sub == except {
				continue
			}
			for _, prev := range topics[:i] {
				if _, served := b.topics[prev][sub]; served {
					continue subs
				}
			}
			sub.Deliver(frame)
		}
	}
}
