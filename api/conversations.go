package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

func (h *handlers) listConversations(c *gin.Context) {
	agent := currentAgent(c)
	mine := c.Query("mine") == "true"
	limit, ok := h.queryInt(c, "limit", kefu.MaxPageSize, 1, kefu.MaxPageSize)
	if !ok {
		return
	}
	before, ok := h.queryInt(c, "before", 0, 1, math.MaxInt)
	if !ok {
		return
	}
	var statuses []kefu.ConversationStatus
	switch status := c.DefaultQuery("status", "open"); status {
	case "open":
		statuses = openStatuses
	case "queued", "assigned", "closed":
		statuses = []kefu.ConversationStatus{kefu.ConversationStatus(status)}
	default:
		h.writeError(c, badRequest("invalid_status", "status must be open, queued, assigned or closed."))
		return
	}
	// order_no: the conversations linked to that order of the shop (from an
	// order to every conversation about it), of any status unless one is asked.
	orderNo := c.Query("order_no")
	if orderNo != "" {
		if len(orderNo) > kefu.MaxOrderNoBytes {
			h.writeError(c, badRequest("invalid_order_no", "order_no must be at most 64 characters."))
			return
		}
		if c.Query("status") == "" {
			statuses = []kefu.ConversationStatus{kefu.StatusQueued, kefu.StatusAssigned, kefu.StatusClosed}
		}
	}
	out, err := h.agentConversations(c.Request.Context(), agent, statuses, mine, limit, int64(before), orderNo)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"conversations": out})
}

// agentConversations lists the conversations of the given statuses an agent
// is shown (conversation.ListFilters says which). REST lists and the agent
// socket's ready frame both come from here.
func (h *handlers) agentConversations(ctx context.Context, agent kefu.Agent, statuses []kefu.ConversationStatus, mine bool, limit int,
	before int64, orderNo string) ([]protocol.Conversation, error) {
	filters := conversation.ListFilters(agent, statuses, mine, limit)
	out := []protocol.Conversation{}
	var positions map[int64]int
	for _, f := range filters {
		f.BeforeID, f.OrderNo = before, orderNo
		list, err := h.store.ListConversations(ctx, agent.ShopID, f)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if s.Status == kefu.StatusQueued && positions == nil {
				if positions, err = h.convs.QueuePositions(ctx, agent.ShopID); err != nil {
					return nil, err
				}
			}
			out = append(out, protocol.ConversationOf(s, positions[s.ID]))
		}
	}
	return out, nil
}

// openStatuses is what "open" means in a conversation list.
var openStatuses = []kefu.ConversationStatus{kefu.StatusQueued, kefu.StatusAssigned}

// pathID reads the :id path parameter, answering 404 when it is not an id.
func (h *handlers) pathID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.writeError(c, errNotFound)
		return 0, false
	}
	return id, true
}

func (h *handlers) respondConversation(c *gin.Context, conv kefu.Conversation, err error) {
	if err != nil {
		h.writeError(c, err)
		return
	}
	view, err := h.convs.View(c.Request.Context(), conv)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"conversation": view})
}

func (h *handlers) getConversation(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	conv, err := h.convs.Conversation(c.Request.Context(), actorOf(c), id)
	h.respondConversation(c, conv, err)
}

func (h *handlers) listMessages(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	after, ok := h.queryInt(c, "after_seq", 0, 0, 1<<62)
	if !ok {
		return
	}
	limit, ok := h.queryInt(c, "limit", kefu.DefaultPageSize, 1, kefu.MaxPageSize)
	if !ok {
		return
	}
	page, err := h.convs.Sync(c.Request.Context(), actorOf(c), id, int64(after), limit)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"messages": protocol.MessagesOf(page.Messages), "has_more": page.HasMore, "last_seq": page.LastSeq})
}

func (h *handlers) sendMessage(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req struct {
		ClientMsgID string              `json:"client_msg_id"`
		Text        string              `json:"text"`
		Card        *protocol.CardFrame `json:"card"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if err := h.allowSend(c.Request.Context(), actorOf(c)); err != nil {
		h.writeError(c, err)
		return
	}
	var msg kefu.Message
	var dup bool
	var err error
	if req.Card != nil {
		msg, dup, err = h.convs.SendCard(c.Request.Context(), actorOf(c), id, req.ClientMsgID, *req.Card)
	} else {
		msg, dup, err = h.convs.Send(c.Request.Context(), actorOf(c), id, req.ClientMsgID, req.Text)
	}
	if err != nil {
		h.writeError(c, err)
		return
	}
	status := http.StatusCreated
	if dup {
		status = http.StatusOK
	}
	c.JSON(status, gin.H{"message": protocol.MessageOf(msg), "duplicate": dup})
}

func (h *handlers) markRead(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req struct {
		Seq int64 `json:"seq"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if req.Seq <= 0 {
		h.writeError(c, badRequest("invalid_seq", "seq must be a number above 0."))
		return
	}
	conv, err := h.convs.Read(c.Request.Context(), actorOf(c), id, req.Seq)
	h.respondConversation(c, conv, err)
}

func (h *handlers) acceptConversation(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	conv, err := h.convs.Accept(c.Request.Context(), actorOf(c), id)
	h.respondConversation(c, conv, err)
}

func (h *handlers) closeConversation(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	conv, err := h.convs.Close(c.Request.Context(), actorOf(c), id)
	h.respondConversation(c, conv, err)
}

func (h *handlers) transferConversation(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req struct {
		AgentID int64  `json:"agent_id"`
		GroupID int64  `json:"group_id"`
		Note    string `json:"note"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	note := strings.TrimSpace(req.Note)
	switch {
	case (req.AgentID > 0) == (req.GroupID > 0) || req.AgentID < 0 || req.GroupID < 0:
		h.writeError(c, badRequest("invalid_transfer", "name exactly one of agent_id and group_id."))
		return
	case utf8.RuneCountInString(note) > kefu.MaxNoteRunes:
		h.writeError(c, badRequest("note_too_long", "note must be at most 500 characters."))
		return
	}
	if note != "" {
		if err := protocol.ValidateText(note); err != nil {
			h.writeError(c, err)
			return
		}
	}
	conv, err := h.convs.Transfer(c.Request.Context(), actorOf(c), id, kefu.Transfer{ToAgentID: req.AgentID, ToGroupID: req.GroupID, Note: note})
	h.respondConversation(c, conv, err)
}

func (h *handlers) takeOverConversation(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	conv, err := h.convs.TakeOver(c.Request.Context(), actorOf(c), id)
	h.respondConversation(c, conv, err)
}

func (h *handlers) inviteAgent(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req struct {
		AgentID int64 `json:"agent_id"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if req.AgentID <= 0 {
		h.writeError(c, badRequest("invalid_agent_id", "agent_id must name an agent of the shop."))
		return
	}
	conv, err := h.convs.Invite(c.Request.Context(), actorOf(c), id, req.AgentID)
	h.respondConversation(c, conv, err)
}

func (h *handlers) leaveConversation(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	conv, err := h.convs.Leave(c.Request.Context(), actorOf(c), id)
	h.respondConversation(c, conv, err)
}

// inviteRating asks the buyer to rate the conversation while it is open
// (CSAT): the widget shows its stars.
func (h *handlers) inviteRating(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	conv, err := h.convs.InviteRating(c.Request.Context(), actorOf(c), id)
	h.respondConversation(c, conv, err)
}

func (h *handlers) buyerOrders(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	agent := currentAgent(c)
	ctx := c.Request.Context()
	if _, err := h.store.Buyer(ctx, agent.ShopID, id); err != nil {
		h.writeError(c, err)
		return
	}
	orders, err := h.store.BuyerOrders(ctx, agent.ShopID, id)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"orders": viewsOf(orders, orderView)})
}

// queryInt reads an optional integer query parameter within [min, max],
// answering 400 when it is malformed.
func (h *handlers) queryInt(c *gin.Context, name string, def, min, max int) (int, bool) {
	raw, present := c.GetQuery(name)
	if !present || raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		h.writeError(c, badRequest("invalid_"+name, name+" must be a whole number from "+strconv.Itoa(min)+" to "+strconv.Itoa(max)+"."))
		return 0, false
	}
	return n, true
}

// viewsOf is each of xs as view shows it; [] (never null in JSON) for none.
func viewsOf[T, V any](xs []T, view func(T) V) []V {
	out := make([]V, len(xs))
	for i, x := range xs {
		out[i] = view(x)
	}
	return out
}
