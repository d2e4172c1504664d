package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The storm and surge scenarios decode every frame: their rates are low
// enough that a JSON decoder costs the server nothing noticeable, and they
// read more of each frame than relay's byte searches could do safely.

// frame is a server frame with the fields the scenarios read (docs/protocol.md §3).
type frame struct {
	Type           string          `json:"type"`
	Code           string          `json:"code"`
	Message        json.RawMessage `json:"message"` // a message object, but the sentence in an error
	ClientMsgID    string          `json:"client_msg_id"`
	Conversation   *conversation   `json:"conversation"`
	Conversations  []conversation  `json:"conversations"`
	ConversationID int64           `json:"conversation_id"`
	Position       int             `json:"position"`
	Ref            string          `json:"ref"`
	RetryAfterMs   int64           `json:"retry_after_ms"`
	Messages       []message       `json:"messages"`
	HasMore        bool            `json:"has_more"`
	LastSeq        int64           `json:"last_seq"`
}

type message struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Kind           string `json:"kind"`
	Sender         string `json:"sender"`
	SenderID       int64  `json:"sender_id"`
	Code           string `json:"code"`
	Text           string `json:"text"`
	ClientMsgID    string `json:"client_msg_id"`
}

type conversation struct {
	ID            int64  `json:"id"`
	Status        string `json:"status"`
	AgentID       *int64 `json:"agent_id"`
	QueuePosition int    `json:"queue_position"`
	Assistant     bool   `json:"assistant"`
	LastSeq       int64  `json:"last_seq"`
}

// msg is the frame's message object, if it carries one.
func (f *frame) msg() (message, bool) {
	var m message
	if len(f.Message) == 0 || f.Message[0] != '{' {
		return m, false
	}
	return m, json.Unmarshal(f.Message, &m) == nil
}

// refusal is an HTTP answer that asks the client to come back later
// (429 or 503, with Retry-After), or refuses it for good.
type refusal struct {
	status     int
	code       string        // the JSON error body's code, if any
	retryAfter time.Duration // 0 without a Retry-After header
}

func (r *refusal) Error() string {
	return fmt.Sprintf("status %d %s (retry after %s)", r.status, r.code, r.retryAfter)
}

// retryable says whether a refusal is one to wait out.
func (r *refusal) retryable() bool {
	return (r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable) && r.retryAfter > 0
}

func refusalOf(res *http.Response) *refusal {
	r := &refusal{status: res.StatusCode}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s >= 0 {
		r.retryAfter = time.Duration(max(s, 1)) * time.Second
	}
	var body struct {
		Error struct{ Code string }
	}
	if json.NewDecoder(res.Body).Decode(&body) == nil {
		r.code = body.Error.Code
	}
	return r
}

// maxRetries bounds how often one buyer waits out a refusal.
const maxRetries = 5

// retry calls f until it succeeds, fails for good, or was refused
// maxRetries times, waiting each refusal's Retry-After; refused is told of
// every refusal.
func retry[T any](ctx context.Context, refused func(*refusal), f func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := f()
		var r *refusal
		if !errors.As(err, &r) {
			return v, err
		}
		refused(r)
		if !r.retryable() || attempt+1 >= maxRetries {
			return v, err
		}
		select {
		case <-time.After(r.retryAfter):
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}

// widgetSession is the answer to POST /api/v1/widget/shops/{shop}/session.
type widgetSession struct {
	Token     string `json:"token"`
	SocketURL string `json:"socket_url"`
}

// newSession asks for a buyer's widget session; a refusal is a *refusal.
func newSession(ctx context.Context, client *http.Client, cfg Config, visitor, forwardedFor string) (widgetSession, error) {
	var out widgetSession
	body, _ := json.Marshal(map[string]string{"visitor_id": visitor})
	req, err := http.NewRequestWithContext(ctx, "POST", cfg.URL+"/api/v1/widget/shops/"+cfg.Shop+"/session", bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", cfg.Origin)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	res, err := client.Do(req)
	if err != nil {
		return out, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return out, refusalOf(res)
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("session: %w", err)
	}
	return out, nil
}

// socket is one open kefu socket: a reader handing each frame to onFrame
// and a writer sending what is queued on send (and a ping when quiet).
// Both end when the socket's context ends or the connection fails.
type socket struct {
	ws     *websocket.Conn
	send   chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// err is why the socket ended, set before done is closed.
	err  error
	once sync.Once
	done chan struct{}
}

// dial opens a socket and reads its ready frame; a refused handshake is a
// *refusal. onFrame runs on the reader goroutine, never concurrently.
func dial(ctx context.Context, url, origin, forwardedFor string, buffer int, onFrame func(f *frame, at time.Time)) (*socket, *frame, error) {
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if origin != "" {
		opts.HTTPHeader.Set("Origin", origin)
	}
	if forwardedFor != "" {
		opts.HTTPHeader.Set("X-Forwarded-For", forwardedFor)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, res, err := websocket.Dial(dctx, url, opts)
	if err != nil {
		if res != nil && res.StatusCode != http.StatusSwitchingProtocols {
			r := &refusal{status: res.StatusCode}
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
				r.retryAfter = time.Duration(max(s, 1)) * time.Second
			}
			return nil, nil, r
		}
		return nil, nil, err
	}
	ws.SetReadLimit(1 << 20)
	_, data, err := ws.Read(dctx)
	var ready frame
	if err == nil {
		err = json.Unmarshal(data, &ready)
	}
	if err != nil || ready.Type != "ready" {
		ws.CloseNow()
		if ready.Type == "reconnect" {
			return nil, nil, &refusal{status: http.StatusServiceUnavailable, code: "reconnect", retryAfter: time.Duration(ready.RetryAfterMs) * time.Millisecond}
		}
		return nil, nil, fmt.Errorf("no ready frame: %v", err)
	}
	s := &socket{ws: ws, send: make(chan []byte, buffer), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(2)
	go s.write()
	go s.read(onFrame)
	go func() { s.wg.Wait(); close(s.done) }()
	return s, &ready, nil
}

func (s *socket) read(onFrame func(*frame, time.Time)) {
	defer s.wg.Done()
	defer s.cancel() // the writer ends with the reader
	for {
		_, data, err := s.ws.Read(s.ctx)
		if err != nil {
			s.fail(err)
			return
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			f = frame{Type: "error", Code: "bad_frame"}
		}
		onFrame(&f, time.Now())
	}
}

func (s *socket) write() {
	defer s.wg.Done()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		var data []byte
		select {
		case data = <-s.send:
		case <-ping.C:
			data = []byte(`{"type":"ping"}`)
		case <-s.ctx.Done():
			s.ws.CloseNow() // ends the reader too
			return
		}
		wctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		err := s.ws.Write(wctx, websocket.MessageText, data)
		cancel()
		if err != nil {
			s.fail(err)
			s.cancel()
			s.ws.CloseNow()
			return
		}
	}
}

var errClosedByClient = errors.New("closed by the load tool")

func (s *socket) fail(err error) {
	s.once.Do(func() {
		if s.ctx.Err() != nil {
			err = errClosedByClient
		}
		s.err = err
	})
}

// queue hands a frame to the writer without ever blocking on a dead socket.
func (s *socket) queue(data []byte) bool {
	select {
	case s.send <- data:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// close ends the socket and waits for its goroutines.
func (s *socket) close() {
	s.cancel()
	s.ws.CloseNow()
	<-s.done
}
