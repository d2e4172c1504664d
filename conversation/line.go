package conversation

import (
	"context"
	"sync"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Waiting buyers are told their place in line and an estimated wait on a
// tick, per shop, only when the shop's line changed since the last tick:
// never one frame to every waiting buyer on every event, which on a long
// line costs O(n) per event (O(n²) while the line drains). A buyer joining
// the line learns their place at once from the conversation frame.

// etaWindow is how far back assignments count toward a shop's pace.
const etaWindow = 15 * time.Minute

// maxPace bounds the assignments kept per shop for the estimate.
const maxPace = 200

// line is what the service keeps about the shops' lines between ticks: which
// changed, and each shop's recent assignments (a cache of the event log:
// lost with the process, it only makes the first estimates after a start
// unknown).
type line struct {
	mu      sync.Mutex
	changed map[int64]bool
	pace    map[int64][]time.Time // by shop: recent assignment times, oldest first
}

func newLine() *line {
	return &line{changed: map[int64]bool{}, pace: map[int64][]time.Time{}}
}

// moved notes that a shop's line changed.
func (l *line) moved(shopID int64) {
	l.mu.Lock()
	l.changed[shopID] = true
	l.mu.Unlock()
}

// take returns the shops whose line changed, and forgets them.
func (l *line) take() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, 0, len(l.changed))
	for id := range l.changed {
		out = append(out, id)
	}
	clear(l.changed)
	return out
}

// Consume keeps each shop's pace from its committed assignments and notes
// every change to a line: a conversation joining, leaving it assigned, or
// closed.
func (l *line) Consume(c Committed) {
	switch c.Event.Type {
	case kefu.EventAssigned:
		l.mu.Lock()
		p := append(l.pace[c.Event.ShopID], c.Event.CreatedAt)
		if len(p) > maxPace {
			p = p[len(p)-maxPace:]
		}
		l.pace[c.Event.ShopID] = p
		l.changed[c.Event.ShopID] = true
		l.mu.Unlock()
	case kefu.EventQueued, kefu.EventClosed, kefu.EventRequeued, kefu.EventTransferred, kefu.EventReopened:
		l.moved(c.Event.ShopID)
	}
}

// eta estimates how long the conversation at position waits, from how fast
// the shop assigned conversations in the last etaWindow; 0 when it cannot
// tell (fewer than two assignments in the window).
func (l *line) eta(shopID int64, position int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.pace[shopID]
	cut := 0
	for cut < len(p) && now.Sub(p[cut]) > etaWindow {
		cut++
	}
	p = p[cut:]
	l.pace[shopID] = p
	if len(p) < 2 {
		return 0
	}
	// The pace is the mean gap between the window's assignments, counting
	// from the window's start so that a long silence lengthens it.
	span := now.Sub(p[0])
	if span <= 0 {
		return 0
	}
	per := span / time.Duration(len(p))
	return per * time.Duration(position)
}

// Tick does the service's once-a-second work: agents whose grace ended are
// offline and their conversations go back to the line; every 30 s,
// conversations that went quiet past their shop's limit close, idle
// agents are made away and transcripts past their shop's retention period
// are deleted; buyers left waiting too long are nudged about,
// handed on, or counted as gone; every shop with overflow or surge mode
// in force has its stage decided from its line; then the waiting
// buyers of every shop whose line (or stage) changed since the last tick
// hear their place, estimated wait and stage. kefu serve calls it every second (Run); tests
// call it with the clock they set.
func (s *Service) Tick(ctx context.Context) {
	s.departures(ctx)
	now := s.now()
	if now.Sub(s.lastSweep) >= quietSweep {
		s.lastSweep = now
		s.closeQuiet(ctx, now)
		s.awayIdle(ctx, now)
		if _, err := s.store.Purge(ctx, now, s.committed(nil)); err != nil {
			s.log.Error("retention", "err", err)
		}
	}
	s.nudgeSlowReplies(ctx, now)
	s.reassignLongWaits(ctx, now)
	s.countAbandoned(ctx, now)
	s.loadOverflow(ctx, now)
	weigh := s.overflowShops(now)
	changed := map[int64]bool{}
	for _, shopID := range s.line.take() {
		changed[shopID] = true
		weigh[shopID] = true
	}
	for shopID := range weigh {
		line, err := s.store.Waiting(ctx, shopID)
		if err != nil {
			s.log.Error("read the line", "shop", shopID, "err", err)
			if changed[shopID] {
				s.line.moved(shopID) // try again on the next tick
			}
			continue
		}
		stage, stageChanged := s.weighOverflow(ctx, shopID, line, now, true)
		if stageChanged {
			// The backup team or surge caps may take what waits now.
			s.drain(ctx, shopID)
			if line, err = s.store.Waiting(ctx, shopID); err != nil {
				s.log.Error("read the line", "shop", shopID, "err", err)
				s.tellOverflow(ctx, shopID)
				continue
			}
			s.weighOverflow(ctx, shopID, line, now, false) // the numbers after it; the stage holds to the next tick
		}
		s.tellOverflow(ctx, shopID)
		if !stageChanged && !changed[shopID] {
			continue
		}
		for i, w := range line {
			q := protocol.Queue{Type: protocol.TypeQueue, ConversationID: w.ConversationID, Position: i + 1}
			if eta := s.line.eta(shopID, i+1, now); eta > 0 {
				q.ETASeconds = int64((eta + time.Second - 1) / time.Second)
			}
			if stage != kefu.StageNormal {
				q.Stage = string(stage)
			}
			s.publish(ctx, protocol.Encode(q), BuyerTopic(w.BuyerID))
		}
	}
}

// Run calls Tick every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick(ctx)
		}
	}
}

// quietSweep is how often Tick looks for conversations gone quiet.
const quietSweep = 30 * time.Second

// closeQuiet closes the assigned conversations whose shop closes quiet ones
// and whose last message is older than its limit, as kefu itself, and lets
// the line move into the freed slots.
func (s *Service) closeQuiet(ctx context.Context, now time.Time) {
	quiet, err := s.store.QuietConversations(ctx, now, s.surgeAutoClose())
	if err != nil {
		s.log.Error("quiet conversations", "err", err)
		return
	}
	shops := map[int64]bool{}
	for _, c := range quiet {
		farewell := kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "会话因长时间没有新消息已自动结束", Code: kefu.SystemClosed}
		_, changed, err := s.store.CloseConversation(ctx, c.ShopID, c.ID, 0, kefu.SystemActor, farewell, s.committed(nil))
		if err != nil {
			s.log.Error("close quiet conversation", "conversation", c.ID, "err", err)
			continue
		}
		if changed {
			shops[c.ShopID] = true
		}
	}
	for shopID := range shops {
		s.drain(ctx, shopID)
	}
}

// nudgeSlowReplies nudges the agents whose buyers have waited their shop's
// slow-reply limit for an answer, once per wait (the slow-reply guard).
func (s *Service) nudgeSlowReplies(ctx context.Context, now time.Time) {
	slow, err := s.store.SlowReplies(ctx, now)
	if err != nil {
		s.log.Error("slow replies", "err", err)
		return
	}
	for _, c := range slow {
		if _, err := s.store.Nudge(ctx, c, s.committed(nil)); err != nil {
			s.log.Error("nudge", "conversation", c.ID, "err", err)
		}
	}
}

// reassignLongWaits hands to another agent with a free slot the
// conversations whose buyers have waited their shop's reassign_seconds for
// an answer, once per wait; the buyer is told who serves them now. The
// agent it leaves has a free slot, so the line moves.
func (s *Service) reassignLongWaits(ctx context.Context, now time.Time) {
	long, err := s.store.LongWaits(ctx, now)
	if err != nil {
		s.log.Error("long waits", "err", err)
		return
	}
	shops := map[int64]bool{}
	for _, c := range long {
		capBonus, decide := s.decider(c.ShopID)
		_, ok, err := s.store.ReassignConversation(ctx, c, s.routable(c.ShopID), capBonus, decide, reassignedLine, s.committed(nil))
		if err != nil {
			s.log.Error("reassign", "conversation", c.ID, "err", err)
		}
		if ok {
			shops[c.ShopID] = true
		}
	}
	for shopID := range shops {
		s.drain(ctx, shopID)
	}
}
