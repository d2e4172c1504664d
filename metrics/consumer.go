package metrics

import (
	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
)

// Consumer is the conversation.Consumer that counts committed messages and
// their delivery latency and keeps each shop's overflow stage (from its
// shop.overflow_stage events); pass it to conversation.New after the fan-out
// (which New puts first), so the latency includes the fan-out's work.
func (m *Metrics) Consumer() conversation.Consumer { return committedMessages{m} }

// committedMessages counts every message this process commits, on the
// store's publisher goroutine: a cached counter's increment and one
// histogram observation, nothing that blocks.
type committedMessages struct{ m *Metrics }

var _ conversation.Consumer = committedMessages{}

func (c committedMessages) Consume(ch conversation.Committed) {
	if ch.Message != nil {
		c.m.messageStored(ch.Message)
	}
	if ch.Event.Type == kefu.EventOverflowStage {
		c.m.SetOverflowStage(ch.Event.ShopID, ch.Event.Data.Stage.Level())
	}
}
