package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/export"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// A new demo shop starts with weeks of history for its reports, all of it
// over: an empty line, nothing open, 张三 and his order untouched. A restart
// adds nothing.
func TestDemoHistory(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB, func() time.Time) *store.Store{"sqlite": testdb.SQLite, "postgres": testdb.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 12, 3, 6, 30, 0, 0, time.UTC)
			st := open(t, func() time.Time { return now })
			span := demoHistorySpan{days: 21, now: func() time.Time { return now }}
			began := time.Now()
			d, err := seedDemo(ctx, st, []string{"http://127.0.0.1:1"}, bcrypt.MinCost, span)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("the demo shop with 21 days of history seeded in %v", time.Since(began))
			shop := d.shop
			events := countEvents(t, st, shop.ID)
			if events < 20000 {
				t.Fatalf("%d events in 21 days of history", events)
			}
			closed, err := st.ListConversations(ctx, shop.ID, kefu.ConversationFilter{Statuses: []kefu.ConversationStatus{kefu.StatusClosed}, Limit: 10})
			if err != nil || len(closed) != 10 {
				t.Fatalf("closed conversations: %d, %v", len(closed), err)
			}
			open, err := st.ListConversations(ctx, shop.ID, kefu.ConversationFilter{Statuses: []kefu.ConversationStatus{kefu.StatusQueued, kefu.StatusAssigned}})
			if err != nil || len(open) != 0 {
				t.Fatalf("open conversations after the seed: %d, %v", len(open), err)
			}
			if w, err := st.Waiting(ctx, shop.ID); err != nil || len(w) != 0 {
				t.Fatalf("the line after the seed: %d, %v", len(w), err)
			}
			zhang, err := st.IdentifiedBuyer(ctx, shop.ID, "u1001", "", "张三")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.LatestConversation(ctx, shop.ID, zhang.ID); !errors.Is(err, kefu.ErrNotFound) {
				t.Fatalf("张三 has a conversation: %v", err)
			}
			if convs, err := st.ListConversations(ctx, shop.ID, kefu.ConversationFilter{OrderNo: "2026111100123"}); err != nil || len(convs) != 0 {
				t.Fatalf("the demo order's conversations: %d, %v", len(convs), err)
			}
			if _, err := seedDemo(ctx, st, []string{"http://127.0.0.1:2"}, bcrypt.MinCost, span); err != nil {
				t.Fatal(err)
			}
			if n := countEvents(t, st, shop.ID); n != events {
				t.Fatalf("a restart wrote %d events", n-events)
			}
		})
	}
}

func TestDemoWithoutHistory(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t, nil)
	d, err := seedDemo(context.Background(), st, []string{"http://127.0.0.1:1"}, bcrypt.MinCost, demoHistorySpan{days: 0, now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, st, d.shop.ID); n > 10 {
		t.Fatalf("%d events without history", n)
	}
}

func countEvents(t *testing.T, st *store.Store, shopID int64) int {
	t.Helper()
	n := 0
	for after := int64(0); ; {
		page, err := st.Events(context.Background(), shopID, after, kefu.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return n
		}
		n += len(page)
		after = page[len(page)-1].ID
	}
}

func TestDemoHistoryDaysFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  string
		want int
		bad  bool
	}{
		{nil, "", 21, false},
		{nil, "5", 5, false},
		{[]string{"--demo-history-days", "0"}, "5", 0, false},
		{[]string{"--demo-history-days", "-1"}, "", 0, true},
		{[]string{"--demo-history-days", "lots"}, "", 0, true},
	} {
		getenv := func(k string) string {
			if k == "KEFU_DEMO_HISTORY_DAYS" {
				return tc.env
			}
			return ""
		}
		cfg, err := parseServeFlags(tc.args, io.Discard, getenv)
		if tc.bad != (err != nil) || (!tc.bad && cfg.demoHistoryDays != tc.want) {
			t.Errorf("%v with env %q: %d, %v; want %d", tc.args, tc.env, cfg.demoHistoryDays, err, tc.want)
		}
	}
}

// kefu verify-export passes the dispute export of an order of the demo's
// generated history: the imported messages are chained as live ones.
func TestDemoHistoryVerifyExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 6, 30, 0, 0, time.UTC)
	st, err := store.Open(ctx, store.Config{DataDir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := seedDemo(ctx, st, []string{"http://127.0.0.1:1"}, bcrypt.MinCost, demoHistorySpan{days: 3, now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// An order a buyer sent the card of: the first order.linked of the log.
	var orderNo string
	for after := int64(0); orderNo == ""; {
		page, err := st.Events(ctx, d.shop.ID, after, kefu.MaxPageSize)
		if err != nil || len(page) == 0 {
			t.Fatalf("no order.linked in the history: %v", err)
		}
		for _, e := range page {
			if e.Type == kefu.EventOrderLinked && orderNo == "" {
				orderNo = e.Data.OrderNo
			}
		}
		after = page[len(page)-1].ID
	}
	doc, err := export.Build(ctx, st, d.shop.ID, orderNo, now)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if len(doc.Conversations) == 0 {
		t.Fatalf("the export of order %s holds no conversation", orderNo)
	}
	data, _ := json.Marshal(doc)
	file := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"verify-export", "--data-dir", dir, file}, &out, &errOut); err != nil || !strings.Contains(out.String(), "the export matches the store") {
		t.Fatalf("verify the export of order %s: %v\n%s%s", orderNo, err, out.String(), errOut.String())
	}
}
