package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/store"
)

// kefu rebuild-reports folds the whole log again: the stretches it stores
// are the log's, whatever the roll-up held before.
func TestRebuildReportsCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "acme", Name: "Acme", IdentitySecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	buyer, err := st.VisitorBuyer(ctx, shop.ID, "v_cli0000001", "买家")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.OpenConversation(ctx, shop.ID, buyer.ID, nil); err != nil {
		t.Fatal(err)
	}
	// A roll-up that went wrong: its mark past every event, nothing folded.
	if err := st.SaveReportFold(ctx, 0, 1_000_000, nil, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"rebuild-reports", "--data-dir", dir}, &out, &errOut); err != nil {
		t.Fatalf("rebuild-reports: %v\n%s", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "folded ") {
		t.Errorf("output %q", out.String())
	}
	st, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sessions, err := st.ReportSessions(ctx, shop.ID, time.Time{}, time.Now().Add(time.Hour))
	if err != nil || len(sessions) != 1 || sessions[0].BuyerID != buyer.ID {
		t.Fatalf("after the rebuild: %+v, %v; want the one conversation", sessions, err)
	}
}
