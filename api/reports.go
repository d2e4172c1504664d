package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/report"
	"github.com/kefu/kefu/report/chart"
)

// The shop reports (docs/reports.md): JSON, CSV tables, SVG charts and the
// live board, for owners and supervisors. Every filter and sort key is
// checked against a list here and applied in Go: none reaches SQL.

// Rollup keeps the report roll-up folded up to the log (report.Roller).
type Rollup interface {
	CatchUp(ctx context.Context) (int, error)
}

// MaxReportDays is the longest range one report covers.
const MaxReportDays = 366

// reportCatchUp is how long a report request folds what is left of the
// log before it answers.
const reportCatchUp = 3 * time.Second

// reportQuery reads and checks the range and filters of a report request.
func (h *handlers) reportQuery(c *gin.Context, shopID int64) (report.Query, bool) {
	ctx := c.Request.Context()
	a, err := h.store.AssistantSettings(ctx, shopID)
	if err != nil {
		h.writeError(c, err)
		return report.Query{}, false
	}
	// The zone was checked when the shop set it; the binary carries the
	// zone database (time/tzdata in cmd/kefu).
	loc, err := time.LoadLocation(cmp.Or(a.Hours.TimeZone, "Asia/Shanghai"))
	if err != nil {
		h.writeError(c, fmt.Errorf("report: the shop's time zone %q: %w", a.Hours.TimeZone, err))
		return report.Query{}, false
	}
	now := h.now()
	today := now.In(loc)
	q := report.Query{Loc: loc, Now: now}
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	if v := c.Query("to"); v != "" {
		if to, err = time.ParseInLocation(time.DateOnly, v, loc); err != nil {
			h.writeError(c, fieldError("to", "invalid_range", "to is a day: YYYY-MM-DD."))
			return q, false
		}
	}
	from := to.AddDate(0, 0, -6)
	if v := c.Query("from"); v != "" {
		if from, err = time.ParseInLocation(time.DateOnly, v, loc); err != nil {
			h.writeError(c, fieldError("from", "invalid_range", "from is a day: YYYY-MM-DD."))
			return q, false
		}
	}
	if to.Before(from) {
		h.writeError(c, fieldError("to", "invalid_range", "to is the last day of the range: not before from."))
		return q, false
	}
	q.From, q.To = from, time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc)
	if days := int(q.To.Sub(q.From).Hours()/24 + 0.5); days > MaxReportDays {
		h.writeError(c, fieldError("to", "invalid_range", fmt.Sprintf("A report covers at most %d days.", MaxReportDays)))
		return q, false
	}
	if v := c.Query("window_hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 168 {
			h.writeError(c, fieldError("window_hours", "invalid_window", "window_hours is a whole number of hours from 1 to 168."))
			return q, false
		}
		q.Window = time.Duration(n) * time.Hour
	}
	if v := c.Query("group_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err == nil && id > 0 {
			var groups []kefu.Group
			if groups, err = h.store.Groups(ctx, shopID); err != nil {
				h.writeError(c, err)
				return q, false
			}
			if !slices.ContainsFunc(groups, func(g kefu.Group) bool { return g.ID == id }) {
				err = kefu.ErrNotFound
			}
		}
		if err != nil || id <= 0 {
			h.writeError(c, fieldError("group_id", "invalid_group", "group_id is not a group of this shop."))
			return q, false
		}
		q.GroupID = id
	}
	if v := c.Query("agent_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err == nil && id > 0 {
			if _, err = h.store.Agent(ctx, shopID, id); err != nil && !errors.Is(err, kefu.ErrNotFound) {
				h.writeError(c, err)
				return q, false
			}
		}
		if err != nil || id <= 0 {
			h.writeError(c, fieldError("agent_id", "invalid_agent", "agent_id is not an agent of this shop."))
			return q, false
		}
		q.AgentID = id
	}
	return q, true
}

// computeReport folds what is left of the log and computes the report.
func (h *handlers) computeReport(c *gin.Context) (report.Report, bool) {
	viewer, ok := h.supervisor(c)
	if !ok {
		return report.Report{}, false
	}
	q, ok := h.reportQuery(c, viewer.ShopID)
	if !ok {
		return report.Report{}, false
	}
	ctx := c.Request.Context()
	behind := false
	if h.rollup != nil {
		// Fold what is left first, for a few seconds at most: after an
		// upgrade the roll-up may have the whole log ahead of it, and the
		// report then says it is incomplete rather than making the
		// request wait for minutes.
		fold, cancel := context.WithTimeout(ctx, reportCatchUp)
		_, err := h.rollup.CatchUp(fold)
		timedOut := fold.Err() != nil && ctx.Err() == nil
		cancel()
		if err != nil && timedOut {
			behind = true
		} else if err != nil {
			h.writeError(c, err)
			return report.Report{}, false
		}
	}
	in, err := report.Load(ctx, h.store, viewer.ShopID, q)
	if err != nil {
		h.writeError(c, err)
		return report.Report{}, false
	}
	r := report.Compute(q, in)
	r.Incomplete = behind
	return r, true
}

// reportView is the report as GET /reports answers it: with its charts
// drawn when asked (charts=svg), so a page that shows both computes the
// report once.
type reportView struct {
	report.Report
	Charts map[string]string `json:"charts,omitempty"` // SVG by chart name
}

// getReport answers the report as JSON.
func (h *handlers) getReport(c *gin.Context) {
	r, ok := h.computeReport(c)
	if !ok {
		return
	}
	v := reportView{Report: r}
	if c.Query("charts") == "svg" {
		v.Charts = make(map[string]string, len(chartNames))
		for _, name := range chartNames {
			svg, err := renderChart(name, r, c.Query("lang") == "en")
			if err != nil {
				h.writeError(c, err)
				return
			}
			v.Charts[name] = string(svg)
		}
	}
	c.JSON(http.StatusOK, v)
}

// getLiveBoard answers the live board: the line and the team now.
func (h *handlers) getLiveBoard(c *gin.Context) {
	viewer, ok := h.supervisor(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	live, err := h.liveBoard(ctx, viewer.ShopID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, live)
}

func (h *handlers) liveBoard(ctx context.Context, shopID int64) (report.Live, error) {
	st := h.convs.OverflowState(shopID)
	live := report.Live{Stage: string(st.Stage), Surge: st.Surge, EstimatedWaitSeconds: st.WaitSeconds}
	n, since, err := h.store.LiveLine(ctx, shopID)
	if err != nil {
		return live, err
	}
	live.Waiting = n
	if n > 0 {
		live.LongestWaitSeconds = max(0, int(h.now().Sub(since).Seconds()))
	}
	agents, err := h.store.Agents(ctx, shopID)
	if err != nil {
		return live, err
	}
	for _, a := range agents {
		if a.Disabled {
			continue
		}
		p, load, err := h.convs.Presence(ctx, a)
		if err != nil {
			return live, err
		}
		switch p {
		case kefu.PresenceOnline:
			live.AgentsOnline++
		case kefu.PresenceAway:
			live.AgentsAway++
		}
		live.InProgress += load
	}
	return live, nil
}

// reportColumn is a column of a CSV table: its key (also a sort key), its
// Chinese and English headers, and its cell.
type reportColumn[T any] struct {
	key, zh, en string
	cell        func(T) string
	// num is the cell's value for sorting (false: none, sorted last in
	// either order, as the console's table does); nil: sort by cell text.
	num func(T) (float64, bool)
}

func count[T any](key, zh, en string, f func(T) int) reportColumn[T] {
	return reportColumn[T]{key: key, zh: zh, en: en, cell: func(r T) string { return strconv.Itoa(f(r)) },
		num: func(r T) (float64, bool) { return float64(f(r)), true }}
}

func decimal[T any](key, zh, en string, f func(T) *float64) reportColumn[T] {
	return reportColumn[T]{key: key, zh: zh, en: en, cell: func(r T) string {
		if v := f(r); v != nil {
			return strconv.FormatFloat(*v, 'f', -1, 64)
		}
		return ""
	}, num: func(r T) (float64, bool) {
		if v := f(r); v != nil {
			return *v, true
		}
		return 0, false
	}}
}

func yuan[T any](key, zh, en string, f func(T) int64) reportColumn[T] {
	return reportColumn[T]{key: key, zh: zh, en: en, cell: func(r T) string { return fmt.Sprintf("%.2f", float64(f(r))/100) },
		num: func(r T) (float64, bool) { return float64(f(r)), true }}
}

// figureColumns are the columns every table of figures has.
func figureColumns[T any](fig func(T) *report.Figures) []reportColumn[T] {
	return []reportColumn[T]{
		count("conversations", "会话数", "Conversations", func(r T) int { return fig(r).Conversations }),
		count("buyers", "买家数", "Buyers", func(r T) int { return fig(r).Buyers }),
		count("messages", "消息数", "Messages", func(r T) int { return fig(r).Messages }),
		decimal("assistant_only_share", "机器人独立接待占比", "Assistant only share", func(r T) *float64 { return fig(r).AssistantOnlyShare }),
		decimal("first_response_mean", "平均首次响应(秒)", "First response mean (s)", func(r T) *float64 { return fig(r).FirstResponse.Mean }),
		decimal("first_response_median", "首次响应中位数(秒)", "First response median (s)", func(r T) *float64 { return fig(r).FirstResponse.Median }),
		decimal("first_response_p90", "首次响应P90(秒)", "First response p90 (s)", func(r T) *float64 { return fig(r).FirstResponse.P90 }),
		decimal("response_mean", "平均响应(秒)", "Response mean (s)", func(r T) *float64 { return fig(r).ResponseMean }),
		decimal("response_rate_3m", "3分钟响应率", "3-minute response rate", func(r T) *float64 { return fig(r).ResponseRate3m }),
		decimal("queue_wait_mean", "平均排队(秒)", "Queue wait mean (s)", func(r T) *float64 { return fig(r).QueueWait.Mean }),
		count("abandoned", "排队放弃", "Abandoned", func(r T) int { return fig(r).Abandoned }),
		decimal("abandonment_rate", "放弃率", "Abandonment rate", func(r T) *float64 { return fig(r).AbandonmentRate }),
		count("left_messages", "留言", "Left messages", func(r T) int { return fig(r).LeftMessages }),
		count("transfers", "转接", "Transfers", func(r T) int { return fig(r).Transfers }),
		count("nudges", "慢回复提醒", "Slow-reply nudges", func(r T) int { return fig(r).Nudges }),
		decimal("resolution_mean", "平均解决时长(秒)", "Resolution mean (s)", func(r T) *float64 { return fig(r).Resolution.Mean }),
		decimal("csat_mean", "满意度", "CSAT mean", func(r T) *float64 { return fig(r).CSAT.Mean }),
		count("csat_ratings", "评价数", "Ratings", func(r T) int { return fig(r).CSAT.Ratings }),
		decimal("csat_response_rate", "评价率", "Rating rate", func(r T) *float64 { return fig(r).CSAT.ResponseRate }),
		count("inquiring_buyers", "询单人数", "Inquiring buyers", func(r T) int { return fig(r).Conversion.InquiringBuyers }),
		count("converted_buyers", "下单人数", "Converted buyers", func(r T) int { return fig(r).Conversion.ConvertedBuyers }),
		decimal("conversion_rate", "询单转化率", "Conversion rate", func(r T) *float64 { return fig(r).Conversion.Rate }),
		yuan("revenue", "询单销售额(元)", "Revenue (CNY)", func(r T) int64 { return fig(r).Conversion.RevenueCents }),
	}
}

// csvTable writes rows as CSV (UTF-8 with a BOM, so Excel reads it) sorted
// by the sort key (one of the columns' keys) when there is one.
func csvTable[T any](h *handlers, c *gin.Context, name string, cols []reportColumn[T], rows []T) {
	if key := c.Query("sort"); key != "" {
		var col *reportColumn[T]
		for i := range cols {
			if cols[i].key == key {
				col = &cols[i]
			}
		}
		if col == nil {
			h.writeError(c, fieldError("sort", "invalid_sort", "sort is one of the table's column keys."))
			return
		}
		desc := c.Query("order") != "asc"
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := rows[i], rows[j]
			if col.num == nil {
				if desc {
					return col.cell(a) > col.cell(b)
				}
				return col.cell(a) < col.cell(b)
			}
			x, okA := col.num(a)
			y, okB := col.num(b)
			if !okA || !okB {
				return okA && !okB
			}
			if desc {
				return x > y
			}
			return x < y
		})
	}
	en := c.Query("lang") == "en"
	var buf bytes.Buffer
	buf.WriteString(csvBOM)
	w := csv.NewWriter(&buf)
	header := make([]string, len(cols))
	for i, col := range cols {
		header[i] = col.zh
		if en {
			header[i] = col.en
		}
	}
	w.Write(header)
	for _, r := range rows {
		line := make([]string, len(cols))
		for i, col := range cols {
			line[i] = csvSafe(col.cell(r))
		}
		w.Write(line)
	}
	w.Flush()
	c.Header("Content-Disposition", `attachment; filename="kefu-report-`+name+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvSafe keeps a spreadsheet from reading a cell (an agent's name) as a
// formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

// getReportCSV answers one table of the report as CSV.
func (h *handlers) getReportCSV(c *gin.Context) {
	table := strings.TrimSuffix(c.Param("table"), ".csv")
	if !strings.HasSuffix(c.Param("table"), ".csv") || !slices.Contains([]string{"days", "hours", "agents", "groups", "stages"}, table) {
		h.writeError(c, &apiError{Status: http.StatusNotFound, Code: "unknown_table",
			Message: "The report's tables are days.csv, hours.csv, agents.csv, groups.csv and stages.csv."})
		return
	}
	r, ok := h.computeReport(c)
	if !ok {
		return
	}
	switch table {
	case "days":
		cols := append([]reportColumn[report.Day]{{key: "date", zh: "日期", en: "Date", cell: func(d report.Day) string { return d.Date }}},
			figureColumns(func(d report.Day) *report.Figures { return &d.Figures })...)
		cols = append(cols, count("silent_orders", "静默下单数", "Silent orders", func(d report.Day) int { return d.SilentOrders }))
		csvTable(h, c, table, cols, r.Days)
	case "hours":
		cols := []reportColumn[report.Hour]{
			count("hour", "小时", "Hour", func(x report.Hour) int { return x.Hour }),
			count("conversations", "会话数", "Conversations", func(x report.Hour) int { return x.Conversations }),
			count("messages", "消息数", "Messages", func(x report.Hour) int { return x.Messages }),
		}
		csvTable(h, c, table, cols, r.Hours)
	case "agents":
		cols := append([]reportColumn[report.AgentRow]{
			count("agent_id", "客服ID", "Agent ID", func(a report.AgentRow) int { return int(a.AgentID) }),
			{key: "name", zh: "客服", en: "Agent", cell: func(a report.AgentRow) string { return a.Name }},
		}, figureColumns(func(a report.AgentRow) *report.Figures { return &a.Figures })...)
		cols = append(cols,
			count("online_seconds", "在线时长(秒)", "Online (s)", func(a report.AgentRow) int { return int(a.OnlineSeconds) }),
			count("away_seconds", "离开时长(秒)", "Away (s)", func(a report.AgentRow) int { return int(a.AwaySeconds) }),
			decimal("concurrent_mean", "平均同时接待", "Concurrent mean", func(a report.AgentRow) *float64 { return a.ConcurrentMean }),
			count("concurrent_peak", "最高同时接待", "Concurrent peak", func(a report.AgentRow) int { return a.ConcurrentPeak }))
		csvTable(h, c, table, cols, r.Agents)
	case "groups":
		cols := append([]reportColumn[report.GroupRow]{
			count("group_id", "分组ID", "Group ID", func(g report.GroupRow) int { return int(g.GroupID) }),
			{key: "name", zh: "分组", en: "Group", cell: func(g report.GroupRow) string { return g.Name }},
		}, figureColumns(func(g report.GroupRow) *report.Figures { return &g.Figures })...)
		csvTable(h, c, table, cols, r.Groups)
	case "stages":
		cols := []reportColumn[report.Period]{
			{key: "value", zh: "阶段", en: "Stage", cell: func(p report.Period) string { return p.Value }},
			{key: "start", zh: "开始", en: "Start", cell: func(p report.Period) string { return p.Start.Format(time.RFC3339) }},
			{key: "end", zh: "结束", en: "End", cell: func(p report.Period) string { return p.End.Format(time.RFC3339) }},
		}
		csvTable(h, c, table, cols, append(append([]report.Period{}, r.StagePeriods...), r.SurgePeriods...))
	}
}

// chartNames are the report's charts.
var chartNames = []string{"volume_by_hour", "volume_by_day", "heatmap", "first_response", "conversion"}

// getReportChart answers one chart of the report as SVG.
func (h *handlers) getReportChart(c *gin.Context) {
	name := strings.TrimSuffix(c.Param("chart"), ".svg")
	if !strings.HasSuffix(c.Param("chart"), ".svg") || !slices.Contains(chartNames, name) {
		h.writeError(c, &apiError{Status: http.StatusNotFound, Code: "unknown_chart",
			Message: "The report's charts are " + strings.Join(chartNames, ".svg, ") + ".svg."})
		return
	}
	r, ok := h.computeReport(c)
	if !ok {
		return
	}
	svg, err := renderChart(name, r, c.Query("lang") == "en")
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, "image/svg+xml", svg)
}

func renderChart(name string, r report.Report, en bool) ([]byte, error) {
	tr := func(zh, english string) string {
		if en {
			return english
		}
		return zh
	}
	switch name {
	case "volume_by_hour":
		labels := make([]string, 24)
		values := make([]float64, 24)
		for i, x := range r.Hours {
			labels[i] = fmt.Sprintf("%02d", x.Hour)
			values[i] = float64(x.Conversations)
		}
		return chart.Bars(labels, []chart.Series{{Name: tr("会话数", "Conversations"), Values: values}},
			chart.Options{Title: tr("各时段会话量", "Conversations by hour of day")})
	case "volume_by_day":
		labels := make([]string, len(r.Days))
		convs, buyers := make([]float64, len(r.Days)), make([]float64, len(r.Days))
		for i, d := range r.Days {
			labels[i] = d.Date[5:]
			convs[i] = float64(d.Conversations)
			buyers[i] = float64(d.Buyers)
		}
		return chart.Bars(labels, []chart.Series{{Name: tr("会话数", "Conversations"), Values: convs}, {Name: tr("买家数", "Buyers"), Values: buyers}},
			chart.Options{Title: tr("每日会话量", "Conversations by day")})
	case "heatmap":
		rows := []string{"周一", "周二", "周三", "周四", "周五", "周六", "周日"}
		if en {
			rows = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
		}
		cols := make([]string, 24)
		values := make([][]float64, 7)
		for hr := range cols {
			cols[hr] = strconv.Itoa(hr)
		}
		for d := range values {
			values[d] = make([]float64, 24)
			for hr := range values[d] {
				values[d][hr] = float64(r.Heatmap[d][hr])
			}
		}
		return chart.Heatmap(rows, cols, values, chart.Options{Title: tr("星期 × 时段 会话量", "Conversations by weekday and hour"), Height: 320})
	case "first_response":
		labels := make([]string, len(r.FirstResponse))
		values := make([]float64, len(r.FirstResponse))
		for i, b := range r.FirstResponse {
			labels[i] = b.Label
			values[i] = float64(b.Count)
		}
		return chart.Bars(labels, []chart.Series{{Name: tr("会话数", "Conversations"), Values: values}},
			chart.Options{Title: tr("首次响应时间分布", "First response time")})
	default: // conversion
		labels := make([]string, len(r.Days))
		conv, rate3m := make([]float64, len(r.Days)), make([]float64, len(r.Days))
		for i, d := range r.Days {
			labels[i] = d.Date[5:]
			conv[i], rate3m[i] = percent(d.Conversion.Rate), percent(d.ResponseRate3m)
		}
		return chart.Lines(labels, []chart.Series{{Name: tr("询单转化率", "Conversion rate"), Values: conv},
			{Name: tr("3分钟响应率", "3-minute response rate"), Values: rate3m}},
			chart.Options{Title: tr("询单转化率趋势", "Conversion trend"), YUnit: "%"})
	}
}

// percent is a rate in percent; a day without a rate is a gap (NaN).
func percent(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v * 100
}
