package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"

	"github.com/kefu/kefu/protocol"
)

// A buyer's message reaches the agent, and the agent's answer reaches the buyer.
func TestBuyerAgentBuyerRelay(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, testBuyerAgentBuyerRelay)
}

func testBuyerAgentBuyerRelay(t *testing.T, e *env) {
	agent := e.dial("/ws/agent", e.login("acme", "wang"), e.agentURL())
	if f := agent.next("ready"); f.Type != "ready" {
		t.Fatal("no ready")
	}
	buyer := e.dial("/ws/buyer", e.buyerToken("acme", visitor(1)), storeOrigin)
	ready := buyer.next("ready")
	if ready.Conversation != nil {
		t.Fatalf("new buyer has a conversation: %+v", ready.Conversation)
	}

	buyer.send(sendFrame(0, "c1", "有货吗？"))
	ack := buyer.next("ack")
	if ack.ClientMsgID != "c1" || ack.Duplicate || ack.Msg.Seq != 1 || ack.Msg.ID == 0 || ack.Msg.Text != "有货吗？" {
		t.Fatalf("ack = %+v", ack)
	}
	convID := ack.Msg.ConversationID

	got := agent.next("message")
	if got.Msg.ID != ack.Msg.ID || got.Msg.Sender != "buyer" || got.Msg.Text != "有货吗？" {
		t.Fatalf("agent got %+v, want the buyer's message", got.Msg)
	}
	assigned := buyer.next("conversation")
	if assigned.Conversation.Status != "assigned" || assigned.Conversation.AgentID == nil || *assigned.Conversation.AgentID != e.agents["acme/wang"].ID {
		t.Fatalf("buyer sees %+v, want assigned to wang", assigned.Conversation)
	}

	agent.send(sendFrame(convID, "a1", "亲，有货的"))
	agentAck := agent.next("ack")
	var answer frame
	for answer.Msg.Sender != "agent" {
		answer = buyer.next("message")
	}
	if answer.Msg.ID != agentAck.Msg.ID || answer.Msg.Text != "亲，有货的" || answer.Msg.Seq <= ack.Msg.Seq {
		t.Fatalf("buyer got %+v, want the agent's answer after seq %d", answer.Msg, ack.Msg.Seq)
	}
}

// The same client message id, on the same socket, a new socket, and after a
// server restart, stores one message and always gets the same ack.
func TestRetriedClientMsgIDStoresOneMessage(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, testRetriedClientMsgIDStoresOneMessage)
}

func testRetriedClientMsgIDStoresOneMessage(t *testing.T, e *env) {
	token := e.buyerToken("acme", visitor(2))
	b1 := e.dial("/ws/buyer", token, storeOrigin)
	b1.send(sendFrame(0, "retry-me", "hello"))
	first := b1.next("ack")
	b1.send(sendFrame(0, "retry-me", "hello"))
	sameSocket := b1.next("ack")

	b2 := e.dial("/ws/buyer", token, storeOrigin)
	b2.send(sendFrame(first.Msg.ConversationID, "retry-me", "hello"))
	newSocket := b2.next("ack")

	e.restart()
	b3 := e.dial("/ws/buyer", e.buyerToken("acme", visitor(2)), storeOrigin)
	b3.send(sendFrame(0, "retry-me", "hello"))
	afterRestart := b3.next("ack")

	for name, ack := range map[string]frame{"same socket": sameSocket, "new socket": newSocket, "after restart": afterRestart} {
		if !ack.Duplicate || ack.Msg.ID != first.Msg.ID || ack.Msg.Seq != first.Msg.Seq {
			t.Errorf("%s: ack %+v dup=%v, want message %d seq %d marked duplicate", name, ack.Msg, ack.Duplicate, first.Msg.ID, first.Msg.Seq)
		}
	}
	if first.Duplicate {
		t.Error("first send marked duplicate")
	}
	b3.send(map[string]any{"type": "sync", "conversation_id": first.Msg.ConversationID, "after_seq": 0})
	count := 0
	for _, m := range b3.next("history").Messages {
		if m.ClientMsgID == "retry-me" {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("history holds %d copies of the message, want 1", count)
	}
}

// A buyer who reconnects with the last seq they hold gets exactly what they missed, in order.
func TestReconnectWithLastSeqGetsExactlyWhatWasMissed(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, testReconnectWithLastSeqGetsExactlyWhatWasMissed)
}

func testReconnectWithLastSeqGetsExactlyWhatWasMissed(t *testing.T, e *env) {
	agentToken := e.login("acme", "wang")
	agent := e.dial("/ws/agent", agentToken, e.agentURL())
	agent.next("ready")
	token := e.buyerToken("acme", visitor(3))
	buyer := e.dial("/ws/buyer", token, storeOrigin)
	buyer.next("ready")
	buyer.send(sendFrame(0, "b1", "first"))
	ack := buyer.next("ack")
	convID := ack.Msg.ConversationID
	// Read up to the assignment notice, then drop the connection.
	var held int64
	for held < 2 {
		held = buyer.next("message").Msg.Seq
	}
	buyer.ws.Close(websocket.StatusNormalClosure, "")

	var missed []string
	for i := 1; i <= 5; i++ {
		text := fmt.Sprintf("missed %d", i)
		agent.send(sendFrame(convID, fmt.Sprintf("a%d", i), text))
		agent.next("ack")
		missed = append(missed, text)
	}

	again := e.dial("/ws/buyer", token, storeOrigin)
	ready := again.next("ready")
	if ready.Conversation == nil || ready.Conversation.ID != convID || ready.Conversation.LastSeq != held+5 {
		t.Fatalf("ready conversation = %+v, want %d with last_seq %d", ready.Conversation, convID, held+5)
	}
	again.send(map[string]any{"type": "sync", "conversation_id": convID, "after_seq": held})
	h := again.next("history")
	if h.HasMore || len(h.Messages) != len(missed) {
		t.Fatalf("history has %d messages (more=%v), want %d", len(h.Messages), h.HasMore, len(missed))
	}
	for i, m := range h.Messages {
		if m.Seq != held+int64(i)+1 || m.Text != missed[i] {
			t.Errorf("history[%d] = seq %d %q, want seq %d %q", i, m.Seq, m.Text, held+int64(i)+1, missed[i])
		}
	}
}

// 50 buyers sending 40 messages each at once: every message is stored once,
// in each buyer's order, and reaches the agent and the buyer exactly once.
// Not parallel, like TestSlowBuyerIsDisconnectedAndResumes: a load test runs
// alone, so other tests do not push it past its deadlines.
func TestManyBuyersAtOnceArriveExactlyOnceInOrder(t *testing.T) {
	onEachDatabase(t, testManyBuyersAtOnceArriveExactlyOnceInOrder)
}

func testManyBuyersAtOnceArriveExactlyOnceInOrder(t *testing.T, e *env) {
	const buyers, perBuyer = 50, 40
	if err := e.store.SetAgentCap(t.Context(), e.shop.ID, e.agents["acme/wang"].ID, buyers); err != nil {
		t.Fatal(err)
	}
	agent := e.dial("/ws/agent", e.login("acme", "wang"), e.agentURL())
	agent.next("ready")

	clients := make([]*client, buyers)
	for i := range clients {
		clients[i] = e.dial("/ws/buyer", e.buyerToken("acme", visitor(100+i)), storeOrigin)
		clients[i].next("ready")
	}
	var wg sync.WaitGroup
	convOf := make([]int64, buyers)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perBuyer; j++ {
				c.send(sendFrame(convOf[i], fmt.Sprintf("b%d-m%d", i, j), fmt.Sprintf("%d:%d", i, j)))
				ack := c.next("ack")
				if ack.Code != "" || ack.Msg.ID == 0 {
					t.Errorf("buyer %d message %d: %+v", i, j, ack)
					return
				}
				convOf[i] = ack.Msg.ConversationID
			}
		}()
	}
	wg.Wait()

	// Each buyer's own socket saw each of its messages once, in order.
	for i, c := range clients {
		next := 0
		for next < perBuyer {
			m := c.next("message").Msg
			if m.Sender != "buyer" {
				continue
			}
			if want := fmt.Sprintf("%d:%d", i, next); m.Text != want {
				t.Fatalf("buyer %d saw %q, want %q", i, m.Text, want)
			}
			next++
		}
	}
	// The agent saw every buyer message exactly once, each conversation in seq order.
	seen := map[string]bool{}
	lastSeq := map[int64]int64{}
	for len(seen) < buyers*perBuyer {
		m := agent.next("message").Msg
		if m.Sender != "buyer" {
			continue
		}
		if seen[m.ClientMsgID] {
			t.Fatalf("agent got %s twice", m.ClientMsgID)
		}
		seen[m.ClientMsgID] = true
		if m.Seq <= lastSeq[m.ConversationID] {
			t.Fatalf("conversation %d: seq %d after %d", m.ConversationID, m.Seq, lastSeq[m.ConversationID])
		}
		lastSeq[m.ConversationID] = m.Seq
	}
	// The store holds each buyer's 40 messages once, seq without gaps.
	for i := range clients {
		msgs, _, err := e.store.Messages(t.Context(), e.shop.ID, convOf[i], 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for k, m := range msgs {
			if m.Seq != int64(k)+1 {
				t.Fatalf("conversation %d: message %d has seq %d", convOf[i], k, m.Seq)
			}
			if m.Sender == "buyer" {
				if want := fmt.Sprintf("%d:%d", i, n); m.Text != want {
					t.Fatalf("conversation %d stored %q, want %q", convOf[i], m.Text, want)
				}
				n++
			}
		}
		if n != perBuyer {
			t.Fatalf("conversation %d holds %d buyer messages, want %d", convOf[i], n, perBuyer)
		}
	}
}

// Bad frames get an error with a stable code and the socket stays usable;
// invalid UTF-8 closes with 1007 and an oversized frame with 1009.
func TestBadFrames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.buyerToken("acme", visitor(4))
	b := e.dial("/ws/buyer", token, storeOrigin)
	b.next("ready")
	cases := []struct {
		frame any
		code  string
	}{
		{`{"type":"nonsense"}`, protocol.CodeUnknownType},
		{`not json`, protocol.CodeInvalidJSON},
		{`{"text":"no type"}`, protocol.CodeInvalidFrame},
		{`{"type":"send","client_msg_id":"x1","text":"   "}`, protocol.CodeTextEmpty},
		{sendFrame(0, "x2", strings.Repeat("长", 2001)), protocol.CodeTextTooLong},
		{sendFrame(0, "", "hi"), protocol.CodeInvalidClientMsgID},
		{`{"type":"sync","conversation_id":999999,"after_seq":0}`, "not_found"},
		{`{"type":"presence","status":"online"}`, protocol.CodeForbidden},
	}
	for _, tc := range cases {
		b.send(tc.frame)
		if f := b.next("error"); f.Code != tc.code {
			t.Errorf("frame %v: error code %q (%s), want %q", tc.frame, f.Code, f.Text, tc.code)
		}
	}
	b.send(`{"type":"ping"}`)
	b.next("pong")

	if err := b.ws.Write(t.Context(), websocket.MessageText, []byte{'"', 0xff, 0xfe, '"'}); err != nil {
		t.Fatal(err)
	}
	if code := b.closeStatus(); code != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("invalid UTF-8 closed with %d, want 1007", code)
	}

	big := e.dial("/ws/buyer", token, storeOrigin)
	big.next("ready")
	big.send(sendFrame(0, "big", strings.Repeat("a", 20<<10)))
	if code := big.closeStatus(); code != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame closed with %d, want 1009", code)
	}
}

// A buyer socket from an unregistered origin is refused before the upgrade;
// a bad or expired token gets close code 4401.
func TestBuyerSocketChecksOriginAndToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.buyerToken("acme", visitor(5))
	if _, err := e.tryDial("/ws/buyer", token, "http://evil.example"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("foreign origin: err = %v, want a 403 refusal", err)
	}
	bad := e.dial("/ws/buyer", "forged."+token, storeOrigin)
	if code := bad.closeStatus(); code != 4401 {
		t.Fatalf("forged token closed with %d, want 4401", code)
	}
	e.clock.Advance(api.BuyerTokenTTL)
	expired := e.dial("/ws/buyer", token, storeOrigin)
	if code := expired.closeStatus(); code != 4401 {
		t.Fatalf("expired token closed with %d, want 4401", code)
	}
}

// The agent socket accepts only the kefu origin and a live session.
func TestAgentSocketChecksOriginAndSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.login("acme", "wang")
	if _, err := e.tryDial("/ws/agent", token, "http://evil.example"); err == nil {
		t.Fatal("agent socket accepted a foreign origin")
	}
	bad := e.dial("/ws/agent", "nope", e.agentURL())
	if code := bad.closeStatus(); code != 4401 {
		t.Fatalf("unknown session closed with %d, want 4401", code)
	}
}

// With no agent online the buyer waits and is told their place; the queue
// moves when an agent comes online.
func TestQueuePositionAndAssignmentWhenAgentArrives(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var buyers []*client
	for i := 0; i < 2; i++ {
		b := e.dial("/ws/buyer", e.buyerToken("acme", visitor(10+i)), storeOrigin)
		b.next("ready")
		b.send(sendFrame(0, "hi", "在吗"))
		b.next("ack")
		// Joining, the buyer learns their place from the conversation frame;
		// the tick tells every waiting buyer theirs.
		if f := b.next("conversation"); f.Conversation.Status != "queued" || f.Conversation.QueuePosition != i+1 {
			t.Fatalf("buyer %d joined as %+v, want queued at %d", i, f.Conversation, i+1)
		}
		e.tick()
		if q := b.next("queue"); q.Position != i+1 {
			t.Fatalf("buyer %d position %d, want %d", i, q.Position, i+1)
		}
		buyers = append(buyers, b)
	}
	agent := e.dial("/ws/agent", e.login("acme", "li"), e.agentURL())
	agent.next("ready")
	for i, b := range buyers {
		f := b.next("conversation")
		for f.Conversation.Status != "assigned" {
			f = b.next("conversation")
		}
		if *f.Conversation.AgentID != e.agents["acme/li"].ID {
			t.Fatalf("buyer %d assigned to %d", i, *f.Conversation.AgentID)
		}
	}
}

// Shutdown tells every socket to reconnect, then closes it with 1012.
func TestShutdownSendsClientsAway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.dial("/ws/buyer", e.buyerToken("acme", visitor(6)), storeOrigin)
	b.next("ready")
	e.stop()
	f := b.next("reconnect")
	if f.Reason != "server_restart" {
		t.Fatalf("reconnect reason %q", f.Reason)
	}
	if code := b.closeStatus(); code != websocket.StatusServiceRestart {
		t.Fatalf("closed with %d, want 1012", code)
	}
}

// Closing a conversation frees the agent's slot and the next waiting buyer
// gets it at once.
func TestCloseFreesSlotForNextInQueue(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, testCloseFreesSlotForNextInQueue)
}

func testCloseFreesSlotForNextInQueue(t *testing.T, e *env) {
	li := e.agents["acme/li"]
	if err := e.store.SetAgentCap(t.Context(), e.shop.ID, li.ID, 1); err != nil {
		t.Fatal(err)
	}
	token := e.login("acme", "li")
	agent := e.dial("/ws/agent", token, e.agentURL())
	agent.next("ready")
	first := e.dial("/ws/buyer", e.buyerToken("acme", visitor(20)), storeOrigin)
	first.send(sendFrame(0, "f1", "first"))
	conv1 := first.next("ack").Msg.ConversationID
	second := e.dial("/ws/buyer", e.buyerToken("acme", visitor(21)), storeOrigin)
	second.send(sendFrame(0, "s1", "second"))
	second.next("ack")
	e.tick()
	if q := second.next("queue"); q.Position != 1 {
		t.Fatalf("second buyer position %d, want 1 (agent at cap)", q.Position)
	}
	if code := e.do("POST", "/api/v1/conversations/"+itoa(conv1)+"/close", token, "", nil, nil); code != 200 {
		t.Fatalf("close: %d", code)
	}
	f := second.next("conversation")
	for f.Conversation.Status != "assigned" {
		f = second.next("conversation")
	}
	if *f.Conversation.AgentID != li.ID {
		t.Fatalf("second buyer assigned to %d, want %d", *f.Conversation.AgentID, li.ID)
	}
	var closedNotice frame
	for closedNotice.Msg.Kind != "system" || closedNotice.Msg.ConversationID != conv1 || closedNotice.Msg.Code != "closed" || !strings.Contains(closedNotice.Msg.Text, "结束") {
		closedNotice = first.next("message")
	}
}

// A colleague sees a conversation while it waits and when it leaves the
// queue, but not what is said after it is assigned; a supervisor sees it all.
func TestColleaguesDoNotReceiveEachOthersChats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAgent("boss", kefu.RoleSupervisor)
	// Li is away: connected, but takes no new conversations.
	li := e.dial("/ws/agent", e.login("acme", "li"), e.agentURL())
	li.next("ready")
	li.send(`{"type":"presence","status":"away"}`)
	boss := e.dial("/ws/agent", e.login("acme", "boss"), e.agentURL())
	boss.next("ready")
	boss.send(`{"type":"presence","status":"away"}`)
	wangToken := e.login("acme", "wang")
	wang := e.dial("/ws/agent", wangToken, e.agentURL())
	wang.next("ready")

	b, ack := e.buyerWrites(40, "first")
	conv := ack.Msg.ConversationID
	wang.next("message") // the buyer's message
	wang.send(sendFrame(conv, "w1", "private answer"))
	wang.next("ack")
	b.send(sendFrame(conv, "c2", "private follow-up"))
	b.next("ack")
	if code := e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/close", wangToken, "", nil, nil); code != 200 {
		t.Fatalf("close: %d", code)
	}
	// A marker published to the whole shop after everything above.
	b2 := e.dial("/ws/buyer", e.buyerToken("acme", visitor(41)), storeOrigin)
	wang.send(`{"type":"presence","status":"away"}`)
	b2.send(sendFrame(0, "m1", "marker"))
	b2.next("ack")

	var liSaw, bossSaw []string
	for _, who := range []struct {
		c    *client
		seen *[]string
	}{{li, &liSaw}, {boss, &bossSaw}} {
		for {
			f := who.c.next("message", "conversation")
			if f.Type == "conversation" {
				if f.Conversation.ID == conv {
					*who.seen = append(*who.seen, "conversation:"+f.Conversation.Status)
				}
				continue
			}
			*who.seen = append(*who.seen, f.Msg.Text)
			if f.Msg.Text == "marker" {
				break
			}
		}
	}
	if strings.Contains(strings.Join(liSaw, "|"), "conversation:closed") {
		t.Errorf("a colleague was told the assigned conversation closed: %q", liSaw)
	}
	if !strings.Contains(strings.Join(liSaw, "|"), "conversation:assigned") {
		t.Errorf("a colleague was not told the conversation left the queue: %q", liSaw)
	}
	if !strings.Contains(strings.Join(bossSaw, "|"), "conversation:closed") {
		t.Errorf("the supervisor was not told the conversation closed: %q", bossSaw)
	}
	if strings.Contains(strings.Join(liSaw, "|"), "private") {
		t.Errorf("a colleague received the assigned conversation's messages: %q", liSaw)
	}
	if !strings.Contains(strings.Join(liSaw, "|"), "first") {
		t.Errorf("a colleague did not see the message of the waiting conversation: %q", liSaw)
	}
	if got := strings.Join(bossSaw, "|"); !strings.Contains(got, "private answer") || !strings.Contains(got, "private follow-up") {
		t.Errorf("the supervisor missed messages: %q", bossSaw)
	}
}

// A signed-in buyer who comes back without a name keeps the stored one.
func TestIdentifiedBuyerKeepsNameWhenNoneIsGiven(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sig := api.BuyerSignature(e.shop.IdentitySecret, "u7")
	var out struct{ Buyer struct{ Name string } }
	body := map[string]string{"visitor_id": "v_abcdefgh", "buyer_id": "u7", "signature": sig, "name": "张三"}
	e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, body, &out)
	delete(body, "name")
	e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, body, &out)
	if out.Buyer.Name != "张三" {
		t.Fatalf("name %q after a session without a name, want 张三 kept", out.Buyer.Name)
	}
}

// A buyer who stops reading is cut off as a slow consumer (4001) instead of
// holding anyone up: the agent's sends keep being acknowledged meanwhile.
// Reconnecting and syncing from the last seq it saw returns the rest.
// Not parallel: a load test runs alone.
func TestSlowBuyerIsDisconnectedAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("sends megabytes over loopback")
	}
	e := newEnv(t)
	// However long the flood takes on a slow machine, the server keeps
	// trying to write to the stuck socket until the test reads it.
	e.socketWriteTimeout = 5 * time.Minute
	e.restart()
	agentToken := e.login("acme", "wang")
	agent := e.dial("/ws/agent", agentToken, e.agentURL())
	agent.next("ready")
	token := e.buyerToken("acme", visitor(50))

	// The slow buyer: a raw socket nobody reads until the flood is over.
	ctx := t.Context()
	ws, _, err := websocket.Dial(ctx, e.wsURL("/ws/buyer", token), &websocket.DialOptions{HTTPHeader: map[string][]string{"Origin": {storeOrigin}}})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"send","client_msg_id":"s1","text":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	// The agent is online: routing gives them the conversation. Wait for
	// that, so the flood below writes to a conversation they hold.
	var conv int64
	for {
		f := agent.next("conversation")
		if f.Conversation != nil && f.Conversation.Status == "assigned" {
			conv = f.Conversation.ID
			break
		}
	}

	// Far more than the socket buffer and the kernel's buffers hold, sent
	// over REST by several senders at once so the messages share commits:
	// the flood must be over before the server gives up writing to the
	// stuck socket (writeTimeout), or it cannot say 4001.
	const flood, senders = 1500, 8
	big := strings.Repeat("货", kefu.MaxTextRunes)
	var wg sync.WaitGroup
	codes := make([]int, flood)
	send := func(i int) {
		codes[i] = e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/messages", agentToken, "",
			map[string]string{"client_msg_id": fmt.Sprintf("a%d", i), "text": big}, nil)
	}
	// The slow buyer still writes (it only stops reading): a ping now and
	// then keeps the server from taking it for gone (readTimeout) while a
	// slow machine works through the flood.
	flooded := make(chan struct{})
	pinged := make(chan struct{})
	go func() {
		defer close(pinged)
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-flooded:
				return
			case <-tick.C:
				ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
			}
		}
	}()
	for s := range senders {
		wg.Go(func() {
			for i := s; i < flood; i += senders {
				send(i)
			}
		})
	}
	wg.Wait()
	close(flooded)
	<-pinged
	for i, code := range codes {
		if code != 201 {
			t.Fatalf("agent send %d: status %d", i, code)
		}
	}

	// Now read what the slow socket got before it was cut off.
	var lastSeq int64
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != 4001 {
				t.Fatalf("slow socket ended with %v (code %d), want close 4001 slow_consumer", err, code)
			}
			break
		}
		var f frame
		json.Unmarshal(data, &f)
		if f.Type == "message" {
			json.Unmarshal(f.RawMessage, &f.Msg)
			lastSeq = f.Msg.Seq
		}
	}
	var stored struct {
		Conversation struct {
			LastSeq int64 `json:"last_seq"`
		}
	}
	e.do("GET", "/api/v1/conversations/"+itoa(conv), agentToken, "", nil, &stored)
	if lastSeq >= stored.Conversation.LastSeq {
		t.Fatalf("the slow socket saw seq %d of %d: it was never cut off", lastSeq, stored.Conversation.LastSeq)
	}

	again := e.dial("/ws/buyer", token, storeOrigin)
	again.next("ready")
	next := lastSeq
	for next < stored.Conversation.LastSeq {
		again.send(map[string]any{"type": "sync", "conversation_id": conv, "after_seq": next, "limit": 50})
		h := again.next("history")
		for _, m := range h.Messages {
			if m.Seq != next+1 {
				t.Fatalf("resume: seq %d after %d", m.Seq, next)
			}
			next = m.Seq
		}
		if !h.HasMore {
			break
		}
	}
	if next != stored.Conversation.LastSeq {
		t.Fatalf("resumed up to seq %d, want %d", next, stored.Conversation.LastSeq)
	}
}

// Sending faster than the limit is refused with rate_limited and when to
// retry; the same message goes through once the bucket refills.
func TestSendsAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	limits := kefu.DefaultRateLimits()
	limits.BuyerMessages = kefu.RateLimit{PerMinute: 60, Burst: 2}
	limits.AgentMessages = kefu.RateLimit{PerMinute: 60, Burst: 1}
	if err := e.store.SetShopRateLimits(t.Context(), e.shop.ID, limits); err != nil {
		t.Fatal(err)
	}
	b := e.dial("/ws/buyer", e.buyerToken("acme", visitor(60)), storeOrigin)
	b.next("ready")
	b.send(sendFrame(0, "r1", "one"))
	conv := b.next("ack").Msg.ConversationID
	b.send(sendFrame(conv, "r2", "two"))
	b.next("ack")
	b.send(sendFrame(conv, "r3", "three"))
	f := b.next("error", "ack")
	if f.Type != "error" || f.Code != "rate_limited" || f.Ref != "r3" || f.RetryAfterMs != 1000 {
		t.Fatalf("third send: %+v, want error rate_limited for r3, retry after 1000 ms", f)
	}
	e.clock.Advance(time.Second)
	b.send(sendFrame(conv, "r3", "three"))
	if f := b.next("error", "ack"); f.Type != "ack" || f.Msg.Text != "three" {
		t.Fatalf("after the refill: %+v, want the ack", f)
	}

	token := e.login("acme", "wang")
	path := "/api/v1/conversations/" + itoa(conv) + "/messages"
	e.do("POST", "/api/v1/conversations/"+itoa(conv)+"/accept", token, "", nil, nil)
	if code := e.do("POST", path, token, "", map[string]string{"client_msg_id": "a1", "text": "hi"}, nil); code != 201 {
		t.Fatalf("agent's first send: %d", code)
	}
	var out apiErr
	if code := e.do("POST", path, token, "", map[string]string{"client_msg_id": "a2", "text": "again"}, &out); code != 429 || out.Error.Code != "rate_limited" {
		t.Fatalf("agent over the limit: %d %q, want 429 rate_limited", code, out.Error.Code)
	}
}

// A client may send its first frame in the same packet as its handshake; the
// server must not lose those bytes when it swaps in its own buffers.
func TestFrameSentWithTheHandshakeIsRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := url.Parse(e.ts.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitFor))
	handshake := "GET /ws/buyer?token=" + e.buyerToken("acme", visitor(70)) + " HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: " + storeOrigin + "\r\n\r\n"
	// One write: the handshake and a masked text frame {"type":"ping"}.
	payload := []byte(`{"type":"ping"}`)
	mask := []byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(payload))}
	frame = append(frame, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	if _, err := conn.Write(append([]byte(handshake), frame...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", res, err)
	}
	var types []string
	for len(types) < 2 {
		head := make([]byte, 2)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatalf("after %v: %v", types, err)
		}
		n := int(head[1] & 0x7f)
		if n == 126 {
			ext := make([]byte, 2)
			io.ReadFull(r, ext)
			n = int(ext[0])<<8 | int(ext[1])
		}
		body := make([]byte, n)
		io.ReadFull(r, body)
		var f struct{ Type string }
		json.Unmarshal(body, &f)
		types = append(types, f.Type)
	}
	if types[0] != "ready" || types[1] != "pong" {
		t.Fatalf("frames %v, want ready then pong", types)
	}
}
