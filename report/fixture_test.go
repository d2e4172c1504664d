package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testclock"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/report"
	"github.com/kefu/kefu/store"
)

// fixture is a shop whose history the test writes through the real
// commands, on an injected clock, so its events are the ones kefu writes.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	svc   *conversation.Service
	clock *testclock.Clock
	shop  kefu.Shop
	a, b  kefu.Agent
	loc   *time.Location
	msgs  int // client message ids handed out
}

func (f *fixture) msgID() string {
	f.msgs++
	return fmt.Sprintf("m%d", f.msgs)
}

func (f *fixture) at(t time.Time) {
	f.t.Helper()
	d := t.Sub(f.clock.Now())
	if d < 0 {
		f.t.Fatalf("the clock cannot go back from %s to %s", f.clock.Now(), t)
	}
	f.clock.Advance(d)
}

func (f *fixture) buyer(ext string) kefu.Buyer {
	f.t.Helper()
	b, err := f.st.IdentifiedBuyer(f.ctx, f.shop.ID, ext, "", "买家"+ext)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// writes has the buyer send a message and returns its conversation.
func (f *fixture) writes(b kefu.Buyer, text string) int64 {
	f.t.Helper()
	m, _, err := f.svc.Send(f.ctx, conversation.BuyerActor(b), 0, f.msgID(), text)
	if err != nil {
		f.t.Fatal(err)
	}
	return m.ConversationID
}

func (f *fixture) replies(a kefu.Agent, conv int64) {
	f.t.Helper()
	if _, _, err := f.svc.Send(f.ctx, conversation.AgentActor(a), conv, f.msgID(), "亲，在的"); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) closes(a kefu.Agent, conv int64) {
	f.t.Helper()
	if _, err := f.svc.Close(f.ctx, conversation.AgentActor(a), conv); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) rates(b kefu.Buyer, conv int64, stars int) {
	f.t.Helper()
	if _, err := f.svc.Rate(f.ctx, conversation.BuyerActor(b), conv, stars, ""); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) order(no, ext string, cents int64, at time.Time) {
	f.t.Helper()
	_, _, err := f.st.UpsertOrder(f.ctx, f.shop.ID, kefu.OrderUpsert{Order: kefu.Order{OrderNo: no, Status: "paid",
		AmountCents: cents, Currency: "CNY", BuyerExternalID: ext, CreatedAt: at, StatusAt: at}, CreatedAtSet: true, StatusAtSet: true})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) holder(conv int64) int64 {
	f.t.Helper()
	c, err := f.st.Conversation(f.ctx, f.shop.ID, conv)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.AgentID
}

// The fixture's times, in UTC; the shop reports in Asia/Shanghai (+08:00),
// over 2026-11-10 and 2026-11-11 there: [2026-11-09 16:00Z, 2026-11-11 16:00Z).
var (
	s0 = time.Date(2026, 11, 9, 15, 59, 0, 0, time.UTC)   // 11-09 23:59 local: before the range
	t1 = time.Date(2026, 11, 10, 14, 0, 0, 0, time.UTC)   // 11-10 22:00
	t2 = time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)   // 11-10 23:00
	t3 = time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC)    // 11-11 10:00
	t4 = time.Date(2026, 11, 11, 15, 59, 50, 0, time.UTC) // 11-11 23:59:50
)

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// newFixture writes the fixture's history (see TestReportFixture for what
// each figure comes to).
func newFixture(t *testing.T, open func(testing.TB, func() time.Time) *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testclock.New(s0)
	st := open(t, clock.Now)
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "r", Name: "r", IdentitySecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	routing := shop.RoutingSettings
	routing.ReopenHours = 1
	if err := st.SetShopRouting(ctx, shop.ID, routing); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	f := &fixture{t: t, ctx: ctx, st: st, clock: clock, shop: shop, loc: loc}
	f.svc = conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
	f.svc.SetClock(clock.Now)
	agent := func(name string) kefu.Agent {
		a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: name, Name: name, Role: kefu.RoleAgent,
			PasswordHash: "-", MaxConcurrent: 2})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	f.a, f.b = agent("小王"), agent("小丽")

	// Before the range: u0 chats with A at 11-09 23:59 and orders at
	// 11-10 00:30: the order is in the range, its chat is not.
	f.svc.AgentConnected(ctx, f.a)
	u0 := f.writes(f.buyer("u0"), "在吗")
	f.at(s0.Add(sec(30)))
	f.replies(f.a, u0)
	f.at(s0.Add(sec(60)))
	f.closes(f.a, u0)
	f.order("O0", "u0", 8800, s0.Add(31*time.Minute))

	// u1 orders before any chat (silent), then chats across midnight
	// (replies after 30 s and 300 s), and orders again 2 h after.
	f.order("O1", "u1", 5000, t1)
	f.at(t2)
	b1 := f.writes(f.buyer("u1"), "什么时候发货")
	f.at(t2.Add(sec(30)))
	f.replies(f.a, b1)
	f.at(t2.Add(sec(130)))
	f.writes(f.buyer("u1"), "能快点吗")
	f.at(t2.Add(sec(430)))
	f.replies(f.a, b1)

	// u2 goes to B (A is busier), waits, is nudged at 100 s, B hands it to
	// A, who answers 240 s after the buyer wrote and closes it; u2 writes
	// again and the conversation reopens to A (a second stretch, answered
	// in 20 s); u2 orders an hour after the first message.
	f.at(t2.Add(sec(500)))
	f.svc.AgentConnected(ctx, f.b)
	f.at(t2.Add(sec(510)))
	b2 := f.writes(f.buyer("u2"), "尺码怎么选")
	if got := f.holder(b2); got != f.b.ID {
		t.Fatalf("u2 went to agent %d, want B %d", got, f.b.ID)
	}
	f.at(t2.Add(sec(610)))
	f.svc.Tick(ctx)
	f.at(t2.Add(sec(700)))
	if _, err := f.svc.Transfer(ctx, conversation.AgentActor(f.b), b2, kefu.Transfer{ToAgentID: f.a.ID}); err != nil {
		t.Fatal(err)
	}
	f.at(t2.Add(sec(750)))
	f.replies(f.a, b2)
	f.at(t2.Add(sec(800)))
	f.closes(f.a, b2)
	f.at(t2.Add(sec(900)))
	if again := f.writes(f.buyer("u2"), "还有一个问题"); again != b2 {
		t.Fatalf("u2's message opened conversation %d, not reopened %d", again, b2)
	}
	f.at(t2.Add(sec(920)))
	f.replies(f.a, b2)
	f.at(t2.Add(sec(1000)))
	f.closes(f.a, b2)
	f.rates(f.buyer("u2"), b2, 3) // the reopened stretch's rating
	f.order("O3", "u2", 20000, t2.Add(sec(3600)))

	// b1 closes at 11-11 00:10 local; u1's order of 01:00 is its conversion.
	f.at(t2.Add(sec(4200)))
	f.closes(f.a, b1)
	f.at(t2.Add(sec(4210)))
	f.rates(f.buyer("u1"), b1, 5)
	f.order("O2", "u1", 10000, t2.Add(2*time.Hour))

	// 11-11 10:00: B is away; A takes u3 and u4 (A's cap is 2); u5 waits,
	// closes the widget and is counted as having left the line; A answers
	// u3 after 10 s and closes it, which gives A u5 (waited 96 s), answered
	// 106 s after writing; u4 is never answered. u5 orders an hour later.
	f.at(t3.Add(-time.Minute))
	f.svc.SetPresence(ctx, f.b, kefu.PresenceAway)
	f.at(t3)
	b3 := f.writes(f.buyer("u3"), "有优惠券吗")
	f.at(t3.Add(sec(2)))
	b4 := f.writes(f.buyer("u4"), "开发票")
	f.at(t3.Add(sec(4)))
	u5 := f.buyer("u5")
	f.svc.BuyerConnected(u5)
	b5 := f.writes(u5, "在吗在吗")
	f.at(t3.Add(sec(5)))
	f.svc.BuyerDisconnected(u5)
	f.at(t3.Add(sec(10)))
	f.replies(f.a, b3)
	f.at(t3.Add(sec(70)))
	f.svc.Tick(ctx)
	f.at(t3.Add(sec(100)))
	f.closes(f.a, b3)
	f.rates(f.buyer("u3"), b3, 4)
	if got := f.holder(b5); got != f.a.ID {
		t.Fatalf("u5 is held by %d after A closed u3, want A %d", got, f.a.ID)
	}
	f.at(t3.Add(sec(110)))
	f.replies(f.a, b5)
	f.at(t3.Add(sec(200)))
	f.closes(f.a, b4)
	f.order("O5", "u5", 30000, t3.Add(time.Hour))
	f.order("O4", "u9", 6000, time.Date(2026, 11, 11, 5, 0, 0, 0, time.UTC)) // silent: u9 never chatted

	// The range's edges: u7 writes at 23:59:50 on its last day, u8 at
	// 00:00:05 of the next.
	f.at(t4)
	f.writes(f.buyer("u7"), "在吗")
	f.at(t4.Add(sec(15)))
	f.writes(f.buyer("u8"), "在吗")
	f.at(t4.Add(sec(60)))
	return f
}

func (f *fixture) report(t *testing.T, roller *report.Roller, q report.Query) report.Report {
	t.Helper()
	if _, err := roller.CatchUp(f.ctx); err != nil {
		t.Fatal(err)
	}
	in, err := report.Load(f.ctx, f.st, f.shop.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	return report.Compute(q, in)
}

func markMoved(err error) bool { return errors.Is(err, store.ErrReportMarkMoved) }

func fptr(x float64) *float64 { return &x }

func TestReportFixture(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB, func() time.Time) *store.Store
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		t.Run(db.name, func(t *testing.T) {
			f := newFixture(t, db.open)
			q := report.Query{From: time.Date(2026, 11, 10, 0, 0, 0, 0, f.loc), To: time.Date(2026, 11, 12, 0, 0, 0, 0, f.loc),
				Loc: f.loc, Now: f.clock.Now()}
			roller := report.NewRoller(f.st, nil, markMoved)
			r := f.report(t, roller, q)
			s := r.Summary

			checkInt := func(name string, got, want int) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			checkNum := func(name string, got *float64, want *float64) {
				t.Helper()
				switch {
				case got == nil && want == nil:
				case got == nil || want == nil:
					t.Errorf("%s = %v, want %v", name, show(got), show(want))
				case math.Abs(*got-*want) > 0.00005:
					t.Errorf("%s = %v, want %v", name, *got, *want)
				}
			}
			// Stretches in the range: u1; u2 and u2 again (reopened); u3, u4,
			// u5; u7. Not u0 (before) nor u8 (after).
			checkInt("conversations", s.Conversations, 7)
			checkInt("buyers", s.Buyers, 6)
			checkInt("buyer messages", s.BuyerMessages, 8)
			checkInt("agent messages", s.AgentMessages, 6)
			checkInt("messages", s.Messages, 14)
			checkInt("assistant only", s.AssistantOnly, 0)
			// First responses 30 (u1), 240 (u2), 20 (u2 again), 10 (u3); not
			// u5's, who had left the line when A answered after 106 s: mean
			// 75, nearest-rank median 20 and p90 240.
			checkInt("first responses", s.FirstResponse.Count, 4)
			checkNum("frt mean", s.FirstResponse.Mean, fptr(75))
			checkNum("frt median", s.FirstResponse.Median, fptr(20))
			checkNum("frt p90", s.FirstResponse.P90, fptr(240))
			// Every turn a person answered, but u5's: 30, 300, 240, 20, 10.
			checkNum("response mean", s.ResponseMean, fptr(120))
			// 3 of the 7 who waited for people were answered within 3 minutes.
			checkInt("waited", s.Waited, 7)
			checkInt("answered in 3m", s.AnsweredIn3m, 3)
			checkNum("3-minute rate", s.ResponseRate3m, fptr(3.0/7))
			// Queue waits: 0 for the six given to an agent but u5 (who left).
			checkInt("queue waits", s.QueueWait.Count, 6)
			checkNum("queue wait mean", s.QueueWait.Mean, fptr(0))
			checkNum("queue wait p90", s.QueueWait.P90, fptr(0))
			checkInt("abandoned", s.Abandoned, 1)
			checkNum("abandonment", s.AbandonmentRate, fptr(1.0/7))
			checkInt("transfers", s.Transfers, 1)
			checkInt("nudges", s.Nudges, 1)
			// Closed: u1 after 4200 s, u2 290 and 100, u3 100, u4 198.
			checkInt("resolved", s.Resolution.Count, 5)
			checkNum("resolution mean", s.Resolution.Mean, fptr(977.6))
			checkNum("resolution median", s.Resolution.Median, fptr(198))
			checkNum("resolution p90", s.Resolution.P90, fptr(4200))
			checkInt("csat eligible", s.CSAT.Eligible, 5) // the closed: u1, u2 twice, u3, u4
			// u1 gave 5 stars, u2 3 (to its reopened stretch), u3 4.
			checkInt("csat ratings", s.CSAT.Ratings, 3)
			checkNum("csat mean", s.CSAT.Mean, fptr(4))
			checkNum("csat response rate", s.CSAT.ResponseRate, fptr(0.6))
			if s.CSAT.Distribution != [5]int{0, 0, 1, 1, 1} {
				t.Errorf("csat distribution = %v", s.CSAT.Distribution)
			}
			// A person answered u1, u2, u3 and u5; u1 (O2), u2 (O3, to the
			// reopened stretch) and u5 (O5) ordered within 24 h.
			checkInt("inquiring", s.Conversion.InquiringBuyers, 4)
			checkInt("converted", s.Conversion.ConvertedBuyers, 3)
			checkNum("conversion", s.Conversion.Rate, fptr(0.75))
			checkInt("converted orders", s.Conversion.Orders, 3)
			if s.Conversion.RevenueCents != 60000 {
				t.Errorf("revenue = %d, want 60000", s.Conversion.RevenueCents)
			}
			// O0..O5 were placed in the range; O1 (before u1's chat) and O4
			// (u9) had no chat in the 24 h before them.
			checkInt("orders placed", r.OrdersPlaced, 6)
			if r.Silent == nil || r.Silent.Orders != 2 || r.Silent.RevenueCents != 11000 {
				t.Errorf("silent = %+v, want 2 orders of 11000", r.Silent)
			} else {
				checkNum("silent share", r.Silent.Share, fptr(2.0/6))
			}
			if len(r.Days) != 2 || r.Days[0].Date != "2026-11-10" || r.Days[1].Date != "2026-11-11" {
				t.Fatalf("days = %+v", r.Days)
			}
			checkInt("11-10 conversations", r.Days[0].Conversations, 3)
			checkInt("11-11 conversations", r.Days[1].Conversations, 4)
			checkInt("11-10 silent orders", r.Days[0].SilentOrders, 1)
			checkInt("11-11 silent orders", r.Days[1].SilentOrders, 1)
			checkInt("11-11 converted", r.Days[1].Conversion.ConvertedBuyers, 1)
			checkInt("hour 23", r.Hours[23].Conversations, 4)
			checkInt("hour 10", r.Hours[10].Conversations, 3)
			// 2026-11-10 is a Tuesday (row 1), 11-11 a Wednesday (row 2).
			checkInt("Tue 23h", r.Heatmap[1][23], 3)
			checkInt("Wed 10h", r.Heatmap[2][10], 3)
			checkInt("Wed 23h", r.Heatmap[2][23], 1)
			wantBuckets := []int{0, 2, 1, 0, 1, 0, 0} // 10 and 20 | 30 | 240
			for i, b := range r.FirstResponse {
				checkInt("frt bucket "+b.Label, b.Count, wantBuckets[i])
			}

			if len(r.Agents) != 2 {
				t.Fatalf("agents = %+v", r.Agents)
			}
			a, b := r.Agents[0], r.Agents[1]
			if a.AgentID != f.a.ID || b.AgentID != f.b.ID {
				t.Fatalf("agent rows %d, %d; want A %d then B %d", a.AgentID, b.AgentID, f.a.ID, f.b.ID)
			}
			checkInt("A conversations", a.Conversations, 7)
			checkInt("A converted", a.Conversion.ConvertedBuyers, 3)
			if a.Conversion.RevenueCents != 60000 || a.Name != "小王" {
				t.Errorf("A = %s with revenue %d", a.Name, a.Conversion.RevenueCents)
			}
			// A is online the whole 48 h; B from 11-10 15:08:20Z until away
			// at 11-11 01:59Z, then away to the range's end.
			if a.OnlineSeconds != 48*3600 || a.AwaySeconds != 0 {
				t.Errorf("A online %d away %d", a.OnlineSeconds, a.AwaySeconds)
			}
			if b.OnlineSeconds != 39040 || b.AwaySeconds != 50460 {
				t.Errorf("B online %d away %d, want 39040 and 50460", b.OnlineSeconds, b.AwaySeconds)
			}
			checkInt("B conversations", b.Conversations, 0)
			// A holds u4 and u5 at once (10:00:04 to 10:01:40), and u7 with u5.
			checkInt("A peak", a.ConcurrentPeak, 2)

			// A group filter of the whole shop's group, an agent filter.
			qb := q
			qb.AgentID = f.b.ID
			if rb := f.report(t, roller, qb); rb.Summary.Conversations != 0 || rb.Silent != nil || len(rb.Agents) != 1 {
				t.Errorf("B's report: %d conversations, silent %v, %d agent rows", rb.Summary.Conversations, rb.Silent, len(rb.Agents))
			}

			// The roll-up rebuilt from the log, and folded one event per
			// transaction, gives the same report.
			want, _ := json.Marshal(r)
			if _, err := roller.Rebuild(f.ctx); err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(f.report(t, roller, q)); string(got) != string(want) {
				t.Errorf("rebuilt:\n%s\nwant\n%s", got, want)
			}
			one := report.NewRoller(f.st, nil, markMoved)
			one.SetBatch(1)
			if _, err := one.Rebuild(f.ctx); err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(f.report(t, one, q)); string(got) != string(want) {
				t.Errorf("folded one event at a time:\n%s\nwant\n%s", got, want)
			}
			if !reflect.DeepEqual(r.Hours, f.report(t, one, q).Hours) {
				t.Error("hours differ")
			}
		})
	}
}

func show(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
