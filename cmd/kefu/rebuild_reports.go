package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kefu/kefu/report"
	"github.com/kefu/kefu/store"
)

// rebuildReports is `kefu rebuild-reports`: it empties the report roll-up
// and folds the whole event log again (docs/reports.md). Run it with kefu
// serve stopped, or the running server's roll-up folds on from the new
// mark alongside it.
func rebuildReports(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	env := envOr(getenv)
	fs := flag.NewFlagSet("kefu rebuild-reports", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kefu rebuild-reports [flags]\n\nEmpties the reports' roll-up and folds the event log into it again.")
		fs.PrintDefaults()
	}
	var storeCfg store.Config
	storeFlags(fs, env, &storeCfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errors.New("rebuild-reports takes no arguments")
	}
	st, err := store.Open(ctx, storeCfg)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	n, err := report.NewRoller(st, nil, func(err error) bool { return errors.Is(err, store.ErrReportMarkMoved) }).Rebuild(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "folded %d events into the reports in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
