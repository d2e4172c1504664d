package report

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kefu/kefu"
)

// RollupStore is what the roll-up reads and writes (store.Store).
type RollupStore interface {
	ReportMark(ctx context.Context) (int64, error)
	ReportEvents(ctx context.Context, afterID int64, limit int) ([]kefu.ReportEvent, error)
	ReportLatestSessions(ctx context.Context, conversationIDs []int64) ([]kefu.ReportSession, error)
	ReportOpenSpans(ctx context.Context) ([]kefu.ReportSpan, error)
	SaveReportFold(ctx context.Context, from, to int64, sessions []kefu.ReportSession, spans []kefu.ReportSpan) error
	ResetReports(ctx context.Context) error
}

// Roller keeps the report roll-up folded up to the log's last event: a
// consumer of committed events that reads the log itself, so it misses
// nothing across restarts. Run folds on a ticker; CatchUp folds what is
// left before a report is computed, so a report sees every committed event.
type Roller struct {
	store RollupStore
	log   *slog.Logger
	batch int
	// markMoved reports whether an error of SaveReportFold says another
	// process folded the batch first (store.ErrReportMarkMoved).
	markMoved func(error) bool
	// turn lets one batch fold at a time in this process; a report's
	// catch-up waiting for it gives up when its context ends.
	turn chan struct{}
}

// DefaultBatch is how many events one transaction of the roll-up folds.
// What a transaction writes is one row per stretch its events touched, and
// a busy shop's events touch the same conversations again and again: at
// 3,000 messages a second, batches of 1,000 events wrote about as many
// rows a second as the message path did, on SQLite's one writer; batches
// of 5,000 write a fifth of that, each transaction still short.
const DefaultBatch = 5000

// NewRoller returns a roller over store; markMoved tells a save that lost
// to another process's fold from a failure.
func NewRoller(store RollupStore, log *slog.Logger, markMoved func(error) bool) *Roller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Roller{store: store, log: log, batch: DefaultBatch, markMoved: markMoved, turn: make(chan struct{}, 1)}
}

// SetBatch sets how many events one transaction folds (tests fold one at a
// time to show the result does not depend on where batches end).
func (r *Roller) SetBatch(n int) {
	if n > 0 {
		r.batch = n
	}
}

// Run folds every interval until ctx ends.
func (r *Roller) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := r.CatchUp(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("report roll-up", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// CatchUp folds every event committed so far and returns how many it read.
// It takes the roller's lock for each batch, not for the whole catch-up, so
// a report's catch-up and the ticker's share the work; it stops, with ctx's
// error, when ctx ends between or inside batches (a batch cut short is not
// saved).
func (r *Roller) CatchUp(ctx context.Context) (int, error) {
	total := 0
	for {
		select {
		case r.turn <- struct{}{}:
		case <-ctx.Done():
			return total, ctx.Err()
		}
		n, err := r.step(ctx)
		<-r.turn
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Rebuild empties the roll-up and folds the whole log again.
func (r *Roller) Rebuild(ctx context.Context) (int, error) {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	err := r.store.ResetReports(ctx)
	<-r.turn
	if err != nil {
		return 0, err
	}
	return r.CatchUp(ctx)
}

func (r *Roller) step(ctx context.Context) (int, error) {
	mark, err := r.store.ReportMark(ctx)
	if err != nil {
		return 0, err
	}
	events, err := r.store.ReportEvents(ctx, mark, r.batch)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, e := range events {
		if e.ConversationID != 0 && !seen[e.ConversationID] {
			seen[e.ConversationID] = true
			ids = append(ids, e.ConversationID)
		}
	}
	latest, err := r.store.ReportLatestSessions(ctx, ids)
	if err != nil {
		return 0, err
	}
	open, err := r.store.ReportOpenSpans(ctx)
	if err != nil {
		return 0, err
	}
	f := NewFold(latest, open)
	for _, e := range events {
		f.Apply(e)
	}
	last := events[len(events)-1].ID
	if last <= mark {
		return 0, fmt.Errorf("report: the log read after event %d ends at %d", mark, last)
	}
	err = r.store.SaveReportFold(ctx, mark, last, f.Sessions(), f.Spans())
	if err != nil && r.markMoved != nil && r.markMoved(err) {
		return len(events), nil // another process folded it; read on from its mark
	}
	return len(events), err
}
