package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kefu/kefu/export"
	"github.com/kefu/kefu/store"
)

// errExportDiffers is verify-export's failure when the store no longer holds
// what the export shows.
var errExportDiffers = errors.New("the export does not match the store")

// verifyExport is `kefu verify-export FILE`: it checks a dispute export (the
// JSON or the HTML file) against the store kefu serve uses, and names the
// first message that differs.
func verifyExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	env := envOr(getenv)
	fs := flag.NewFlagSet("kefu verify-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kefu verify-export [flags] FILE\n\nChecks an order's dispute export against the store; exit status 1 names the first message that differs.")
		fs.PrintDefaults()
	}
	var storeCfg store.Config
	storeFlags(fs, env, &storeCfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("verify-export takes one file")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	doc, err := export.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	st, err := store.Open(ctx, storeCfg)
	if err != nil {
		return err
	}
	defer st.Close()
	shop, err := st.Shop(ctx, doc.Shop.ID)
	if err != nil || shop.Slug != doc.Shop.Slug {
		return fmt.Errorf("the export is of shop %q (id %d), which this store does not hold", doc.Shop.Slug, doc.Shop.ID)
	}
	r, err := export.Verify(ctx, st, shop.ID, doc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "order %s of shop %s, exported %s\n", doc.Order.OrderNo, shop.Slug, doc.ExportedAt.Format("2006-01-02 15:04:05 MST"))
	for _, c := range r.Conversations {
		status := "ok"
		if !c.OK {
			status = "DIFFERS"
		}
		fmt.Fprintf(stdout, "conversation %d: %s, %d messages checked", c.ID, status, c.Checked)
		if c.Unchained > 0 {
			fmt.Fprintf(stdout, " (%d stored before the chain, compared by content)", c.Unchained)
		}
		if c.Since > 0 {
			fmt.Fprintf(stdout, ", %d written since the export", c.Since)
		}
		fmt.Fprintln(stdout)
	}
	if !r.OK {
		d := r.FirstDifference
		fmt.Fprintf(stdout, "first difference: conversation %d, seq %d (%s): %s\n", d.ConversationID, d.Seq, d.Problem, d.Detail)
		return errExportDiffers
	}
	fmt.Fprintln(stdout, "the export matches the store")
	return nil
}
