package conversation_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// overflowSettings puts the test's policy in force: small lines engage
// each stage, a stage is held a minute.
func (ts *testShop) overflowSettings(adjust func(*kefu.OverflowSettings)) {
	ts.t.Helper()
	o := kefu.DefaultOverflowSettings()
	o.Policy = kefu.OverflowPolicy{Enabled: true, HoldSeconds: 60,
		Backup:       kefu.StageTrigger{QueueLength: 2},
		BotFirst:     kefu.StageTrigger{QueueLength: 4},
		LeaveMessage: kefu.StageTrigger{QueueLength: 6},
		QueueFull:    kefu.StageTrigger{QueueLength: 7},
	}
	if adjust != nil {
		adjust(&o)
	}
	if err := ts.st.SetOverflowSettings(context.Background(), ts.shop.ID, o); err != nil {
		ts.t.Fatal(err)
	}
	ts.svc.SetOverflowSettings(ts.shop.ID, o)
}

// stageEvents are the shop's overflow stage changes, as "from>to".
func (ts *testShop) stageEvents() []string {
	ts.t.Helper()
	events, err := ts.st.Events(context.Background(), ts.shop.ID, 0, 1000)
	if err != nil {
		ts.t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		switch e.Type {
		case kefu.EventOverflowStage:
			out = append(out, string(e.Data.FromStage)+">"+string(e.Data.Stage))
		case kefu.EventSurgeStarted, kefu.EventSurgeEnded:
			out = append(out, string(e.Type))
		}
	}
	return out
}

// systemLines are the codes and texts of a conversation's system messages.
func (ts *testShop) systemLines(id int64) map[string]string {
	ts.t.Helper()
	msgs, _, err := ts.st.Messages(context.Background(), ts.shop.ID, id, 0, 100)
	if err != nil {
		ts.t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		if m.Kind == kefu.KindSystem {
			out[m.Code] = m.Text
		}
	}
	return out
}

// The stages engage as the line grows, each does what it says, every
// change is an event, and an emptied line is normal again once the stage
// was held its minute.
func TestOverflowStages(t *testing.T) {
	for name, open := range map[string]func(testing.TB, func() time.Time) *store.Store{
		"sqlite": testdb.SQLite, "postgres": testdb.Postgres,
	} {
		t.Run(name, func(t *testing.T) { testOverflowStages(t, newTestShopOn(t, open)) })
	}
}

func testOverflowStages(t *testing.T, ts *testShop) {
	ctx := context.Background()
	regular := ts.online("regular", 1)
	reserve := ts.online("outsourced", 1)
	backup, err := ts.st.CreateGroup(ctx, kefu.Group{ShopID: ts.shop.ID, Slug: "waibao", Name: "外包客服",
		Members: []kefu.GroupMember{{AgentID: reserve.ID, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	ts.overflowSettings(func(o *kefu.OverflowSettings) { o.Policy.BackupGroupID = backup.ID })
	tick := func() { ts.clock.Advance(time.Second); ts.svc.Tick(ctx) }

	first := ts.writes("b1", kefu.Entry{})
	if first.Status != kefu.StatusAssigned || first.AgentID != regular.ID {
		t.Fatalf("first buyer: %s to agent %d, want assigned to the regular agent", first.Status, first.AgentID)
	}
	second, third := ts.writes("b2", kefu.Entry{}), ts.writes("b3", kefu.Entry{})
	if second.Status != kefu.StatusQueued {
		t.Fatalf("in the normal stage the backup team took a conversation of the shop (%s)", second.Status)
	}
	tick()
	if st := ts.svc.OverflowState(ts.shop.ID); st.Stage != kefu.StageBackup || st.Waiting != 1 {
		t.Fatalf("after a line of 2: %s with %d waiting, want backup with 1 waiting (the backup agent took one)", st.Stage, st.Waiting)
	}
	if c := ts.conv(second.ID); c.AgentID != reserve.ID {
		t.Fatalf("in the backup stage the second buyer went to agent %d, want the backup team's %d", c.AgentID, reserve.ID)
	}
	if ts.conv(third.ID).Status != kefu.StatusQueued {
		t.Fatal("the third buyer should still wait: both agents are full")
	}
	b4 := ts.writes("b4", kefu.Entry{})
	if _, ok := ts.systemLines(b4.ID)[kefu.SystemOverflowBackup]; !ok {
		t.Fatalf("a buyer arriving in the backup stage was not told: %v", ts.systemLines(b4.ID))
	}
	ts.writes("b5", kefu.Entry{})
	ts.writes("b6", kefu.Entry{})
	tick()
	if st := ts.svc.OverflowState(ts.shop.ID).Stage; st != kefu.StageBotFirst {
		t.Fatalf("a line of 4: %s, want bot_first", st)
	}
	ts.writes("b7", kefu.Entry{})
	ts.writes("b8", kefu.Entry{})
	tick()
	if st := ts.svc.OverflowState(ts.shop.ID).Stage; st != kefu.StageLeaveMessage {
		t.Fatalf("a line of 6: %s, want leave_message", st)
	}

	// A left message carries the buyer's order and waits behind the live line.
	buyer, err := ts.st.IdentifiedBuyer(ctx, ts.shop.ID, "u42", "v_u42_00000000", "王五")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.st.UpsertOrder(ctx, ts.shop.ID, kefu.OrderUpsert{Order: kefu.Order{ShopID: ts.shop.ID, BuyerExternalID: "u42",
		OrderNo: "2026111100042", Status: "paid", AmountCents: 100, Currency: "CNY"}}); err != nil {
		t.Fatal(err)
	}
	left := send(t, ts.svc, ts.st, buyer, kefu.Entry{})
	if left.Priority != kefu.PriorityLeftMessage || left.Status != kefu.StatusQueued {
		t.Fatalf("a buyer arriving in leave_message: priority %d %s, want a left message waiting", left.Priority, left.Status)
	}
	if text := ts.systemLines(left.ID)[kefu.SystemLeftMessage]; !strings.Contains(text, "2026111100042") {
		t.Fatalf("the left-message line %q does not name the buyer's order", text)
	}
	orders, err := ts.st.ConversationOrders(ctx, ts.shop.ID, left.ID)
	if err != nil || len(orders) != 1 || orders[0].OrderNo != "2026111100042" {
		t.Fatalf("orders of the left message: %v %v, want the buyer's order attached", orders, err)
	}
	if st := ts.svc.OverflowState(ts.shop.ID); st.Waiting != 6 {
		t.Fatalf("live line %d: a left message must not count in it", st.Waiting)
	}

	// A VIP is never made to leave a message; their arrival fills the line.
	vip := ts.buyer("vip")
	if _, err := ts.st.SetBuyerRouting(ctx, ts.shop.ID, vip.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	vipConv := send(t, ts.svc, ts.st, vip, kefu.Entry{})
	if vipConv.Priority != kefu.PriorityVIP {
		t.Fatalf("a VIP arriving in leave_message got priority %d", vipConv.Priority)
	}
	if _, ok := ts.systemLines(vipConv.ID)[kefu.SystemOverflowBusy]; !ok {
		t.Fatalf("the VIP waiting in the live line was not told the line is long: %v", ts.systemLines(vipConv.ID))
	}
	tick()
	if st := ts.svc.OverflowState(ts.shop.ID); st.Stage != kefu.StageQueueFull || st.LeftMessages != 1 {
		t.Fatalf("a live line of 7: %s with %d left messages, want queue_full with 1", st.Stage, st.LeftMessages)
	}
	full := ts.writes("b9", kefu.Entry{})
	text := ts.systemLines(full.ID)[kefu.SystemQueueFull]
	if !strings.Contains(text, "前面还有 8 位") {
		t.Fatalf("the queue-full line %q does not say how many are ahead (7 live and one left message)", text)
	}

	// The line empties; the stage holds its minute, then is normal at once.
	owner := conversation.AgentActor(kefu.Agent{ID: regular.ID, ShopID: ts.shop.ID, Role: kefu.RoleOwner})
	waiting, err := ts.st.Waiting(ctx, ts.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range waiting {
		if _, err := ts.svc.Close(ctx, owner, w.ConversationID); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	if st := ts.svc.OverflowState(ts.shop.ID).Stage; st != kefu.StageQueueFull {
		t.Fatalf("a second after the line emptied: %s; the stage must be held its minute", st)
	}
	ts.clock.Advance(time.Minute)
	tick()
	if st := ts.svc.OverflowState(ts.shop.ID).Stage; st != kefu.StageNormal {
		t.Fatalf("a minute later: %s, want normal", st)
	}
	want := []string{"normal>backup", "backup>bot_first", "bot_first>leave_message", "leave_message>queue_full", "queue_full>normal"}
	if got := ts.stageEvents(); !slices.Equal(got, want) {
		t.Fatalf("stage events %v, want %v", got, want)
	}
}

// In the bot_first stage a new conversation is answered by the shop's
// assistant first, and the buyer is told how to reach a person.
func TestOverflowBotFirst(t *testing.T) {
	// The assistant is not running: the test sees the conversation as it
	// started, before the assistant's first answer.
	bs := newBotShopOn(t, newTestShop(t), nil)
	ctx := context.Background()
	bs.online("regular", 1)
	bs.overflowSettings(func(o *kefu.OverflowSettings) { o.Policy.BotFirst.QueueLength = 1 })
	bs.writes("b1", kefu.Entry{})
	waiting := bs.writes("b2", kefu.Entry{})
	if waiting.AssistantFirst {
		t.Fatal("bot-first before the stage engaged")
	}
	bs.clock.Advance(time.Second)
	bs.svc.Tick(ctx)
	if st := bs.svc.OverflowState(bs.shop.ID).Stage; st != kefu.StageBotFirst {
		t.Fatalf("stage %s, want bot_first", st)
	}
	c := bs.writes("b3", kefu.Entry{})
	if !c.AssistantFirst || c.Status != kefu.StatusQueued {
		t.Fatalf("a buyer arriving in bot_first: assistant first %v, %s", c.AssistantFirst, c.Status)
	}
	if _, ok := bs.systemLines(c.ID)[kefu.SystemOverflowBotFirst]; !ok {
		t.Fatalf("the buyer was not told the assistant answers first: %v", bs.systemLines(c.ID))
	}
}

// Surge mode raises every agent's cap and shortens auto-close while it is
// on, with an event when it starts and when it ends.
func TestSurgeMode(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	a := ts.online("regular", 1)
	ts.writes("b1", kefu.Entry{})
	second := ts.writes("b2", kefu.Entry{})
	if second.Status != kefu.StatusQueued {
		t.Fatal("the agent is at their cap: the second buyer waits")
	}
	start := ts.clock.Now().Add(time.Minute)
	ts.overflowSettings(func(o *kefu.OverflowSettings) {
		o.Policy.Enabled = false
		o.Surge.Schedule = []kefu.SurgeWindow{{Start: start, End: start.Add(time.Hour)}}
		o.Surge.Profile = kefu.SurgeProfile{CapBonus: 1, AutoCloseMinutes: 5}
	})
	ts.svc.Tick(ctx)
	if c := ts.conv(second.ID); c.Status != kefu.StatusQueued {
		t.Fatal("surge mode applied before its window")
	}
	ts.clock.Advance(time.Minute)
	ts.svc.Tick(ctx)
	if c := ts.conv(second.ID); c.AgentID != a.ID {
		t.Fatalf("in surge mode the agent did not take a second conversation (%s, agent %d)", c.Status, c.AgentID)
	}
	if !ts.svc.OverflowState(ts.shop.ID).Surge {
		t.Fatal("the state does not say surge")
	}
	// Quiet for 6 minutes: surge's auto-close of 5 minutes ends both.
	ts.clock.Advance(6 * time.Minute)
	ts.svc.Tick(ctx)
	if c := ts.conv(second.ID); c.Status != kefu.StatusClosed {
		t.Fatalf("a conversation quiet for 6 minutes in surge mode is %s, want closed", c.Status)
	}
	ts.clock.Advance(time.Hour)
	ts.svc.Tick(ctx)
	if ts.svc.OverflowState(ts.shop.ID).Surge {
		t.Fatal("surge mode did not end with its window")
	}
	if got, want := ts.stageEvents(), []string{string(kefu.EventSurgeStarted), string(kefu.EventSurgeEnded)}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// Consoles hear an overflow frame once a tick at most, and only from a
// shop with overflow settings; a retried first message is not told its
// stage again.
func TestOverflowFrames(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	ts.online("regular", 1)
	console := &frameRecorder{}
	ts.svc.Broker().Subscribe(conversation.ShopTopic(ts.shop.ID), console)
	overflowFrames := func() int {
		console.mu.Lock()
		defer console.mu.Unlock()
		n := 0
		for _, f := range console.frames {
			if strings.Contains(string(f), `"type":"overflow"`) {
				n++
			}
		}
		return n
	}
	ts.writes("b1", kefu.Entry{})
	ts.writes("b2", kefu.Entry{})
	ts.clock.Advance(time.Second)
	ts.svc.Tick(ctx)
	if n := overflowFrames(); n != 0 {
		t.Fatalf("%d overflow frames from a shop without overflow settings", n)
	}
	ts.overflowSettings(func(o *kefu.OverflowSettings) { o.Policy.Backup.QueueLength = 1 })
	ts.clock.Advance(time.Second)
	ts.svc.Tick(ctx)
	if n := overflowFrames(); n != 1 {
		t.Fatalf("%d overflow frames in the tick the backup stage engaged, want 1", n)
	}
	ts.clock.Advance(time.Second)
	ts.svc.Tick(ctx)
	if n := overflowFrames(); n != 1 {
		t.Fatalf("%d overflow frames after a tick that changed nothing, want still 1", n)
	}

	b := ts.buyer("b3")
	c := send(t, ts.svc, ts.st, b, kefu.Entry{}) // "c1", as send always sends
	c = send(t, ts.svc, ts.st, b, kefu.Entry{})  // its retry
	lines := 0
	msgs, _, err := ts.st.Messages(ctx, ts.shop.ID, c.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Code == kefu.SystemOverflowBackup {
			lines++
		}
	}
	if lines != 1 {
		t.Fatalf("%d backup lines after a message and its retry, want 1", lines)
	}
}
