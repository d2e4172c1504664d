package conversation

import (
	"context"
	"fmt"
)

// Broker carries encoded frames to the sockets subscribed to a topic, on
// every kefu process. Sockets subscribe on the process that holds them; the
// broker keeps one subscription per topic per process and its local Hub fans
// a frame out to that process's sockets. Publish never blocks on a socket: a
// Subscriber must take a frame without waiting (queue it or drop the
// connection). The in-process implementation is MemoryBroker; a Redis one for
// many nodes comes later behind this interface.
type Broker interface {
	// Subscribe adds a socket of this process to topic; twice is once.
	Subscribe(topic string, sub Subscriber)
	// Unsubscribe removes it.
	Unsubscribe(topic string, sub Subscriber)
	// Publish delivers frame once to every subscriber of any of the topics,
	// even one subscribed to several, but except (a socket of this process
	// the caller serves itself, or nil). An error means some processes may
	// not have had it; clients recover what they missed by seq.
	Publish(ctx context.Context, frame []byte, except Subscriber, topics ...string) error
}

// Subscriber receives frames published to its topics.
type Subscriber interface {
	// Deliver hands over one frame. It must not block.
	Deliver(frame []byte)
}

// BuyerTopic carries everything a buyer's sockets show.
func BuyerTopic(buyerID int64) string { return fmt.Sprintf("buyer/%d", buyerID) }

// AgentTopic carries the messages of an agent's conversations.
func AgentTopic(agentID int64) string { return fmt.Sprintf("agent/%d", agentID) }

// ShopTopic carries what every agent of a shop may see: the queue (its
// conversations, their messages, and their leaving it) and presence.
func ShopTopic(shopID int64) string { return fmt.Sprintf("shop/%d", shopID) }

// SupervisorTopic carries everything that happens in a shop, for its owners
// and supervisors.
func SupervisorTopic(shopID int64) string { return fmt.Sprintf("supervisor/%d", shopID) }
