package conversation

import (
	"context"

	"github.com/kefu/kefu"
)

// Assistant is the bot-first hook, Wangwang's fourth step: asked when a
// buyer's first message starts a conversation whether the shop's assistant
// answers it before a person. A conversation it takes first is still given
// at once to the buyer's agent of the last days or their dedicated agent
// when one has room (the steps before), but never to the group: it waits,
// outside the group's line, until the assistant hands it to people. kefu
// has no assistant yet (auto-replies come with a later issue); with none
// set, every conversation goes to people.
type Assistant interface {
	AnswersFirst(ctx context.Context, shop kefu.Shop, buyerID int64, entry kefu.Entry) bool
}

// SetAssistant installs the bot-first hook (before Start).
func (s *Service) SetAssistant(a Assistant) { s.assistant = a }

// assistantFirst asks the hook about a conversation the actor's message
// starts.
func (s *Service) assistantFirst(ctx context.Context, shop kefu.Shop, actor Actor) bool {
	return s.assistant != nil && s.assistant.AnswersFirst(ctx, shop, actor.ID, actor.Entry)
}
