package autoreply

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kefu/kefu"
)

// zones caches loaded time zones: time.LoadLocation reads and parses the
// zone's file on every call, and Open runs for every message a buyer sends.
var zones sync.Map // name → *time.Location

// location returns the hours' zone; a zone that does not load (validation
// refuses one) is taken as UTC.
func location(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, loc)
	return loc
}

// Open reports whether the shop is open at t, in any zone (it is read in
// the hours' zone). Disabled hours are always open; a holiday is closed all
// day. Spans are wall-clock minutes, so on a day the clocks change a span
// follows the clock (see the package doc).
func Open(h kefu.BusinessHours, t time.Time) bool {
	if !h.Enabled {
		return true
	}
	lt := t.In(location(h.TimeZone))
	if slices.Contains(h.Holidays, lt.Format(time.DateOnly)) {
		return false
	}
	minute := lt.Hour()*60 + lt.Minute()
	for _, sp := range h.Weekly[lt.Weekday()] {
		if sp.Start <= minute && minute < sp.End {
			return true
		}
	}
	return false
}

// nextOpeningDays is how far NextOpening looks: beyond a year of holidays.
const nextOpeningDays = 400

// NextOpening returns the next moment at or after t the shop opens: t itself
// when it is open, else the start of the next span on a day that is not a
// holiday (for a start inside a spring-forward gap, the first instant after
// the gap). It looks up to 400 days ahead and returns false when the shop
// never opens in them.
func NextOpening(h kefu.BusinessHours, t time.Time) (time.Time, bool) {
	if Open(h, t) {
		return t, true
	}
	loc := location(h.TimeZone)
	lt := t.In(loc)
	y, mo, d := lt.Date()
	for day := 0; day <= nextOpeningDays; day++ {
		date := time.Date(y, mo, d+day, 12, 0, 0, 0, time.UTC) // a civil date, free of the zone's transitions
		if slices.Contains(h.Holidays, date.Format(time.DateOnly)) {
			continue
		}
		var best time.Time
		for _, sp := range h.Weekly[date.Weekday()] {
			for _, c := range wallInstants(date, sp.Start, loc) {
				// A start the clock shows twice (fall back) opens twice; a
				// start whose span is all in a gap never opens: Open says.
				if !c.Before(t) && (best.IsZero() || c.Before(best)) && Open(h, c) {
					best = c
				}
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

// wallInstants returns the instants at which the clock in loc shows minute
// on date: one on most days, two for a time repeated when the clocks fall
// back, and for a time skipped when they spring forward, the first instant
// after the gap.
func wallInstants(date time.Time, minute int, loc *time.Location) []time.Time {
	y, mo, d := date.Date()
	wall := time.Date(y, mo, d, 0, minute, 0, 0, time.UTC)
	// The offsets in force that day: at its start, its end, and the wall time.
	guess := time.Date(y, mo, d, 0, minute, 0, 0, loc)
	probes := [...]time.Time{time.Date(y, mo, d, 0, 0, 0, 0, loc), time.Date(y, mo, d, 23, 59, 0, 0, loc), guess}
	var out []time.Time
	for _, p := range probes {
		_, offset := p.Zone()
		c := wall.Add(-time.Duration(offset) * time.Second).In(loc)
		if sameWall(c, wall) && !slices.ContainsFunc(out, c.Equal) {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		return out
	}
	// In a gap time.Date lands on either side of it; the gap ends where the
	// zone after it starts.
	start, end := guess.ZoneBounds()
	if guess.After(wall.Add(-time.Duration(zoneOffset(guess)) * time.Second)) {
		return []time.Time{start}
	}
	return []time.Time{end}
}

func zoneOffset(t time.Time) int {
	_, offset := t.Zone()
	return offset
}

// sameWall reports whether t, read in its own zone, shows the same date and
// minute as wall (a UTC time standing for a wall-clock reading).
func sameWall(t, wall time.Time) bool {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := wall.Date()
	return y1 == y2 && m1 == m2 && d1 == d2 && t.Hour() == wall.Hour() && t.Minute() == wall.Minute()
}

var weekdayNames = [7]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// Describe writes, for buyers, when the shop next opens relative to now, in
// the hours' zone: "今天 09:00", "明天 09:00", else the date and weekday such
// as "12月3日（周四）09:00", with the year when it is not now's.
func Describe(h kefu.BusinessHours, next, now time.Time) string {
	loc := location(h.TimeZone)
	nl, cl := next.In(loc), now.In(loc)
	clock := nl.Format("15:04")
	ny, nm, nd := nl.Date()
	cy, cm, cd := cl.Date()
	days := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC).Sub(time.Date(cy, cm, cd, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)
	switch {
	case days == 0:
		return "今天 " + clock
	case days == 1:
		return "明天 " + clock
	case ny != cy:
		return fmt.Sprintf("%d年%d月%d日（%s）%s", ny, nm, nd, weekdayNames[nl.Weekday()], clock)
	}
	return fmt.Sprintf("%d月%d日（%s）%s", nm, nd, weekdayNames[nl.Weekday()], clock)
}
