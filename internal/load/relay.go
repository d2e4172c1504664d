package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// RelayConfig is what the relay scenario is told.
type RelayConfig struct {
	Config
	// Buyers is the number of buyer sockets, one conversation each; Agents
	// the agent sockets (agents load001… are created if absent, with caps
	// so that they hold every conversation).
	Buyers, Agents int
	// Rate is messages per second, both directions together.
	Rate int
	// Duration is how long to send, Warmup the first part of it left out
	// of the figures, Tail the wait after the last send for deliveries.
	Duration, Warmup, Tail time.Duration
	// TextBytes is the size of each message's text.
	TextBytes int
}

// Relay runs buyers and agents chatting both ways at a fixed total rate
// (half from buyers, half from agents, open loop: a message is due at its
// time whether or not earlier ones were answered) and reports on out how
// the messages were delivered to the other side. It fails on any message
// lost, doubled or out of order.
func Relay(ctx context.Context, cfg RelayConfig, out io.Writer) error {
	if err := RequireLoopback(cfg.URL); err != nil {
		return err
	}
	if cfg.Buyers < cfg.Agents || cfg.Agents < 1 || cfg.Rate < 2 || cfg.TextBytes < 40 {
		return errors.New("need --agents >= 1, --buyers >= --agents, --rate >= 2, --text-bytes >= 40")
	}
	r := &relayRun{cfg: cfg, out: out, acked: map[int64]bool{}, received: map[int64]int{}, errCodes: map[string]int{}}
	r.rest = rest{cfg: cfg.Config}
	if err := r.setUp(ctx); err != nil {
		return err
	}
	defer r.closeAll()
	return r.run(ctx)
}

type relayRun struct {
	rest
	cfg    RelayConfig
	out    io.Writer
	buyers []*peer
	agents []*peer

	mu       sync.Mutex
	acked    map[int64]bool // message ids the load sent and got an ack for, during the run
	received map[int64]int  // deliveries of those ids to the other side
	errCodes map[string]int
	outOfOrd int64
	lats     []time.Duration // delivery latency of messages sent after the warmup

	measuring  atomic.Bool
	warmEnd    atomic.Int64 // unix nanos
	sent       atomic.Int64
	backlogged atomic.Int64 // due but the socket's send queue was full
}

// peer is one buyer or agent socket.
type peer struct {
	buyer bool
	id    int64   // agent id (agents)
	convs []int64 // buyers: one; agents: the ones they hold
	next  int     // round-robin over convs
	n     int     // messages sent
	name  string
	token string // agents' session
	ws    *websocket.Conn
	send  chan []byte
	acks  chan ackFrame // setup only: the first message's ack
	last  map[int64]int64
}

type ackFrame struct {
	conv, id int64
}

func (r *relayRun) setUp(ctx context.Context) error {
	cfg := r.cfg
	start := time.Now()
	var err error
	if r.owner, _, err = r.login(ctx, cfg.Owner); err != nil {
		return fmt.Errorf("owner sign-in: %w", err)
	}
	if closed, err := r.closeOpenConversations(ctx); err != nil {
		return err
	} else if closed > 0 {
		fmt.Fprintf(r.out, "closed %d conversations left open by earlier runs\n", closed)
	}
	agentCap := min(100, (cfg.Buyers+cfg.Agents-1)/cfg.Agents+1)
	r.agents = make([]*peer, cfg.Agents)
	if err := parallel(ctx, cfg.Agents, 4, func(i int) error {
		name := fmt.Sprintf("load%03d", i+1)
		if err := r.ensureAgent(ctx, name, agentCap); err != nil {
			return err
		}
		token, id, err := r.login(ctx, name)
		if err != nil {
			return fmt.Errorf("agent %s sign-in: %w", name, err)
		}
		ws, err := connect(ctx, "ws"+strings.TrimPrefix(cfg.URL, "http")+"/ws/agent?token="+token, "")
		if err != nil {
			return fmt.Errorf("agent %s socket: %w", name, err)
		}
		p := &peer{id: id, name: name, token: token, ws: ws, send: make(chan []byte, 256), last: map[int64]int64{}}
		r.agents[i] = p
		r.serve(ctx, p)
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "agents: %d online in %s\n", cfg.Agents, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	r.buyers = make([]*peer, cfg.Buyers)
	wsURL := "ws" + strings.TrimPrefix(cfg.URL, "http") + "/ws/buyer?token="
	if err := parallel(ctx, cfg.Buyers, 64, func(i int) error {
		tok, err := session(ctx, cfg.URL, cfg.Shop, cfg.Origin, fmt.Sprintf("v_relay%06d_%d", i, start.UnixNano()))
		if err != nil {
			return err
		}
		ws, err := connect(ctx, wsURL+tok, cfg.Origin)
		if err != nil {
			return fmt.Errorf("buyer socket: %w", err)
		}
		p := &peer{buyer: true, name: fmt.Sprint("b", i), ws: ws, send: make(chan []byte, 64),
			acks: make(chan ackFrame, 1), last: map[int64]int64{}}
		r.buyers[i] = p
		r.serve(ctx, p)
		return nil
	}); err != nil {
		return err
	}
	// Every buyer opens a conversation; routing spreads them over the agents.
	if err := parallel(ctx, cfg.Buyers, 64, func(i int) error {
		p := r.buyers[i]
		p.send <- sendFrame(0, p.name+"-open", "你好")
		select {
		case a := <-p.acks:
			p.convs = []int64{a.conv}
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("buyer %d: no ack for the first message", i)
		case <-ctx.Done():
			return ctx.Err()
		}
	}); err != nil {
		return err
	}
	// Routing may give the last conversations a moment after their acks:
	// ask the agents' lists again until they hold them all, for 30 s.
	held := 0
	for deadline := time.Now().Add(30 * time.Second); ; {
		if err := parallel(ctx, cfg.Agents, 8, func(i int) error {
			p := r.agents[i]
			convs, err := r.heldConversations(ctx, p.token, p.id)
			p.convs = convs
			if err != nil {
				return fmt.Errorf("agent %s: %w", p.name, err)
			}
			return nil
		}); err != nil {
			return err
		}
		held = 0
		for _, p := range r.agents {
			held += len(p.convs)
		}
		if held == cfg.Buyers {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agents hold %d conversations, want %d (raise --agents or their caps)", held, cfg.Buyers)
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fmt.Fprintf(r.out, "buyers: %d conversations open and assigned in %s\n", cfg.Buyers, time.Since(start).Round(time.Millisecond))
	return nil
}

func (r *relayRun) run(ctx context.Context) error {
	cfg := r.cfg
	begin := time.Now()
	r.warmEnd.Store(begin.Add(cfg.Warmup).UnixNano())
	r.measuring.Store(true)
	var cpuWarm, selfWarm time.Duration
	var deliveredWarm int64

	// Half the rate from each side, due every 2 ms, round-robin over the sockets.
	sides := [][]*peer{r.buyers, r.agents}
	var credit [2]float64
	var turn [2]int
	tick := time.NewTicker(2 * time.Millisecond)
	last := begin
	warmed := false
	for now := range tick.C {
		if ctx.Err() != nil || now.Sub(begin) >= cfg.Duration {
			break
		}
		if !warmed && now.Sub(begin) >= cfg.Warmup {
			warmed = true
			cpuWarm, selfWarm = cpuTime(cfg.PID), cpuTime(os.Getpid())
			deliveredWarm = r.delivered()
		}
		for side, peers := range sides {
			credit[side] += now.Sub(last).Seconds() * float64(cfg.Rate) / 2
			for ; credit[side] >= 1; credit[side]-- {
				p := peers[turn[side]%len(peers)]
				turn[side]++
				conv := p.convs[p.next%len(p.convs)]
				p.next++
				p.n++
				frame := sendFrame(conv, fmt.Sprintf("%s-%d-%d", p.name, begin.Unix(), p.n), stampedText(now, cfg.TextBytes))
				select {
				case p.send <- frame:
					r.sent.Add(1)
				default:
					r.backlogged.Add(1)
				}
			}
		}
		last = now
	}
	tick.Stop()
	sendEnd := time.Now()
	cpuEnd, selfEnd := cpuTime(cfg.PID), cpuTime(os.Getpid())
	deliveredEnd := r.delivered()

	// Wait for what was acknowledged to arrive.
	deadline := time.Now().Add(cfg.Tail)
	for time.Now().Before(deadline) && r.missing() > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	r.measuring.Store(false)
	return r.report(sendEnd.Sub(begin), sendEnd.Sub(begin)-cfg.Warmup, cpuEnd-cpuWarm, selfEnd-selfWarm, deliveredEnd-deliveredWarm)
}

func (r *relayRun) report(sending, measured, serverCPU, selfCPU time.Duration, deliveredMeasured int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	lost, doubled := 0, 0
	for id := range r.acked {
		switch n := r.received[id]; {
		case n == 0:
			lost++
		case n > 1:
			doubled += n - 1
		}
	}
	slices.Sort(r.lats)
	q := func(p float64) time.Duration {
		if len(r.lats) == 0 {
			return 0
		}
		return r.lats[min(len(r.lats)-1, int(p*float64(len(r.lats))))].Round(10 * time.Microsecond)
	}
	fmt.Fprintf(r.out, "sent: %d in %s (%.0f msgs/s), %d acked, %d not sent (client send queue full)\n",
		r.sent.Load(), sending.Round(time.Millisecond), float64(r.sent.Load())/sending.Seconds(), len(r.acked), r.backlogged.Load())
	fmt.Fprintf(r.out, "delivered to the other side: lost %d, doubled %d, out of order %d\n", lost, doubled, r.outOfOrd)
	fmt.Fprintf(r.out, "latency after the warmup (%d messages): p50 %s, p95 %s, p99 %s, max %s\n",
		len(r.lats), q(0.50), q(0.95), q(0.99), q(1))
	if deliveredMeasured > 0 {
		if r.cfg.PID != 0 {
			fmt.Fprintf(r.out, "server CPU after the warmup: %.3f ms per message (%.2f cores)\n",
				float64(serverCPU.Microseconds())/1000/float64(deliveredMeasured), serverCPU.Seconds()/measured.Seconds())
		}
		fmt.Fprintf(r.out, "load tool CPU after the warmup: %.3f ms per message (%.2f cores)\n",
			float64(selfCPU.Microseconds())/1000/float64(deliveredMeasured), selfCPU.Seconds()/measured.Seconds())
	}
	if len(r.errCodes) > 0 {
		fmt.Fprintf(r.out, "error frames: %v\n", r.errCodes)
	}
	if lost > 0 || doubled > 0 || r.outOfOrd > 0 {
		return fmt.Errorf("%d lost, %d doubled, %d out of order", lost, doubled, r.outOfOrd)
	}
	return nil
}

func (r *relayRun) delivered() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.received))
}

func (r *relayRun) missing() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id := range r.acked {
		if r.received[id] == 0 {
			n++
		}
	}
	return n
}

// serve starts a socket's writer and reader; the writer's pings keep it
// open however long the rest of the set-up takes.
func (r *relayRun) serve(ctx context.Context, p *peer) {
	go r.write(ctx, p)
	go r.read(ctx, p)
}

// write sends a socket's queued frames, and a ping when it is quiet.
func (r *relayRun) write(ctx context.Context, p *peer) {
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		var frame []byte
		select {
		case frame = <-p.send:
		case <-ping.C:
			frame = []byte(`{"type":"ping"}`)
		case <-ctx.Done():
			return
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.ws.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			r.countError("write: " + websocket.CloseStatus(err).String())
			return
		}
	}
}

// The reader looks into frames with a few byte searches instead of a JSON
// decoder: the load tool shares the box with the server, and its CPU is
// taken from the server's. Server frames are compact JSON whose fields come
// in a fixed order (docs/protocol.md); anything else counts as an error.

// frameType is the type of a server frame: it starts {"type":"<type>".
func frameType(data []byte) string {
	rest, ok := bytes.CutPrefix(data, []byte(`{"type":"`))
	if !ok {
		return ""
	}
	if i := bytes.IndexByte(rest, '"'); i >= 0 {
		return string(rest[:i])
	}
	return ""
}

// intField is the integer after the first "key": in data.
func intField(data []byte, key string) int64 {
	i := bytes.Index(data, []byte(`"`+key+`":`))
	if i < 0 {
		return 0
	}
	var n int64
	for _, c := range data[i+len(key)+3:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// stringField is the string after the first "key": in data (no escapes expected).
func stringField(data []byte, key string) string {
	i := bytes.Index(data, []byte(`"`+key+`":"`))
	if i < 0 {
		return ""
	}
	rest := data[i+len(key)+4:]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return string(rest[:j])
	}
	return ""
}

// read takes a socket's frames: acks of its own sends, and messages, whose
// order, doubles and latency it checks.
func (r *relayRun) read(ctx context.Context, p *peer) {
	mine := "agent"
	if p.buyer {
		mine = "buyer"
	}
	for {
		_, data, err := p.ws.Read(ctx)
		if err != nil {
			if ctx.Err() == nil && r.measuring.Load() {
				r.countError("read: " + websocket.CloseStatus(err).String())
			}
			return
		}
		now := time.Now()
		switch frameType(data) {
		case "ack":
			id, conv := intField(data, "id"), intField(data, "conversation_id")
			if p.acks != nil && strings.HasSuffix(stringField(data, "client_msg_id"), "-open") {
				p.acks <- ackFrame{conv: conv, id: id}
				continue
			}
			if r.measuring.Load() {
				r.mu.Lock()
				r.acked[id] = true
				r.mu.Unlock()
			}
		case "message":
			id, conv, seq := intField(data, "id"), intField(data, "conversation_id"), intField(data, "seq")
			if last := p.last[conv]; seq <= last {
				r.mu.Lock()
				r.outOfOrd++
				r.mu.Unlock()
			} else {
				p.last[conv] = seq
			}
			if stringField(data, "sender") == mine || !r.measuring.Load() {
				continue
			}
			sentAt, ok := stampOf(stringField(data, "text"))
			if !ok {
				continue
			}
			r.mu.Lock()
			r.received[id]++
			if sentAt >= r.warmEnd.Load() {
				r.lats = append(r.lats, now.Sub(time.Unix(0, sentAt)))
			}
			r.mu.Unlock()
		case "error":
			r.countError(stringField(data, "code"))
		case "":
			r.countError("bad frame")
		}
	}
}

func (r *relayRun) countError(code string) {
	r.mu.Lock()
	r.errCodes[code]++
	r.mu.Unlock()
}

func (r *relayRun) closeAll() {
	for _, p := range append(slices.Clone(r.buyers), r.agents...) {
		if p != nil {
			p.ws.CloseNow()
		}
	}
}

// sendFrame encodes a send frame; conv 0 lets a buyer open a conversation.
func sendFrame(conv int64, clientMsgID, text string) []byte {
	f := map[string]any{"type": "send", "client_msg_id": clientMsgID, "text": text}
	if conv != 0 {
		f["conversation_id"] = conv
	}
	b, _ := json.Marshal(f)
	return b
}

// stampedText is n bytes of text starting with the time it was due.
func stampedText(due time.Time, n int) string {
	s := "t=" + strconv.FormatInt(due.UnixNano(), 10) + " "
	return s + strings.Repeat("x", max(0, n-len(s)))
}

func stampOf(text string) (int64, bool) {
	rest, ok := strings.CutPrefix(text, "t=")
	if !ok {
		return 0, false
	}
	stamp, _, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(stamp, 10, 64)
	return n, err == nil
}

// cpuTime is a process's user + system CPU time from /proc; 0 if unknown.
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields count from after its ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}
