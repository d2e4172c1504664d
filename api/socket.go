package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// Socket limits. They are part of the protocol (docs/protocol.md).
const (
	heartbeatSec      = 25
	readTimeout       = 2 * heartbeatSec * time.Second // nothing heard for this long: the peer is gone
	writeTimeout      = 10 * time.Second               // default of Config.SocketWriteTimeout
	frameTimeout      = 15 * time.Second               // handling one client frame, store included
	drainTimeout      = 3 * time.Second                // flushing a socket's buffer at shutdown
	readLimit         = 16 << 10
	buyerBufferFrames = 64
	// An agent's socket carries the whole shop's queue: in a surge every
	// new conversation is a conversation frame, its messages and its
	// assistant's lines to every agent, so 300 buyers arriving at once are
	// over a thousand frames within a second (a reconnect storm measured
	// it). Agents are few; 1,024 slots are 24 KiB of pointers each.
	agentBufferFrames = 1024
)

// errSocketUnauthorized ends a socket whose credentials were revoked while it
// was being opened.
var errSocketUnauthorized = errors.New("api: socket credentials revoked")

// errSocketAccountChanged ends a socket opened as the account was before a
// change of role or name: the client reconnects as it is now.
var errSocketAccountChanged = errors.New("api: account changed while the socket opened")

// Close codes of our own (4000–4999 is the application range).
const (
	closeSlowConsumer   websocket.StatusCode = 4001
	closeAccountChanged websocket.StatusCode = 4003
	closeUnauthorized   websocket.StatusCode = 4401
)

// conn is one open socket. Exactly two goroutines use it: the reader (the
// HTTP handler's goroutine, which handles frames in order) and writeLoop.
// Everyone else only calls Deliver, which never blocks: when the bounded
// buffer is full the socket is closed as a slow consumer and the client
// resumes by seq.
type conn struct {
	ws      *websocket.Conn
	send    chan []byte
	done    chan struct{} // closed by end: the writer closes the socket
	once    sync.Once
	session string // hash of the agent session token; empty for buyers
	agentID int64  // the agent's id; 0 for buyers
	cork    *corkWriter
	// writeTimeout bounds one write to the client: a socket that takes no
	// bytes for this long is dropped.
	writeTimeout time.Duration

	// Set once by end, before done is closed.
	code   websocket.StatusCode
	reason string
	flush  bool   // send what is buffered before closing (shutdown)
	final  []byte // a last frame after the buffer (the reconnect notice)
}

var _ conversation.Subscriber = (*conn)(nil)

// newConn wraps a socket accepted through sb (whose cork its writes go
// through), with a buffer of that many frames.
func newConn(ws *websocket.Conn, sb *smallBuffers, buffer int, writeTimeout time.Duration) *conn {
	ws.SetReadLimit(readLimit)
	return &conn{ws: ws, cork: sb.cork, send: make(chan []byte, buffer), done: make(chan struct{}), writeTimeout: writeTimeout}
}

// Deliver queues a frame for the writer without waiting. Once the socket
// has begun to end (end, a shutdown drain included) nothing more is queued:
// a frame and the frames after it (a message, then its ack) are dropped
// together, so a client never gets an ack whose message frame was dropped.
// What was queued before is still flushed in order.
func (c *conn) Deliver(frame []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.send <- frame:
	default:
		c.end(closeSlowConsumer, "slow_consumer", false)
	}
}

// end asks the writer to close the socket with code; the first call wins.
func (c *conn) end(code websocket.StatusCode, reason string, flush bool) {
	c.endWith(code, reason, flush, nil)
}

// endWith is end with a last frame written after the buffer, even when the
// buffer is full (a socket told to go away must hear why).
func (c *conn) endWith(code websocket.StatusCode, reason string, flush bool, final []byte) {
	c.once.Do(func() {
		c.code, c.reason, c.flush, c.final = code, reason, flush, final
		close(c.done)
	})
}

func (c *conn) write(frame []byte) error {
	return c.writeBy(frame, time.Now().Add(c.writeTimeout))
}

// writeLoop sends first, then queued frames until end is called, then
// closes the socket.
func (c *conn) writeLoop(first []byte) {
	if err := c.write(first); err != nil {
		c.end(websocket.StatusAbnormalClosure, "write failed", false)
		c.ws.CloseNow()
		return
	}
	for {
		select {
		case frame := <-c.send:
			if err := c.writeQueued(frame); err != nil {
				c.end(websocket.StatusAbnormalClosure, "write failed", false)
				c.ws.CloseNow()
				return
			}
		case <-c.done:
			deadline := time.Now().Add(drainTimeout)
			if c.flush {
				c.drain(deadline)
			}
			if c.final != nil {
				c.writeBy(c.final, deadline)
			}
			c.ws.Close(c.code, c.reason)
			return
		}
	}
}

// maxCoalesced bounds how many queued frames go out with one write.
const maxCoalesced = 32

// writeQueued writes frame and what is queued behind it with one write to
// the connection: a message and its ack, a burst to a busy agent. A frame
// that arrives alone is written at once.
func (c *conn) writeQueued(frame []byte) error {
	deadline := time.Now().Add(c.writeTimeout)
	if c.cork == nil || len(c.send) == 0 {
		return c.writeBy(frame, deadline)
	}
	c.cork.hold()
	for n := 1; ; n++ {
		if err := c.writeBy(frame, deadline); err != nil {
			c.cork.release(deadline)
			return err
		}
		if n == maxCoalesced || len(c.send) == 0 {
			break
		}
		frame = <-c.send // only this goroutine receives: a queued frame is there
	}
	return c.cork.release(deadline)
}

// corkWriter sits between a socket's write buffer and its connection. While
// held, what the websocket library flushes is kept, and release sends it all
// with one write. The library may write a control frame (a pong) from the
// reader's goroutine, hence the lock.
type corkWriter struct {
	conn    net.Conn
	mu      sync.Mutex
	held    bool
	pending []byte
}

func (w *corkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held {
		w.pending = append(w.pending, p...)
		return len(p), nil
	}
	return w.conn.Write(p)
}

func (w *corkWriter) hold() {
	w.mu.Lock()
	w.held = true
	w.mu.Unlock()
}

// release writes what was kept, by deadline, and stops keeping.
func (w *corkWriter) release(deadline time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held = false
	if len(w.pending) == 0 {
		return nil
	}
	w.conn.SetWriteDeadline(deadline)
	_, err := w.conn.Write(w.pending)
	w.conn.SetWriteDeadline(time.Time{})
	// An idle socket keeps no large buffer.
	if cap(w.pending) > 16<<10 {
		w.pending = nil
	} else {
		w.pending = w.pending[:0]
	}
	return err
}

// corkedConn is the hijacked connection as the websocket library sees it:
// closing it first sends what the cork holds (the library closes it right
// after writing its echo of a client's close, which may sit in the cork).
type corkedConn struct {
	net.Conn
	cork *corkWriter
}

func (c corkedConn) Close() error {
	c.cork.release(time.Now().Add(time.Second))
	return c.Conn.Close()
}

// drain writes what is buffered, giving up at deadline: a shutdown must not
// wait on a client that does not read.
func (c *conn) drain(deadline time.Time) {
	for {
		select {
		case frame := <-c.send:
			if c.writeBy(frame, deadline) != nil {
				return
			}
		default:
			return
		}
	}
}

func (c *conn) writeBy(frame []byte, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, frame)
}

// readLoop reads frames and passes each to handle, in order, until the
// socket ends. Invalid UTF-8 ends it with 1007; handle answers everything else.
func (c *conn) readLoop(handle func(data []byte)) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		typ, data, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			code := websocket.CloseStatus(err)
			if code == -1 {
				code = websocket.StatusGoingAway
			}
			c.end(code, "", false)
			return
		}
		if typ != websocket.MessageText {
			c.Deliver(protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Code: protocol.CodeInvalidFrame,
				Message: "frames are JSON text messages, not binary"}))
			continue
		}
		if !utf8.Valid(data) {
			c.end(websocket.StatusInvalidFramePayloadData, "invalid UTF-8", false)
			return
		}
		handle(data)
	}
}

// start subscribes the socket and then computes its ready frame, so no event
// falls between the state ready shows and the live frames after it.
// Whatever is published meanwhile waits in the buffer behind ready.
func (c *conn) start(broker conversation.Broker, topics []string, ready func() ([]byte, error)) ([]byte, error) {
	for _, t := range topics {
		broker.Subscribe(t, c)
	}
	first, err := ready()
	if errors.Is(err, errSocketUnauthorized) {
		c.unsubscribe(broker, topics)
		refuse(c.ws, closeUnauthorized, "unauthorized")
		return nil, err
	}
	if errors.Is(err, errSocketAccountChanged) {
		c.unsubscribe(broker, topics)
		refuse(c.ws, closeAccountChanged, "account_changed")
		return nil, err
	}
	if err != nil {
		c.unsubscribe(broker, topics)
		refuse(c.ws, websocket.StatusInternalError, "internal")
		return nil, err
	}
	return first, nil
}

// serve writes in the background (first, then the buffer), reads until the
// socket ends, then unsubscribes.
func (c *conn) serve(broker conversation.Broker, topics []string, first []byte, handle func(data []byte)) {
	defer c.unsubscribe(broker, topics)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop(first)
	}()
	c.readLoop(handle)
	<-writerDone
}

func (c *conn) unsubscribe(broker conversation.Broker, topics []string) {
	for _, t := range topics {
		broker.Unsubscribe(t, c)
	}
}

// refuse accepts the upgrade only to close it at once with a reason the
// client can act on (a browser cannot read a refused handshake's status).
func refuse(ws *websocket.Conn, code websocket.StatusCode, reason string) {
	ws.Close(code, reason)
}

// hub knows every open socket, to send them away on shutdown.
type hub struct {
	mu      sync.Mutex
	conns   map[*conn]struct{}
	closing bool
	wg      sync.WaitGroup
}

func newHub() *hub { return &hub{conns: map[*conn]struct{}{}} }

// add registers a socket; false once shutdown has begun.
func (h *hub) add(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

func (h *hub) remove(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.wg.Done()
}

// endSession closes every socket opened with an agent session that ended
// (logout, a password reset, a disabled account), with 4401 and reason.
func (h *hub) endSession(sessionHash, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if c.session == sessionHash {
			c.end(closeUnauthorized, reason, false)
		}
	}
}

// endAgent closes every socket of an agent with code and reason.
func (h *hub) endAgent(agentID int64, code websocket.StatusCode, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if c.agentID == agentID {
			c.end(code, reason, false)
		}
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// shutdown tells every socket to reconnect (spread over a few seconds so
// they do not all return at once), flushes what each has queued, closes
// them with 1012 and waits until they are gone or ctx ends.
func (h *hub) shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	for c := range h.conns {
		c.endWith(websocket.StatusServiceRestart, "server_restart", true, protocol.Encode(protocol.Reconnect{
			Type: protocol.TypeReconnect, Reason: "server_restart", RetryAfterMs: 500 + rand.IntN(2500)}))
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("api: sockets still open at shutdown deadline")
	}
}

// Buffer sizes of a hijacked socket. net/http hands a hijacked connection
// 4 KiB read and write buffers, which every idle socket would keep; frames
// larger than these go straight to and from the connection anyway.
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 512
)

// smallBuffers wraps the ResponseWriter given to websocket.Accept so the
// hijacked connection gets small buffers instead of net/http's.
type smallBuffers struct {
	http.ResponseWriter
	cork *corkWriter // set by Hijack: the socket's writes go through it
}

// WriteHeaderNow passes gin's delayed header write through (coder/websocket
// calls it to send the 101 before hijacking).
func (w *smallBuffers) WriteHeaderNow() {
	if g, ok := w.ResponseWriter.(interface{ WriteHeaderNow() }); ok {
		g.WriteHeaderNow()
	}
}

// Hijack hijacks the underlying connection and keeps any bytes already read.
func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("api: response writer cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	// Bytes the client sent right after its handshake may already sit in
	// net/http's buffer. They must be in the new buffer too (not only behind
	// it): coder/websocket rebuilds its reader from what is buffered.
	r := bufio.NewReaderSize(conn, socketReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		r = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(append([]byte(nil), early...)), conn), max(n, socketReadBuffer))
		if _, err := r.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	w.cork = &corkWriter{conn: conn}
	return corkedConn{conn, w.cork}, bufio.NewReadWriter(r, bufio.NewWriterSize(w.cork, socketWriteBuffer)), nil
}
