package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// searchIndexWorld is one SQLite store whose background indexer is stopped,
// so the test decides when messages are indexed (issue 9 point 5).
type searchIndexWorld struct {
	t     *testing.T
	st    *store.Store
	clock *testclock.Clock
	ctx   context.Context
	shop  kefu.Shop
}

func newSearchIndexWorld(t *testing.T) *searchIndexWorld {
	clock := testclock.New(start)
	st := testdb.SQLite(t, clock.Now)
	st.StopIndexer()
	w := &searchIndexWorld{t: t, st: st, clock: clock, ctx: t.Context()}
	var err error
	if w.shop, err = st.CreateShop(w.ctx, kefu.Shop{Slug: "acme", Name: "Acme", IdentitySecret: "x"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// conversation opens a conversation of a new buyer and appends texts to it
// through the message path; it returns the conversation and its messages.
func (w *searchIndexWorld) conversation(visitor string, texts ...string) (kefu.Conversation, []kefu.Message) {
	w.t.Helper()
	b, err := w.st.VisitorBuyer(w.ctx, w.shop.ID, visitor, visitor)
	if err != nil {
		w.t.Fatal(err)
	}
	c, _, err := w.st.OpenConversation(w.ctx, w.shop.ID, b.ID, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	var msgs []kefu.Message
	for _, text := range texts {
		m, _, err := w.st.AppendMessage(w.ctx, kefu.Message{ShopID: w.shop.ID, ConversationID: c.ID, Kind: kefu.KindText,
			Sender: kefu.SenderBuyer, SenderID: b.ID, Text: text})
		if err != nil {
			w.t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	return c, msgs
}

// found is the ids of the conversations a search for text finds.
func (w *searchIndexWorld) found(text string) []int64 {
	w.t.Helper()
	page, err := w.st.SearchConversations(w.ctx, w.shop.ID, kefu.SearchFilter{Text: text})
	if err != nil {
		w.t.Fatal(err)
	}
	var ids []int64
	for _, h := range page.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

// holds is how many rows of the index itself hold phrase.
func (w *searchIndexWorld) holds(phrase string) int {
	w.t.Helper()
	n, err := w.st.SearchIndexHolds(w.ctx, phrase)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *searchIndexWorld) index() int {
	w.t.Helper()
	n, err := w.st.IndexSearch(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *searchIndexWorld) mark() int64 {
	w.t.Helper()
	m, err := w.st.SearchMark(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func (w *searchIndexWorld) checkIndex(when string) {
	w.t.Helper()
	if err := w.st.CheckSearchIndex(w.ctx); err != nil {
		w.t.Errorf("FTS5 integrity-check %s: %v", when, err)
	}
}

func sameIDs(got []int64, want ...int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// On SQLite a message is indexed after its commit, by the indexer, not by
// its INSERT; search finds it from its commit on all the same, and updates
// and purges keep the index right whether the message was indexed yet or not.
func TestSearchIndexer(t *testing.T) {
	w := newSearchIndexWorld(t)
	c1, m1 := w.conversation("v_one", "请问什么时候发货呀", "顺丰快递到哪里了")

	// Committed, not indexed: the index does not hold it, search finds it.
	if got := w.mark(); got != 0 {
		t.Errorf("mark %d before indexing, want 0", got)
	}
	if n := w.holds("时候发货"); n != 0 {
		t.Errorf("the index holds a message before the indexer ran (%d)", n)
	}
	if got := w.found("时候发货"); !sameIDs(got, c1.ID) {
		t.Errorf("search before indexing found %v, want [%d]", got, c1.ID)
	}

	// Indexed: the mark moves to the newest message, found once.
	if n := w.index(); n < 2 {
		t.Errorf("the indexer read %d messages, want at least the 2 texts", n)
	}
	if got, want := w.mark(), m1[1].ID; got != want {
		t.Errorf("mark %d after indexing, want %d", got, want)
	}
	if n := w.holds("时候发货"); n != 1 {
		t.Errorf("the index holds the message %d times, want 1", n)
	}
	if got := w.found("时候发货"); !sameIDs(got, c1.ID) {
		t.Errorf("search after indexing found %v, want [%d]", got, c1.ID)
	}
	// A pass with nothing new indexes nothing again.
	if n := w.index(); n != 0 {
		t.Errorf("a second pass read %d messages, want 0", n)
	}
	if n := w.holds("时候发货"); n != 1 {
		t.Errorf("the index holds the message %d times after a second pass, want 1", n)
	}
	w.checkIndex("after indexing")

	// One conversation written after the pass: above the mark.
	c2, m2 := w.conversation("v_two", "我要退款请处理", "发票开了没有")
	if got := w.found("退款请处理"); !sameIDs(got, c2.ID) {
		t.Errorf("search for a message above the mark found %v, want [%d]", got, c2.ID)
	}
	// A long term with a short one: the short one is checked on the tail too.
	if got := w.found("退款请处理 我要"); !sameIDs(got, c2.ID) {
		t.Errorf("search for long and short terms above the mark found %v, want [%d]", got, c2.ID)
	}

	// An update of an indexed message's text and of one not yet indexed.
	if err := w.st.Tamper(w.ctx, `UPDATE messages SET text = ? WHERE id = ?`, "请问什么时候退货呀", m1[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := w.st.Tamper(w.ctx, `UPDATE messages SET text = ? WHERE id = ?`, "发票什么时候补开", m2[1].ID); err != nil {
		t.Fatal(err)
	}
	w.checkIndex("after the updates")
	if n := w.holds("时候发货"); n != 0 {
		t.Errorf("the index still holds an indexed message's old text (%d)", n)
	}
	if n := w.holds("时候退货"); n != 1 {
		t.Errorf("the index holds an indexed message's new text %d times, want 1", n)
	}
	w.index()
	if got, want := w.mark(), m2[1].ID; got != want {
		t.Errorf("mark %d after the second pass, want %d", got, want)
	}
	for phrase, want := range map[string]int{"时候发货": 0, "时候退货": 1, "发票开了": 0, "发票什么时候补开": 1, "退款请处理": 1} {
		if n := w.holds(phrase); n != want {
			t.Errorf("the index holds %q %d times, want %d", phrase, n, want)
		}
	}
	if got := w.found("发票什么时候补开"); !sameIDs(got, c2.ID) {
		t.Errorf("search for the updated text found %v, want [%d]", got, c2.ID)
	}
	if got := w.found("发票开了"); len(got) != 0 {
		t.Errorf("search for the text before the update found %v", got)
	}
	w.checkIndex("after indexing updated messages")

	// A purge of an indexed conversation and of one not yet indexed.
	c3, _ := w.conversation("v_three", "包裹破损怎么办")
	if err := w.st.SetShopRetention(w.ctx, w.shop.ID, 30); err != nil {
		t.Fatal(err)
	}
	for _, c := range []kefu.Conversation{c2, c3} {
		if _, _, err := w.st.CloseConversation(w.ctx, w.shop.ID, c.ID, 0, kefu.SystemActor,
			kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: "会话已结束", Code: kefu.SystemClosed}, nil); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Advance(31 * 24 * time.Hour)
	if n, err := w.st.Purge(w.ctx, w.clock.Now(), nil); err != nil || n != 2 {
		t.Fatalf("purged %d conversations (%v), want 2", n, err)
	}
	w.checkIndex("after purging indexed and unindexed messages")
	for _, text := range []string{"退款请处理", "包裹破损"} {
		if got := w.found(text); len(got) != 0 {
			t.Errorf("search finds purged %q in %v", text, got)
		}
	}
	w.index()
	w.checkIndex("after indexing past purged messages")
	for phrase, want := range map[string]int{"退款请处理": 0, "包裹破损": 0, "时候退货": 1} {
		if n := w.holds(phrase); n != want {
			t.Errorf("after the purge the index holds %q %d times, want %d", phrase, n, want)
		}
	}
	if got := w.found("时候退货"); !sameIDs(got, c1.ID) {
		t.Errorf("search after the purge found %v, want [%d]", got, c1.ID)
	}
}

// The background indexer, woken by the writer's commits, and passes run
// beside it never index a message twice.
func TestSearchIndexerInBackground(t *testing.T) {
	clock := testclock.New(start)
	st := testdb.SQLite(t, clock.Now)
	ctx := t.Context()
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "acme", Name: "Acme", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := st.VisitorBuyer(ctx, shop.ID, fmt.Sprintf("v_%d", i), "b")
			if err != nil {
				errs <- err
				return
			}
			c, _, err := st.OpenConversation(ctx, shop.ID, b.ID, nil)
			if err != nil {
				errs <- err
				return
			}
			for j := range each {
				if _, _, err := st.AppendMessage(ctx, kefu.Message{ShopID: shop.ID, ConversationID: c.ID, Kind: kefu.KindText,
					Sender: kefu.SenderBuyer, SenderID: b.ID, Text: fmt.Sprintf("物流单号查询 %d-%d", i, j)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Passes of the test's own, beside the background indexer's.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := st.IndexSearch(ctx); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	// The writer's nudge wakes the background indexer: the mark reaches the
	// newest message without a pass from the test.
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := st.SearchConversations(ctx, shop.ID, kefu.SearchFilter{Text: "物流单号"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Hits) != writers {
			t.Fatalf("search found %d conversations, want %d", len(page.Hits), writers)
		}
		if n, err := st.SearchIndexHolds(ctx, "物流单号"); err != nil {
			t.Fatal(err)
		} else if n == writers*each {
			break
		} else if n > writers*each {
			t.Fatalf("the index holds %d rows, want %d: a message was indexed twice", n, writers*each)
		}
		if time.Now().After(deadline) {
			m, _ := st.SearchMark(ctx)
			t.Fatalf("the indexer did not catch up (mark %d)", m)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if err := st.CheckSearchIndex(ctx); err != nil {
		t.Errorf("FTS5 integrity-check: %v", err)
	}
}

// A database at schema 29 that holds messages keeps them searchable after
// migration 30 (they were indexed by step 23's trigger, the mark starts at
// the newest), and messages stored after it are found and indexed.
func TestSearchIndexMigrationOnADatabaseHoldingData(t *testing.T) {
	const before = 29
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kefu.db"))
	if err != nil {
		t.Fatal(err)
	}
	stmts := append(store.SchemaStatements("sqlite", before),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at DATETIME NOT NULL)`,
		fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, '2026-11-01 00:00:00')`, before),
		`INSERT INTO shops (id, slug, name, identity_secret, created_at) VALUES (1, 'old', 'Old', 's', '2026-11-01 00:00:00')`,
		`INSERT INTO buyers (id, shop_id, visitor_id, name, created_at) VALUES (1, 1, 'v_oldvisitor', 'b', '2026-11-01 00:00:00')`,
		`INSERT INTO conversations (id, shop_id, buyer_id, status, last_seq, created_at, queued_at) VALUES (1, 1, 1, 'queued', 3, '2026-11-01 00:00:00', '2026-11-01 00:00:00')`,
		`INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, text, created_at) VALUES (1, 1, 1, 'text', 'buyer', 1, '什么时候发货呀', '2026-11-01 00:00:00')`,
		`INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, text, created_at) VALUES (1, 1, 2, 'text', 'buyer', 1, '地址写错了能改吗', '2026-11-01 00:00:00')`,
		`INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, text, created_at) VALUES (1, 1, 3, 'system', 'system', 0, '系统通知发货时间', '2026-11-01 00:00:00')`,
	)
	for _, stmt := range stmts {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	raw.Close()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, Now: func() time.Time {
		return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	}})
	if err != nil {
		t.Fatalf("open a version-%d database: %v", before, err)
	}
	defer st.Close()
	st.StopIndexer()
	ctx := t.Context()
	w := &searchIndexWorld{t: t, st: st, ctx: ctx, shop: kefu.Shop{ID: 1}}
	if got := w.mark(); got != 3 {
		t.Errorf("mark %d after migration 30, want 3 (the newest message)", got)
	}
	if got := w.found("时候发货"); !sameIDs(got, 1) {
		t.Errorf("old message: found %v, want [1]", got)
	}
	if got := w.found("通知发货"); len(got) != 0 {
		t.Errorf("old system line found in %v", got)
	}
	if n := w.holds("时候发货"); n != 1 {
		t.Errorf("the index holds the old message %d times, want 1", n)
	}
	// An old, indexed message deleted and updated through the new triggers.
	if err := st.Tamper(ctx, `DELETE FROM messages WHERE seq = 2 AND conversation_id = 1`); err != nil {
		t.Fatal(err)
	}
	if err := st.Tamper(ctx, `UPDATE messages SET text = ? WHERE seq = 1 AND conversation_id = 1`, "什么时候发货呀急用快递"); err != nil {
		t.Fatal(err)
	}
	w.checkIndex("after deleting and updating old messages")
	if n := w.holds("地址写错"); n != 0 {
		t.Errorf("the index holds a deleted old message (%d)", n)
	}
	if n := w.holds("急用快递"); n != 1 {
		t.Errorf("the index holds an updated old message's new text %d times, want 1", n)
	}

	m, _, err := st.AppendMessage(ctx, kefu.Message{ShopID: 1, ConversationID: 1, Kind: kefu.KindText,
		Sender: kefu.SenderBuyer, SenderID: 1, Text: "顺丰快递到哪里了"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.found("快递到哪"); !sameIDs(got, 1) {
		t.Errorf("new message before indexing: found %v, want [1]", got)
	}
	w.index()
	if got := w.mark(); got != m.ID {
		t.Errorf("mark %d after indexing, want %d", got, m.ID)
	}
	if n := w.holds("快递到哪"); n != 1 {
		t.Errorf("the index holds the new message %d times, want 1", n)
	}
	if got := w.found("快递到哪"); !sameIDs(got, 1) {
		t.Errorf("new message after indexing: found %v, want [1]", got)
	}
	w.checkIndex("after indexing the new message")
}
