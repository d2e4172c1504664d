package api

import (
	"net"
	"testing"
	"time"
)

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

// Once a socket is ending (a shutdown drain included), nothing more is
// queued: a frame produced during the drain — a message and then its ack —
// is either all delivered before the close or not at all, never an ack
// without its message.
func TestDeliverAfterEndQueuesNothing(t *testing.T) {
	for i := range 200 {
		c := &conn{send: make(chan []byte, 8), done: make(chan struct{})}
		c.endWith(1012, "server_restart", true, []byte("reconnect"))
		c.Deliver([]byte("message"))
		c.Deliver([]byte("ack"))
		if n := len(c.send); n != 0 {
			t.Fatalf("try %d: %d frames queued after the socket began to end, want 0", i, n)
		}
	}
}

// countingConn is a net.Conn that counts and keeps what is written to it.
type countingConn struct {
	net.Conn
	writes int
	got    []byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	c.got = append(c.got, p...)
	return len(p), nil
}
func (c *countingConn) SetWriteDeadline(time.Time) error { return nil }

// While held, what the websocket library flushes is kept and goes out with
// one write on release; unheld, every flush is a write of its own.
func TestCorkWriterSendsHeldFramesInOneWrite(t *testing.T) {
	under := &countingConn{}
	w := &corkWriter{conn: under}
	w.Write([]byte("a"))
	if under.writes != 1 {
		t.Fatalf("unheld write made %d writes, want 1", under.writes)
	}
	w.hold()
	for _, f := range []string{"message", "ack", "typing"} {
		w.Write([]byte(f))
	}
	if under.writes != 1 {
		t.Fatalf("held frames were written before the release (%d writes)", under.writes)
	}
	if err := w.release(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if under.writes != 2 || string(under.got) != "amessageacktyping" {
		t.Fatalf("after release: %d writes, %q; want 2 writes in order", under.writes, under.got)
	}
	if err := w.release(time.Now()); err != nil || under.writes != 2 {
		t.Fatalf("an empty release wrote (%d writes, %v)", under.writes, err)
	}
}
