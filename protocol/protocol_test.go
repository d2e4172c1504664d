package protocol

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu"
)

// decodeCase is one frame and what DecodeClientFrame must make of it: the
// frame when it is valid (wantCode ""), else the error code.
type decodeCase struct {
	name     string
	in       string
	want     ClientFrame
	wantCode string
}

func decodeCases() []decodeCase {
	chinese := func(n int) string { return strings.Repeat("好", n) }
	return []decodeCase{
		// Every type, valid.
		{name: "send", in: `{"type":"send","client_msg_id":"c-1","text":"你好"}`,
			want: ClientFrame{Type: TypeSend, ClientMsgID: "c-1", Text: "你好"}},
		{name: "send naming a conversation", in: `{"type":"send","conversation_id":7,"client_msg_id":"a_0f","text":"hi"}`,
			want: ClientFrame{Type: TypeSend, ConversationID: 7, ClientMsgID: "a_0f", Text: "hi"}},
		{name: "send with 2000 Chinese characters", in: `{"type":"send","client_msg_id":"c","text":"` + chinese(2000) + `"}`,
			want: ClientFrame{Type: TypeSend, ClientMsgID: "c", Text: chinese(2000)}},
		{name: "send with surrounding blanks kept", in: `{"type":"send","client_msg_id":"c","text":"  hi\n"}`,
			want: ClientFrame{Type: TypeSend, ClientMsgID: "c", Text: "  hi\n"}},
		{name: "send with a 64-character client id", in: `{"type":"send","client_msg_id":"` + strings.Repeat("x", 64) + `","text":"hi"}`,
			want: ClientFrame{Type: TypeSend, ClientMsgID: strings.Repeat("x", 64), Text: "hi"}},
		{name: "send with punctuation in the client id", in: `{"type":"send","client_msg_id":"!~a-b_c.d/{}","text":"hi"}`,
			want: ClientFrame{Type: TypeSend, ClientMsgID: "!~a-b_c.d/{}", Text: "hi"}},
		{name: "send with invalid UTF-8 gets a replacement character", in: "{\"type\":\"send\",\"client_msg_id\":\"c\",\"text\":\"\xffhi\"}",
			want: ClientFrame{Type: TypeSend, ClientMsgID: "c", Text: "\uFFFDhi"}},
		{name: "sync", in: `{"type":"sync","conversation_id":5,"after_seq":3,"limit":50}`,
			want: ClientFrame{Type: TypeSync, ConversationID: 5, AfterSeq: 3, Limit: 50}},
		{name: "sync with defaults", in: `{"type":"sync","conversation_id":5}`,
			want: ClientFrame{Type: TypeSync, ConversationID: 5}},
		{name: "sync with the largest limit", in: `{"type":"sync","conversation_id":5,"limit":200}`,
			want: ClientFrame{Type: TypeSync, ConversationID: 5, Limit: 200}},
		{name: "typing", in: `{"type":"typing"}`, want: ClientFrame{Type: TypeTyping}},
		{name: "typing naming a conversation", in: `{"type":"typing","conversation_id":3}`, want: ClientFrame{Type: TypeTyping, ConversationID: 3}},
		{name: "read", in: `{"type":"read","conversation_id":5,"seq":9}`, want: ClientFrame{Type: TypeRead, ConversationID: 5, Seq: 9}},
		{name: "presence online", in: `{"type":"presence","status":"online"}`, want: ClientFrame{Type: TypePresence, Status: "online"}},
		{name: "presence away", in: `{"type":"presence","status":"away"}`, want: ClientFrame{Type: TypePresence, Status: "away"}},
		{name: "ping", in: `{"type":"ping"}`, want: ClientFrame{Type: TypePing}},
		{name: "unknown fields are ignored", in: `{"type":"ping","ref":"x","extra":[1,2]}`, want: ClientFrame{Type: TypePing}},
		{name: "surrounding whitespace", in: " \n{\"type\":\"ping\"}\n", want: ClientFrame{Type: TypePing}},

		// invalid_json
		{name: "not JSON", in: `hello`, wantCode: CodeInvalidJSON},
		{name: "empty", in: ``, wantCode: CodeInvalidJSON},
		{name: "truncated", in: `{"type":"send"`, wantCode: CodeInvalidJSON},
		{name: "array", in: `[{"type":"ping"}]`, wantCode: CodeInvalidJSON},
		{name: "string", in: `"ping"`, wantCode: CodeInvalidJSON},
		{name: "number type", in: `{"type":1}`, wantCode: CodeInvalidJSON},
		{name: "string conversation id", in: `{"type":"sync","conversation_id":"5"}`, wantCode: CodeInvalidJSON},
		{name: "fractional seq", in: `{"type":"read","conversation_id":5,"seq":1.5}`, wantCode: CodeInvalidJSON},
		{name: "two objects", in: `{"type":"ping"}{"type":"ping"}`, wantCode: CodeInvalidJSON},

		// unknown_type
		{name: "unknown type", in: `{"type":"hello"}`, wantCode: CodeUnknownType},
		{name: "type in capitals", in: `{"type":"SEND","client_msg_id":"c","text":"hi"}`, wantCode: CodeUnknownType},
		{name: "server frame type", in: `{"type":"pong"}`, wantCode: CodeUnknownType},

		// invalid_frame
		{name: "no type", in: `{"conversation_id":5}`, wantCode: CodeInvalidFrame},
		{name: "empty object", in: `{}`, wantCode: CodeInvalidFrame},
		{name: "empty type", in: `{"type":""}`, wantCode: CodeInvalidFrame},
		{name: "null", in: `null`, wantCode: CodeInvalidFrame},
		{name: "sync without conversation", in: `{"type":"sync","after_seq":1}`, wantCode: CodeInvalidFrame},
		{name: "sync with conversation 0", in: `{"type":"sync","conversation_id":0}`, wantCode: CodeInvalidFrame},
		{name: "sync with negative conversation", in: `{"type":"sync","conversation_id":-5}`, wantCode: CodeInvalidFrame},
		{name: "sync with negative after_seq", in: `{"type":"sync","conversation_id":5,"after_seq":-1}`, wantCode: CodeInvalidFrame},
		{name: "sync with limit over 200", in: `{"type":"sync","conversation_id":5,"limit":201}`, wantCode: CodeInvalidFrame},
		{name: "sync with negative limit", in: `{"type":"sync","conversation_id":5,"limit":-1}`, wantCode: CodeInvalidFrame},
		{name: "read without conversation", in: `{"type":"read","seq":3}`, wantCode: CodeInvalidFrame},
		{name: "read without seq", in: `{"type":"read","conversation_id":5}`, wantCode: CodeInvalidFrame},
		{name: "read with negative seq", in: `{"type":"read","conversation_id":5,"seq":-1}`, wantCode: CodeInvalidFrame},
		{name: "presence offline", in: `{"type":"presence","status":"offline"}`, wantCode: CodeInvalidFrame},
		{name: "presence without status", in: `{"type":"presence"}`, wantCode: CodeInvalidFrame},
		{name: "presence in capitals", in: `{"type":"presence","status":"ONLINE"}`, wantCode: CodeInvalidFrame},
		{name: "presence unknown", in: `{"type":"presence","status":"busy"}`, wantCode: CodeInvalidFrame},
		{name: "typing with negative conversation", in: `{"type":"typing","conversation_id":-1}`, wantCode: CodeInvalidFrame},
		{name: "ping with negative conversation", in: `{"type":"ping","conversation_id":-1}`, wantCode: CodeInvalidFrame},
		{name: "send with negative conversation", in: `{"type":"send","conversation_id":-1,"client_msg_id":"c","text":"hi"}`, wantCode: CodeInvalidFrame},

		// text_empty
		{name: "send without text", in: `{"type":"send","client_msg_id":"c"}`, wantCode: CodeTextEmpty},
		{name: "send with empty text", in: `{"type":"send","client_msg_id":"c","text":""}`, wantCode: CodeTextEmpty},
		{name: "send with spaces only", in: `{"type":"send","client_msg_id":"c","text":"   "}`, wantCode: CodeTextEmpty},
		{name: "send with blank lines only", in: `{"type":"send","client_msg_id":"c","text":"\n\t\r\n "}`, wantCode: CodeTextEmpty},
		{name: "send with ideographic space only", in: `{"type":"send","client_msg_id":"c","text":"\u3000\u3000"}`, wantCode: CodeTextEmpty},

		// text_invalid_characters
		{name: "send with NUL", in: `{"type":"send","client_msg_id":"c","text":"a\u0000b"}`, wantCode: CodeTextInvalidChars},
		{name: "send with only NUL", in: `{"type":"send","client_msg_id":"c","text":"\u0000"}`, wantCode: CodeTextInvalidChars},
		{name: "send with an escape character", in: `{"type":"send","client_msg_id":"c","text":"\u001b[31mred"}`, wantCode: CodeTextInvalidChars},
		{name: "send with a C1 control", in: `{"type":"send","client_msg_id":"c","text":"hi\u0085"}`, wantCode: CodeTextInvalidChars},

		// text_too_long
		{name: "send with 2001 Chinese characters", in: `{"type":"send","client_msg_id":"c","text":"` + chinese(2001) + `"}`, wantCode: CodeTextTooLong},
		{name: "send with 2001 ASCII characters", in: `{"type":"send","client_msg_id":"c","text":"` + strings.Repeat("a", 2001) + `"}`, wantCode: CodeTextTooLong},

		// invalid_client_msg_id
		{name: "send without client id", in: `{"type":"send","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
		{name: "send with empty client id", in: `{"type":"send","client_msg_id":"","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
		{name: "send with 65-character client id", in: `{"type":"send","client_msg_id":"` + strings.Repeat("x", 65) + `","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
		{name: "send with a space in the client id", in: `{"type":"send","client_msg_id":"a b","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
		{name: "send with a tab in the client id", in: `{"type":"send","client_msg_id":"a\tb","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
		{name: "send with DEL in the client id", in: `{"type":"send","client_msg_id":"a\u007fb","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
		{name: "send with Chinese in the client id", in: `{"type":"send","client_msg_id":"消息1","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
		{name: "send with an accent in the client id", in: `{"type":"send","client_msg_id":"caf\u00e9","text":"hi"}`, wantCode: CodeInvalidClientMsgID},
	}
}

func TestDecodeClientFrame(t *testing.T) {
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeClientFrame([]byte(tc.in))
			if tc.wantCode != "" {
				if err == nil {
					t.Fatalf("decoded %+v, want error %s", got, tc.wantCode)
				}
				if err.Code != tc.wantCode {
					t.Errorf("error %v, want code %s", err, tc.wantCode)
				}
				if err.Message == "" {
					t.Errorf("error %s has no human message", err.Code)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v, want %+v", err, tc.want)
			}
			if got != tc.want {
				t.Errorf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestValidateText(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		wantCode string
	}{
		{"one character", "a", ""},
		{"2000 Chinese characters", strings.Repeat("好", 2000), ""},
		{"2000 emoji", strings.Repeat("😀", 2000), ""},
		{"2001 emoji", strings.Repeat("😀", 2001), CodeTextTooLong},
		{"empty", "", CodeTextEmpty},
		{"no-break spaces", "\u00a0\u00a0", CodeTextEmpty},
		{"invalid UTF-8", "hi\xff", CodeInvalidFrame},
		{"lone surrogate bytes", "hi\xed\xa0\x80", CodeInvalidFrame},

		// Controls: tab and line breaks only.
		{"tab, line feed, carriage return", "a\tb\r\nc\rd\n", ""},
		{"NUL", "a\x00b", CodeTextInvalidChars},
		{"NUL at the end", "hi\x00", CodeTextInvalidChars},
		{"NUL among blanks", " \x00 ", CodeTextInvalidChars},
		{"bell", "a\ab", CodeTextInvalidChars},
		{"vertical tab", "a\vb", CodeTextInvalidChars},
		{"form feed", "a\fb", CodeTextInvalidChars},
		{"escape", "\x1b[2J", CodeTextInvalidChars},
		{"unit separator", "a\x1fb", CodeTextInvalidChars},
		{"DEL", "a\x7fb", CodeTextInvalidChars},
		{"C1 next line", "a\u0085b", CodeTextInvalidChars},
		{"C1 CSI", "a\u009bb", CodeTextInvalidChars},
		{"control past the length limit", strings.Repeat("好", 2500) + "\x00", CodeTextInvalidChars},
		{"2001 characters, last a tab", strings.Repeat("a", 2000) + "\t", CodeTextTooLong},

		// Allowed formatting: bidi, zero-width, separators, BOM.
		{"Hebrew with a right-to-left override", "\u202eשלום\u202c", ""},
		{"Arabic with isolates", "\u2067مرحبا\u2069 123", ""},
		{"bidi marks", "abc\u200f123\u200e\u061c", ""},
		{"emoji with zero-width joiner", "👩\u200d💻", ""},
		{"zero-width non-joiner", "می\u200cخواهم", ""},
		{"line and paragraph separators", "a\u2028b\u2029c", ""},
		{"byte-order mark", "\ufeffhi", ""},
		{"replacement character", "\ufffd", ""},
		{"no-break space inside", "100\u00a0元", ""},

		// Nothing visible is empty.
		{"zero-width space only", "\u200b", CodeTextEmpty},
		{"byte-order mark only", "\ufeff", CodeTextEmpty},
		{"bidi controls and blanks only", " \u202e\u202c\u2066\u2069 ", CodeTextEmpty},
		{"line separator only", "\u2028", CodeTextEmpty},
		{"soft hyphen only", "\u00ad", CodeTextEmpty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateText(tc.text)
			switch {
			case tc.wantCode == "" && err != nil:
				t.Errorf("ValidateText = %v, want nil", err)
			case tc.wantCode != "" && (err == nil || err.Code != tc.wantCode):
				t.Errorf("ValidateText = %v, want code %s", err, tc.wantCode)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"Chinese", "张三", true},
		{"empty (the caller's rule)", "", true},
		{"64 characters", strings.Repeat("王", 64), true},
		{"65 characters", strings.Repeat("王", 65), false},
		{"inner spaces", "Li Wei (after-sales)", true},
		{"emoji with zero-width joiner", "Ana 👩\u200d💻", true},
		{"Hebrew", "דוד כהן", true},
		{"bidi marks", "דוד\u200f 2", true},
		{"zero-width non-joiner", "می\u200cخواهم", true},
		{"NUL", "张\x00三", false},
		{"tab", "a\tb", false},
		{"line feed", "a\nb", false},
		{"carriage return", "a\rb", false},
		{"DEL", "a\x7f", false},
		{"C1", "a\u0085", false},
		{"right-to-left override", "gnp.\u202eexe", false},
		{"left-to-right embedding", "\u202aab", false},
		{"pop directional formatting", "ab\u202c", false},
		{"right-to-left isolate", "\u2067ab", false},
		{"pop directional isolate", "ab\u2069", false},
		{"first strong isolate", "\u2068ab", false},
		{"line separator", "a\u2028b", false},
		{"paragraph separator", "a\u2029b", false},
		{"byte-order mark", "\ufeffab", false},
		{"invalid UTF-8", "a\xff", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateName(%q) = %v, want ok %v", tc.in, err, tc.ok)
			}
			if err != nil && (err.Code != CodeInvalidName || err.Message == "") {
				t.Errorf("ValidateName(%q) = %v, want %s with a sentence", tc.in, err, CodeInvalidName)
			}
		})
	}
}

func TestValidateBuyerID(t *testing.T) {
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"short", "u1001", true},
		{"email", "li.wei@example.com", true},
		{"with a space", "shop 1 user 2", true},
		{"128 bytes", strings.Repeat("x", 128), true},
		{"Chinese", "买家一号", true},
		{"empty", "", false},
		{"129 bytes", strings.Repeat("x", 129), false},
		{"43 Chinese characters (129 bytes)", strings.Repeat("买", 43), false},
		{"NUL", "u\x001", false},
		{"line feed", "u1\n", false},
		{"right-to-left override", "u\u202e1", false},
		{"isolate", "\u2066u1", false},
		{"byte-order mark", "\ufeffu1", false},
		{"invalid UTF-8", "u\xff", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateBuyerID(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateBuyerID(%q) = %v, want ok %v", tc.in, err, tc.ok)
			}
			if err != nil && (err.Code != CodeInvalidBuyerID || err.Message == "") {
				t.Errorf("ValidateBuyerID(%q) = %v, want %s with a sentence", tc.in, err, CodeInvalidBuyerID)
			}
		})
	}
}

func FuzzDecodeClientFrame(f *testing.F) {
	for _, tc := range decodeCases() {
		f.Add([]byte(tc.in))
	}
	known := map[string]bool{TypeSend: true, TypeSync: true, TypeTyping: true, TypeRead: true, TypePresence: true, TypePing: true}
	codes := map[string]bool{CodeInvalidJSON: true, CodeUnknownType: true, CodeInvalidFrame: true, CodeTextEmpty: true,
		CodeTextTooLong: true, CodeTextInvalidChars: true, CodeInvalidClientMsgID: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		frame, err := DecodeClientFrame(data)
		if err != nil {
			if !codes[err.Code] || err.Message == "" {
				t.Fatalf("error %q: %q, want a known decode code and a message", err.Code, err.Message)
			}
			return
		}
		if !known[frame.Type] {
			t.Fatalf("accepted frame of unknown type %q", frame.Type)
		}
		if frame.ConversationID < 0 {
			t.Fatalf("accepted negative conversation_id %d", frame.ConversationID)
		}
		switch frame.Type {
		case TypeSend:
			if e := ValidateText(frame.Text); e != nil {
				t.Fatalf("accepted send with bad text: %v", e)
			}
			if e := ValidateClientMsgID(frame.ClientMsgID); e != nil {
				t.Fatalf("accepted send with bad client id: %v", e)
			}
		case TypeSync:
			if frame.ConversationID <= 0 || frame.AfterSeq < 0 || frame.Limit < 0 || frame.Limit > kefu.MaxPageSize {
				t.Fatalf("accepted bad sync %+v", frame)
			}
		case TypeRead:
			if frame.ConversationID <= 0 || frame.Seq <= 0 {
				t.Fatalf("accepted bad read %+v", frame)
			}
		case TypePresence:
			if frame.Status != string(kefu.PresenceOnline) && frame.Status != string(kefu.PresenceAway) {
				t.Fatalf("accepted presence %q", frame.Status)
			}
		}
	})
}

func TestEncodeMessageFrame(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	cases := []struct {
		name string
		msg  kefu.Message
	}{
		{"buyer text", kefu.Message{ID: 41, ShopID: 3, ConversationID: 7, Seq: 12, Kind: kefu.KindText, Sender: kefu.SenderBuyer,
			SenderID: 9, SenderName: "访客 9", Text: "你好,订单 #123 到哪了?", ClientMsgID: "c-1",
			CreatedAt: time.Date(2025, 3, 1, 17, 4, 5, 123456789, shanghai)}},
		{"system message without client id", kefu.Message{ID: 42, ShopID: 3, ConversationID: 7, Seq: 13, Kind: kefu.KindSystem,
			Sender: kefu.SenderSystem, Text: "Alice joined", CreatedAt: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}},
		{"text needing escapes", kefu.Message{ID: 43, ConversationID: 7, Seq: 14, Kind: kefu.KindText, Sender: kefu.SenderAgent,
			SenderID: 2, SenderName: `Bob "the" <agent>`, Text: "<script>alert('x')</script>\n\t\\ & 😀\u2028",
			ClientMsgID: `a_{"}`, CreatedAt: time.Date(2025, 3, 1, 9, 0, 0, 1, time.UTC)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sent := MessageFrame{Type: TypeMessage, Message: MessageOf(tc.msg)}
			data := Encode(sent)

			var got MessageFrame
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			m := got.Message
			if got.Type != TypeMessage || m.ID != tc.msg.ID || m.ConversationID != tc.msg.ConversationID || m.Seq != tc.msg.Seq ||
				m.Kind != string(tc.msg.Kind) || m.Sender != string(tc.msg.Sender) || m.SenderID != tc.msg.SenderID ||
				m.SenderName != tc.msg.SenderName || m.Text != tc.msg.Text || m.ClientMsgID != tc.msg.ClientMsgID || !m.CreatedAt.Equal(tc.msg.CreatedAt) {
				t.Errorf("round trip of %s gave %+v, want %+v", data, got, sent)
			}

			// The names clients read, and times in UTC.
			var raw struct {
				Type    string                     `json:"type"`
				Message map[string]json.RawMessage `json:"message"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			for _, key := range []string{"id", "conversation_id", "seq", "kind", "sender", "sender_id", "sender_name", "text", "created_at"} {
				if _, ok := raw.Message[key]; !ok {
					t.Errorf("message has no %q: %s", key, data)
				}
			}
			if _, ok := raw.Message["client_msg_id"]; ok != (tc.msg.ClientMsgID != "") {
				t.Errorf("client_msg_id present %v, want %v: %s", ok, tc.msg.ClientMsgID != "", data)
			}
			if _, ok := raw.Message["shop_id"]; ok {
				t.Errorf("message shows its shop id: %s", data)
			}
			var created string
			if err := json.Unmarshal(raw.Message["created_at"], &created); err != nil || !strings.HasSuffix(created, "Z") {
				t.Errorf("created_at = %s, want an RFC 3339 UTC time", raw.Message["created_at"])
			}
		})
	}
}

// The shared encoding of a new message is byte for byte what encoding the
// two frames separately gives.
func TestMessageAndAckMatchesFrames(t *testing.T) {
	m := Message{ID: 7, ConversationID: 3, Seq: 2, Kind: "text", Sender: "buyer", SenderID: 9, SenderName: "访客 <b>",
		Text: "有货吗？\"&", ClientMsgID: `c_"1`, CreatedAt: time.Date(2026, 11, 26, 12, 0, 3, 120000000, time.UTC)}
	frame, ack := MessageAndAck(m)
	if want := Encode(MessageFrame{Type: TypeMessage, Message: m}); string(frame) != string(want) {
		t.Errorf("frame\n%s\nwant\n%s", frame, want)
	}
	if want := Encode(Ack{Type: TypeAck, ClientMsgID: m.ClientMsgID, Message: m}); string(ack) != string(want) {
		t.Errorf("ack\n%s\nwant\n%s", ack, want)
	}
}
