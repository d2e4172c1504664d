package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// buyerSocket serves GET /ws/buyer?token=...: the widget's socket.
func (h *handlers) buyerSocket(c *gin.Context) {
	ctx := c.Request.Context()
	claims, ok := h.tokens.verify(c.Query("token"), h.now())
	var shop kefu.Shop
	var buyer kefu.Buyer
	var err error
	if ok {
		shop, err = h.shops.shop(ctx, claims.ShopID)
		if err == nil {
			buyer, err = h.store.Buyer(ctx, claims.ShopID, claims.BuyerID)
		}
		if errors.Is(err, kefu.ErrNotFound) {
			ok = false
		} else if err != nil {
			h.writeError(c, err)
			return
		}
	}
	if ok && !allowOrigin(shop, c.GetHeader("Origin")) {
		// Refused before the upgrade: no other site may open a buyer's socket.
		h.metrics.ConnectionRefused("origin_not_allowed")
		h.writeError(c, errOriginNotAllowed)
		return
	}
	// Over the connection cap the refusal is plain HTTP, before the upgrade.
	if !h.slots.acquire() {
		h.metrics.ConnectionRefused("too_many_connections")
		h.writeError(c, tooManyConnections())
		return
	}
	// The origin was checked against the shop's list above; an unknown token
	// gets only a close frame, whatever the origin.
	sb := &smallBuffers{ResponseWriter: c.Writer}
	ws, err := websocket.Accept(sb, c.Request, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		h.slots.release()
		return
	}
	if !ok {
		h.metrics.ConnectionRefused("unauthorized")
		refuse(ws, closeUnauthorized, "unauthorized")
		h.slots.release()
		return
	}
	// The socket outlives the request and its context.
	base := context.WithoutCancel(ctx)
	connected := false
	ready := func() ([]byte, error) {
		// Counted once subscribed: a buyer who leaves the line is told
		// apart from one reloading the page.
		h.convs.BuyerConnected(buyer)
		connected = true
		conv, position, err := h.convs.BuyerState(base, buyer)
		if err != nil {
			return nil, fmt.Errorf("buyer socket: load state of buyer %d: %w", buyer.ID, err)
		}
		return protocol.Encode(protocol.ReadyBuyer{Type: protocol.TypeReady, Buyer: protocol.BuyerOf(buyer),
			Conversation: conv, QueuePosition: position, HeartbeatSec: heartbeatSec}), nil
	}
	actor := conversation.BuyerActor(buyer)
	actor.Address = c.ClientIP()
	cn := newConn(ws, sb, buyerBufferFrames, h.socketWriteTimeout)
	onClose := func() {
		if connected {
			h.convs.BuyerDisconnected(buyer)
		}
	}
	h.serve(ws, cn, actor, conversation.BuyerSocketTopics(buyer), ready, onClose, func(cn *conn, f protocol.ClientFrame) {
		if f.Type == protocol.TypePresence {
			cn.Deliver(protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Code: protocol.CodeForbidden,
				Message: "only agents have a presence"}))
			return
		}
		h.handleFrame(cn, actor, f)
	})
}

// agentSocket serves GET /ws/agent?token=...: the console's socket.
func (h *handlers) agentSocket(c *gin.Context) {
	ctx := c.Request.Context()
	agent, _, err := h.store.SessionAgent(ctx, hashToken(c.Query("token")))
	ok := err == nil
	if err != nil && !errors.Is(err, kefu.ErrNotFound) {
		h.writeError(c, err)
		return
	}
	if !h.slots.acquire() {
		h.metrics.ConnectionRefused("too_many_connections")
		h.writeError(c, tooManyConnections())
		return
	}
	// The Origin must be this server, so no other site can drive an agent's
	// socket with their session: the request's Host, or the public URL's
	// origin, which a proxy that rewrites Host still leaves in Origin.
	sb := &smallBuffers{ResponseWriter: c.Writer}
	ws, err := websocket.Accept(sb, c.Request, h.agentAccept)
	if err != nil {
		h.slots.release()
		return
	}
	if !ok {
		h.metrics.ConnectionRefused("unauthorized")
		refuse(ws, closeUnauthorized, "unauthorized")
		h.slots.release()
		return
	}
	// Presence is counted for the socket's whole life, on a context that
	// outlives the request's; it is uncounted before the server's shutdown
	// stops waiting for this socket.
	base := context.WithoutCancel(ctx)
	connected := false
	sessionHash := hashToken(c.Query("token"))
	ready := func() ([]byte, error) {
		// The socket is in the hub now, where logout finds it; a logout, a
		// disable or a change of role or name (which close an agent's
		// sockets) that came before that is caught here: the socket was
		// subscribed as the account was, so it must not serve as it is now.
		now, _, err := h.store.SessionAgent(base, sessionHash)
		if err != nil || now.Disabled {
			return nil, errSocketUnauthorized
		}
		if now.Role != agent.Role || now.Name != agent.Name {
			return nil, errSocketAccountChanged
		}
		presence := h.convs.AgentConnected(base, agent)
		connected = true
		// What GET /api/v1/conversations lists by default, read once the
		// socket is subscribed and the agent online (what coming online
		// assigned is in it), so nothing falls between it and live frames.
		convs, err := h.agentConversations(base, agent, openStatuses, false, kefu.MaxPageSize, 0, "")
		if err != nil {
			return nil, fmt.Errorf("agent socket: list conversations of agent %d: %w", agent.ID, err)
		}
		_, active, err := h.convs.Presence(base, agent)
		if err != nil {
			return nil, fmt.Errorf("agent socket: load of agent %d: %w", agent.ID, err)
		}
		return protocol.Encode(protocol.ReadyAgent{Type: protocol.TypeReady, Agent: protocol.AgentOf(agent, presence, active),
			Conversations: convs, HeartbeatSec: heartbeatSec}), nil
	}
	onClose := func() {
		if connected {
			h.convs.AgentDisconnected(base, agent)
		}
	}
	actor := conversation.AgentActor(agent)
	topics := conversation.AgentSocketTopics(agent)
	cn := newConn(ws, sb, agentBufferFrames, h.socketWriteTimeout)
	cn.session, cn.agentID = sessionHash, agent.ID
	h.serve(ws, cn, actor, topics, ready, onClose, func(cn *conn, f protocol.ClientFrame) {
		if f.Type != protocol.TypePing {
			// A person at work, not a heartbeat: not idle.
			h.convs.AgentActive(base, agent)
		}
		switch {
		case f.Type == protocol.TypePresence:
			h.convs.SetPresence(base, agent, kefu.Presence(f.Status))
		case (f.Type == protocol.TypeSend || f.Type == protocol.TypeTyping) && f.ConversationID == 0:
			cn.Deliver(protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Code: protocol.CodeInvalidFrame,
				Message: "agents must name the conversation_id", Ref: f.ClientMsgID}))
		default:
			h.handleFrame(cn, actor, f)
		}
	})
}

// agentSocketOptions lets the agent socket accept the public URL's origin
// besides the request's own Host (websocket.Accept's default check); nil
// without a public URL.
func agentSocketOptions(public string) *websocket.AcceptOptions {
	u, err := url.Parse(public)
	if public == "" || err != nil || u.Host == "" {
		return nil
	}
	host := u.Host
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p) // browsers leave a default port out of Origin
	}
	// Patterns are matched with path.Match: an IPv6 host's brackets must not
	// read as a character class.
	host = strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(host)
	return &websocket.AcceptOptions{OriginPatterns: []string{u.Scheme + "://" + host}}
}

// serve runs an accepted socket until it ends. The ready frame is computed
// on the HTTP handler's goroutine; the socket is then read and written on
// fresh goroutines and the handler returns, so the deep stack it grew on the
// way through the router, the handshake and the store is not kept alive for
// every idle socket. onClose (if any) runs before the hub stops counting the
// socket, so shutdown waits for it. The socket's connection slot
// (connSlots) is given back when it ends. Every frame the actor sends,
// even one that does not decode, counts against their frame limit first.
func (h *handlers) serve(ws *websocket.Conn, cn *conn, actor conversation.Actor, topics []string, ready func() ([]byte, error), onClose func(), handle func(*conn, protocol.ClientFrame)) {
	if !h.hub.add(cn) {
		defer h.slots.release()
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		ws.Write(ctx, websocket.MessageText, protocol.Encode(protocol.Reconnect{
			Type: protocol.TypeReconnect, Reason: "server_restart", RetryAfterMs: 1000}))
		h.metrics.ConnectionRefused("server_restart")
		refuse(ws, websocket.StatusServiceRestart, "server_restart")
		return
	}
	broker := h.convs.Broker()
	first, err := cn.start(broker, topics, ready)
	if err != nil {
		h.metrics.ConnectionRefused(refusalReason(err))
		if !errors.Is(err, errSocketUnauthorized) && !errors.Is(err, errSocketAccountChanged) {
			h.log.Error("socket", "err", err)
		}
		if onClose != nil {
			onClose()
		}
		h.hub.remove(cn)
		h.slots.release()
		return
	}
	go func() {
		defer h.slots.release()
		defer h.hub.remove(cn)
		if onClose != nil {
			defer onClose()
		}
		cn.serve(broker, topics, first, func(data []byte) {
			f, perr := protocol.DecodeClientFrame(data)
			if err := h.allowFrame(context.Background(), actor); err != nil {
				cn.Deliver(wsError(h.log, err, f.ClientMsgID))
				return
			}
			if perr != nil {
				cn.Deliver(protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Code: perr.Code, Message: perr.Message, Ref: f.ClientMsgID}))
				return
			}
			handle(cn, f)
		})
	}()
}

// handleFrame answers the frames buyers and agents share.
func (h *handlers) handleFrame(cn *conn, actor conversation.Actor, f protocol.ClientFrame) {
	// Each frame is handled to the end even if the socket closes meanwhile:
	// a message being stored is stored, and its retry will find it. The
	// deadline only keeps a stuck database from holding the reader forever.
	ctx, cancel := context.WithTimeout(context.Background(), frameTimeout)
	defer cancel()
	switch f.Type {
	case protocol.TypePing:
		cn.Deliver(protocol.Pong)
	case protocol.TypeSend:
		if err := h.allowSend(ctx, actor); err != nil {
			cn.Deliver(wsError(h.log, err, f.ClientMsgID))
			return
		}
		// The service delivers the ack to this socket (a stored message's
		// right behind its frame, at the commit); refusals are sent here.
		actor.Socket = cn
		actor.Entry = kefu.Entry{Group: f.Group, OrderNo: f.OrderNo}
		var err error
		if f.Card != nil {
			_, _, err = h.convs.SendCard(ctx, actor, f.ConversationID, f.ClientMsgID, *f.Card)
		} else {
			_, _, err = h.convs.Send(ctx, actor, f.ConversationID, f.ClientMsgID, f.Text)
		}
		if err != nil {
			cn.Deliver(wsError(h.log, err, f.ClientMsgID))
			return
		}
	case protocol.TypeSync:
		page, err := h.convs.Sync(ctx, actor, f.ConversationID, f.AfterSeq, f.Limit)
		if err != nil {
			cn.Deliver(wsError(h.log, err, ""))
			return
		}
		cn.Deliver(protocol.Encode(protocol.History{Type: protocol.TypeHistory, ConversationID: f.ConversationID,
			Messages: protocol.MessagesOf(page.Messages), HasMore: page.HasMore, LastSeq: page.LastSeq}))
	case protocol.TypeTyping:
		if err := h.convs.Typing(ctx, actor, f.ConversationID); err != nil {
			cn.Deliver(wsError(h.log, err, ""))
		}
	case protocol.TypeRead:
		if _, err := h.convs.Read(ctx, actor, f.ConversationID, f.Seq); err != nil {
			cn.Deliver(wsError(h.log, err, ""))
		}
	case protocol.TypeRate:
		// Answered by the rating frame every socket of the conversation
		// gets, this one too; a refusal is an error frame with ref "rate".
		if _, err := h.convs.Rate(ctx, actor, f.ConversationID, f.Stars, f.Comment); err != nil {
			cn.Deliver(wsError(h.log, err, protocol.TypeRate))
		}
	}
}
