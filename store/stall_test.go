package store_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/store"
)

// TestNoStallAfterRestart reopens a SQLite database holding open
// conversations and, at once, sends messages through the group-commit writer
// while others list conversations and load them, as a console full of agents
// and a crowd of buyers do right after a restart. Every call must finish:
// reads never queue behind the writer's connection, and no lock is held
// across a wait for a connection.
func TestNoStallAfterRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	const convs = 24
	var ids []int64
	var buyers []int64
	for i := range convs {
		b, err := st.VisitorBuyer(ctx, shop.ID, fmt.Sprintf("v_stall%04d", i), "b")
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := st.OpenConversation(ctx, shop.ID, b.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids, buyers = append(ids, c.ID), append(buyers, b.ID)
	}
	st.Close()

	for restart := range 6 {
		st, err := store.Open(ctx, store.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4*convs)
		for i := range convs {
			wg.Add(3)
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				_, _, err := st.AppendMessage(cctx, kefu.Message{ShopID: shop.ID, ConversationID: ids[i], Kind: kefu.KindText,
					Sender: kefu.SenderBuyer, SenderID: buyers[i], Text: "hi", ClientMsgID: fmt.Sprintf("r%d-%d", restart, i)})
				if err != nil {
					errs <- fmt.Errorf("append: %w", err)
				}
			}()
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				if _, err := st.ListConversations(cctx, shop.ID, kefu.ConversationFilter{}); err != nil {
					errs <- fmt.Errorf("list: %w", err)
				}
			}()
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				c, err := st.LatestConversation(cctx, shop.ID, buyers[i])
				if err == nil {
					_, err = st.Summarize(cctx, c)
				}
				if err == nil {
					_, _, err = st.Messages(cctx, shop.ID, ids[i], 0, 10)
				}
				if err != nil {
					errs <- fmt.Errorf("load: %w", err)
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(90 * time.Second): // a watchdog, not a timing assertion
			buf := make([]byte, 1<<20)
			t.Fatalf("restart %d: store calls stalled:\n%s", restart, buf[:runtime.Stack(buf, true)])
		}
		close(errs)
		for err := range errs {
			t.Errorf("restart %d: %v", restart, err)
		}
		st.Close()
	}
}
