package api

import (
	"math"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// Bounds on a search (docs/search.md).
const (
	defaultSearchLimit = 20
	maxSearchLimit     = 50
	maxSearchRunes     = 100
	maxSearchTerms     = 8
	maxOrderNoRunes    = 64
)

// searchResult is one conversation found, as lists show it, with its
// matching messages.
type searchResult struct {
	Conversation protocol.Conversation `json:"conversation"`
	Snippets     []searchSnippet       `json:"snippets"`
}

// searchSnippet is a matching message cut around its first match; highlights
// are [start, end) offsets in Unicode code points of text.
type searchSnippet struct {
	MessageID  int64     `json:"message_id"`
	Seq        int64     `json:"seq"`
	Sender     string    `json:"sender"`
	SenderName string    `json:"sender_name,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	Text       string    `json:"text"`
	Highlights []span    `json:"highlights"`
}

// span is a highlight: [start, end) in Unicode code points.
type span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

func (h *handlers) search(c *gin.Context) {
	agent := currentAgent(c)
	f, ok := h.searchFilter(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	page, err := h.store.SearchConversations(ctx, agent.ShopID, conversation.SearchFilter(agent, f))
	if err != nil {
		h.writeError(c, err)
		return
	}
	var positions map[int64]int
	out := make([]searchResult, len(page.Hits))
	for i, hit := range page.Hits {
		if hit.Status == kefu.StatusQueued && positions == nil {
			if positions, err = h.convs.QueuePositions(ctx, agent.ShopID); err != nil {
				h.writeError(c, err)
				return
			}
		}
		snippets := make([]searchSnippet, len(hit.Snippets))
		for j, s := range hit.Snippets {
			spans := make([]span, len(s.Highlights))
			for k, sp := range s.Highlights {
				spans[k] = span{Start: sp.Start, End: sp.End}
			}
			snippets[j] = searchSnippet{MessageID: s.MessageID, Seq: s.Seq, Sender: string(s.Sender), SenderName: s.SenderName,
				CreatedAt: s.CreatedAt.UTC(), Text: s.Text, Highlights: spans}
		}
		out[i] = searchResult{Conversation: protocol.ConversationOf(hit.ConversationSummary, positions[hit.ID]), Snippets: snippets}
	}
	var next *int64
	if page.NextBeforeID != 0 {
		next = &page.NextBeforeID
	}
	c.JSON(http.StatusOK, gin.H{"results": out, "next": next})
}

// searchFilter reads a search's query parameters, answering 400 for any
// that is malformed.
func (h *handlers) searchFilter(c *gin.Context) (kefu.SearchFilter, bool) {
	var f kefu.SearchFilter
	f.Text = strings.TrimSpace(c.Query("q"))
	if f.Text != "" {
		if err := protocol.ValidateText(f.Text); err != nil || utf8.RuneCountInString(f.Text) > maxSearchRunes ||
			len(strings.Fields(f.Text)) > maxSearchTerms {
			h.writeError(c, fieldError("q", "invalid_q", "q must be at most 100 characters in at most 8 words, without control characters."))
			return f, false
		}
	}
	f.OrderNo = strings.TrimSpace(c.Query("order_no"))
	if f.OrderNo != "" && !validOrderNo(f.OrderNo) {
		h.writeError(c, fieldError("order_no", "invalid_order_no", "order_no must be 1 to 64 characters without spaces or control characters."))
		return f, false
	}
	for _, p := range []struct {
		name string
		to   *int64
	}{{"buyer_id", &f.BuyerID}, {"agent_id", &f.AgentID}, {"group_id", &f.GroupID}, {"before", &f.BeforeID}} {
		n, ok := h.queryInt(c, p.name, 0, 1, math.MaxInt)
		if !ok {
			return f, false
		}
		*p.to = int64(n)
	}
	limit, ok := h.queryInt(c, "limit", defaultSearchLimit, 1, maxSearchLimit)
	if !ok {
		return f, false
	}
	f.Limit = limit
	switch status := c.Query("status"); status {
	case "":
	case "open":
		f.Statuses = openStatuses
	case "queued", "assigned", "closed":
		f.Statuses = []kefu.ConversationStatus{kefu.ConversationStatus(status)}
	default:
		h.writeError(c, fieldError("status", "invalid_status", "status must be open, queued, assigned or closed."))
		return f, false
	}
	var err error
	if f.From, err = searchTime(c.Query("from"), false); err != nil {
		h.writeError(c, fieldError("from", "invalid_from", "from must be an RFC 3339 time or a date YYYY-MM-DD (UTC)."))
		return f, false
	}
	if f.To, err = searchTime(c.Query("to"), true); err != nil {
		h.writeError(c, fieldError("to", "invalid_to", "to must be an RFC 3339 time or a date YYYY-MM-DD (UTC)."))
		return f, false
	}
	return f, true
}

// searchTime reads a time bound: RFC 3339, or a date in UTC. A date as the
// upper bound (end) includes that whole day.
func searchTime(raw string, end bool) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, raw)
	if err != nil {
		return time.Time{}, err
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// validOrderNo: what a shop's platform may call an order, as it would be
// written in a message.
func validOrderNo(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxOrderNoRunes {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
