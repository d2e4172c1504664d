package autoreply

import (
	"testing"
	"time"

	"github.com/kefu/kefu"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// shanghaiHours are 09:00–12:00 and 13:00–18:00 on weekdays, closed on
// 2026-10-01.
func shanghaiHours() kefu.BusinessHours {
	h := kefu.BusinessHours{Enabled: true, TimeZone: "Asia/Shanghai", Holidays: []string{"2026-10-01"}}
	for d := time.Monday; d <= time.Friday; d++ {
		h.Weekly[d] = []kefu.TimeSpan{{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 18 * 60}}
	}
	return h
}

// dstHours are open 01:30–03:00 and 09:00–10:00 every day in New York, the
// first around the clock changes.
func dstHours() kefu.BusinessHours {
	h := kefu.BusinessHours{Enabled: true, TimeZone: "America/New_York"}
	for d := range h.Weekly {
		h.Weekly[d] = []kefu.TimeSpan{{Start: 90, End: 180}, {Start: 540, End: 600}}
	}
	return h
}

func TestOpen(t *testing.T) {
	sh := mustZone(t, "Asia/Shanghai")
	ny := mustZone(t, "America/New_York")
	la := mustZone(t, "America/Los_Angeles")
	// 2026-12-02 is a Wednesday.
	wedTen := time.Date(2026, 12, 2, 10, 0, 0, 0, sh)
	tests := []struct {
		name  string
		hours kefu.BusinessHours
		at    time.Time
		want  bool
	}{
		{"disabled is open", kefu.BusinessHours{}, wedTen, true},
		{"weekday morning", shanghaiHours(), wedTen, true},
		{"lunch break", shanghaiHours(), time.Date(2026, 12, 2, 12, 30, 0, 0, sh), false},
		{"span start inclusive", shanghaiHours(), time.Date(2026, 12, 2, 9, 0, 0, 0, sh), true},
		{"span end exclusive", shanghaiHours(), time.Date(2026, 12, 2, 18, 0, 0, 0, sh), false},
		{"last minute", shanghaiHours(), time.Date(2026, 12, 2, 17, 59, 59, 0, sh), true},
		{"weekend", shanghaiHours(), time.Date(2026, 12, 5, 10, 0, 0, 0, sh), false},
		{"holiday", shanghaiHours(), time.Date(2026, 10, 1, 10, 0, 0, 0, sh), false},
		{"day after holiday", shanghaiHours(), time.Date(2026, 10, 2, 10, 0, 0, 0, sh), true},
		// 02:00 UTC is 10:00 in Shanghai; 18:00 the day before in Los Angeles.
		{"same instant in UTC", shanghaiHours(), time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC), true},
		{"same instant in Los Angeles", shanghaiHours(), time.Date(2026, 12, 1, 18, 0, 0, 0, la), true},
		{"closed instant in UTC", shanghaiHours(), time.Date(2026, 12, 2, 4, 30, 0, 0, time.UTC), false},
		{"closed instant in Los Angeles", shanghaiHours(), time.Date(2026, 12, 1, 20, 30, 0, 0, la), false},
		// 2026-03-08: New York springs forward at 02:00 EST to 03:00 EDT.
		{"spring forward before gap", dstHours(), time.Date(2026, 3, 8, 6, 45, 0, 0, time.UTC), true},   // 01:45 EST
		{"spring forward after gap", dstHours(), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), false},    // 03:00 EDT
		{"spring forward morning", dstHours(), time.Date(2026, 3, 8, 9, 30, 0, 0, ny), true},            // 09:30 EDT
		{"spring forward wall clock", dstHours(), time.Date(2026, 3, 8, 14, 30, 0, 0, time.UTC), false}, // 10:30 EDT
		// 2026-11-01: New York falls back at 02:00 EDT to 01:00 EST.
		{"fall back first 01:30", dstHours(), time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), true},     // 01:30 EDT
		{"fall back repeated 01:10", dstHours(), time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC), false}, // 01:10 EST
		{"fall back second 01:30", dstHours(), time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), true},    // 01:30 EST
		{"fall back 02:30", dstHours(), time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC), true},           // 02:30 EST
		{"fall back 03:00", dstHours(), time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), false},           // 03:00 EST
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Open(tt.hours, tt.at); got != tt.want {
				t.Errorf("Open(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestNextOpening(t *testing.T) {
	sh := mustZone(t, "Asia/Shanghai")
	ny := mustZone(t, "America/New_York")
	gap := kefu.BusinessHours{Enabled: true, TimeZone: "America/New_York"}
	for d := range gap.Weekly {
		gap.Weekly[d] = []kefu.TimeSpan{{Start: 150, End: 300}} // 02:30–05:00
	}
	inGap := gap
	inGap.Weekly = [7][]kefu.TimeSpan{}
	for d := range inGap.Weekly {
		inGap.Weekly[d] = []kefu.TimeSpan{{Start: 120, End: 170}} // 02:00–02:50, all in the gap on 2026-03-08
	}
	tests := []struct {
		name   string
		hours  kefu.BusinessHours
		from   time.Time
		want   time.Time
		wantOK bool
	}{
		{"open now", shanghaiHours(), time.Date(2026, 12, 2, 10, 0, 0, 0, sh), time.Date(2026, 12, 2, 10, 0, 0, 0, sh), true},
		{"lunch break", shanghaiHours(), time.Date(2026, 12, 2, 12, 5, 0, 0, sh), time.Date(2026, 12, 2, 13, 0, 0, 0, sh), true},
		{"evening", shanghaiHours(), time.Date(2026, 12, 2, 19, 0, 0, 0, sh), time.Date(2026, 12, 3, 9, 0, 0, 0, sh), true},
		{"across the weekend", shanghaiHours(), time.Date(2026, 12, 4, 18, 0, 0, 0, sh), time.Date(2026, 12, 7, 9, 0, 0, 0, sh), true},
		{"from utc across the weekend", shanghaiHours(), time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 9, 0, 0, 0, sh), true},
		{"over a holiday", shanghaiHours(), time.Date(2026, 9, 30, 18, 30, 0, 0, sh), time.Date(2026, 10, 2, 9, 0, 0, 0, sh), true},
		{"disabled", kefu.BusinessHours{}, time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC), time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC), true},
		{"never open", kefu.BusinessHours{Enabled: true, TimeZone: "Asia/Shanghai"}, time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC), time.Time{}, false},
		// 02:30 does not exist on 2026-03-08 in New York: it opens at 03:00 EDT.
		{"start in spring-forward gap", gap, time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), true},
		{"span all in gap", inGap, time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 2, 0, 0, 0, ny), true},
		{"fall back repeated hour", dstHours(), time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC), time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), true},
		{"fall back first pass", dstHours(), time.Date(2026, 11, 1, 0, 0, 0, 0, ny), time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), true},
		{"after fall back", dstHours(), time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 9, 0, 0, 0, ny), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextOpening(tt.hours, tt.from)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Fatalf("NextOpening(%v) = %v %v, want %v %v", tt.from, got, ok, tt.want, tt.wantOK)
			}
			if ok && !Open(tt.hours, got) {
				t.Fatalf("NextOpening returned %v, when the shop is closed", got)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	sh := mustZone(t, "Asia/Shanghai")
	now := time.Date(2026, 12, 2, 19, 0, 0, 0, sh) // Wednesday
	tests := []struct {
		name string
		next time.Time
		now  time.Time
		want string
	}{
		{"today", time.Date(2026, 12, 2, 21, 0, 0, 0, sh), now, "今天 21:00"},
		{"tomorrow", time.Date(2026, 12, 3, 9, 0, 0, 0, sh), now, "明天 09:00"},
		{"later", time.Date(2026, 12, 7, 9, 0, 0, 0, sh), now, "12月7日（周一）09:00"},
		{"next year", time.Date(2027, 1, 4, 9, 30, 0, 0, sh), time.Date(2026, 12, 31, 19, 0, 0, 0, sh), "2027年1月4日（周一）09:30"},
		{"tomorrow across new year", time.Date(2027, 1, 1, 9, 0, 0, 0, sh), time.Date(2026, 12, 31, 19, 0, 0, 0, sh), "明天 09:00"},
		// 23:00 UTC on Dec 2 is 07:00 Dec 3 in Shanghai: the zone's day counts.
		{"in the hours' zone", time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC), "今天 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Describe(shanghaiHours(), tt.next, tt.now); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}
