package report

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/kefu/kefu"
)

// DefaultWindow is how long after a chat an order still counts as its
// conversion (询单转化率).
const DefaultWindow = 24 * time.Hour

// Query is what a report covers: the shop's whole days from From up to To
// (exclusive) in Loc, optionally one group's or one agent's stretches.
type Query struct {
	From, To time.Time // midnights in Loc
	Loc      *time.Location
	GroupID  int64 // 0: every group
	AgentID  int64 // 0: every agent
	Window   time.Duration
	Now      time.Time // spans that still hold end here
}

// Input is what a report is computed from (store: ReportSessions,
// ReportSpans, ReportOrders, and the shop's agents and groups by name).
type Input struct {
	// Sessions started in [From−Window, To+Window): those outside the
	// range only say which chat an order near its edges counts for.
	Sessions []kefu.ReportSession
	Spans    []kefu.ReportSpan    // overlapping [From, To)
	Orders   []kefu.ReportOrder   // placed in [From−Window, To+Window)
	Agents   map[int64]string     // names by id
	Groups   map[int64]string     // names by id
	Live     *Live                // the live board, when asked for
	Stages   []kefu.OverflowStage // the order stages are listed in
}

// Stat is a distribution of durations in seconds: nil figures when Count is 0.
type Stat struct {
	Count  int      `json:"count"`
	Mean   *float64 `json:"mean_seconds"`
	Median *float64 `json:"median_seconds"`
	P90    *float64 `json:"p90_seconds"`
}

// CSAT sums the buyers' ratings.
type CSAT struct {
	Ratings      int      `json:"ratings"`
	Mean         *float64 `json:"mean"`
	Distribution [5]int   `json:"distribution"` // ratings of 1, 2, 3, 4, 5 stars
	Eligible     int      `json:"eligible"`     // closed stretches (the widget asks after each)
	ResponseRate *float64 `json:"response_rate"`
}

// Conversion is 询单转化率 and the revenue of the orders it counts.
type Conversion struct {
	InquiringBuyers int      `json:"inquiring_buyers"`
	ConvertedBuyers int      `json:"converted_buyers"`
	Rate            *float64 `json:"rate"`
	Orders          int      `json:"orders"`
	RevenueCents    int64    `json:"revenue_cents"`
}

// Silent is 静默转化: orders with no chat before them.
type Silent struct {
	Orders       int      `json:"orders"`
	RevenueCents int64    `json:"revenue_cents"`
	Share        *float64 `json:"share"` // of every order placed in the range
}

// Figures are the metrics of a set of stretches.
type Figures struct {
	Conversations      int        `json:"conversations"`
	Buyers             int        `json:"buyers"`
	Messages           int        `json:"messages"`
	BuyerMessages      int        `json:"buyer_messages"`
	AgentMessages      int        `json:"agent_messages"`
	BotMessages        int        `json:"bot_messages"`
	AssistantOnly      int        `json:"assistant_only"`
	AssistantOnlyShare *float64   `json:"assistant_only_share"`
	FirstResponse      Stat       `json:"first_response"`
	ResponseMean       *float64   `json:"response_mean_seconds"`
	Waited             int        `json:"waited"`
	AnsweredIn3m       int        `json:"answered_in_3m"`
	ResponseRate3m     *float64   `json:"response_rate_3m"`
	QueueWait          Stat       `json:"queue_wait"`
	Abandoned          int        `json:"abandoned"`
	AbandonmentRate    *float64   `json:"abandonment_rate"`
	LeftMessages       int        `json:"left_messages"`
	Transfers          int        `json:"transfers"`
	Nudges             int        `json:"nudges"`
	Reassigns          int        `json:"reassigns"`
	Requeues           int        `json:"requeues"`
	Resolution         Stat       `json:"resolution"`
	CSAT               CSAT       `json:"csat"`
	Conversion         Conversion `json:"conversion"`
}

// Day is one day's figures.
type Day struct {
	Date string `json:"date"` // YYYY-MM-DD in the shop's time zone
	Figures
	SilentOrders int `json:"silent_orders"`
}

// Hour is the stretches that started in one hour of the day, over the range.
type Hour struct {
	Hour          int `json:"hour"`
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
}

// Bucket is a bar of the first-response distribution: [From, To) seconds
// (To 0: no upper bound).
type Bucket struct {
	Label string `json:"label"`
	From  int    `json:"from_seconds"`
	To    int    `json:"to_seconds"`
	Count int    `json:"count"`
}

// AgentRow is one agent's figures.
type AgentRow struct {
	AgentID int64  `json:"agent_id"`
	Name    string `json:"name"`
	Figures
	OnlineSeconds   int64    `json:"online_seconds"`
	AwaySeconds     int64    `json:"away_seconds"`
	ConcurrentMean  *float64 `json:"concurrent_mean"`
	ConcurrentPeak  int      `json:"concurrent_peak"`
	RevenuePerBuyer *float64 `json:"revenue_per_inquiring_buyer_cents"`
}

// GroupRow is one group's figures.
type GroupRow struct {
	GroupID int64  `json:"group_id"`
	Name    string `json:"name"`
	Figures
}

// Period is a span of the overflow stage or surge mode within the range.
type Period struct {
	Value   string    `json:"value"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Ongoing bool      `json:"ongoing"`
}

// StageTotal is the time spent in one overflow stage within the range.
type StageTotal struct {
	Stage   string `json:"stage"`
	Seconds int64  `json:"seconds"`
	Times   int    `json:"times"`
}

// Live is the live board: the line and the team now.
type Live struct {
	Waiting              int    `json:"waiting"`
	LongestWaitSeconds   int    `json:"longest_wait_seconds"`
	AgentsOnline         int    `json:"agents_online"`
	AgentsAway           int    `json:"agents_away"`
	InProgress           int    `json:"in_progress"`
	Stage                string `json:"stage"`
	Surge                bool   `json:"surge"`
	EstimatedWaitSeconds int    `json:"estimated_wait_seconds"`
}

// Report is a shop's report over a range (docs/reports.md).
type Report struct {
	From          string       `json:"from"` // first day, YYYY-MM-DD
	To            string       `json:"to"`   // last day, inclusive
	TimeZone      string       `json:"time_zone"`
	GroupID       int64        `json:"group_id,omitempty"`
	AgentID       int64        `json:"agent_id,omitempty"`
	WindowHours   int          `json:"conversion_window_hours"`
	Summary       Figures      `json:"summary"`
	Silent        *Silent      `json:"silent"` // the shop's; null with a group or agent filter
	OrdersPlaced  int          `json:"orders_placed"`
	Days          []Day        `json:"days"`
	Hours         []Hour       `json:"hours"`
	Heatmap       [7][24]int   `json:"heatmap"` // conversations by weekday (Monday first) and hour
	FirstResponse []Bucket     `json:"first_response_distribution"`
	Agents        []AgentRow   `json:"agents"`
	Groups        []GroupRow   `json:"groups"`
	Stages        []StageTotal `json:"stages"`
	StagePeriods  []Period     `json:"stage_periods"`
	SurgePeriods  []Period     `json:"surge_periods"`
	// Incomplete: the roll-up was still folding older events when the
	// report was computed (after an upgrade); ask again later.
	Incomplete bool `json:"incomplete"`
}

// firstResponseBuckets are the bars of the first-response distribution.
var firstResponseBuckets = []Bucket{
	{Label: "<10s", From: 0, To: 10}, {Label: "10–30s", From: 10, To: 30}, {Label: "30–60s", From: 30, To: 60},
	{Label: "1–3m", From: 60, To: 180}, {Label: "3–5m", From: 180, To: 300}, {Label: "5–10m", From: 300, To: 600},
	{Label: "≥10m", From: 600},
}

// Compute computes the report of q from in. It reads nothing else and
// returns the same report for the same input.
func Compute(q Query, in Input) Report {
	if q.Window <= 0 {
		q.Window = DefaultWindow
	}
	r := Report{From: q.From.In(q.Loc).Format(time.DateOnly), To: q.To.In(q.Loc).AddDate(0, 0, -1).Format(time.DateOnly),
		TimeZone: q.Loc.String(), GroupID: q.GroupID, AgentID: q.AgentID, WindowHours: int(q.Window / time.Hour)}
	all := make([]stretch, len(in.Sessions))
	for i := range in.Sessions {
		all[i].ReportSession = &in.Sessions[i]
		all[i].frt, all[i].answered = firstResponse(&in.Sessions[i])
	}
	chatted := creditOrders(all, in.Orders, q.Window)

	var inRange []*stretch
	for i := range all {
		s := &all[i]
		if s.StartedAt.Before(q.From) || !s.StartedAt.Before(q.To) {
			continue
		}
		if (q.GroupID != 0 && s.GroupID != q.GroupID) || (q.AgentID != 0 && s.AgentID != q.AgentID) {
			continue
		}
		inRange = append(inRange, s)
	}
	r.Summary = figures(inRange)

	// Days, hours, the heatmap.
	byDay := map[string][]*stretch{}
	r.Hours = make([]Hour, 24)
	for h := range r.Hours {
		r.Hours[h].Hour = h
	}
	for _, s := range inRange {
		local := s.StartedAt.In(q.Loc)
		byDay[local.Format(time.DateOnly)] = append(byDay[local.Format(time.DateOnly)], s)
		r.Hours[local.Hour()].Conversations++
		r.Hours[local.Hour()].Messages += s.BuyerMessages + s.AgentMessages + s.BotMessages
		r.Heatmap[(int(local.Weekday())+6)%7][local.Hour()]++
	}
	silentByDay := map[string]int{}
	filtered := q.GroupID != 0 || q.AgentID != 0
	if !filtered {
		r.Silent = &Silent{}
	}
	for i, o := range in.Orders {
		if o.CreatedAt.Before(q.From) || !o.CreatedAt.Before(q.To) {
			continue
		}
		r.OrdersPlaced++
		if chatted[i] || filtered {
			continue
		}
		r.Silent.Orders++
		r.Silent.RevenueCents += o.AmountCents
		silentByDay[o.CreatedAt.In(q.Loc).Format(time.DateOnly)]++
	}
	if r.Silent != nil {
		r.Silent.Share = ratio(r.Silent.Orders, r.OrdersPlaced)
	}
	for d := q.From.In(q.Loc); d.Before(q.To); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, q.Loc) {
		key := d.Format(time.DateOnly)
		r.Days = append(r.Days, Day{Date: key, Figures: figures(byDay[key]), SilentOrders: silentByDay[key]})
	}

	// The first-response distribution.
	r.FirstResponse = slices.Clone(firstResponseBuckets)
	for _, s := range inRange {
		if s.answered {
			sec := s.frt.Seconds()
			for i := range r.FirstResponse {
				b := &r.FirstResponse[i]
				if sec >= float64(b.From) && (b.To == 0 || sec < float64(b.To)) {
					b.Count++
					break
				}
			}
		}
	}

	r.Agents = agentRows(q, in, inRange)
	r.Groups = groupRows(in, inRange)
	r.Stages, r.StagePeriods, r.SurgePeriods = periods(q, in)
	return r
}

// stretch is a stretch with what the report derives from it once: its
// first response, and the orders that count for it.
type stretch struct {
	*kefu.ReportSession
	frt      time.Duration
	answered bool // frt holds a first response
	orders   int
	amount   int64
}

// creditOrders counts each order for the latest stretch of its buyer whose
// first buyer message came at most window before the order, and not after
// it, and answers for each order whether it counted for one (a chat).
func creditOrders(ss []stretch, orders []kefu.ReportOrder, window time.Duration) []bool {
	byBuyer := map[int64][]*stretch{}
	for i := range ss {
		if ss[i].FirstBuyerAt != nil {
			byBuyer[ss[i].BuyerID] = append(byBuyer[ss[i].BuyerID], &ss[i])
		}
	}
	for _, list := range byBuyer {
		sort.Slice(list, func(i, j int) bool { return list[i].FirstBuyerAt.Before(*list[j].FirstBuyerAt) })
	}
	chatted := make([]bool, len(orders))
	for i, o := range orders {
		var best *stretch
		for _, s := range byBuyer[o.BuyerID] {
			if s.FirstBuyerAt.After(o.CreatedAt) {
				break
			}
			if o.CreatedAt.Sub(*s.FirstBuyerAt) <= window {
				best = s
			}
		}
		if best != nil {
			chatted[i] = true
			best.orders++
			best.amount += o.AmountCents
		}
	}
	return chatted
}

// firstResponse is the wait of the buyer's first turn for a person's reply;
// none for a buyer who left the line first (answered, if at all, like a
// left message: hours later, to nobody).
func firstResponse(s *kefu.ReportSession) (time.Duration, bool) {
	if s.FirstReplyAt == nil || s.FirstBuyerAt == nil || s.LineSince == nil || s.LeftMessage || s.Abandoned {
		return 0, false
	}
	from := *s.FirstBuyerAt
	if s.LineSince.After(from) {
		from = *s.LineSince
	}
	return s.FirstReplyAt.Sub(from), true
}

// waited reports whether the buyer waited for people and wrote to them: the
// stretches the response, queue and abandonment figures are over.
func waited(s *kefu.ReportSession) bool {
	return s.LineSince != nil && s.FirstBuyerAt != nil && !s.LeftMessage
}

func figures(ss []*stretch) Figures {
	var f Figures
	var frt, wait, resolution []float64
	buyers := make(map[int64]bool, len(ss))
	inquiring, converted := make(map[int64]bool, len(ss)), map[int64]bool{}
	var replies int
	var replyMillis int64
	starsSum := 0
	for _, s := range ss {
		f.Conversations++
		buyers[s.BuyerID] = true
		f.BuyerMessages += s.BuyerMessages
		f.AgentMessages += s.AgentMessages
		f.BotMessages += s.BotMessages
		if s.ClosedAt != nil && s.BotMessages > 0 && s.AgentMessages == 0 {
			f.AssistantOnly++
		}
		if s.answered {
			frt = append(frt, s.frt.Seconds())
		}
		if waited(s.ReportSession) {
			f.Waited++
			if s.answered && s.frt <= ThreeMinutes {
				f.AnsweredIn3m++
			}
			if s.Abandoned {
				f.Abandoned++
			} else {
				replies += s.Replies
				replyMillis += s.ReplyMillis
				if s.AssignedAt != nil {
					wait = append(wait, math.Max(0, s.AssignedAt.Sub(*s.LineSince).Seconds()))
				}
			}
		}
		if s.LeftMessage {
			f.LeftMessages++
		}
		f.Transfers += s.Transfers
		f.Nudges += s.Nudges
		f.Reassigns += s.Reassigns
		f.Requeues += s.Requeues
		if s.ClosedAt != nil {
			resolution = append(resolution, s.ClosedAt.Sub(s.StartedAt).Seconds())
			f.CSAT.Eligible++ // the widget asks after every close
		}
		if s.Stars >= 1 && s.Stars <= 5 {
			f.CSAT.Ratings++
			f.CSAT.Distribution[s.Stars-1]++
			starsSum += s.Stars
		}
		if s.FirstReplyAt != nil {
			inquiring[s.BuyerID] = true
			if s.orders > 0 {
				converted[s.BuyerID] = true
				f.Conversion.Orders += s.orders
				f.Conversion.RevenueCents += s.amount
			}
		}
	}
	f.Buyers = len(buyers)
	f.Messages = f.BuyerMessages + f.AgentMessages + f.BotMessages
	f.AssistantOnlyShare = ratio(f.AssistantOnly, f.Conversations)
	f.FirstResponse = stat(frt)
	if replies > 0 {
		f.ResponseMean = num(float64(replyMillis) / float64(replies) / 1000)
	}
	f.ResponseRate3m = ratio(f.AnsweredIn3m, f.Waited)
	f.QueueWait = stat(wait)
	f.AbandonmentRate = ratio(f.Abandoned, f.Waited)
	f.Resolution = stat(resolution)
	if f.CSAT.Ratings > 0 {
		f.CSAT.Mean = num(float64(starsSum) / float64(f.CSAT.Ratings))
	}
	f.CSAT.ResponseRate = ratio(f.CSAT.Ratings, f.CSAT.Eligible)
	f.Conversion.InquiringBuyers = len(inquiring)
	f.Conversion.ConvertedBuyers = len(converted)
	f.Conversion.Rate = ratio(f.Conversion.ConvertedBuyers, f.Conversion.InquiringBuyers)
	return f
}

func agentRows(q Query, in Input, inRange []*stretch) []AgentRow {
	by := map[int64][]*stretch{}
	for _, s := range inRange {
		if s.AgentID != 0 {
			by[s.AgentID] = append(by[s.AgentID], s)
		}
	}
	online, away := map[int64]int64{}, map[int64]int64{}
	for _, sp := range in.Spans {
		if sp.Kind != kefu.SpanPresence || (q.AgentID != 0 && sp.SubjectID != q.AgentID) {
			continue
		}
		sec := int64(overlap(sp.StartedAt, sp.EndedAt, q).Seconds())
		if sp.Value == string(kefu.PresenceOnline) {
			online[sp.SubjectID] += sec
		} else if sp.Value == string(kefu.PresenceAway) {
			away[sp.SubjectID] += sec
		}
		if _, ok := by[sp.SubjectID]; !ok {
			by[sp.SubjectID] = nil
		}
	}
	rows := make([]AgentRow, 0, len(by))
	for id, ss := range by {
		row := AgentRow{AgentID: id, Name: in.Agents[id], Figures: figures(ss), OnlineSeconds: online[id], AwaySeconds: away[id]}
		row.ConcurrentMean, row.ConcurrentPeak = concurrency(ss, q, online[id]+away[id])
		if row.Conversion.InquiringBuyers > 0 {
			row.RevenuePerBuyer = num(float64(row.Conversion.RevenueCents) / float64(row.Conversion.InquiringBuyers))
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Conversations != rows[j].Conversations {
			return rows[i].Conversations > rows[j].Conversations
		}
		return rows[i].AgentID < rows[j].AgentID
	})
	return rows
}

// concurrency is an agent's mean number of conversations held at once over
// their time signed in (online or away), and the most held at once.
func concurrency(ss []*stretch, q Query, signedIn int64) (*float64, int) {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	var held time.Duration
	for _, s := range ss {
		if s.AgentSince == nil && s.AssignedAt == nil {
			continue
		}
		from := s.AssignedAt
		if s.AgentSince != nil {
			from = s.AgentSince
		}
		d := overlap(*from, s.ClosedAt, q)
		if d <= 0 {
			continue
		}
		held += d
		start, end := maxTime(*from, q.From), minTime(q.To, q.Now)
		if s.ClosedAt != nil {
			end = minTime(*s.ClosedAt, end)
		}
		edges = append(edges, edge{start, 1}, edge{end, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].delta < edges[j].delta // an end before a start at the same instant
	})
	peak, cur := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	if signedIn <= 0 {
		return nil, peak
	}
	return num(held.Seconds() / float64(signedIn)), peak
}

func groupRows(in Input, inRange []*stretch) []GroupRow {
	by := map[int64][]*stretch{}
	for _, s := range inRange {
		by[s.GroupID] = append(by[s.GroupID], s)
	}
	rows := make([]GroupRow, 0, len(by))
	for id, ss := range by {
		rows = append(rows, GroupRow{GroupID: id, Name: in.Groups[id], Figures: figures(ss)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].GroupID < rows[j].GroupID })
	return rows
}

func periods(q Query, in Input) ([]StageTotal, []Period, []Period) {
	totals := map[string]*StageTotal{}
	stages, surges := []Period{}, []Period{}
	for _, sp := range in.Spans {
		if sp.Kind != kefu.SpanStage && sp.Kind != kefu.SpanSurge {
			continue
		}
		d := overlap(sp.StartedAt, sp.EndedAt, q)
		if d <= 0 {
			continue
		}
		start := maxTime(sp.StartedAt, q.From).UTC()
		p := Period{Value: sp.Value, Start: start, End: start.Add(d), Ongoing: sp.EndedAt == nil}
		if sp.Kind == kefu.SpanSurge {
			surges = append(surges, p)
			continue
		}
		stages = append(stages, p)
		t := totals[sp.Value]
		if t == nil {
			t = &StageTotal{Stage: sp.Value}
			totals[sp.Value] = t
		}
		t.Seconds += int64(d.Seconds())
		t.Times++
	}
	out := []StageTotal{}
	for _, st := range in.Stages {
		if t := totals[string(st)]; t != nil {
			out = append(out, *t)
			delete(totals, string(st))
		}
	}
	rest := make([]StageTotal, 0, len(totals)) // stages this build does not list
	for _, t := range totals {
		rest = append(rest, *t)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Stage < rest[j].Stage })
	return append(out, rest...), stages, surges
}

// overlap is how much of [start, end) (end nil: up to q.Now) lies in the
// range.
func overlap(start time.Time, end *time.Time, q Query) time.Duration {
	e := q.Now
	if end != nil {
		e = *end
	}
	d := minTime(e, minTime(q.To, q.Now)).Sub(maxTime(start, q.From))
	return max(d, 0)
}

func stat(v []float64) Stat {
	s := Stat{Count: len(v)}
	if len(v) == 0 {
		return s
	}
	sort.Float64s(v)
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	s.Mean = num(sum / float64(len(v)))
	s.Median = num(nearestRank(v, 0.5))
	s.P90 = num(nearestRank(v, 0.9))
	return s
}

// nearestRank is the q-quantile of sorted v by the nearest-rank method: the
// smallest value with at least q of the values at or below it.
func nearestRank(v []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(v)))) - 1
	return v[min(max(i, 0), len(v)-1)]
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	return num(float64(n) / float64(d))
}

// num rounds to 4 decimals (rates) or milliseconds (seconds), so the JSON
// and the CSV carry no float noise.
func num(x float64) *float64 {
	r := math.Round(x*10000) / 10000
	return &r
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
