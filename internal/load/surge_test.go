package load

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu/protocol"
)

func TestRecovery(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var out []time.Duration
		for _, v := range vs {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	// Seconds 0–1 steady, 2–3 surge, 4–7 after.
	tests := []struct {
		name      string
		lats      map[int][]time.Duration
		threshold time.Duration
		want      int
	}{
		{"back two seconds after the surge", map[int][]time.Duration{0: ms(8, 10), 1: ms(9), 2: ms(300), 3: ms(400),
			4: ms(90), 5: ms(30), 6: ms(15), 7: ms(12)}, 20 * time.Millisecond, 2},
		{"never slow", map[int][]time.Duration{0: ms(10), 2: ms(12), 4: ms(11), 7: ms(19)}, 20 * time.Millisecond, 0},
		{"quiet seconds do not count", map[int][]time.Duration{0: ms(10), 4: ms(50), 6: ms(15)}, 20 * time.Millisecond, 1},
		{"slow to the end", map[int][]time.Duration{0: ms(10), 4: ms(15), 7: ms(21)}, 20 * time.Millisecond, -1},
		{"a steady p99 of 1 ms allows the floor", map[int][]time.Duration{0: ms(1), 4: ms(4)}, recoveryFloor, 0},
		{"nothing measured in the steady phase", map[int][]time.Duration{4: ms(4)}, recoveryFloor, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, threshold, got := recovery(tt.lats, 2, 4, 8)
			if threshold != tt.threshold || got != tt.want {
				t.Errorf("threshold %s, recovery %d s; want %s, %d s", threshold, got, tt.threshold, tt.want)
			}
		})
	}
}

// The decoder reads the frames the server really sends: a message object
// in message and ack frames, the human sentence in an error's message.
func TestFrameDecodesServerFrames(t *testing.T) {
	m := protocol.Message{ID: 41, ConversationID: 7, Seq: 3, Kind: "text", Sender: "agent", SenderID: 5,
		SenderName: "小王", Text: "t=1 x", ClientMsgID: "a-1"}
	msgFrame, ack := protocol.MessageAndAck(m)
	for _, data := range [][]byte{msgFrame, ack} {
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		got, ok := f.msg()
		if !ok || got.ID != 41 || got.ConversationID != 7 || got.Seq != 3 || got.Sender != "agent" {
			t.Errorf("%s: message %+v %v", f.Type, got, ok)
		}
	}
	var f frame
	errFrame := protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Code: protocol.CodeRateLimited, Message: "slow down",
		Ref: "c-1", RetryAfterMs: 1500})
	if err := json.Unmarshal(errFrame, &f); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.msg(); ok || f.Code != "rate_limited" || f.Ref != "c-1" {
		t.Errorf("error frame: %+v", f)
	}
	if wait, ok := resendAfter(&f); !ok || wait != 1500*time.Millisecond {
		t.Errorf("resend after %s %v, want 1.5s", wait, ok)
	}
	for _, tt := range []struct {
		code  string
		ref   string
		again bool
	}{{"internal", "c-1", true}, {"text_empty", "c-1", false}, {"rate_limited", "", false}} {
		if _, ok := resendAfter(&frame{Code: tt.code, Ref: tt.ref}); ok != tt.again {
			t.Errorf("%s with ref %q: resend %v, want %v", tt.code, tt.ref, ok, tt.again)
		}
	}
}

func TestRefusalOf(t *testing.T) {
	res := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"2"}},
		Body: io.NopCloser(strings.NewReader(`{"error":{"code":"rate_limited","message":"slow down"}}`))}
	r := refusalOf(res)
	if r.status != 429 || r.code != "rate_limited" || r.retryAfter != 2*time.Second || !r.retryable() {
		t.Errorf("refusal %+v", r)
	}
	res = &http.Response{StatusCode: 403, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"error":{"code":"origin_not_allowed"}}`))}
	if r := refusalOf(res); r.retryable() || r.code != "origin_not_allowed" {
		t.Errorf("403 refusal %+v retryable", r)
	}
}

// What is owed is counted against the agent holding the conversation: a
// copy another agent got while it waited is not the holder's, and a
// conversation nobody holds owes nobody.
func TestOwed(t *testing.T) {
	r := &surgeRun{
		buyerAcked: map[int64]int64{1: 10, 2: 10, 3: 20, 4: 30},
		holder:     map[int64]int64{10: 100, 20: 200},
		toAgent: map[[2]int64]int{
			{100, 1}: 1, // delivered once to its holder
			{200, 2}: 1, // to another agent only: lost for the holder (100)
			{200, 3}: 2, // twice to its holder
			{100, 4}: 1, // conversation 30 is held by nobody
		},
		agentAcked: map[int64]int64{5: 10, 6: 20, 7: 40},
		toBuyer:    map[int64]int{5: 1},
		gone:       map[int64]bool{40: true}, // conversation 40's buyer left on their left message
	}
	unassigned, lostToAgent, lostToBuyer, toGone, duplicated := r.owed()
	if unassigned != 1 || lostToAgent != 1 || lostToBuyer != 1 || toGone != 1 || duplicated != 1 {
		t.Errorf("unassigned %d, lost to agent %d, lost to buyer %d, to gone buyers %d, duplicated %d; want 1 each",
			unassigned, lostToAgent, lostToBuyer, toGone, duplicated)
	}
}
