package conversation

import (
	"context"

	"github.com/kefu/kefu"
)

// Assistant is the bot-first hook, Wangwang's fourth step: asked before a
// buyer's message that names no open conversation whether the shop's
// assistant answers first; the answer counts only if the message starts a
// conversation (an open one stays as it is). A conversation it takes first
// is still given at once to the buyer's agent of the last days or their
// dedicated agent when one has room (the steps before), but never to the
// group: it waits outside the group's line, with no place in it, until a
// person takes it (accepting it from the queue, or its own agent coming
// back, or the assistant handing it over: 转人工, EventHandedOver), which
// ends the assistant's turn for good. Bot is kefu's assistant; with none
// set, every conversation goes to people.
type Assistant interface {
	AnswersFirst(ctx context.Context, shop kefu.Shop, buyerID int64, entry kefu.Entry) bool
}

// SetAssistant installs the bot-first hook (before Start).
func (s *Service) SetAssistant(a Assistant) { s.assistant = a }

// greeter is an assistant that greets: the welcome it returns is stored as
// a new conversation's first message, before the buyer's, in the
// transaction that starts it.
type greeter interface {
	Greeting(ctx context.Context, shop kefu.Shop, buyerID int64) *kefu.Message
}

// waitTeller is an assistant told of a conversation routing left waiting.
type waitTeller interface {
	waitingLeft(conv kefu.Conversation)
}

// welcome is the assistant's welcome for a conversation the buyer's
// message starts (nil: none), stored before that message in the
// transaction that starts the conversation.
func (s *Service) welcome(ctx context.Context, shop kefu.Shop, buyerID int64) *kefu.Message {
	if g, ok := s.assistant.(greeter); ok {
		return g.Greeting(ctx, shop, buyerID)
	}
	return nil
}

// assistantFirst asks the hook about a conversation the actor's message
// starts.
func (s *Service) assistantFirst(ctx context.Context, shop kefu.Shop, actor Actor) bool {
	return s.assistant != nil && s.assistant.AnswersFirst(ctx, shop, actor.ID, actor.Entry)
}

// answerer is an assistant that says whether it answers the shop's buyers
// at all: overflow's bot_first stage and surge mode make a new conversation
// bot-first only where it does.
type answerer interface {
	Answers(ctx context.Context, shop kefu.Shop) bool
}

// assistantAnswers reports whether the shop's assistant answers buyers.
func (s *Service) assistantAnswers(ctx context.Context, shop kefu.Shop) bool {
	a, ok := s.assistant.(answerer)
	return ok && a.Answers(ctx, shop)
}
