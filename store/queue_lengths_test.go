package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/store"
)

// QueueLengths counts each shop's line, and only the line: a conversation
// that was taken or waits for the assistant is not in it.
func TestQueueLengths(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			clock := testclock.New(start)
			e := env{st: b.open(t, clock.Now), clock: clock, ctx: t.Context()}
			if got, err := e.st.QueueLengths(e.ctx); err != nil || len(got) != 0 {
				t.Fatalf("empty store: %v, %v; want no lines", got, err)
			}
			shopA, shopB := mustShop(t, e, "a"), mustShop(t, e, "b")
			agent := mustAgent(t, e, shopA.ID, "amy")
			var taken kefu.Conversation
			for i, v := range []string{"v1", "v2", "v3"} {
				c := mustConversation(t, e, shopA.ID, mustVisitor(t, e, shopA.ID, v).ID)
				if i == 0 {
					taken = c
				}
			}
			mustConversation(t, e, shopB.ID, mustVisitor(t, e, shopB.ID, "v1").ID)
			if _, err := e.st.TakeConversation(e.ctx, shopA.ID, taken.ID, agent.ID, announce, nil); err != nil {
				t.Fatal(err)
			}
			got, err := e.st.QueueLengths(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[shopA.ID] != 2 || got[shopB.ID] != 1 {
				t.Fatalf("queue lengths %v, want shop %d: 2, shop %d: 1", got, shopA.ID, shopB.ID)
			}
		})
	}
}

// Config.Commits hears of every commit of the message writer with the
// messages it stored.
func TestCommitsObserver(t *testing.T) {
	var mu sync.Mutex
	var commits, messages int
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir(), Now: testclock.New(start).Now,
		Commits: func(n int, took time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			commits++
			messages += n
			if n < 1 || took < 0 {
				t.Errorf("commit of %d messages in %v", n, took)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := env{st: st, ctx: t.Context()}
	shop := mustShop(t, e, "a")
	conv := mustConversation(t, e, shop.ID, mustVisitor(t, e, shop.ID, "v1").ID)
	msg := kefu.Message{ShopID: shop.ID, ConversationID: conv.ID, Kind: kefu.KindText, Sender: kefu.SenderBuyer,
		SenderID: conv.BuyerID, Text: "在吗", ClientMsgID: "c1"}
	mustAppend(t, e, msg)
	if _, dup, err := st.AppendMessage(e.ctx, msg); err != nil || !dup {
		t.Fatalf("retry: dup %v, err %v", dup, err)
	}
	msg.ClientMsgID, msg.Text = "c2", "有货吗"
	mustAppend(t, e, msg)
	mu.Lock()
	defer mu.Unlock()
	// A retry answered by its client id stores nothing and is not a commit of messages.
	if messages != 2 || commits != 2 {
		t.Fatalf("told of %d commits of %d messages, want 2 of 2", commits, messages)
	}
}
