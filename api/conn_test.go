package api

import "testing"

// A full per-socket buffer never blocks the publisher: the socket is marked
// for closing as a slow consumer instead, and later frames are dropped.
func TestDeliverToFullBufferEndsConnection(t *testing.T) {
	t.Parallel()
	c := &conn{send: make(chan []byte, 2), done: make(chan struct{})}
	c.Deliver([]byte("1"))
	c.Deliver([]byte("2"))
	select {
	case <-c.done:
		t.Fatal("connection ended before its buffer was full")
	default:
	}
	c.Deliver([]byte("3")) // must return at once, not wait for a reader
	select {
	case <-c.done:
	default:
		t.Fatal("overflow did not end the connection")
	}
	if c.code != closeSlowConsumer || c.reason != "slow_consumer" {
		t.Fatalf("closed with %d %q, want %d slow_consumer", c.code, c.reason, closeSlowConsumer)
	}
	c.Deliver([]byte("4"))
	if len(c.send) != 2 {
		t.Fatalf("buffer holds %d frames after the end, want the 2 queued before", len(c.send))
	}
	c.end(4999, "later", false)
	if c.code != closeSlowConsumer {
		t.Fatal("a second end replaced the first reason")
	}
}
