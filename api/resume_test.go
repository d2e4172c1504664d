package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// An agent's ready lists what the agent holds and the shop's queue, the same
// list as GET /api/v1/conversations, read after the socket subscribed: a
// conversation assigned as the agent came online, which a REST list fetched
// before the socket showed as waiting, is in it as theirs.
func TestAgentReadyListsHeldConversationsAndQueue(t *testing.T) {
	onEachDatabase(t, testAgentReadyListsHeldConversationsAndQueue)
}

func testAgentReadyListsHeldConversationsAndQueue(t *testing.T, e *env) {
	wang := e.agents["acme/wang"]
	if err := e.store.SetAgentCap(t.Context(), e.shop.ID, wang.ID, 1); err != nil {
		t.Fatal(err)
	}
	e.addAgent("boss", kefu.RoleSupervisor)
	bossToken := e.login("acme", "boss")
	if code := e.do("PUT", "/api/v1/me/presence", bossToken, "", map[string]string{"status": "away"}, nil); code != 200 {
		t.Fatalf("boss away: %d", code)
	}
	// Nobody is online: both buyers wait.
	_, first := e.buyerWrites(1, "first")
	_, second := e.buyerWrites(2, "second")
	conv1, conv2 := first.Msg.ConversationID, second.Msg.ConversationID

	wangToken := e.login("acme", "wang")
	before := e.conversations(wangToken)
	if len(before) != 2 || before[0].Status != "queued" || before[1].Status != "queued" {
		t.Fatalf("REST list before the socket: %s, want both waiting", views(before))
	}

	// Coming online gives wang the first buyer (his cap is 1); the second waits.
	ws := e.dial("/ws/agent", wangToken, e.agentURL())
	ready := ws.next("ready")
	want := fmt.Sprintf("%d:assigned:%d:0 %d:queued:0:1", conv1, wang.ID, conv2)
	if got := views(ready.Conversations); got != want {
		t.Fatalf("ready lists %s, want %s", got, want)
	}
	if got, rest := marshal(t, ready.Conversations), marshal(t, e.conversations(wangToken)); got != rest {
		t.Errorf("ready lists\n%s\nGET /api/v1/conversations lists\n%s", got, rest)
	}

	// A second socket: the conversation assigned before it opened is listed.
	again := e.dial("/ws/agent", wangToken, e.agentURL())
	if got := views(again.next("ready").Conversations); got != want {
		t.Errorf("second socket's ready lists %s, want %s", got, want)
	}

	// A supervisor gets the whole shop's open conversations, as REST lists them.
	boss := e.dial("/ws/agent", bossToken, e.agentURL())
	bossReady := boss.next("ready")
	if got := views(bossReady.Conversations); got != fmt.Sprintf("%d:queued:0:1 %d:assigned:%d:0", conv2, conv1, wang.ID) {
		t.Errorf("supervisor's ready lists %s", got)
	}
	if got, rest := marshal(t, bossReady.Conversations), marshal(t, e.conversations(bossToken)); got != rest {
		t.Errorf("supervisor's ready lists\n%s\nGET /api/v1/conversations lists\n%s", got, rest)
	}

	// An agent with nothing to show gets an empty list, not null.
	e.do("POST", "/api/v1/conversations/"+itoa(conv1)+"/close", wangToken, "", nil, nil)
	e.do("POST", "/api/v1/conversations/"+itoa(conv2)+"/close", bossToken, "", nil, nil)
	li := e.dial("/ws/agent", e.login("acme", "li"), e.agentURL())
	if r := li.next("ready"); r.Conversations == nil || len(r.Conversations) != 0 {
		t.Errorf("ready with nothing open lists %v, want []", r.Conversations)
	}
}

// conversations is GET /api/v1/conversations with its defaults.
func (e *env) conversations(token string) []protocol.Conversation {
	e.t.Helper()
	var out struct{ Conversations []protocol.Conversation }
	if code := e.do("GET", "/api/v1/conversations", token, "", nil, &out); code != 200 {
		e.t.Fatalf("list conversations: %d", code)
	}
	return out.Conversations
}

// views sums conversations up as id:status:agent:position.
func views(list []protocol.Conversation) string {
	var parts []string
	for _, c := range list {
		var agent int64
		if c.AgentID != nil {
			agent = *c.AgentID
		}
		parts = append(parts, fmt.Sprintf("%d:%s:%d:%d", c.ID, c.Status, agent, c.QueuePosition))
	}
	return strings.Join(parts, " ")
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// history and the REST messages list carry the conversation's last_seq, so
// a client syncing from beyond it learns its state is from elsewhere.
func TestHistoryCarriesLastSeq(t *testing.T) { onEachDatabase(t, testHistoryCarriesLastSeq) }

func testHistoryCarriesLastSeq(t *testing.T, e *env) {
	b, ack := e.buyerWrites(3, "one") // nobody online: the leave-message line is seq 2, no assignment notice
	conv := ack.Msg.ConversationID
	b.send(sendFrame(conv, "c2", "two"))
	b.next("ack")

	sync := func(after int64, limit int) frame {
		b.send(map[string]any{"type": "sync", "conversation_id": conv, "after_seq": after, "limit": limit})
		return b.next("history")
	}
	if h := sync(0, 0); len(h.Messages) != 3 || h.HasMore || h.LastSeq != 3 || h.Messages[1].Code != kefu.SystemLeaveMessage {
		t.Errorf("sync from 0: %d messages, more=%v, last_seq %d; want 3 (the second the leave-message line), false, 3", len(h.Messages), h.HasMore, h.LastSeq)
	}
	if h := sync(0, 1); len(h.Messages) != 1 || !h.HasMore || h.LastSeq != 3 {
		t.Errorf("sync from 0, limit 1: %d messages, more=%v, last_seq %d; want 1, true, 3", len(h.Messages), h.HasMore, h.LastSeq)
	}
	if h := sync(9, 0); len(h.Messages) != 0 || h.HasMore || h.LastSeq != 3 {
		t.Errorf("sync from beyond the end: %d messages, more=%v, last_seq %d; want 0, false, 3", len(h.Messages), h.HasMore, h.LastSeq)
	}

	var page struct {
		Messages []protocol.Message `json:"messages"`
		HasMore  bool               `json:"has_more"`
		LastSeq  *int64             `json:"last_seq"`
	}
	token := e.login("acme", "wang")
	if code := e.do("GET", "/api/v1/conversations/"+itoa(conv)+"/messages?after_seq=9", token, "", nil, &page); code != 200 {
		t.Fatalf("REST messages: %d", code)
	}
	if len(page.Messages) != 0 || page.LastSeq == nil || *page.LastSeq != 3 {
		t.Errorf("REST messages after 9: %d messages, last_seq %v; want 0 and 3", len(page.Messages), page.LastSeq)
	}
}

// Two tabs of one buyer racing one client message id: exactly one ack says
// duplicate false, both carry the same message, and each tab gets the
// message frame once.
func TestTabsRacingOneClientMsgID(t *testing.T) { onEachDatabase(t, testTabsRacingOneClientMsgID) }

func testTabsRacingOneClientMsgID(t *testing.T, e *env) {
	token := e.buyerToken("acme", visitor(4))
	tabs := []*client{e.dial("/ws/buyer", token, storeOrigin), e.dial("/ws/buyer", token, storeOrigin)}
	for _, tab := range tabs {
		tab.next("ready")
	}
	// The first round also races to open the conversation.
	for round := 0; round < 5; round++ {
		id := fmt.Sprintf("race-%d", round)
		data, _ := json.Marshal(sendFrame(0, id, "same words"))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, tab := range tabs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := tab.ws.Write(context.Background(), websocket.MessageText, data); err != nil {
					t.Errorf("write: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		a, b := tabs[0].next("ack", "error"), tabs[1].next("ack", "error")
		if a.Type != "ack" || b.Type != "ack" {
			t.Fatalf("round %d: %+v / %+v, want two acks", round, a, b)
		}
		if a.Duplicate == b.Duplicate {
			t.Errorf("round %d: duplicate %v and %v, want exactly one false", round, a.Duplicate, b.Duplicate)
		}
		if a.Msg.ID != b.Msg.ID || a.Msg.Seq != b.Msg.Seq || a.Msg.ConversationID != b.Msg.ConversationID {
			t.Errorf("round %d: acks carry %+v and %+v, want the same message", round, a.Msg, b.Msg)
		}

		// A marker sent after both acks comes after the raced message's frame.
		marker := fmt.Sprintf("marker-%d", round)
		tabs[0].send(sendFrame(0, marker, "marker"))
		tabs[0].next("ack")
		for i, tab := range tabs {
			n := 0
			for {
				m := tab.next("message").Msg
				if m.ClientMsgID == marker {
					break
				}
				if m.ClientMsgID == id {
					n++
				}
			}
			if n != 1 {
				t.Errorf("round %d: tab %d got the message frame %d times, want once", round, i, n)
			}
		}
	}
}

// Behind --public-url the agent socket accepts the public URL's origin even
// when the proxy passed on another Host; the request's own Host and no
// Origin (not a browser) still work; any other origin is refused.
func TestAgentSocketOriginBehindPublicURL(t *testing.T) {
	e := newEnv(t)
	for _, publicURL := range []string{"https://kefu.example.com/kefu", "https://Kefu.Example.com:443/"} {
		e.publicURL = publicURL
		e.restart()
		token := e.login("acme", "wang")
		for _, tc := range []struct {
			origin string
			ok     bool
		}{
			{"https://kefu.example.com", true},
			{e.agentURL(), true},
			{"", true},
			{"http://kefu.example.com", false},
			{"https://kefu.example.com:8443", false},
			{"https://kefu.example.com.evil.example", false},
			{"https://evil.example", false},
		} {
			c, err := e.tryDial("/ws/agent", token, tc.origin)
			switch {
			case tc.ok && err != nil:
				t.Errorf("public URL %s, Origin %q: refused: %v", publicURL, tc.origin, err)
			case tc.ok:
				c.next("ready")
				c.ws.Close(websocket.StatusNormalClosure, "")
			case err == nil:
				t.Errorf("public URL %s, Origin %q: accepted", publicURL, tc.origin)
			case !strings.Contains(err.Error(), "403"):
				t.Errorf("public URL %s, Origin %q: %v, want a 403 refusal", publicURL, tc.origin, err)
			}
		}
	}
}
