package report

import (
	"context"
	"time"

	"github.com/kefu/kefu"
)

// Source is what a report reads (store.Store).
type Source interface {
	ReportSessions(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportSession, error)
	ReportSpans(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportSpan, error)
	ReportOrders(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportOrder, error)
	Agents(ctx context.Context, shopID int64) ([]kefu.Agent, error)
	Groups(ctx context.Context, shopID int64) ([]kefu.Group, error)
}

// Load reads what the report of q over the shop is computed from.
func Load(ctx context.Context, src Source, shopID int64, q Query) (Input, error) {
	window := q.Window
	if window <= 0 {
		window = DefaultWindow
	}
	var in Input
	var err error
	if in.Sessions, err = src.ReportSessions(ctx, shopID, q.From.Add(-window), q.To.Add(window)); err != nil {
		return Input{}, err
	}
	if in.Spans, err = src.ReportSpans(ctx, shopID, q.From, q.To); err != nil {
		return Input{}, err
	}
	if in.Orders, err = src.ReportOrders(ctx, shopID, q.From.Add(-window), q.To.Add(window)); err != nil {
		return Input{}, err
	}
	agents, err := src.Agents(ctx, shopID)
	if err != nil {
		return Input{}, err
	}
	in.Agents = make(map[int64]string, len(agents))
	for _, a := range agents {
		in.Agents[a.ID] = a.Name
	}
	groups, err := src.Groups(ctx, shopID)
	if err != nil {
		return Input{}, err
	}
	in.Groups = make(map[int64]string, len(groups))
	for _, g := range groups {
		in.Groups[g.ID] = g.Name
	}
	in.Stages = kefu.OverflowStages
	return in, nil
}
