package load

import (
	"testing"
	"time"

	"github.com/kefu/kefu/protocol"
)

// The relay reader's byte searches read the frames the server really sends.
func TestFrameFieldsOfServerFrames(t *testing.T) {
	due := time.Unix(0, 1764590000123456789)
	m := protocol.Message{ID: 41, ConversationID: 7, Seq: 3, Kind: "text", Sender: "agent", SenderID: 5,
		SenderName: "小王", Text: stampedText(due, 200), ClientMsgID: "load001-9-2", CreatedAt: due}
	frame, ack := protocol.MessageAndAck(m)
	if got := frameType(frame); got != "message" {
		t.Fatalf("type %q", got)
	}
	if id, conv, seq := intField(frame, "id"), intField(frame, "conversation_id"), intField(frame, "seq"); id != 41 || conv != 7 || seq != 3 {
		t.Errorf("id %d conversation %d seq %d", id, conv, seq)
	}
	if s := stringField(frame, "sender"); s != "agent" {
		t.Errorf("sender %q", s)
	}
	if at, ok := stampOf(stringField(frame, "text")); !ok || at != due.UnixNano() {
		t.Errorf("stamp %d %v", at, ok)
	}
	if got, id, cid := frameType(ack), intField(ack, "id"), stringField(ack, "client_msg_id"); got != "ack" || id != 41 || cid != "load001-9-2" {
		t.Errorf("ack: %q id %d client id %q", got, id, cid)
	}
	errFrame := protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Code: protocol.CodeRateLimited, Message: "slow down"})
	if got, code := frameType(errFrame), stringField(errFrame, "code"); got != "error" || code != "rate_limited" {
		t.Errorf("error frame: %q %q", got, code)
	}
}
