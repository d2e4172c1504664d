package api_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu/kefu/report"
)

// get fetches path with the token and answers the status, content type and body.
func (e *env) get(path, token string) (int, string, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

// The reports over REST: JSON, CSV and SVG of the shop's own conversations,
// for owners and supervisors only, every bad filter refused by name.
func TestReportsAPI(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, e *env) {
		owner := e.ownerToken()
		e.buyerWrites(1, "在吗")
		// Another shop's buyer is in another shop's report.
		e.seedShop("beta", storeOrigin, "zhao")
		var session struct{ Token string }
		if code := e.do("POST", "/api/v1/widget/shops/beta/session", "", storeOrigin, map[string]string{"visitor_id": visitor(2)}, &session); code != 200 {
			t.Fatalf("beta session: %d", code)
		}
		b := e.dial("/ws/buyer", session.Token, storeOrigin)
		b.next("ready")
		b.send(sendFrame(0, "c1", "你好"))
		b.next("ack")

		// The env's clock stands at 2026-11-11 08:00 in Asia/Shanghai; with
		// nobody online the buyer was asked to leave a message.
		var r report.Report
		if code := e.do("GET", "/api/v1/reports?from=2026-11-11&to=2026-11-11", owner, "", nil, &r); code != 200 {
			t.Fatalf("GET /reports: %d", code)
		}
		if r.Summary.Conversations != 1 || r.Summary.BuyerMessages != 1 || r.Summary.Waited != 0 || r.Summary.LeftMessages != 1 || r.TimeZone != "Asia/Shanghai" ||
			len(r.Days) != 1 || r.Days[0].Date != "2026-11-11" || r.Hours[8].Conversations != 1 {
			t.Fatalf("report: %+v", r)
		}
		var def struct {
			report.Report
			Charts map[string]string
		}
		if e.do("GET", "/api/v1/reports?charts=svg", owner, "", nil, &def); len(def.Days) != 7 || def.To != "2026-11-11" {
			t.Errorf("the default range: %s to %s, %d days; want the 7 days to today", def.From, def.To, len(def.Days))
		}
		if len(def.Charts) != 5 || !strings.Contains(def.Charts["heatmap"], "<svg") {
			t.Errorf("charts=svg gave %d charts", len(def.Charts))
		}

		var refused fieldErr
		if code := e.do("GET", "/api/v1/reports", e.login("acme", "wang"), "", nil, &refused); code != 403 {
			t.Errorf("an agent's report: %d, want 403", code)
		}
		zhao := e.agents["beta/zhao"]
		for _, tc := range []struct{ query, code, field string }{
			{"from=2026-13-01", "invalid_range", "from"},
			{"from=2026-11-12&to=2026-11-11", "invalid_range", "to"},
			{"from=2025-01-01&to=2026-11-11", "invalid_range", "to"},
			{"group_id=999", "invalid_group", "group_id"},
			{"group_id=1%20OR%201=1", "invalid_group", "group_id"},
			{"agent_id=" + strconv.FormatInt(zhao.ID, 10), "invalid_agent", "agent_id"},
			{"window_hours=0", "invalid_window", "window_hours"},
		} {
			var out fieldErr
			if code := e.do("GET", "/api/v1/reports?"+tc.query, owner, "", nil, &out); code != 400 || out.Error.Code != tc.code || out.Error.Field != tc.field {
				t.Errorf("?%s: %d %+v, want 400 %s on %s", tc.query, code, out.Error, tc.code, tc.field)
			}
		}

		code, ctype, body := e.get("/api/v1/reports/tables/days.csv?from=2026-11-11&to=2026-11-11", owner)
		if code != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.HasPrefix(body, "\ufeff日期,会话数,买家数,消息数,") ||
			!strings.Contains(body, "\n2026-11-11,1,1,1,") {
			t.Errorf("days.csv: %d %s %q", code, ctype, body)
		}
		if _, _, body := e.get("/api/v1/reports/tables/hours.csv?lang=en&sort=conversations", owner); !strings.HasPrefix(body, "\ufeffHour,Conversations,Messages\r\n8,1,1\r\n") &&
			!strings.HasPrefix(body, "\ufeffHour,Conversations,Messages\n8,1,1\n") {
			t.Errorf("hours.csv sorted by conversations: %q", body)
		}
		for path, want := range map[string]string{
			"/api/v1/reports/tables/agents.csv?sort=name%3BDROP": "invalid_sort",
			"/api/v1/reports/tables/secrets.csv":                 "unknown_table",
			"/api/v1/reports/charts/pie.svg":                     "unknown_chart",
		} {
			var out fieldErr
			if code := e.do("GET", path, owner, "", nil, &out); code/100 != 4 || out.Error.Code != want {
				t.Errorf("%s: %d %+v, want %s", path, code, out.Error, want)
			}
		}
		for _, name := range []string{"volume_by_hour", "volume_by_day", "heatmap", "first_response", "conversion"} {
			code, ctype, body := e.get("/api/v1/reports/charts/"+name+".svg?from=2026-11-05&to=2026-11-11", owner)
			if code != 200 || ctype != "image/svg+xml" || !strings.Contains(body, "<svg") {
				t.Errorf("%s.svg: %d %s %.80q", name, code, ctype, body)
			}
		}

		var live report.Live
		if code := e.do("GET", "/api/v1/reports/live", owner, "", nil, &live); code != 200 || live.Waiting != 1 || live.Stage != "normal" {
			t.Errorf("live board: %d %+v, want the one waiting buyer", code, live)
		}
	})
}
