package conversation

import "github.com/kefu/kefu"

// Consumer reacts to committed changes: socket fan-out today, later the
// assistant, webhooks and report roll-ups. Adding one is a new type and one
// line of wiring (an argument to New); no command changes.
//
// Consume is called on the store's publisher goroutine for every change this
// process commits, in commit order, right after the commit. It must not
// block: slow work (a store read, a network call) goes to a goroutine the
// consumer owns. A change lost to a crash between the commit and Consume is
// still in the event log (docs/events.md), which a consumer that must see
// everything reads from its last id.
type Consumer interface {
	Consume(c Committed)
}

// Committed is a change as consumers get it.
type Committed struct {
	kefu.Change
	// Origin is the socket whose send stored the message, or nil (REST,
	// routing, kefu's own lines).
	Origin *Origin
}

// Origin is the socket a message was sent on. The fan-out gives it the
// message frame and right behind it the ack; while the conversation waits
// for routing, the ack is held in HeldAck for the service to deliver after
// routing (docs/protocol.md).
type Origin struct {
	Socket  Subscriber
	HeldAck []byte
}

// committed returns the callback the store tells a command's or a message's
// changes to: it hands each to every consumer, in the order they were given.
func (s *Service) committed(origin *Origin) func(kefu.Change) {
	return func(ch kefu.Change) {
		c := Committed{Change: ch, Origin: origin}
		for _, k := range s.consumers {
			k.Consume(c)
		}
	}
}
