package conversation

import (
	"context"
	"log/slog"
	"time"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// fanOut is the consumer that tells sockets: each committed message and each
// conversation's new state go, encoded once, to the topics of whoever may
// hear of them.
type fanOut struct {
	broker Broker
	log    *slog.Logger
}

var _ Consumer = fanOut{}

func (f fanOut) Consume(c Committed) {
	switch {
	case c.Event.Type == kefu.EventNudged:
		var since time.Time
		if c.Conversation.AwaitingSince != nil {
			since = *c.Conversation.AwaitingSince
		}
		f.publish(protocol.Encode(protocol.Nudge{Type: protocol.TypeNudge, ConversationID: c.Event.ConversationID,
			WaitingSince: since.UTC()}), nil, agentTopics(c.Conversation))
	case c.Event.Type == kefu.EventOrderLinked, c.Event.Type == kefu.EventOrderUnlinked:
		f.publish(protocol.Encode(protocol.OrderLinkFrame{Type: protocol.TypeOrderLink, ConversationID: c.Event.ConversationID,
			OrderNo: c.Event.Data.OrderNo, Linked: c.Event.Type == kefu.EventOrderLinked}), nil, agentTopics(c.Conversation))
	case c.Event.Type == kefu.EventRated:
		conv := c.Conversation
		f.publish(protocol.Encode(protocol.RatingFrame{Type: protocol.TypeRating, ConversationID: conv.ID,
			Stars: conv.Rating, Comment: conv.RatingComment, RatedAt: utcTime(conv.RatedAt)}), nil, conversationTopics(conv))
	case c.Event.Type == kefu.EventPresence:
		f.publish(presenceFrame(c.Event.AgentID, c.Event.Data.Presence), nil, []string{ShopTopic(c.Event.ShopID), SupervisorTopic(c.Event.ShopID)})
	case c.Message != nil:
		f.message(c)
	case c.Summary != nil:
		// A conversation leaving the queue is told to the whole shop, which
		// saw it waiting; a closed one that waited has no agent, so its
		// topics are the shop's already; one transferred is told to the
		// agent who handed it over too, and one a helper left to the helper.
		var also []string
		switch c.Event.Type {
		case kefu.EventTransferred, kefu.EventReassigned:
			also = append(also, AgentTopic(c.Event.Data.FromAgentID))
		case kefu.EventLeft:
			also = append(also, AgentTopic(c.Event.AgentID))
		}
		f.conversation(c.Conversation, protocol.ConversationOf(*c.Summary, c.Position), c.Event.Type == kefu.EventAssigned, also...)
	}
}

// message delivers a stored message to the buyer and the agents of the
// conversation, and to the sending agent's other sockets if they are not the
// conversation's agent (a supervisor stepping in).
//
// The socket it was sent on gets the message frame and right behind it the
// ack, in one go, so its writer sends both with one write; or, while the
// conversation waits for routing, the ack is held in the origin.
func (f fanOut) message(c Committed) {
	conv, msg := c.Conversation, *c.Message
	topics := conversationTopics(conv)
	if msg.Sender == kefu.SenderAgent {
		topics = append(topics, AgentTopic(msg.SenderID))
	}
	if c.Origin == nil || c.Origin.Socket == nil {
		f.publish(protocol.Encode(protocol.MessageFrame{Type: protocol.TypeMessage, Message: protocol.MessageOf(msg)}), nil, topics)
		return
	}
	via := c.Origin.Socket
	frame, ack := protocol.MessageAndAck(protocol.MessageOf(msg))
	f.publish(frame, via, topics)
	via.Deliver(frame)
	if conv.Status == kefu.StatusQueued {
		c.Origin.HeldAck = ack
		return
	}
	via.Deliver(ack)
}

// conversation publishes a conversation frame already summarized. The buyer
// gets it without what is for agents only (a transfer's note, helpers, the
// wait for an answer).
func (f fanOut) conversation(conv kefu.Conversation, view protocol.Conversation, leftQueue bool, also ...string) {
	frame := protocol.Encode(protocol.ConversationFrame{Type: protocol.TypeConversation, Conversation: view})
	topics := append(agentTopics(conv), also...)
	if leftQueue {
		topics = append(topics, ShopTopic(conv.ShopID))
	}
	buyer := BuyerTopic(conv.BuyerID)
	if !view.HasAgentsOnly() {
		f.publish(frame, nil, append(topics, buyer))
		return
	}
	f.publish(frame, nil, topics)
	f.publish(protocol.Encode(protocol.ConversationFrame{Type: protocol.TypeConversation, Conversation: view.ForBuyer()}), nil, []string{buyer})
}

// publish hands a frame to the broker. A frame it could not carry is lost to
// live delivery only: clients get it back by seq.
func (f fanOut) publish(frame []byte, except Subscriber, topics []string) {
	if err := f.broker.Publish(context.Background(), frame, except, topics...); err != nil {
		f.log.Error("publish", "topics", topics, "err", err)
	}
}

// utcTime is *t in UTC, or the zero time for nil.
func utcTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
