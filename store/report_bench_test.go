package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu/kefu/internal/history"
	"github.com/kefu/kefu/report"
	"github.com/kefu/kefu/store"
)

// BenchmarkReportMonth is issue 10's size: a month of a busy shop (about
// 100,000 conversations and 1,000,000 messages) generated, imported and
// folded by the roll-up once (each timed and logged), then each iteration
// opens the store afresh — nothing of it in the process — and computes the
// month's report. Run with -benchtime 1x or 3x: the set-up takes minutes.
//
//	go test -run '^$' -bench ReportMonth -benchtime 3x -timeout 30m ./store/
func BenchmarkReportMonth(b *testing.B) {
	ctx := context.Background()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, loc)
	from := end.AddDate(0, 0, -30)
	dir := b.TempDir()
	clock := func() time.Time { return end }
	st, err := store.Open(ctx, store.Config{DataDir: dir, Now: clock})
	if err != nil {
		b.Fatal(err)
	}
	shop, p := historyShop(b, st, "busy", end, 30, 100_000/30, 70)
	began := time.Now()
	h := history.Generate(p)
	b.Logf("generated %d conversations, %d messages, %d events, %d orders in %v", len(h.Conversations), len(h.Messages),
		len(h.Events), len(h.Orders), time.Since(began).Round(time.Millisecond))
	began = time.Now()
	if err := st.ImportHistory(ctx, shop.ID, h); err != nil {
		b.Fatal(err)
	}
	b.Logf("imported in %v", time.Since(began).Round(time.Millisecond))
	h = history.History{}
	if _, err := st.IndexSearch(ctx); err != nil { // not to share the CPU with the fold and the report
		b.Fatal(err)
	}
	began = time.Now()
	n, err := report.NewRoller(st, nil, func(err error) bool { return errors.Is(err, store.ErrReportMarkMoved) }).CatchUp(ctx)
	if err != nil {
		b.Fatal(err)
	}
	folded := time.Since(began)
	b.Logf("folded %d events in %v (%.0f events/s)", n, folded.Round(time.Millisecond), float64(n)/folded.Seconds())
	st.Close()

	q := report.Query{From: from, To: end, Loc: loc, Now: end}
	var r report.Report
	b.ResetTimer()
	for b.Loop() {
		st, err := store.Open(ctx, store.Config{DataDir: dir, Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		in, err := report.Load(ctx, st, shop.ID, q)
		if err != nil {
			b.Fatal(err)
		}
		r = report.Compute(q, in)
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.Logf("the month's report: %d conversations, %d messages, %d agents, %d orders placed", r.Summary.Conversations,
		r.Summary.Messages, len(r.Agents), r.OrdersPlaced)
}
