package history

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/kefu/kefu"
)

// slowReply is when kefu nudges an agent (the shop's slow_reply_seconds).
const slowReply = kefu.DefaultSlowReplySeconds * time.Second

// Generate makes the history Params describe. It is deterministic: the
// same Params give the same History.
//
// It runs the shop as a simulation: buyers arrive by weekday and hour in
// the shop's time zone, wait in one line, and are served by the agents
// online then, each up to their cap; the line's length drives the overflow
// stages. What each conversation went through is then written out as the
// rows and events the live code writes for it.
func Generate(p Params) History {
	g := newGen(p)
	g.planShifts()
	g.planArrivals()
	g.planSilentOrders()
	g.run()
	return g.finish()
}

type gen struct {
	p        Params
	r        *rand.Rand
	loc      *time.Location
	end      time.Time
	agents   []*agentState
	rules    map[string]Rule
	events   eventQueue
	queue    []*conv // waiting for a person, oldest first
	left     []*conv // left messages (留言): answered after the live line
	convs    []*conv
	buyers   []*buyerState
	orders   []*orderState
	stage    int
	stageAt  time.Time
	surgeOn  bool
	out      []Event
	eventSeq int
	daySeqs  map[string]int // order numbers per day
	names    map[string]int // how often a buyer name was given
}

type agentState struct {
	Agent
	presence     kefu.Presence
	leaving      bool // their shift ended: they finish what they hold, then go
	active       int
	lastAssigned time.Time
}

type buyerState struct {
	local      int64
	name       string
	externalID string
	visitorID  string
	busy       bool // has an open conversation (or one that may reopen)
	silent     bool // orders, never chats
	used       bool
	local2     int64 // the id after sorting
}

type orderState struct {
	buyer   *buyerState
	no      string
	at      time.Time
	items   []kefu.OrderItem
	amount  int64
	history []kefu.OrderStatusChange
	track   string
	local   int64
}

// holding is who held a conversation from when.
type holding struct {
	agent *agentState
	from  time.Time
}

// step is a planned message of a served conversation (sender buyer or
// agent; a transfer as a step of its own).
type step struct {
	at       time.Time
	sender   kefu.SenderKind
	text     string
	transfer bool
	note     string
}

type conv struct {
	buyer      *buyerState
	topic      *topic
	groupID    int64
	arrival    time.Time
	order      *orderState // the order an after-sales buyer asks about
	botAlone   bool
	handedOver time.Time   // when a buyer the assistant answered first asked for a person
	closer     *agentState // who closed a conversation nobody took (nil: kefu)
	busyPos    int         // the line's length the buyer joined (0: not told busy)
	noneOnline bool
	stage      int  // the overflow stage when the buyer arrived
	left       bool // kept as a left message (the leave_message stage and above)
	holders    []holding
	transferTo *agentState
	transferAt time.Time
	plan       []step
	abandoned  time.Time
	closedAt   time.Time
	closed     bool
	reopenAt   time.Time
	reopened   bool
	plan2      []step
	closed2At  time.Time
	closed2    bool
	rated      int
	comment    bool
}

func newGen(p Params) *gen {
	if p.ConversationsPerDay <= 0 {
		p.ConversationsPerDay = 150
	}
	if p.SilentOrdersPerDay <= 0 {
		p.SilentOrdersPerDay = p.ConversationsPerDay / 4
	}
	if p.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		p.Location = loc
	}
	if p.BuyerPrefix == "" {
		p.BuyerPrefix = "h"
	}
	if len(p.BuyerNames) == 0 {
		p.BuyerNames = defaultBuyerNames
	}
	if p.Overflow == [4]int{} {
		p.Overflow = [4]int{10, 25, 50, 100}
	}
	if p.Cap <= 0 {
		p.Cap = kefu.DefaultAgentCap
	}
	if p.SurgeDate.IsZero() && !p.NoSurge {
		d := p.End.Add(-7 * 24 * time.Hour)
		if d.After(p.Start.Add(24 * time.Hour)) {
			p.SurgeDate = d
		} else {
			p.NoSurge = true
		}
	}
	days := int(p.End.Sub(p.Start).Hours()/24) + 1
	g := &gen{p: p, r: rand.New(rand.NewPCG(p.Seed, p.Seed^0x6b656675)), loc: p.Location, end: p.End,
		out:   make([]Event, 0, days*p.ConversationsPerDay*18),
		rules: map[string]Rule{}, daySeqs: map[string]int{}, names: map[string]int{}, stageAt: p.Start}
	for _, a := range p.Agents {
		if a.Conversion <= 0 {
			a.Conversion = 0.45
		}
		g.agents = append(g.agents, &agentState{Agent: a, presence: kefu.PresenceOffline})
	}
	if p.Assistant != nil {
		for _, r := range p.Assistant.Rules {
			g.rules[r.Topic] = r
		}
	}
	return g
}

// The simulation's events, in time order (ties in the order they were planned).
type simKind int

const (
	simArrive simKind = iota
	simPresence
	simShiftEnd
	simOffline
	simTransfer
	simClose
	simReopen
	simClose2
	simSurge
	simHandover
)

type simEvent struct {
	at       time.Time
	n        int
	kind     simKind
	conv     *conv
	agent    *agentState
	presence kefu.Presence
	on       bool
}

type eventQueue []*simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].n < q[j].n
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (g *gen) schedule(e *simEvent) {
	if !e.at.Before(g.end) || e.at.Before(g.p.Start) {
		return
	}
	g.eventSeq++
	e.n = g.eventSeq
	heap.Push(&g.events, e)
}

// days calls f with the local midnight of every day the history touches.
func (g *gen) days(f func(day time.Time)) {
	s := g.p.Start.In(g.loc)
	day := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, g.loc)
	for day.Before(g.end) {
		f(day)
		day = day.AddDate(0, 0, 1)
	}
}

func (g *gen) isSurgeDay(day time.Time) bool {
	if g.p.NoSurge {
		return false
	}
	s := g.p.SurgeDate.In(g.loc)
	return day.Year() == s.Year() && day.YearDay() == s.YearDay()
}

// jitter is up to d either way.
func (g *gen) jitter(d time.Duration) time.Duration {
	return time.Duration((g.r.Float64()*2 - 1) * float64(d))
}

// between is a random duration in [lo, hi).
func (g *gen) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.r.Float64()*float64(hi-lo))
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// planShifts schedules every agent's shifts: an early and a late shift
// (and a middle one with more agents) with a break, the backup team only
// on the surge evening; with four or more regular agents each has a day off
// a week.
func (g *gen) planShifts() {
	type shift struct{ on, breakOn, breakOff, off time.Duration }
	h := func(hh, mm int) time.Duration { return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute }
	templates := []shift{
		{h(8, 30), h(12, 30), h(13, 10), h(18, 15)},
		{h(12, 15), h(17, 0), h(17, 40), h(24, 30)},
		{h(10, 0), h(15, 0), h(15, 30), h(20, 30)},
	}
	regular := 0
	for _, a := range g.agents {
		if !a.Backup {
			regular++
		}
	}
	g.days(func(day time.Time) {
		i := 0
		for _, a := range g.agents {
			if a.Backup {
				if g.isSurgeDay(day) {
					g.shift(a, day.Add(h(19, 0)+g.jitter(10*time.Minute)), time.Time{}, time.Time{}, day.Add(h(25, 0)+g.jitter(10*time.Minute)))
				}
				continue
			}
			idx := i
			i++
			if regular >= 4 && int(day.Weekday()) == (idx*3)%7 {
				continue
			}
			t := templates[idx%len(templates)]
			j := 10 * time.Minute
			g.shift(a, day.Add(t.on+g.jitter(j)), day.Add(t.breakOn+g.jitter(j)), day.Add(t.breakOff+g.jitter(j)), day.Add(t.off+g.jitter(j)))
		}
		if g.isSurgeDay(day) {
			g.schedule(&simEvent{at: day.Add(h(19, 30)), kind: simSurge, on: true})
			g.schedule(&simEvent{at: day.Add(h(25, 0)), kind: simSurge, on: false})
		}
	})
}

func (g *gen) shift(a *agentState, on, breakOn, breakOff, off time.Time) {
	if on.Before(g.p.Start) {
		on = g.p.Start // on shift when the history starts
	}
	g.schedule(&simEvent{at: on, kind: simPresence, agent: a, presence: kefu.PresenceOnline})
	if !breakOn.IsZero() {
		g.schedule(&simEvent{at: breakOn, kind: simPresence, agent: a, presence: kefu.PresenceAway})
		g.schedule(&simEvent{at: breakOff, kind: simPresence, agent: a, presence: kefu.PresenceOnline})
	}
	g.schedule(&simEvent{at: off, kind: simShiftEnd, agent: a})
}

// hourWeights are how busy each hour of the day is (China time): quiet at
// night, peaks late morning, afternoon and evening.
var hourWeights = [24]float64{0.6, 0.3, 0.15, 0.1, 0.08, 0.08, 0.15, 0.35, 0.8, 1.5, 2.6, 2.7, 1.7, 1.8, 2.5, 2.6, 2.4, 1.8, 1.5, 1.9, 2.6, 2.9, 2.7, 1.6}

// dayWeights are the hours' weights of a day: weekends are busier in the
// evening and slower in the morning; the surge day peaks around midnight's
// start of the sale and in the evening.
func (g *gen) dayWeights(day time.Time) (w [24]float64, factor float64) {
	w = hourWeights
	factor = 0.9 + g.r.Float64()*0.2
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		factor *= 1.15
		for hh := range w {
			switch {
			case hh >= 19:
				w[hh] *= 1.5
			case hh >= 8 && hh < 12:
				w[hh] *= 0.75
			}
		}
	}
	if g.isSurgeDay(day) {
		factor *= 5
		for hh := range w {
			switch {
			case hh == 20 || hh == 21: // the sale's evening rush
				w[hh] *= 12
			case hh >= 22 || hh == 0:
				w[hh] *= 3
			}
		}
	}
	return w, factor
}

// poisson draws a Poisson count of mean m.
func (g *gen) poisson(m float64) int {
	if m <= 0 {
		return 0
	}
	if m > 30 {
		return max(0, int(math.Round(m+g.r.NormFloat64()*math.Sqrt(m))))
	}
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// spread calls f with n times per hour of each day, by the day's weights.
func (g *gen) spread(perDay int, f func(at time.Time)) {
	g.days(func(day time.Time) {
		w, factor := g.dayWeights(day)
		var sum float64
		for _, x := range w {
			sum += x
		}
		for hh := 0; hh < 24; hh++ {
			n := g.poisson(float64(perDay) * factor * w[hh] / sum)
			start := day.Add(time.Duration(hh) * time.Hour)
			for range n {
				at := start.Add(time.Duration(g.r.Int64N(int64(time.Hour))))
				if at.Before(g.p.Start) || !at.Before(g.end) {
					continue
				}
				f(at.UTC().Truncate(time.Microsecond))
			}
		}
	})
}

// planArrivals schedules the buyers' arrivals; the last ones leave time
// to be served before End.
func (g *gen) planArrivals() {
	last := g.end.Add(-90 * time.Minute)
	g.spread(g.p.ConversationsPerDay, func(at time.Time) {
		if at.Before(last) && at.After(g.p.Start.Add(time.Second)) {
			g.schedule(&simEvent{at: at, kind: simArrive})
		}
	})
}

// planSilentOrders makes the orders of buyers who never chat (静默下单).
func (g *gen) planSilentOrders() {
	var silent []*buyerState
	var ats []time.Time
	g.spread(g.p.SilentOrdersPerDay, func(at time.Time) { ats = append(ats, at) })
	slices.SortFunc(ats, func(a, b time.Time) int { return a.Compare(b) })
	for _, at := range ats {
		var b *buyerState
		if len(silent) > 0 && g.r.Float64() < 0.25 {
			b = silent[g.r.IntN(len(silent))]
		} else {
			b = g.newBuyer(true)
			b.silent = true
			silent = append(silent, b)
		}
		g.newOrder(b, at)
	}
}

func (g *gen) newBuyer(identified bool) *buyerState {
	n := int64(len(g.buyers) + 1)
	name := g.pick(g.p.BuyerNames)
	if k := g.names[name]; k > 0 {
		g.names[name] = k + 1
		name = fmt.Sprintf("%s%d", name, k+1)
	} else {
		g.names[name] = 1
	}
	b := &buyerState{local: n, name: name}
	if identified {
		b.externalID = fmt.Sprintf("%s%06d", g.p.BuyerPrefix, n)
	} else {
		b.visitorID = fmt.Sprintf("v-%s-%08x-%06d", g.p.BuyerPrefix, g.r.Uint32(), n)
		b.name = "访客" + b.visitorID[len(b.visitorID)-4:]
	}
	g.buyers = append(g.buyers, b)
	return b
}

// newOrder makes an order of buyer at `at`: paid, then shipped, delivered
// and completed as time passes (as far as End).
func (g *gen) newOrder(b *buyerState, at time.Time) *orderState {
	date := at.In(g.loc).Format("20060102")
	g.daySeqs[date]++
	o := &orderState{buyer: b, at: at, no: fmt.Sprintf("%s%05d", date, 60000+g.daySeqs[date])}
	for range 1 + g.r.IntN(3) {
		p := catalog[g.r.IntN(len(catalog))]
		q := 1
		if p.cents < 10000 && g.r.Float64() < 0.3 {
			q = 2
		}
		if o.amount+p.cents*int64(q) > 80000 {
			break
		}
		o.items = append(o.items, kefu.OrderItem{Title: p.title, SKU: p.sku, Quantity: q, PriceCents: p.cents})
		o.amount += p.cents * int64(q)
	}
	o.history = []kefu.OrderStatusChange{{Status: "paid", At: at}}
	next := at
	for _, s := range []struct {
		status   string
		lo, hi   time.Duration
		tracking bool
	}{{"shipped", 4 * time.Hour, 30 * time.Hour, true}, {"delivered", 40 * time.Hour, 80 * time.Hour, false}, {"completed", 4 * 24 * time.Hour, 7 * 24 * time.Hour, false}} {
		next = next.Add(g.between(s.lo, s.hi)).Truncate(time.Microsecond)
		if !next.Before(g.end) {
			break
		}
		o.history = append(o.history, kefu.OrderStatusChange{Status: s.status, At: next})
		if s.tracking {
			o.track = fmt.Sprintf("ZTO%012d", g.r.Int64N(1e12))
		}
	}
	b.used = true
	g.orders = append(g.orders, o)
	return o
}

// statusAt is the order's status at t.
func (o *orderState) statusAt(t time.Time) string {
	s := o.history[0].Status
	for _, h := range o.history {
		if !h.At.After(t) {
			s = h.Status
		}
	}
	return s
}

func (g *gen) surgeCap() int {
	if g.surgeOn {
		return g.p.Cap + 2
	}
	return g.p.Cap
}

// run plays the shop's weeks out.
func (g *gen) run() {
	for g.events.Len() > 0 {
		e := heap.Pop(&g.events).(*simEvent)
		t := e.at
		switch e.kind {
		case simArrive:
			g.arrive(t)
		case simPresence:
			a := e.agent
			if a.leaving && e.presence == kefu.PresenceOnline {
				break // the shift is over
			}
			if a.presence != e.presence {
				a.presence = e.presence
				g.presenceEvent(t, a, e.presence, kefu.ActorRef{Kind: kefu.SenderAgent, ID: a.ID})
			}
		case simShiftEnd:
			a := e.agent
			if a.presence == kefu.PresenceOffline {
				break
			}
			if a.active == 0 {
				g.schedule(&simEvent{at: t.Add(30 * time.Second), kind: simOffline, agent: a})
				a.leaving = true
				break
			}
			a.leaving = true
			if a.presence != kefu.PresenceAway {
				a.presence = kefu.PresenceAway
				g.presenceEvent(t, a, kefu.PresenceAway, kefu.ActorRef{Kind: kefu.SenderAgent, ID: a.ID})
			}
		case simOffline:
			a := e.agent
			if a.leaving && a.active == 0 && a.presence != kefu.PresenceOffline {
				a.presence, a.leaving = kefu.PresenceOffline, false
				g.presenceEvent(t, a, kefu.PresenceOffline, kefu.SystemActor)
			}
		case simTransfer:
			g.transfer(t, e.conv)
		case simClose:
			g.close(t, e.conv)
		case simReopen:
			g.reopen(t, e.conv)
		case simClose2:
			c := e.conv
			c.closed2, c.buyer.busy = true, false
			g.release(t, c.holders[len(c.holders)-1].agent)
		case simHandover:
			g.queue = append(g.queue, e.conv)
		case simSurge:
			g.surgeOn = e.on
			typ := kefu.EventSurgeEnded
			if e.on {
				typ = kefu.EventSurgeStarted
			}
			g.emit(t, kefu.Event{Type: typ, Actor: kefu.SystemActor}, "")
		}
		g.dispatch(t)
		g.overflow(t)
	}
	g.closeOut()
}

// closeOut ends the history as a server starting at End finds the shop:
// nobody online, the overflow stage normal (what is still waiting then is
// left out of the history).
func (g *gen) closeOut() {
	t := g.end.Add(-time.Microsecond)
	for _, a := range g.agents {
		if a.presence != kefu.PresenceOffline {
			a.presence = kefu.PresenceOffline
			g.presenceEvent(t, a, kefu.PresenceOffline, kefu.SystemActor)
		}
	}
	if g.stage != 0 {
		g.emit(t, kefu.Event{Type: kefu.EventOverflowStage, Actor: kefu.SystemActor, Data: kefu.EventData{Stage: kefu.StageNormal,
			FromStage: kefu.OverflowStages[g.stage]}}, "")
		g.stage = 0
	}
}

func (g *gen) presenceEvent(t time.Time, a *agentState, p kefu.Presence, by kefu.ActorRef) {
	g.emit(t, kefu.Event{Type: kefu.EventPresence, Actor: by, AgentID: a.ID, Data: kefu.EventData{Presence: p}}, "")
}

// emit adds an event to the log; data, if not "", is its JSON instead of e.Data's.
func (g *gen) emit(t time.Time, e kefu.Event, data string) {
	e.ShopID = g.p.ShopID
	e.CreatedAt = t.UTC().Truncate(time.Microsecond)
	switch {
	case data != "":
	case e.Type == kefu.EventMessage:
		data = "{}"
	default:
		b, _ := json.Marshal(e.Data) // plain fields always marshal
		data = string(b)
	}
	g.out = append(g.out, Event{Event: e, DataJSON: data})
}

// release frees a slot of a; one whose shift ended leaves once free.
func (g *gen) release(t time.Time, a *agentState) {
	a.active--
	if a.leaving && a.active == 0 {
		g.schedule(&simEvent{at: t.Add(g.between(30*time.Second, 90*time.Second)), kind: simOffline, agent: a})
	}
}

// arrive is a buyer's first message reaching routing at t: their
// conversation started (queued, the welcome, their message) a moment before.
func (g *gen) arrive(t time.Time) {
	c := &conv{arrival: t.Add(-300 * time.Millisecond)}
	// After-sales: a buyer asking about an order placed a while ago.
	if g.r.Float64() < 0.3 {
		for range 6 {
			if len(g.orders) == 0 {
				break
			}
			o := g.orders[g.r.IntN(len(g.orders))]
			if o.buyer.busy || !o.at.Before(t.Add(-6*time.Hour)) || o.buyer.externalID == "" {
				continue
			}
			c.order, c.buyer = o, o.buyer
			break
		}
	}
	if c.order != nil {
		c.topic = g.topicWhere(true)
	} else {
		c.topic = g.topicWhere(false)
		var b *buyerState
		if len(g.buyers) > 0 && g.r.Float64() < 0.25 {
			for range 4 {
				cand := g.buyers[g.r.IntN(len(g.buyers))]
				if !cand.busy && !cand.silent {
					b = cand
					break
				}
			}
		}
		if b == nil {
			b = g.newBuyer(g.r.Float64() < 0.8)
		}
		c.buyer = b
	}
	c.buyer.busy, c.buyer.used = true, true
	c.stage = g.stage
	for _, gr := range g.p.Groups {
		if (c.order != nil && gr.Scope == kefu.ScopeAfterSales) || (c.order == nil && gr.Scope == kefu.ScopePreSales) {
			c.groupID = gr.ID
		}
	}
	g.convs = append(g.convs, c)
	// In the bot_first stage the assistant answers first, and many buyers
	// need nobody else.
	if _, ok := g.rules[c.topic.name]; ok && g.stage >= 2 {
		if g.r.Float64() < 0.6 {
			c.botAlone = true
			g.schedule(&simEvent{at: t.Add(g.between(3*time.Minute, 8*time.Minute)), kind: simClose, conv: c})
			return
		}
		// The rest ask for a person (转人工) and join the line then.
		c.handedOver = t.Add(g.between(15*time.Second, 60*time.Second)).Truncate(time.Microsecond)
		g.schedule(&simEvent{at: c.handedOver, kind: simHandover, conv: c})
		return
	}
	if g.stage >= 3 {
		c.left = true
		g.left = append(g.left, c)
		return
	}
	g.queue = append(g.queue, c)
	online, room := false, false
	for _, a := range g.agents {
		if g.routable(a) {
			online = true
			room = room || a.active < g.surgeCap()
		}
	}
	if !online {
		c.noneOnline = true
	} else if !room {
		c.busyPos = len(g.queue)
	}
}

// topicWhere picks a topic, after-sales or not.
func (g *gen) topicWhere(afterSales bool) *topic {
	for {
		tp := &topics[g.r.IntN(len(topics))]
		if tp.afterSales == afterSales || (!afterSales && g.r.Float64() < 0.1) {
			return tp
		}
	}
}

// routable reports whether routing may give a a conversation now.
func (g *gen) routable(a *agentState) bool {
	return a.presence == kefu.PresenceOnline && !a.leaving && (!a.Backup || g.stage >= 1)
}

// dispatch gives waiting conversations, oldest first and left messages
// last, to the routable agents with room, the least busy first.
func (g *gen) dispatch(t time.Time) {
	for len(g.queue) > 0 || len(g.left) > 0 {
		line := &g.queue
		if len(g.queue) == 0 {
			line = &g.left
		}
		c := (*line)[0]
		var best *agentState
		for _, a := range g.agents {
			if !g.routable(a) || a.active >= g.surgeCap() || (c.groupID != 0 && a.GroupID != 0 && a.GroupID != c.groupID && !a.Backup) {
				continue
			}
			if best == nil || a.active < best.active || (a.active == best.active && a.lastAssigned.Before(best.lastAssigned)) {
				best = a
			}
		}
		if best == nil {
			return
		}
		*line = (*line)[1:]
		g.assign(t, c, best)
	}
}

// replyDelay is how long an agent takes to answer: mostly seconds, now and
// then minutes.
func (g *gen) replyDelay(first bool) time.Duration {
	x := g.r.Float64()
	switch {
	case x < 0.88:
		y := g.r.Float64()
		return 5*time.Second + time.Duration(y*y*float64(55*time.Second))
	case x < 0.97 || !first:
		return g.between(60*time.Second, 180*time.Second)
	default:
		return g.between(180*time.Second, 420*time.Second)
	}
}

func (g *gen) assign(t time.Time, c *conv, a *agentState) {
	a.active++
	a.lastAssigned = t
	c.holders = append(c.holders, holding{agent: a, from: t})
	joined := c.arrival
	if !c.handedOver.IsZero() {
		joined = c.handedOver
	}
	wait := t.Sub(joined)
	if wait > 90*time.Second && g.r.Float64() < 0.5 {
		c.abandoned = joined.Add(60*time.Second + g.between(0, min(wait-61*time.Second, 10*time.Minute))).Truncate(time.Microsecond)
	}
	tp := c.topic
	at := t.Add(g.replyDelay(true))
	answer := g.pick(tp.answers)
	if wait > 5*time.Minute {
		answer = g.pick(apologies) + answer
	}
	c.plan = []step{{at: at, sender: kefu.SenderAgent, text: answer}}
	rounds := g.r.IntN(4)
	if !c.abandoned.IsZero() && g.r.Float64() < 0.6 {
		rounds = 0 // they left: the answer waits for them
	}
	transferRound := -1
	if rounds >= 1 && g.r.Float64() < 0.06 {
		transferRound = g.r.IntN(rounds)
	}
	for i := range rounds {
		at = at.Add(g.between(15*time.Second, 150*time.Second))
		k := g.r.IntN(len(tp.followUps))
		c.plan = append(c.plan, step{at: at, sender: kefu.SenderBuyer, text: tp.followUps[k]})
		if i == transferRound {
			at = at.Add(g.between(5*time.Second, 40*time.Second))
			c.plan = append(c.plan, step{at: at, transfer: true, note: g.pick(transferNotes)})
			c.transferAt = at
			g.schedule(&simEvent{at: at, kind: simTransfer, conv: c})
		}
		at = at.Add(g.replyDelay(false))
		c.plan = append(c.plan, step{at: at, sender: kefu.SenderAgent, text: tp.replies[k]})
	}
	if rounds > 0 && g.r.Float64() < 0.5 {
		at = at.Add(g.between(10*time.Second, 90*time.Second))
		c.plan = append(c.plan, step{at: at, sender: kefu.SenderBuyer, text: g.pick(thanks)})
	}
	g.schedule(&simEvent{at: at.Add(g.between(30*time.Second, 300*time.Second)), kind: simClose, conv: c})
}

func (g *gen) transfer(t time.Time, c *conv) {
	from := c.holders[len(c.holders)-1].agent
	var to *agentState
	for _, a := range g.agents {
		if a != from && g.routable(a) && a.active < g.surgeCap() && (to == nil || a.active < to.active) {
			to = a
		}
	}
	if to == nil {
		return // nobody free: the agent keeps it
	}
	to.active++
	to.lastAssigned = t
	c.transferTo = to
	c.holders = append(c.holders, holding{agent: to, from: t})
	g.release(t, from)
}

func (g *gen) close(t time.Time, c *conv) {
	c.closed, c.closedAt = true, t
	if c.botAlone {
		// An agent clearing the line closes it without taking it.
		for _, a := range g.agents {
			if a.presence == kefu.PresenceOnline && (c.closer == nil || a.active < c.closer.active) {
				c.closer = a
			}
		}
		c.buyer.busy = false
		return
	}
	holder := c.holders[len(c.holders)-1].agent
	g.release(t, holder)
	if g.r.Float64() < 0.6 {
		c.rated = rateStars(g.r.Float64())
		c.comment = g.r.Float64() < 0.25
	}
	if c.order == nil && c.buyer.externalID != "" && g.r.Float64() < holder.Conversion {
		delay := time.Duration(g.r.ExpFloat64() * float64(100*time.Minute))
		at := t.Add(2*time.Minute + min(delay, 23*time.Hour+50*time.Minute)).Truncate(time.Microsecond)
		if at.Before(g.end) {
			g.newOrder(c.buyer, at)
		}
	}
	if g.r.Float64() < 0.03 {
		c.reopenAt = t.Add(g.between(5*time.Minute, 40*time.Minute))
		if c.reopenAt.Before(g.end.Add(-time.Hour)) {
			g.schedule(&simEvent{at: c.reopenAt, kind: simReopen, conv: c})
			return // the buyer may write again: no new conversation meanwhile
		}
	}
	c.buyer.busy = false
}

// rateStars is a CSAT rating, mostly 4 and 5.
func rateStars(x float64) int {
	switch {
	case x < 0.62:
		return 5
	case x < 0.85:
		return 4
	case x < 0.93:
		return 3
	case x < 0.97:
		return 2
	}
	return 1
}

func (g *gen) reopen(t time.Time, c *conv) {
	a := c.holders[len(c.holders)-1].agent
	if a.presence != kefu.PresenceOnline || a.leaving || a.active >= g.surgeCap() {
		c.buyer.busy = false
		return
	}
	a.active++
	c.reopened = true
	c.holders = append(c.holders, holding{agent: a, from: t})
	at := t.Add(300 * time.Millisecond)
	c.plan2 = []step{{at: at, sender: kefu.SenderBuyer, text: "还有个问题，" + g.pick(c.topic.followUps)}}
	at = at.Add(g.replyDelay(false))
	c.plan2 = append(c.plan2, step{at: at, sender: kefu.SenderAgent, text: g.pick(c.topic.replies)})
	c.closed2At = at.Add(g.between(60*time.Second, 240*time.Second))
	g.schedule(&simEvent{at: c.closed2At, kind: simClose2, conv: c})
}

// overflow moves the shop's overflow stage with the line: up at once, down
// when the line is below StageExitPercent of the stage's trigger and the
// stage was held 30 s.
func (g *gen) overflow(t time.Time) {
	waiting := len(g.queue)
	up := 0
	for k, n := range g.p.Overflow {
		if n > 0 && waiting >= n {
			up = k + 1
		}
	}
	next := g.stage
	switch {
	case up > g.stage:
		next = up
	case up < g.stage && t.Sub(g.stageAt) >= 30*time.Second:
		next = 0
		for k, n := range g.p.Overflow {
			if n > 0 && waiting*100 >= n*kefu.StageExitPercent {
				next = k + 1
			}
		}
		next = min(next, g.stage)
	}
	if next == g.stage {
		return
	}
	from := kefu.OverflowStages[g.stage]
	g.stage, g.stageAt = next, t
	g.emit(t, kefu.Event{Type: kefu.EventOverflowStage, Actor: kefu.SystemActor, Data: kefu.EventData{Stage: kefu.OverflowStages[next],
		FromStage: from, Waiting: waiting, WaitSeconds: waiting * 60 / max(1, g.online())}}, "")
}

func (g *gen) online() int {
	n := 0
	for _, a := range g.agents {
		if g.routable(a) {
			n++
		}
	}
	return n
}

// fill replaces the variables of an assistant's text.
func (g *gen) fill(s string, b *buyerState) string {
	name := ""
	if b.externalID != "" {
		name = b.name
	}
	return strings.NewReplacer("{shop.name}", g.p.ShopName, "{buyer.name}", name).Replace(s)
}

// etaText is how the busy reply words a wait.
func etaText(d time.Duration) string {
	if d < time.Minute {
		return "1 分钟内"
	}
	return fmt.Sprintf("约 %d 分钟", int(d.Minutes()+0.5))
}
