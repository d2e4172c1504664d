package conversation

import "sync"

// Hub is one process's sockets by topic: what a Broker fans a frame out to
// on each process.
type Hub struct {
	mu     sync.RWMutex
	topics map[string]map[Subscriber]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{topics: map[string]map[Subscriber]struct{}{}}
}

// Subscribe adds sub to topic; subscribing twice is the same as once.
func (b *Hub) Subscribe(topic string, sub Subscriber) {
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
func (b *Hub) Unsubscribe(topic string, sub Subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if subs := b.topics[topic]; subs != nil {
		delete(subs, sub)
		if len(subs) == 0 {
			delete(b.topics, topic)
		}
	}
}

// Deliver hands frame to every subscriber of the topics but except, once each.
func (b *Hub) Deliver(frame []byte, except Subscriber, topics ...string) {
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
