package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
)

// conversationOrders lists the orders linked to a conversation the agent may see.
func (h *handlers) conversationOrders(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	orders, err := h.convs.ConversationOrders(c.Request.Context(), actorOf(c), id)
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"orders": viewsOf(orders, orderView)})
}

// linkOrder links one of the conversation's buyer's orders to it: 201 when
// it was not linked, 200 when it was.
func (h *handlers) linkOrder(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req struct {
		OrderNo string `json:"order_no"`
	}
	if !h.bindJSON(c, &req) {
		return
	}
	if req.OrderNo == "" || len(req.OrderNo) > kefu.MaxOrderNoBytes {
		h.writeError(c, fieldError("order_no", "invalid_order_no", "order_no must be 1 to 64 characters."))
		return
	}
	o, linked, err := h.convs.LinkOrder(c.Request.Context(), actorOf(c), id, req.OrderNo)
	if err != nil {
		h.writeError(c, err)
		return
	}
	status := http.StatusOK
	if linked {
		status = http.StatusCreated
	}
	c.JSON(status, gin.H{"order": orderView(o), "linked": linked})
}

// unlinkOrder removes an order's link to the conversation.
func (h *handlers) unlinkOrder(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	changed, err := h.convs.UnlinkOrder(c.Request.Context(), actorOf(c), id, c.Param("order_no"))
	if err != nil {
		h.writeError(c, err)
		return
	}
	if !changed {
		h.writeError(c, errNotFound)
		return
	}
	c.Status(http.StatusNoContent)
}
