package conversation

import (
	"context"
	"fmt"
)

// Admission is asked before a buyer's message starts a new conversation
// (not before one that goes to their open conversation, with or without
// its id, or reopens one):
// its error refuses the message, which is then not stored. The api's rate
// limits per client address and per shop implement it; with none set,
// every conversation is admitted.
type Admission interface {
	AdmitConversation(ctx context.Context, actor Actor) error
}

// SetAdmission installs the admission hook, before the service is sent
// any message (the api that implements it is built after the service).
func (s *Service) SetAdmission(a Admission) { s.admission = a }

// admit asks the admission hook, if any, about a conversation the actor's
// message is about to start: the store calls it once it has found no open
// conversation of the buyer, before it writes (a message without a
// conversation id to an open one starts nothing and is not counted). Its refusal is passed on as it is wrapped, so the
// caller can still tell what it was (the api's retry_after_ms).
func (s *Service) admit(ctx context.Context, actor Actor) error {
	if s.admission == nil {
		return nil
	}
	if err := s.admission.AdmitConversation(ctx, actor); err != nil {
		return fmt.Errorf("conversation: admit a new conversation of buyer %d: %w", actor.ID, err)
	}
	return nil
}
