package conversation_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kefu/kefu/conversation"
)

// queueFrames returns the queue frames a recorder got, and forgets them.
func queueFrames(t *testing.T, r *frameRecorder) []struct {
	Position   int   `json:"position"`
	ETASeconds int64 `json:"eta_seconds"`
} {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []struct {
		Position   int   `json:"position"`
		ETASeconds int64 `json:"eta_seconds"`
	}
	for _, f := range r.frames {
		var q struct {
			Type       string `json:"type"`
			Position   int    `json:"position"`
			ETASeconds int64  `json:"eta_seconds"`
		}
		if err := json.Unmarshal(f, &q); err != nil {
			t.Fatal(err)
		}
		if q.Type == "queue" {
			out = append(out, struct {
				Position   int   `json:"position"`
				ETASeconds int64 `json:"eta_seconds"`
			}{q.Position, q.ETASeconds})
		}
	}
	r.frames = nil
	return out
}

// Waiting buyers hear their place on the tick after their shop's line moved,
// once, with an estimate from the shop's recent pace when there is one.
func TestPlacesInLineGoOutOnTheTick(t *testing.T) {
	ctx := context.Background()
	ts := newTestShop(t)
	st, svc, clock, broker := ts.st, ts.svc, ts.clock, ts.broker
	agent := ts.online("a", 1)
	var convs []int64
	var sockets []*frameRecorder
	for i := 0; i < 3; i++ {
		b, err := st.VisitorBuyer(ctx, ts.shop.ID, "v_line"+itoa(i), "b")
		if err != nil {
			t.Fatal(err)
		}
		r := &frameRecorder{}
		broker.Subscribe(conversation.BuyerTopic(b.ID), r)
		sockets = append(sockets, r)
		m, _, err := svc.Send(ctx, conversation.BuyerActor(b), 0, "c1", "在吗")
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, m.ConversationID)
	}
	if q := queueFrames(t, sockets[2]); len(q) != 0 {
		t.Fatalf("queue frames before the tick: %+v", q)
	}
	svc.Tick(ctx)
	for i, want := range []int{0, 1, 2} {
		q := queueFrames(t, sockets[i])
		switch {
		case want == 0 && len(q) != 0:
			t.Errorf("the served buyer got %+v", q)
		case want > 0 && (len(q) != 1 || q[0].Position != want || q[0].ETASeconds != 0):
			t.Errorf("buyer %d got %+v, want one frame at %d with no estimate (one assignment so far)", i, q, want)
		}
	}
	svc.Tick(ctx)
	if q := queueFrames(t, sockets[2]); len(q) != 0 {
		t.Errorf("a tick with nothing moved sent %+v", q)
	}
	// A minute later the agent closes the first: the second is served, the
	// shop has assigned two in 60 s, so the third waits about 30 s.
	clock.Advance(time.Minute)
	if _, err := svc.Close(ctx, conversation.AgentActor(agent), convs[0]); err != nil {
		t.Fatal(err)
	}
	svc.Tick(ctx)
	if q := queueFrames(t, sockets[2]); len(q) != 1 || q[0].Position != 1 || q[0].ETASeconds != 30 {
		t.Errorf("after the line moved the third buyer got %+v, want place 1 and about 30 s", q)
	}
}
