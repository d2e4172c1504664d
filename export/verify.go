package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"

	"github.com/kefu/kefu"
)

// Problems a check names, stable for clients (docs/orders.md §10).
const (
	// ProblemExportAltered: the export's own message no longer matches its
	// link, or its chain head is not its last message: the file was edited.
	ProblemExportAltered = "export_altered"
	// ProblemMissing: the store has no message at the exported seq: deleted.
	ProblemMissing = "missing"
	// ProblemMoved: the store holds at this seq the message exported at
	// another one: reordered.
	ProblemMoved = "moved"
	// ProblemChanged: the stored message differs from the exported one.
	ProblemChanged = "changed"
)

// ErrNotExport is a file that is not a kefu dispute export.
var ErrNotExport = errors.New("not a kefu dispute export (JSON or HTML, format " + Format + ")")

// Report is what Verify found. OK is true when every exported message is in
// the store as exported; otherwise FirstDifference names the first that is
// not (the first conversation's first, in the export's order).
type Report struct {
	OK              bool                 `json:"ok"`
	OrderNo         string               `json:"order_no"`
	Conversations   []ConversationReport `json:"conversations"`
	FirstDifference *Difference          `json:"first_difference,omitempty"`
}

// ConversationReport is one exported conversation's check.
type ConversationReport struct {
	ID int64 `json:"id"`
	OK bool  `json:"ok"`
	// Checked is how many exported messages were compared; Unchained how
	// many of them were stored before kefu kept the chain (compared by
	// content alone); Since how many the store holds after the chain head.
	Checked    int         `json:"checked"`
	Unchained  int         `json:"unchained,omitempty"`
	Since      int         `json:"since"`
	Difference *Difference `json:"difference,omitempty"`
}

// Difference is the first message of a conversation that differs.
type Difference struct {
	ConversationID int64  `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	MessageID      int64  `json:"message_id,omitempty"`
	Problem        string `json:"problem"`
	Detail         string `json:"detail"`
}

// Parse reads an export, JSON or the HTML one (which carries the JSON
// document in its element #kefu-export-json).
func Parse(data []byte) (Document, error) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) > 0 && data[0] == '<' {
		const open, end = `<pre id="kefu-export-json" hidden>`, `</pre>`
		i := bytes.Index(data, []byte(open))
		if i < 0 {
			return Document{}, ErrNotExport
		}
		rest := data[i+len(open):]
		j := bytes.Index(rest, []byte(end))
		if j < 0 {
			return Document{}, ErrNotExport
		}
		data = []byte(html.UnescapeString(string(rest[:j])))
	}
	// A field the format does not have is a file edited or of another
	// format: refused, never silently dropped.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		return Document{}, fmt.Errorf("%w: %v", ErrNotExport, err)
	}
	if doc.Format != Format {
		return Document{}, ErrNotExport
	}
	return doc, nil
}

// Verify checks an export against the shop's store: first the export's own
// chain (a file edited after export), then each exported message against
// the stored one at its seq. The shop must be the export's.
func Verify(ctx context.Context, st Store, shopID int64, doc Document) (Report, error) {
	r := Report{OK: true, OrderNo: doc.Order.OrderNo, Conversations: []ConversationReport{}}
	for _, c := range doc.Conversations {
		cr, err := verifyConversation(ctx, st, shopID, c)
		if err != nil {
			return Report{}, err
		}
		if cr.Difference != nil && r.FirstDifference == nil {
			r.OK, r.FirstDifference = false, cr.Difference
		}
		r.Conversations = append(r.Conversations, cr)
	}
	return r, nil
}

func verifyConversation(ctx context.Context, st Store, shopID int64, c Conversation) (ConversationReport, error) {
	cr := ConversationReport{ID: c.ID, OK: true}
	differ := func(m Message, problem, detail string) (ConversationReport, error) {
		cr.OK = false
		cr.Difference = &Difference{ConversationID: c.ID, Seq: m.Seq, MessageID: m.ID, Problem: problem, Detail: detail}
		return cr, nil
	}
	// The file's own chain.
	prev := ""
	digests := make([][sha256.Size]byte, len(c.Messages))
	seqOf := map[string]int64{} // an exported link → the seq it was exported at
	for i, m := range c.Messages {
		digests[i] = kefu.MessageDigest(m.message(shopID, c.ID))
		if m.Hash != "" && kefu.ChainHash(prev, m.Seq, digests[i]) != m.Hash {
			return differ(m, ProblemExportAltered, fmt.Sprintf("message seq %d of the export does not match its hash: the file was edited at or before it", m.Seq))
		}
		prev = m.Hash
		if m.Hash != "" {
			seqOf[m.Hash] = m.Seq
		}
	}
	if n := len(c.Messages); n > 0 && (c.ChainHead.Seq != c.Messages[n-1].Seq || c.ChainHead.Hash != c.Messages[n-1].Hash) {
		return differ(c.Messages[n-1], ProblemExportAltered, fmt.Sprintf("the chain head (seq %d) is not the export's last message (seq %d)", c.ChainHead.Seq, c.Messages[n-1].Seq))
	}
	// Against the store.
	stored, err := allMessages(ctx, st, shopID, c.ID)
	if err != nil {
		return cr, err
	}
	at := make(map[int64]kefu.Message, len(stored))
	for _, s := range stored {
		at[s.Seq] = s
		if s.Seq > c.ChainHead.Seq {
			cr.Since++
		}
	}
	for i, m := range c.Messages {
		cr.Checked++
		s, ok := at[m.Seq]
		if !ok {
			return differ(m, ProblemMissing, fmt.Sprintf("message seq %d (id %d) of the export is not in the store: it was deleted", m.Seq, m.ID))
		}
		if m.Hash == "" {
			cr.Unchained++
		}
		if s.Hash != m.Hash {
			if k, moved := seqOf[s.Hash]; moved {
				return differ(m, ProblemMoved, fmt.Sprintf("the store holds at seq %d the message exported at seq %d: messages were reordered", m.Seq, k))
			}
			return differ(m, ProblemChanged, fmt.Sprintf("message seq %d (id %d) in the store is not the exported one: its hash differs", m.Seq, m.ID))
		}
		if kefu.MessageDigest(s) != digests[i] {
			return differ(m, ProblemChanged, fmt.Sprintf("message seq %d (id %d) was changed in the store after it was written: its %s differs from the export and no longer matches its hash",
				m.Seq, m.ID, changedField(s, m.message(shopID, c.ID))))
		}
	}
	return cr, nil
}

// changedField names what differs between a stored and an exported message.
func changedField(s, m kefu.Message) string {
	card := func(c *kefu.Card) kefu.Card {
		if c == nil {
			return kefu.Card{}
		}
		return *c
	}
	switch {
	case s.Text != m.Text:
		return "text"
	case s.SenderName != m.SenderName:
		return "sender name"
	case s.Sender != m.Sender || s.SenderID != m.SenderID:
		return "sender"
	case s.Kind != m.Kind:
		return "kind"
	case !s.CreatedAt.Equal(m.CreatedAt):
		return "time"
	case card(s.Card) != card(m.Card):
		return "card"
	case s.Code != m.Code:
		return "code"
	case !slices.Equal(s.QuickReplies, m.QuickReplies):
		return "quick replies"
	}
	return "content"
}
