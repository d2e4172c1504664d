package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// The instruments read back what they were told, through the registry.
func TestInstruments(t *testing.T) {
	m := New(nil)
	now := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }

	c := m.Consumer()
	for _, sender := range []kefu.SenderKind{kefu.SenderBuyer, kefu.SenderBuyer, kefu.SenderAgent, kefu.SenderBot, "robot"} {
		msg := kefu.Message{Sender: sender, CreatedAt: now.Add(-20 * time.Millisecond)}
		c.Consume(conversation.Committed{Change: kefu.Change{Event: kefu.Event{Type: kefu.EventMessage}, Message: &msg}})
	}
	// A change without a message counts nothing.
	c.Consume(conversation.Committed{Change: kefu.Change{Event: kefu.Event{Type: kefu.EventAssigned}}})
	for sender, want := range map[string]float64{"buyer": 2, "agent": 1, "bot": 1, "system": 0, "other": 1} {
		if got := testutil.ToFloat64(m.stored.WithLabelValues(sender)); got != want {
			t.Errorf("messages stored by %s: %v, want %v", sender, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.delivery); n != 1 {
		t.Fatalf("delivery histogram has %d series", n)
	}

	m.RateLimited("buyer_messages")
	m.RateLimited("sessions_per_address")
	m.RateLimited("sessions_per_address")
	m.ConnectionRefused("unauthorized")
	m.SetOverflowStage(7, 2)
	m.SetOverflowStage(7, 3)
	m.SetOverflowStage(8, 0)
	m.StoreCommit(3, 2*time.Millisecond)
	m.StoreCommit(1, time.Millisecond)
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"buyer_messages refusals", testutil.ToFloat64(m.rateLimited.WithLabelValues("buyer_messages")), 1},
		{"agent_messages refusals", testutil.ToFloat64(m.rateLimited.WithLabelValues("agent_messages")), 0},
		{"sessions_per_address refusals", testutil.ToFloat64(m.rateLimited.WithLabelValues("sessions_per_address")), 2},
		{"unauthorized sockets", testutil.ToFloat64(m.refused.WithLabelValues("unauthorized")), 1},
		{"shop 7's stage", testutil.ToFloat64(m.overflow.WithLabelValues("7")), 3},
		{"shop 8's stage", testutil.ToFloat64(m.overflow.WithLabelValues("8")), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}

	m.CountSockets(func() (int, int) { return 5, 2 })
	reads := 0
	lengths := map[int64]int{7: 4, 8: 1}
	var readErr error
	m.CountQueues(func(context.Context) (map[int64]int, error) { reads++; return lengths, readErr })

	body := scrape(t, m)
	for _, want := range []string{
		`kefu_messages_stored_total{sender="buyer"} 2`,
		"kefu_message_delivery_seconds_count 5",
		"kefu_message_delivery_seconds_sum 0.1",
		`kefu_message_delivery_seconds_bucket{le="0.025"} 5`,
		`kefu_message_delivery_seconds_bucket{le="0.01"} 0`,
		`kefu_rate_limited_total{limit="sessions_per_address"} 2`,
		`kefu_connections_refused_total{reason="origin_not_allowed"} 0`,
		`kefu_overflow_stage{shop="7"} 3`,
		"kefu_store_commit_messages_sum 4",
		"kefu_store_commit_messages_count 2",
		`kefu_store_commit_messages_bucket{le="2"} 1`,
		"kefu_store_commit_seconds_count 2",
		`kefu_open_sockets{kind="buyer"} 5`,
		`kefu_open_sockets{kind="agent"} 2`,
		`kefu_queue_length{shop="7"} 4`,
		`kefu_queue_length{shop="8"} 1`,
		"# HELP kefu_queue_length ",
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	// Scrapes within the cache's life cost no read; a shop whose line
	// emptied reports 0; a failed read keeps the last values.
	scrape(t, m)
	if reads != 1 {
		t.Fatalf("%d reads for two quick scrapes, want 1", reads)
	}
	now = now.Add(queueCacheFor)
	lengths = map[int64]int{7: 2}
	if body := scrape(t, m); !strings.Contains(body, `kefu_queue_length{shop="8"} 0`) || !strings.Contains(body, `kefu_queue_length{shop="7"} 2`) {
		t.Fatalf("after the line of shop 8 emptied:\n%s", grep(body, "kefu_queue_length"))
	}
	now = now.Add(queueCacheFor)
	readErr = errors.New("database down")
	if body := scrape(t, m); !strings.Contains(body, `kefu_queue_length{shop="7"} 2`) {
		t.Fatalf("after a failed read:\n%s", grep(body, "kefu_queue_length"))
	}
	if reads != 3 {
		t.Fatalf("%d reads, want 3", reads)
	}
}

// A message stamped after now (clocks of two processes) is not a negative latency.
func TestDeliveryNeverNegative(t *testing.T) {
	m := New(nil)
	msg := kefu.Message{Sender: kefu.SenderBuyer, CreatedAt: time.Now().Add(time.Hour)}
	m.Consumer().Consume(conversation.Committed{Change: kefu.Change{Message: &msg}})
	if body := scrape(t, m); !strings.Contains(body, "kefu_message_delivery_seconds_sum 0\n") {
		t.Fatalf("delivery:\n%s", grep(body, "kefu_message_delivery_seconds"))
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return string(body)
}

// grep is the lines of body that contain s.
func grep(body, s string) string {
	var out []string
	for line := range strings.Lines(body) {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// BenchmarkConsume is the per-message cost of the metrics consumer.
func BenchmarkConsume(b *testing.B) {
	c := New(nil).Consumer()
	msg := kefu.Message{Sender: kefu.SenderBuyer, CreatedAt: time.Now()}
	ch := conversation.Committed{Change: kefu.Change{Event: kefu.Event{Type: kefu.EventMessage}, Message: &msg}}
	b.ReportAllocs()
	for b.Loop() {
		c.Consume(ch)
	}
}

// A committed change of overflow stage sets the shop's stage gauge to the
// stage's level.
func TestOverflowStageFromEvents(t *testing.T) {
	m := New(nil)
	c := m.Consumer()
	for _, st := range []kefu.OverflowStage{kefu.StageBotFirst, kefu.StageQueueFull, kefu.StageNormal, kefu.StageLeaveMessage} {
		c.Consume(conversation.Committed{Change: kefu.Change{Event: kefu.Event{ShopID: 9, Type: kefu.EventOverflowStage,
			Data: kefu.EventData{Stage: st}}}})
	}
	if got := testutil.ToFloat64(m.overflow.WithLabelValues("9")); got != 3 {
		t.Fatalf("shop 9's stage gauge %v, want 3 (leave_message, the last change)", got)
	}
}
