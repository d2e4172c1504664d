package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// SurgeConfig is what the surge scenario is told.
type SurgeConfig struct {
	Config
	// Agents load agents (surge001…, created if absent) are online, each
	// holding at most AgentCap conversations at once (set on each run).
	Agents, AgentCap int
	// Think is how long an agent takes to answer a buyer's message;
	// after Exchanges answers the agent closes the conversation, freeing
	// the slot for the next buyer in line.
	Think     time.Duration
	Exchanges int
	// BaseRate is new buyers per second in the steady and after phases;
	// the surge phase has BaseRate×Factor.
	BaseRate, Factor float64
	// Steady, Surge and After are the phases' lengths; Grace the wait
	// after the last arrival for answers and deliveries.
	Steady, Surge, After, Grace time.Duration
	// Each buyer sends BuyerMessages messages of TextBytes bytes, the
	// first on arrival, each later one BuyerInterval after an agent's
	// answer to the one before.
	BuyerMessages int
	BuyerInterval time.Duration
	TextBytes     int
	// LeftMessageStay is how long a buyer told their message was kept as
	// a left message (留言: codes left_message, queue_full) stays before
	// closing the widget, as a shopper told "we will answer later" does;
	// 0 keeps them to the end of the run.
	LeftMessageStay time.Duration
}

// SurgeSummary is the surge scenario's result, its last JSON line.
type SurgeSummary struct {
	Type     string `json:"type"`
	Scenario string `json:"scenario"`
	// SustainablePerSec is the arrival rate the agents can serve, from
	// their slots and how long a conversation lasts; compare BaseRate.
	SustainablePerSec float64 `json:"sustainable_per_s"`
	Arrivals          struct {
		Steady int `json:"steady"`
		Surge  int `json:"surge"`
		After  int `json:"after"`
	} `json:"arrivals"`
	// TimeToFirstAnswer is from a buyer's first message to the first
	// frame that told them something (queue place, assignment, a bot,
	// system or agent message, a refusal with retry_after_ms).
	TimeToFirstAnswer Quantiles `json:"time_to_first_answer_ms"`
	Unanswered        int       `json:"unanswered"`
	// Refusals of buyers, by status and code: of the widget session, of
	// the socket, and of the first message (the conversation's start).
	SessionRefused map[string]int `json:"session_refused"`
	ConnectRefused map[string]int `json:"connect_refused"`
	StartRefused   int            `json:"start_refused"`
	// BuyersFailed are buyers who never got a socket, by cause.
	BuyersFailed map[string]int `json:"buyers_failed"`
	BuyerAcked   int            `json:"buyer_messages_acked"`
	AgentAcked   int            `json:"agent_messages_acked"`
	// Unassigned buyer messages are in conversations no load agent held at
	// the end (still waiting): nobody owes them a delivery yet.
	Unassigned int `json:"buyer_messages_unassigned"`
	// LeftMessages counts the buyers told their message was kept as a left
	// message (they leave after LeftMessageStay).
	LeftMessages int `json:"left_message_buyers"`
	// ToGoneBuyers counts agents' answers to left messages whose buyer had
	// closed the widget: stored, and theirs when they come back (sync).
	ToGoneBuyers int `json:"agent_messages_to_gone_buyers"`
	LostToAgent  int `json:"lost_to_agent"`
	LostToBuyer  int `json:"lost_to_buyer"`
	Duplicated   int `json:"duplicated"`
	OutOfOrder   int `json:"out_of_order"`
	Assigned     int `json:"conversations_assigned"`
	Closed       int `json:"conversations_closed"`
	// Errors are error frames by side and code ("buyer:rate_limited");
	// Dropped sockets the server ended, by close status.
	Errors  map[string]int `json:"errors"`
	Dropped map[string]int `json:"sockets_dropped"`
	// Server memory (with a PID): the median in the steady phase, the peak
	// in the surge and after phases.
	RSSSteadyKiB int64   `json:"rss_steady_kib,omitempty"`
	RSSPeakKiB   int64   `json:"rss_peak_kib,omitempty"`
	RSSRatio     float64 `json:"rss_peak_over_steady,omitempty"`
	// Agent→buyer delivery latency: overall, the steady phase's p99, each
	// second's p99 (index: second of the run; 0 for a second in which
	// nothing was delivered), and the recovery time, the
	// seconds after the surge until every later second's p99 is within
	// RecoveryThresholdMs (-1: not within the run).
	Delivery            Quantiles `json:"delivery_ms"`
	SteadyP99Ms         float64   `json:"steady_p99_ms"`
	PerSecondP99Ms      []float64 `json:"per_second_p99_ms"`
	RecoveryThresholdMs float64   `json:"recovery_threshold_ms"`
	RecoveryS           int       `json:"recovery_s"`
	// The message path's latency, an agent's send to its ack (stored and
	// told back), by the same rules: measured on every answer agents write,
	// also to left messages whose buyer has gone, so it covers the after
	// phase when the line is all left messages and little reaches a buyer.
	AgentAck               Quantiles `json:"agent_ack_ms"`
	AckSteadyP99Ms         float64   `json:"ack_steady_p99_ms"`
	AckPerSecondP99Ms      []float64 `json:"ack_per_second_p99_ms"`
	AckRecoveryThresholdMs float64   `json:"ack_recovery_threshold_ms"`
	AckRecoveryS           int       `json:"ack_recovery_s"`
}

// perSecond is the distribution of every latency in lats and each second's
// p99 (0 for a second without any).
func perSecond(lats map[int][]time.Duration) (Quantiles, []float64) {
	var all []time.Duration
	last := 0
	for sec, l := range lats {
		last = max(last, sec)
		all = append(all, l...)
	}
	per := make([]float64, last+1)
	for sec, l := range lats {
		per[sec] = ms(quantile(l, 0.99))
	}
	return quantiles(all), per
}

// Quantiles are a distribution's p50, p99 and max in milliseconds, of N values.
type Quantiles struct {
	N     int     `json:"n"`
	P50Ms float64 `json:"p50"`
	P99Ms float64 `json:"p99"`
	MaxMs float64 `json:"max"`
}

// Failure returns why the run failed: a message lost, duplicated or out of
// order, or a buyer never answered; nil if none.
func (s SurgeSummary) Failure() error {
	if s.LostToAgent+s.LostToBuyer+s.Duplicated+s.OutOfOrder+s.Unanswered == 0 {
		return nil
	}
	return fmt.Errorf("surge: %d lost to agents, %d lost to buyers, %d duplicated, %d out of order, %d buyers never answered",
		s.LostToAgent, s.LostToBuyer, s.Duplicated, s.OutOfOrder, s.Unanswered)
}

// recoveryFloor keeps loopback jitter of a few milliseconds from counting
// as a slow recovery when the steady p99 is itself a few milliseconds.
const recoveryFloor = 5 * time.Millisecond

// Surge runs the Double-11 scenario: buyers arrive as new widget sessions
// at BaseRate, then BaseRate×Factor, then BaseRate again, and are served by
// simulated agents. It writes a progress line a second and the summary to
// stdout, a human summary to stderr, and returns the summary; the error is
// non-nil when a message was lost, duplicated or out of order or a buyer
// was never answered (SurgeSummary.Failure), or the run could not start.
func Surge(ctx context.Context, cfg SurgeConfig, stdout, stderr io.Writer) (SurgeSummary, error) {
	var sum SurgeSummary
	if err := RequireLoopback(cfg.URL); err != nil {
		return sum, err
	}
	switch {
	case cfg.Agents < 1 || cfg.Agents > 200 || cfg.AgentCap < 1 || cfg.AgentCap > 100:
		return sum, errors.New("need 1 <= --agents <= 200 and 1 <= --agent-cap <= 100")
	case cfg.BuyerMessages < 1 || cfg.Exchanges < 1 || cfg.Exchanges > cfg.BuyerMessages:
		return sum, errors.New("need 1 <= --exchanges <= --buyer-messages: an agent closes after answering that many, and a buyer writing after the close would start a new conversation")
	case cfg.BaseRate <= 0 || cfg.Factor < 1 || cfg.Steady <= 0 || cfg.Surge <= 0 || cfg.After <= 0 || cfg.Grace < 0:
		return sum, errors.New("need --base > 0, --factor >= 1, --steady, --surge, --after > 0, --grace >= 0")
	case cfg.TextBytes < 40:
		return sum, errors.New("need --text-bytes >= 40")
	}
	r := &surgeRun{
		cfg: cfg, rest: rest{cfg: cfg.Config}, out: &jsonLines{out: stdout},
		runID:      strconv.FormatInt(time.Now().UnixNano(), 36),
		buyerAcked: map[int64]int64{}, agentAcked: map[int64]int64{}, holder: map[int64]int64{},
		toAgent: map[[2]int64]int{}, toBuyer: map[int64]int{}, gone: map[int64]bool{}, ackLats: map[int][]time.Duration{}, errs: map[string]int{},
		sessionRefused: map[string]int{}, connectRefused: map[string]int{}, failed: map[string]int{},
		dropped: map[string]int{}, lats: map[int][]time.Duration{}, closed: map[int64]bool{},
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := r.setUp(runCtx, stderr); err != nil {
		return sum, err
	}
	defer r.closeAgents()
	r.run(runCtx)
	cancel()
	r.wg.Wait() // every buyer's socket is closed
	r.closers.Wait()
	sum = r.summary()
	r.out.write(sum)
	r.human(stderr, sum)
	r.closeLeftOpen(ctx, stderr)
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, sum.Failure()
}

type surgeRun struct {
	rest
	cfg   SurgeConfig
	out   *jsonLines
	runID string // makes visitor and client message ids unique per run

	agents   []*surgeAgent
	begin    time.Time
	wg       sync.WaitGroup // buyers
	closers  sync.WaitGroup // agents closing conversations
	watchers sync.WaitGroup // one per agent socket, until it ends

	buyerSockets atomic.Int64 // open now

	mu             sync.Mutex
	buyers         []*surgeBuyer
	arrivals       [3]int
	buyerAcked     map[int64]int64  // message id → conversation
	agentAcked     map[int64]int64  // message id → conversation
	holder         map[int64]int64  // conversation → the load agent who last took it
	toAgent        map[[2]int64]int // {agent id, buyer message id} → deliveries
	toBuyer        map[int64]int    // agent message id → deliveries to its buyer
	outOfOrder     int
	leftMessages   int
	gone           map[int64]bool          // conversations whose buyer left on being told of their left message
	ackLats        map[int][]time.Duration // second of the run → agents' send-to-ack latencies
	errs           map[string]int
	sessionRefused map[string]int
	connectRefused map[string]int
	startRefused   int
	failed         map[string]int
	dropped        map[string]int
	lats           map[int][]time.Duration // agent→buyer, by second of the run it arrived
	assigned       int
	closed         map[int64]bool // conversations the agents closed
	rss            []rssSample
}

type rssSample struct {
	at  time.Time
	kib int64
}

// surgeBuyer is one arriving buyer. Fields under the run's mu unless said.
type surgeBuyer struct {
	idx     int
	arrived time.Time
	// firstSent is when the first message was handed to the socket;
	// answeredAt when something first told the buyer anything.
	firstSent, answeredAt time.Time
	refusedStart          bool

	mu      sync.Mutex // the send bookkeeping, shared with resend timers
	sock    *socket
	firstID string
	pending map[string][]byte // client_msg_id → frame, until acked
	retries map[string]int

	last      map[int64]int64 // reader only: highest seq per conversation
	answers   chan struct{}   // an agent's message arrived
	closed    chan struct{}   // closed by the reader when the conversation closes
	closeOnce sync.Once
}

// surgeAgent is one simulated agent; its reader and timers share mu.
type surgeAgent struct {
	name, token string
	id          int64
	sock        *socket

	mu        sync.Mutex
	held      map[int64]bool
	seen      map[int64]int  // buyer messages seen per conversation
	left      map[int64]bool // conversations kept as left messages (留言): closed once answered
	scheduled map[int64]int  // answers scheduled per conversation
	acked     map[int64]int  // answers acknowledged per conversation
	pending   map[string][]byte
	retries   map[string]int
	last      map[int64]int64
}

func (r *surgeRun) setUp(ctx context.Context, stderr io.Writer) error {
	start := time.Now()
	var err error
	if r.owner, _, err = r.login(ctx, r.cfg.Owner); err != nil {
		return fmt.Errorf("owner sign-in: %w", err)
	}
	if closed, err := r.closeOpenConversations(ctx); err != nil {
		return err
	} else if closed > 0 {
		fmt.Fprintf(stderr, "closed %d conversations left open by earlier runs\n", closed)
	}
	r.agents = make([]*surgeAgent, r.cfg.Agents)
	wsURL := "ws" + r.cfg.URL[len("http"):] + "/ws/agent?token="
	err = parallel(ctx, r.cfg.Agents, 4, func(i int) error {
		a := &surgeAgent{name: fmt.Sprintf("surge%03d", i+1), held: map[int64]bool{}, seen: map[int64]int{}, left: map[int64]bool{},
			scheduled: map[int64]int{}, acked: map[int64]int{}, pending: map[string][]byte{}, retries: map[string]int{},
			last: map[int64]int64{}}
		if err := r.ensureAgent(ctx, a.name, r.cfg.AgentCap); err != nil {
			return err
		}
		var err error
		if a.token, a.id, err = r.login(ctx, a.name); err != nil {
			return fmt.Errorf("agent %s sign-in: %w", a.name, err)
		}
		// An agent made by an earlier run keeps its cap; this run's is set.
		if code, err := r.do(ctx, "PATCH", fmt.Sprintf("/api/v1/agents/%d", a.id), r.owner,
			map[string]any{"max_concurrent": r.cfg.AgentCap}, nil); err != nil || code != 200 {
			return fmt.Errorf("agent %s: set max_concurrent: status %d, %v", a.name, code, err)
		}
		sock, _, err := dial(ctx, wsURL+url.QueryEscape(a.token), "", "", 1024, func(f *frame, at time.Time) {
			r.agentFrame(ctx, a, f)
		})
		if err != nil {
			return fmt.Errorf("agent %s socket: %w", a.name, err)
		}
		a.mu.Lock() // the reader's timers read it
		a.sock = sock
		a.mu.Unlock()
		r.agents[i] = a
		// An agent the server drops is not reconnected: what it then misses
		// counts as lost, and the drop says why.
		r.watchers.Add(1)
		go func() {
			defer r.watchers.Done()
			<-sock.done
			if ctx.Err() == nil {
				r.mu.Lock()
				r.dropped["agent: "+closeCause(sock.err)]++
				r.mu.Unlock()
			}
		}()
		return nil
	})
	if err != nil {
		r.closeAgents()
		return err
	}
	fmt.Fprintf(stderr, "surge: %d agents online (cap %d each) in %s\n", r.cfg.Agents, r.cfg.AgentCap, time.Since(start).Round(time.Millisecond))
	return nil
}

func (r *surgeRun) closeAgents() {
	for _, a := range r.agents {
		if a != nil && a.sock != nil {
			a.sock.close()
		}
	}
	r.watchers.Wait()
}

// phase is the phase at elapsed time d: 0 steady, 1 surge, 2 after, 3 grace.
func (r *surgeRun) phase(d time.Duration) int {
	switch c := r.cfg; {
	case d < c.Steady:
		return 0
	case d < c.Steady+c.Surge:
		return 1
	case d < c.Steady+c.Surge+c.After:
		return 2
	}
	return 3
}

var phaseNames = [...]string{"steady", "surge", "after", "grace"}

// run brings buyers in, open loop (a buyer arrives at their time however
// the earlier ones fare), then waits the grace for what is owed.
func (r *surgeRun) run(ctx context.Context) {
	r.begin = time.Now()
	arrivalsEnd := r.cfg.Steady + r.cfg.Surge + r.cfg.After
	stopRSS := r.sampleRSS(ctx)
	defer stopRSS()
	stopProgress := everySecond(ctx, r.progress)
	defer stopProgress()

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	credit, last := 1.0, r.begin // the first buyer arrives at once
	for now := range tick.C {
		d := now.Sub(r.begin)
		if ctx.Err() != nil || d >= arrivalsEnd {
			break
		}
		p := r.phase(d)
		rate := r.cfg.BaseRate
		if p == 1 {
			rate *= r.cfg.Factor
		}
		credit += now.Sub(last).Seconds() * rate
		last = now
		for ; credit >= 1; credit-- {
			b := &surgeBuyer{arrived: now, pending: map[string][]byte{}, retries: map[string]int{},
				last: map[int64]int64{}, answers: make(chan struct{}, 1), closed: make(chan struct{})}
			r.mu.Lock()
			b.idx = len(r.buyers)
			r.buyers = append(r.buyers, b)
			r.arrivals[p]++
			r.mu.Unlock()
			r.wg.Add(1)
			go r.buyer(ctx, b)
		}
	}
	// The grace: over early once every buyer was answered and every
	// acknowledged message reached its side (settled).
	deadline := time.Now().Add(r.cfg.Grace)
	for time.Now().Before(deadline) && ctx.Err() == nil && !r.settled() {
		time.Sleep(100 * time.Millisecond)
	}
}

// buyer is one buyer's life: a widget session, a socket, the messages.
func (r *surgeRun) buyer(ctx context.Context, b *surgeBuyer) {
	defer r.wg.Done()
	visitor := fmt.Sprintf("v_s%s_%06d", r.runID, b.idx)
	var addr string
	if r.cfg.ForwardedFor {
		addr = buyerAddress(b.idx)
	}
	sess, err := retry(ctx, func(rf *refusal) { r.refused(r.sessionRefused, rf, b) }, func() (widgetSession, error) {
		return newSession(ctx, &r.http, r.cfg.Config, visitor, addr)
	})
	if err == nil && !isLoopback(sess.SocketURL) {
		err = fmt.Errorf("socket_url %s is not a loopback address", sess.SocketURL)
	}
	if err != nil {
		r.buyerFailed(ctx, "session: "+causeOf(err))
		return
	}
	sock, err := retry(ctx, func(rf *refusal) { r.refused(r.connectRefused, rf, b) }, func() (*socket, error) {
		s, _, err := dial(ctx, sess.SocketURL+"?token="+url.QueryEscape(sess.Token), r.cfg.Origin, addr, 64,
			func(f *frame, at time.Time) { r.buyerFrame(ctx, b, f, at) })
		return s, err
	})
	if err != nil {
		r.buyerFailed(ctx, "socket: "+causeOf(err))
		return
	}
	r.buyerSockets.Add(1)
	defer r.buyerSockets.Add(-1)
	b.mu.Lock()
	b.sock = sock
	b.mu.Unlock()

	// A buyer writes again only once an agent answered (and then after the
	// interval): waiting in line, they wait. So a conversation lasts as long
	// once assigned however long the buyer waited, and a queue really builds.
	stays := func(ch <-chan struct{}) bool { // false: the buyer's time is over first
		select {
		case <-ch:
			return true
		case <-b.closed:
		case <-sock.done:
		case <-ctx.Done():
		}
		return false
	}
	interval := func() <-chan struct{} {
		c := make(chan struct{})
		time.AfterFunc(r.cfg.BuyerInterval, func() { close(c) })
		return c
	}
	for i := 1; i <= r.cfg.BuyerMessages; i++ {
		if i > 1 && (!stays(b.answers) || !stays(interval())) {
			break
		}
		id := fmt.Sprintf("s%s-b%d-%d", r.runID, b.idx, i)
		data := sendFrame(0, id, stampedText(time.Now(), r.cfg.TextBytes))
		b.mu.Lock()
		b.pending[id] = data
		if i == 1 {
			b.firstID = id
		}
		b.mu.Unlock()
		if i == 1 {
			r.mu.Lock()
			b.firstSent = time.Now()
			r.mu.Unlock()
		}
		sock.queue(data)
	}
	// A buyer whose conversation closed leaves; the others wait to the end.
	select {
	case <-b.closed:
	case <-sock.done:
	case <-ctx.Done():
	}
	sock.close()
	if !errors.Is(sock.err, errClosedByClient) && ctx.Err() == nil {
		r.mu.Lock()
		r.dropped["buyer: "+closeCause(sock.err)]++
		r.mu.Unlock()
	}
}

func closeCause(err error) string {
	if s := websocket.CloseStatus(err); s != -1 {
		return strconv.Itoa(int(s))
	}
	return causeOf(err)
}

func (r *surgeRun) buyerFailed(ctx context.Context, cause string) {
	if ctx.Err() != nil {
		return // the run ended first
	}
	r.mu.Lock()
	r.failed[cause]++
	r.mu.Unlock()
}

// refused counts a refusal; one that says when to come back answers the buyer.
func (r *surgeRun) refused(counts map[string]int, rf *refusal, b *surgeBuyer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	counts[fmt.Sprintf("%d %s", rf.status, rf.code)]++
	if rf.retryAfter > 0 {
		r.answered(b, time.Now())
	}
}

// answered records the first answer a buyer got; r.mu is held.
func (r *surgeRun) answered(b *surgeBuyer, at time.Time) {
	if b.answeredAt.IsZero() {
		b.answeredAt = at
	}
}

func (r *surgeRun) buyerFrame(ctx context.Context, b *surgeBuyer, f *frame, at time.Time) {
	switch f.Type {
	case "ack":
		m, ok := f.msg()
		if !ok {
			return
		}
		b.mu.Lock()
		delete(b.pending, f.ClientMsgID)
		b.mu.Unlock()
		r.mu.Lock()
		r.buyerAcked[m.ID] = m.ConversationID
		r.mu.Unlock()
	case "message":
		m, ok := f.msg()
		if !ok {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if m.Seq <= b.last[m.ConversationID] {
			r.outOfOrder++
		} else {
			b.last[m.ConversationID] = m.Seq
		}
		if m.Sender != "buyer" {
			r.answered(b, at)
		}
		if m.Kind == "system" && (m.Code == "left_message" || m.Code == "queue_full") && r.cfg.LeftMessageStay > 0 {
			r.leftMessages++
			r.gone[m.ConversationID] = true
			time.AfterFunc(r.cfg.LeftMessageStay, func() { b.closeOnce.Do(func() { close(b.closed) }) })
		}
		if m.Sender == "agent" {
			select {
			case b.answers <- struct{}{}:
			default:
			}
			r.toBuyer[m.ID]++
			if sent, ok := stampOf(m.Text); ok {
				sec := int(at.Sub(r.begin) / time.Second)
				r.lats[sec] = append(r.lats[sec], at.Sub(time.Unix(0, sent)))
			}
		}
	case "conversation":
		c := f.Conversation
		if c == nil {
			return
		}
		if c.Status == "assigned" || (c.Status == "queued" && (c.QueuePosition > 0 || c.Assistant)) {
			r.mu.Lock()
			r.answered(b, at)
			r.mu.Unlock()
		}
		if c.Status == "closed" {
			b.closeOnce.Do(func() { close(b.closed) })
		}
	case "queue":
		r.mu.Lock()
		r.answered(b, at)
		r.mu.Unlock()
	case "error":
		r.mu.Lock()
		r.errs["buyer:"+f.Code]++
		b.mu.Lock()
		first := f.Ref != "" && f.Ref == b.firstID
		b.mu.Unlock()
		if first && (f.Code == "rate_limited" || f.RetryAfterMs > 0) && !b.refusedStart {
			b.refusedStart = true
			r.startRefused++
			if f.RetryAfterMs > 0 {
				r.answered(b, at)
			}
		}
		r.mu.Unlock()
		if wait, ok := resendAfter(f); ok {
			resendLater(ctx, &b.mu, b.pending, b.retries, func() *socket { return b.sock }, f.Ref, wait)
		} else if f.Ref != "" {
			b.mu.Lock()
			delete(b.pending, f.Ref) // refused for good: nothing was stored
			b.mu.Unlock()
		}
	}
}

// resendAfter says whether a refused send is to be sent again, and when:
// nothing was stored for rate_limited (after the wait the server names) and
// internal (after a second), docs/protocol.md §3 "Which refusals are final";
// any other refusal that names a wait is taken as one to wait out too.
func resendAfter(f *frame) (time.Duration, bool) {
	switch {
	case f.Ref == "":
		return 0, false
	case f.Code == "rate_limited" || f.RetryAfterMs > 0:
		return max(time.Duration(f.RetryAfterMs)*time.Millisecond, 10*time.Millisecond), true
	case f.Code == "internal":
		return time.Second, true
	}
	return 0, false
}

// resendLater sends a refused message again, same client_msg_id, after
// wait (at most maxRetries times).
func resendLater(ctx context.Context, mu *sync.Mutex, pending map[string][]byte, retries map[string]int, sock func() *socket, ref string, wait time.Duration) {
	mu.Lock()
	data, ok := pending[ref]
	retries[ref]++
	again := ok && retries[ref] <= maxRetries
	if !again {
		delete(pending, ref)
	}
	s := sock()
	mu.Unlock()
	if !again || s == nil {
		return
	}
	time.AfterFunc(wait, func() {
		if ctx.Err() == nil {
			s.queue(data)
		}
	})
}

func (r *surgeRun) agentFrame(ctx context.Context, a *surgeAgent, f *frame) {
	switch f.Type {
	case "conversation":
		c := f.Conversation
		if c == nil {
			return
		}
		mine := c.Status == "assigned" && c.AgentID != nil && *c.AgentID == a.id
		a.mu.Lock()
		defer a.mu.Unlock()
		if mine && !a.held[c.ID] {
			a.held[c.ID] = true
			r.mu.Lock()
			r.holder[c.ID] = a.id
			r.assigned++
			r.mu.Unlock()
			// What the buyer wrote while waiting is answered now.
			for a.scheduled[c.ID] < a.seen[c.ID] {
				r.scheduleAnswer(ctx, a, c.ID)
			}
		} else if !mine {
			delete(a.held, c.ID)
		}
	case "message":
		m, ok := f.msg()
		if !ok {
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		r.mu.Lock()
		if m.Seq <= a.last[m.ConversationID] {
			r.outOfOrder++
		} else {
			a.last[m.ConversationID] = m.Seq
		}
		if m.Sender == "buyer" {
			r.toAgent[[2]int64{a.id, m.ID}]++
		}
		r.mu.Unlock()
		if m.Sender == "buyer" {
			a.seen[m.ConversationID]++
			if a.held[m.ConversationID] {
				r.scheduleAnswer(ctx, a, m.ConversationID)
			}
		}
		if m.Kind == "system" && (m.Code == "left_message" || m.Code == "queue_full") {
			a.left[m.ConversationID] = true
		}
	case "ack":
		m, ok := f.msg()
		if !ok {
			return
		}
		a.mu.Lock()
		_, first := a.pending[f.ClientMsgID]
		delete(a.pending, f.ClientMsgID)
		if first {
			a.acked[m.ConversationID]++
		}
		// Closed after its exchanges, or a left message once everything in
		// it is answered: as an agent working through 留言 does.
		done := first && (a.acked[m.ConversationID] == r.cfg.Exchanges ||
			(a.left[m.ConversationID] && a.acked[m.ConversationID] >= a.seen[m.ConversationID]))
		a.mu.Unlock()
		r.mu.Lock()
		r.agentAcked[m.ID] = m.ConversationID
		if sent, ok := stampOf(m.Text); ok && first {
			now := time.Now()
			sec := int(now.Sub(r.begin) / time.Second)
			r.ackLats[sec] = append(r.ackLats[sec], now.Sub(time.Unix(0, sent)))
		}
		r.mu.Unlock()
		if done {
			r.closers.Add(1)
			go func() { defer r.closers.Done(); r.closeConversationOf(ctx, a, m.ConversationID) }()
		}
	case "error":
		r.mu.Lock()
		r.errs["agent:"+f.Code]++
		r.mu.Unlock()
		if wait, ok := resendAfter(f); ok {
			resendLater(ctx, &a.mu, a.pending, a.retries, func() *socket { return a.sock }, f.Ref, wait)
		} else if f.Ref != "" {
			a.mu.Lock()
			delete(a.pending, f.Ref)
			a.mu.Unlock()
		}
	}
}

// scheduleAnswer has the agent answer one buyer message after the think
// time; a.mu is held.
func (r *surgeRun) scheduleAnswer(ctx context.Context, a *surgeAgent, conv int64) {
	a.scheduled[conv]++
	id := fmt.Sprintf("s%s-%s-%d-%d", r.runID, a.name, conv, a.scheduled[conv])
	time.AfterFunc(r.cfg.Think, func() {
		// Stamped when sent: the latency is the server's, not the think time.
		data := sendFrame(conv, id, stampedText(time.Now(), r.cfg.TextBytes))
		a.mu.Lock()
		if ctx.Err() == nil {
			a.pending[id] = data
		}
		sock := a.sock
		a.mu.Unlock()
		sock.queue(data)
	})
}

func (r *surgeRun) closeConversationOf(ctx context.Context, a *surgeAgent, conv int64) {
	err := r.closeConversation(ctx, a.token, conv)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			r.errs["agent:close: "+causeOf(err)]++
		}
		return
	}
	r.closed[conv] = true
}

// closeLeftOpen closes, as the owner, the run's conversations the agents
// did not: the buyers are gone, and a person opening the console after the
// run should not find them waiting.
func (r *surgeRun) closeLeftOpen(ctx context.Context, stderr io.Writer) {
	r.mu.Lock()
	var open []int64
	seen := map[int64]bool{}
	for _, conv := range r.buyerAcked {
		if !r.closed[conv] && !seen[conv] {
			seen[conv] = true
			open = append(open, conv)
		}
	}
	r.mu.Unlock()
	if len(open) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := parallel(ctx, len(open), 8, func(i int) error { return r.closeConversation(ctx, r.owner, open[i]) }); err != nil {
		fmt.Fprintf(stderr, "surge: closing the %d conversations left open: %v\n", len(open), err)
		return
	}
	fmt.Fprintf(stderr, "surge: closed the %d conversations left open\n", len(open))
}

// owed counts acknowledged messages not (yet) delivered to their side,
// and duplicate deliveries; r.mu is held.
func (r *surgeRun) owed() (unassigned, lostToAgent, lostToBuyer, toGone, duplicated int) {
	for id, conv := range r.buyerAcked {
		h, ok := r.holder[conv]
		if !ok {
			unassigned++
			continue
		}
		if r.toAgent[[2]int64{h, id}] == 0 {
			lostToAgent++
		}
	}
	for _, n := range r.toAgent {
		duplicated += max(0, n-1)
	}
	for id, conv := range r.agentAcked {
		switch {
		case r.toBuyer[id] > 0:
		case r.gone[conv]:
			toGone++ // the buyer closed the widget: it is theirs when they come back (sync)
		default:
			lostToBuyer++
		}
	}
	for _, n := range r.toBuyer {
		duplicated += max(0, n-1)
	}
	return
}

// settled says whether nothing more is owed: every buyer answered, every
// message sent acknowledged (or refused) and every acknowledged one
// delivered. Agents may still be serving the line: what they have not sent
// yet is owed to nobody.
func (r *surgeRun) settled() bool {
	for _, a := range r.agents { // before r.mu: an agent's reader takes a.mu, then r.mu
		a.mu.Lock()
		n := len(a.pending)
		a.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.buyers {
		if b.answeredAt.IsZero() {
			return false
		}
		b.mu.Lock()
		n := len(b.pending)
		b.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	_, toAgent, toBuyer, _, _ := r.owed()
	return toAgent+toBuyer == 0
}

// sampleRSS reads the server's resident memory every 100 ms.
func (r *surgeRun) sampleRSS(ctx context.Context) (stop func()) {
	if r.cfg.PID == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case now := <-tick.C:
				if kib := rssKiB(r.cfg.PID); kib > 0 {
					r.mu.Lock()
					r.rss = append(r.rss, rssSample{at: now, kib: kib})
					r.mu.Unlock()
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (r *surgeRun) progress(now time.Time) {
	d := now.Sub(r.begin)
	r.mu.Lock()
	waiting := 0
	for _, b := range r.buyers {
		if b.answeredAt.IsZero() {
			waiting++
		}
	}
	line := map[string]any{"type": "progress", "scenario": "surge", "t_s": int(d.Seconds()), "phase": phaseNames[r.phase(d)],
		"arrivals": len(r.buyers), "buyer_sockets": r.buyerSockets.Load(), "not_yet_answered": waiting,
		"assigned": r.assigned, "closed": len(r.closed), "buyer_acked": len(r.buyerAcked), "agent_acked": len(r.agentAcked),
		"delivery_p99_ms": ms(quantile(r.lats[int(d/time.Second)-1], 0.99)), "errors": sumCounts(r.errs)}
	if n := len(r.rss); n > 0 {
		line["rss_kib"] = r.rss[n-1].kib
	}
	r.mu.Unlock()
	r.out.write(line)
}

func (r *surgeRun) summary() SurgeSummary {
	c := r.cfg
	r.mu.Lock()
	defer r.mu.Unlock()
	s := SurgeSummary{Type: "summary", Scenario: "surge", SessionRefused: r.sessionRefused, ConnectRefused: r.connectRefused,
		StartRefused: r.startRefused, BuyersFailed: r.failed, BuyerAcked: len(r.buyerAcked), AgentAcked: len(r.agentAcked),
		OutOfOrder: r.outOfOrder, LeftMessages: r.leftMessages, Assigned: r.assigned, Closed: len(r.closed), Errors: r.errs, Dropped: r.dropped}
	conversationTime := time.Duration(c.Exchanges)*c.Think + time.Duration(c.Exchanges-1)*c.BuyerInterval
	s.SustainablePerSec = round3(float64(c.Agents*c.AgentCap) / max(conversationTime.Seconds(), 0.001))
	s.Arrivals.Steady, s.Arrivals.Surge, s.Arrivals.After = r.arrivals[0], r.arrivals[1], r.arrivals[2]
	s.Unassigned, s.LostToAgent, s.LostToBuyer, s.ToGoneBuyers, s.Duplicated = r.owed()

	var ttfa []time.Duration
	for _, b := range r.buyers {
		start := b.firstSent
		if start.IsZero() {
			start = b.arrived // answered by a refusal before any message
		}
		if b.answeredAt.IsZero() {
			// A buyer who never got a socket and was not told when to come
			// back is as unanswered as one left in silence.
			s.Unanswered++
			continue
		}
		ttfa = append(ttfa, max(0, b.answeredAt.Sub(start)))
	}
	s.TimeToFirstAnswer = quantiles(ttfa)

	steadyEnd := int(c.Steady / time.Second)
	surgeEnd := int((c.Steady + c.Surge) / time.Second)
	afterEnd := int((c.Steady + c.Surge + c.After) / time.Second)
	var all []time.Duration
	last := 0
	for sec, l := range r.lats {
		last = max(last, sec)
		all = append(all, l...)
	}
	s.PerSecondP99Ms = make([]float64, last+1)
	for sec, l := range r.lats {
		s.PerSecondP99Ms[sec] = ms(quantile(l, 0.99))
	}
	s.Delivery = quantiles(all)
	steadyP99, threshold, rec := recovery(r.lats, steadyEnd, surgeEnd, afterEnd)
	s.SteadyP99Ms, s.RecoveryThresholdMs, s.RecoveryS = ms(steadyP99), ms(threshold), rec
	s.AgentAck, s.AckPerSecondP99Ms = perSecond(r.ackLats)
	steadyP99, threshold, rec = recovery(r.ackLats, steadyEnd, surgeEnd, afterEnd)
	s.AckSteadyP99Ms, s.AckRecoveryThresholdMs, s.AckRecoveryS = ms(steadyP99), ms(threshold), rec

	var steadyRSS []int64
	for _, m := range r.rss {
		switch d := m.at.Sub(r.begin); {
		case d < c.Steady:
			steadyRSS = append(steadyRSS, m.kib)
		case d < c.Steady+c.Surge+c.After:
			s.RSSPeakKiB = max(s.RSSPeakKiB, m.kib)
		}
	}
	if len(steadyRSS) > 0 {
		slices.Sort(steadyRSS)
		s.RSSSteadyKiB = steadyRSS[len(steadyRSS)/2]
		s.RSSRatio = round3(float64(s.RSSPeakKiB) / float64(s.RSSSteadyKiB))
	}
	return s
}

// recovery reads per-second latencies (by second of the run): the steady
// phase's p99 (seconds before steadyEnd), the threshold of a normal second
// (twice it, at least recoveryFloor), and how many seconds after surgeEnd
// every second with deliveries up to afterEnd is within it (-1 if the last
// one is not, or nothing was measured in the steady phase).
func recovery(lats map[int][]time.Duration, steadyEnd, surgeEnd, afterEnd int) (steadyP99, threshold time.Duration, seconds int) {
	var steady []time.Duration
	for sec, l := range lats {
		if sec < steadyEnd {
			steady = append(steady, l...)
		}
	}
	steadyP99 = quantile(steady, 0.99)
	threshold = max(2*steadyP99, recoveryFloor)
	seconds = -1
	if len(steady) == 0 {
		return steadyP99, threshold, seconds
	}
	for sec := afterEnd - 1; sec >= surgeEnd; sec-- {
		if l := lats[sec]; len(l) > 0 && quantile(l, 0.99) > threshold {
			break
		}
		seconds = sec - surgeEnd
	}
	return steadyP99, threshold, seconds
}

func (r *surgeRun) human(w io.Writer, s SurgeSummary) {
	fmt.Fprintf(w, "surge: arrivals %d steady, %d surge, %d after (sustainable ≈ %.1f/s)\n",
		s.Arrivals.Steady, s.Arrivals.Surge, s.Arrivals.After, s.SustainablePerSec)
	fmt.Fprintf(w, "time to first answer (%d buyers): p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d never answered\n",
		s.TimeToFirstAnswer.N, s.TimeToFirstAnswer.P50Ms, s.TimeToFirstAnswer.P99Ms, s.TimeToFirstAnswer.MaxMs, s.Unanswered)
	fmt.Fprintf(w, "messages: %d buyer and %d agent acked; lost %d to agents, %d to buyers; %d duplicated, %d out of order; %d still waiting for an agent\n",
		s.BuyerAcked, s.AgentAcked, s.LostToAgent, s.LostToBuyer, s.Duplicated, s.OutOfOrder, s.Unassigned)
	fmt.Fprintf(w, "conversations: %d assigned, %d closed; refusals: session %v, socket %v, first message %d; errors %v; dropped %v; failed %v\n",
		s.Assigned, s.Closed, s.SessionRefused, s.ConnectRefused, s.StartRefused, s.Errors, s.Dropped, s.BuyersFailed)
	fmt.Fprintf(w, "agent→buyer delivery: p50 %.1f ms, p99 %.1f ms; steady p99 %.1f ms; recovery %d s (threshold %.1f ms)\n",
		s.Delivery.P50Ms, s.Delivery.P99Ms, s.SteadyP99Ms, s.RecoveryS, s.RecoveryThresholdMs)
	fmt.Fprintf(w, "agent send → ack: p50 %.1f ms, p99 %.1f ms; steady p99 %.1f ms; recovery %d s (threshold %.1f ms)\n",
		s.AgentAck.P50Ms, s.AgentAck.P99Ms, s.AckSteadyP99Ms, s.AckRecoveryS, s.AckRecoveryThresholdMs)
	if s.RSSSteadyKiB > 0 {
		fmt.Fprintf(w, "server RSS: steady %d KiB, peak %d KiB (%.2f×)\n", s.RSSSteadyKiB, s.RSSPeakKiB, s.RSSRatio)
	}
}

// quantile is the q-quantile of ds (0 if empty); ds is sorted in place.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

func quantiles(ds []time.Duration) Quantiles {
	return Quantiles{N: len(ds), P50Ms: ms(quantile(ds, 0.5)), P99Ms: ms(quantile(ds, 0.99)), MaxMs: ms(quantile(ds, 1))}
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
