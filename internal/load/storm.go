package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// StormConfig is what the storm scenario is told.
type StormConfig struct {
	Config
	// Buyers widgets are connected, each in a conversation, which Agents
	// load agents (storm001…, created if absent) are given by routing or
	// take by writing to it.
	Buyers, Agents int
	// Timeout bounds the reconnect: buyers not back and resumed by then
	// count as failed.
	Timeout time.Duration
}

// StormSummary is the storm scenario's result, its last JSON line.
type StormSummary struct {
	Type     string `json:"type"`
	Scenario string `json:"scenario"`
	Buyers   int    `json:"buyers"`
	// Back are the buyers whose socket opened again (ready), Resumed those
	// who also got everything after their last seq.
	Back    int `json:"back"`
	Resumed int `json:"resumed"`
	// Failed are the buyers not back, by cause; Refused the refusals
	// waited out on the way (status and code), each a retry.
	Failed         map[string]int `json:"failed"`
	Refused        map[string]int `json:"refused"`
	ReconnectsPerS float64        `json:"reconnects_per_s"`
	// AllBackS is from the drop to the last buyer resumed (-1: not all).
	AllBackS float64 `json:"all_back_s"`
	// Missed are buyers whose resumed history lacks the message an agent
	// wrote while they were away, or has a gap; Duplicated those who got
	// it twice.
	Missed     int `json:"missed"`
	Duplicated int `json:"duplicated"`
	// RSS of the server (with a PID) before the drop and at the end.
	RSSBeforeKiB int64 `json:"rss_before_kib,omitempty"`
	RSSAfterKiB  int64 `json:"rss_after_kib,omitempty"`
}

// Failure returns why the storm failed: a buyer not back, or a message
// missed or doubled on resume; nil if none.
func (s StormSummary) Failure() error {
	failed := s.Buyers - s.Resumed
	if failed == 0 && s.Missed == 0 && s.Duplicated == 0 {
		return nil
	}
	return fmt.Errorf("storm: %d buyers not resumed (%v), %d missed a message, %d got one twice", failed, s.Failed, s.Missed, s.Duplicated)
}

type stormBuyer struct {
	token, socketURL string
	mu               sync.Mutex
	conv             int64
	seqs             map[int64]int // seq → times seen
	history          chan frame    // the resume's history frames
}

// top is the highest seq up to which the buyer holds every message.
func (b *stormBuyer) top() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var top int64
	for b.seqs[top+1] > 0 {
		top++
	}
	return top
}

// waitUntil polls cond every 50 ms until it holds (true), d passes or ctx
// ends (false).
func waitUntil(ctx context.Context, d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
	}
	return true
}

// Storm connects buyers in conversations with agents, drops every buyer
// socket at once, has the agents write one message to each meanwhile, and
// reconnects all buyers at once with their token; each resumes with sync
// from the last seq it holds (docs/protocol.md §4). It fails when a buyer
// is not back within the timeout or missed a message.
func Storm(ctx context.Context, cfg StormConfig, stdout, stderr io.Writer) (StormSummary, error) {
	sum := StormSummary{Type: "summary", Scenario: "storm", Buyers: cfg.Buyers, Failed: map[string]int{}, Refused: map[string]int{}, AllBackS: -1}
	if err := RequireLoopback(cfg.URL); err != nil {
		return sum, err
	}
	if cfg.Agents < 1 || cfg.Buyers < 1 || (cfg.Buyers+cfg.Agents-1)/cfg.Agents > 90 || cfg.Timeout <= 0 {
		return sum, errors.New("need --agents >= 1, --buyers >= 1, at most 90 buyers per agent, --timeout > 0")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &jsonLines{out: stdout}
	rs := rest{cfg: cfg.Config}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	var err error
	if rs.owner, _, err = rs.login(ctx, cfg.Owner); err != nil {
		return sum, fmt.Errorf("owner sign-in: %w", err)
	}
	if _, err := rs.closeOpenConversations(ctx); err != nil {
		return sum, err
	}

	// Agents, each noting the conversations given to it and its acks.
	type stormAgent struct {
		id      int64
		token   string
		sock    *socket
		mu      sync.Mutex
		held    []int64
		acked   map[string]int64 // client_msg_id → message id
		pending map[string][]byte
		retries map[string]int
	}
	agentCap := (cfg.Buyers+cfg.Agents-1)/cfg.Agents + 1
	agents := make([]*stormAgent, cfg.Agents)
	var assigned atomic.Int64
	defer func() {
		for _, a := range agents {
			if a != nil && a.sock != nil {
				a.sock.close()
			}
		}
	}()
	if err := parallel(ctx, cfg.Agents, 4, func(i int) error {
		a := &stormAgent{acked: map[string]int64{}, pending: map[string][]byte{}, retries: map[string]int{}}
		name := fmt.Sprintf("storm%03d", i+1)
		if err := rs.ensureAgent(ctx, name, agentCap); err != nil {
			return err
		}
		var err error
		if a.token, a.id, err = rs.login(ctx, name); err != nil {
			return fmt.Errorf("agent %s sign-in: %w", name, err)
		}
		if code, err := rs.do(ctx, "PATCH", fmt.Sprintf("/api/v1/agents/%d", a.id), rs.owner, map[string]any{"max_concurrent": agentCap}, nil); err != nil || code != 200 {
			return fmt.Errorf("agent %s: set max_concurrent: status %d, %v", name, code, err)
		}
		sock, _, err := dial(ctx, "ws"+cfg.URL[len("http"):]+"/ws/agent?token="+url.QueryEscape(a.token), "", "", 1024, func(f *frame, _ time.Time) {
			switch f.Type {
			case "conversation":
				if c := f.Conversation; c != nil && c.Status == "assigned" && c.AgentID != nil && *c.AgentID == a.id {
					a.mu.Lock()
					a.held = append(a.held, c.ID)
					a.mu.Unlock()
					assigned.Add(1)
				}
			case "ack":
				if m, ok := f.msg(); ok {
					a.mu.Lock()
					a.acked[f.ClientMsgID] = m.ID
					a.mu.Unlock()
				}
			case "error":
				if wait, ok := resendAfter(f); ok {
					resendLater(ctx, &a.mu, a.pending, a.retries, func() *socket { return a.sock }, f.Ref, wait)
				}
			}
		})
		if err != nil {
			return fmt.Errorf("agent %s socket: %w", name, err)
		}
		a.mu.Lock() // its reader reads it
		a.sock = sock
		a.mu.Unlock()
		agents[i] = a
		return nil
	}); err != nil {
		return sum, err
	}

	// Buyers, each writing once so that a conversation opens and is assigned.
	buyers := make([]*stormBuyer, cfg.Buyers)
	addr := func(i int) string {
		if cfg.ForwardedFor {
			return buyerAddress(i)
		}
		return ""
	}
	onFrame := func(b *stormBuyer) func(*frame, time.Time) {
		return func(f *frame, _ time.Time) {
			switch f.Type {
			case "message", "ack":
				if m, ok := f.msg(); ok {
					b.mu.Lock()
					b.conv = m.ConversationID
					if f.Type == "message" {
						b.seqs[m.Seq]++
					}
					b.mu.Unlock()
				}
			case "history":
				select {
				case b.history <- *f:
				default:
				}
			}
		}
	}
	socks := make([]*socket, cfg.Buyers)
	if err := parallel(ctx, cfg.Buyers, 64, func(i int) error {
		b := &stormBuyer{seqs: map[int64]int{}, history: make(chan frame, 16)}
		sess, err := newSession(ctx, &rs.http, cfg.Config, fmt.Sprintf("v_st%s_%06d", runID, i), addr(i))
		if err != nil {
			return fmt.Errorf("buyer session: %w", err)
		}
		if !isLoopback(sess.SocketURL) {
			return fmt.Errorf("socket_url %s is not a loopback address", sess.SocketURL)
		}
		b.token, b.socketURL = sess.Token, sess.SocketURL
		s, _, err := dial(ctx, b.socketURL+"?token="+url.QueryEscape(b.token), cfg.Origin, addr(i), 64, onFrame(b))
		if err != nil {
			return fmt.Errorf("buyer socket: %w", err)
		}
		socks[i], buyers[i] = s, b
		s.queue(sendFrame(0, fmt.Sprintf("st%s-%d", runID, i), "你好"))
		return nil
	}); err != nil {
		for _, s := range socks {
			if s != nil {
				s.close()
			}
		}
		return sum, err
	}
	// Wait until every buyer knows its conversation, then a while for the
	// agents to hold them all. One still waiting (the shop's assistant
	// answers first, an overflow stage) is taken by the agent who writes to
	// it below.
	convOf := func(i int) int64 {
		b := buyers[i]
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.conv
	}
	if !waitUntil(ctx, 30*time.Second, func() bool {
		for i := range buyers {
			if convOf(i) == 0 {
				return false
			}
		}
		return true
	}) {
		for _, s := range socks {
			s.close()
		}
		return sum, errors.New("storm: not every buyer's first message was acknowledged within 30 s")
	}
	waitUntil(ctx, 10*time.Second, func() bool { return assigned.Load() >= int64(cfg.Buyers) })
	time.Sleep(time.Second) // the frames that follow an assignment
	sum.RSSBeforeKiB = rssKiB(cfg.PID)

	// The drop: every buyer socket at once, as a restarting server does.
	tops := make([]int64, cfg.Buyers)
	for i, s := range socks {
		s.close()
		tops[i] = buyers[i].top()
	}
	drop := time.Now()
	fmt.Fprintf(stderr, "storm: %d buyers in conversations with %d agents; all dropped\n", cfg.Buyers, cfg.Agents)

	// While they are away one agent writes once to each conversation: the
	// one holding it, else one in turn (writing takes a waiting one).
	awayID := func(conv int64) string { return fmt.Sprintf("st%s-away-%d", runID, conv) }
	writer := map[int64]*stormAgent{}
	for _, a := range agents {
		a.mu.Lock()
		for _, conv := range a.held {
			writer[conv] = a
		}
		a.mu.Unlock()
	}
	for i := range buyers {
		conv := convOf(i)
		a := writer[conv]
		if a == nil {
			a = agents[i%len(agents)]
			writer[conv] = a
		}
		data := sendFrame(conv, awayID(conv), "还在吗？")
		a.mu.Lock()
		a.pending[awayID(conv)] = data
		a.mu.Unlock()
		a.sock.queue(data)
	}
	awayMsg := map[int64]int64{} // conversation → the message written while away
	acked := func() int {
		n := 0
		for conv, a := range writer {
			a.mu.Lock()
			if id := a.acked[awayID(conv)]; id != 0 {
				awayMsg[conv] = id
				n++
			}
			a.mu.Unlock()
		}
		return n
	}
	if !waitUntil(ctx, 30*time.Second, func() bool { return acked() >= len(writer) }) {
		return sum, fmt.Errorf("storm: %d of %d messages written while away were acked within 30 s", acked(), len(writer))
	}

	// The storm: every buyer reconnects at once and resumes from its top.
	var mu sync.Mutex
	var back, resumed atomic.Int64
	var lastBack time.Time
	stormStart := time.Now()
	stopProgress := everySecond(ctx, func(now time.Time) {
		mu.Lock()
		failed := sumCounts(sum.Failed)
		mu.Unlock()
		out.write(map[string]any{"type": "progress", "scenario": "storm", "t_s": int(now.Sub(stormStart).Seconds()),
			"back": back.Load(), "resumed": resumed.Load(), "failed": failed, "rss_kib": rssKiB(cfg.PID)})
	})
	defer stopProgress()
	stormCtx, stormCancel := context.WithTimeout(ctx, cfg.Timeout)
	defer stormCancel()
	var wg sync.WaitGroup
	for i, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.mu.Lock()
			clear(b.seqs)
			conv := b.conv
			b.mu.Unlock()
			s, err := retry(stormCtx, func(rf *refusal) {
				mu.Lock()
				sum.Refused[fmt.Sprintf("%d %s", rf.status, rf.code)]++
				mu.Unlock()
			}, func() (*socket, error) {
				s, _, err := dial(stormCtx, b.socketURL+"?token="+url.QueryEscape(b.token), cfg.Origin, addr(i), 64, onFrame(b))
				return s, err
			})
			if err != nil {
				mu.Lock()
				sum.Failed[causeOf(err)]++
				mu.Unlock()
				return
			}
			defer s.close()
			back.Add(1)
			// Resume: sync from the top held before the drop, page by page.
			after := tops[i]
			for {
				s.queue([]byte(fmt.Sprintf(`{"type":"sync","conversation_id":%d,"after_seq":%d,"limit":200}`, conv, after)))
				var h frame
				select {
				case h = <-b.history:
				case <-stormCtx.Done():
					mu.Lock()
					sum.Failed["no history"]++
					mu.Unlock()
					return
				}
				seen := 0
				for _, m := range h.Messages {
					if m.Seq != after+1 {
						break // a gap: counted below
					}
					after = m.Seq
					if m.ID == awayMsg[conv] {
						seen++
					}
				}
				mu.Lock()
				switch {
				case h.HasMore:
					mu.Unlock()
					continue
				case after < h.LastSeq || seen == 0:
					sum.Missed++
				case seen > 1:
					sum.Duplicated++
				}
				if t := time.Now(); t.After(lastBack) {
					lastBack = t
				}
				mu.Unlock()
				resumed.Add(1)
				return
			}
		}()
	}
	wg.Wait()
	stopProgress()
	sum.Back, sum.Resumed = int(back.Load()), int(resumed.Load())
	if sum.Resumed > 0 {
		sum.ReconnectsPerS = round3(float64(sum.Back) / lastBack.Sub(stormStart).Seconds())
	}
	if sum.Resumed == cfg.Buyers {
		sum.AllBackS = round3(lastBack.Sub(drop).Seconds())
	}
	sum.RSSAfterKiB = rssKiB(cfg.PID)
	// The buyers are gone: their conversations are closed, so that nobody
	// opening the console afterwards finds them.
	convs := make([]int64, 0, len(awayMsg))
	for conv := range awayMsg {
		convs = append(convs, conv)
	}
	if err := parallel(ctx, len(convs), 8, func(i int) error { return rs.closeConversation(ctx, rs.owner, convs[i]) }); err != nil {
		fmt.Fprintf(stderr, "storm: closing its conversations: %v\n", err)
	}
	out.write(sum)
	fmt.Fprintf(stderr, "storm: %d of %d back, %d resumed (%.0f reconnects/s), all back after %.2f s; failed %v, refused %v; %d missed a message, %d got one twice\n",
		sum.Back, sum.Buyers, sum.Resumed, sum.ReconnectsPerS, sum.AllBackS, sum.Failed, sum.Refused, sum.Missed, sum.Duplicated)
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, sum.Failure()
}
