package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/protocol"
)

// Refusals of a satisfaction rating (CSAT) or of an invitation to one.
var (
	ErrAlreadyRated    = errors.New("the conversation is rated already")
	ErrNotRatable      = errors.New("the conversation is still open and nobody invited a rating")
	ErrRatingDisabled  = errors.New("the shop does not ask for ratings")
	ErrAlreadyInvited  = errors.New("a rating of the conversation was invited or given already")
	ErrInvalidRating   = errors.New("stars must be from 1 to 5")
	ErrCommentTooLong  = errors.New("the comment is over 500 characters")
	ErrCommentRejected = errors.New("the comment holds a control character")
)

// ratingInvitedLine is what the buyer reads when an agent invites a rating.
var ratingInvitedLine = kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem,
	Text: "请您对本次服务进行评价", Code: kefu.SystemRatingInvited}

// Rate stores the buyer's rating of their conversation: stars from 1 to 5 and
// an optional comment of up to 500 characters (trimmed), once per
// conversation, once it closed or an agent invited it (access.go), if the
// shop asks for ratings. Whoever is told about the conversation gets a
// rating frame.
func (s *Service) Rate(ctx context.Context, actor Actor, id int64, stars int, comment string) (kefu.Conversation, error) {
	comment = strings.TrimSpace(comment)
	if err := validRating(stars, comment); err != nil {
		return kefu.Conversation{}, err
	}
	conv, err := s.store.Conversation(ctx, actor.ShopID, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	if err := mayRate(actor, conv); err != nil {
		return kefu.Conversation{}, err
	}
	shop, err := s.store.Shop(ctx, actor.ShopID)
	if err != nil {
		return kefu.Conversation{}, err
	}
	if !shop.CSATEnabled {
		return kefu.Conversation{}, fmt.Errorf("rate conversation %d: %w", id, ErrRatingDisabled)
	}
	// The store checks the rules again in the statement that writes: a
	// second tab may have rated it a moment ago.
	conv, err = s.store.RateConversation(ctx, actor.ShopID, id, actor.ID, stars, comment, s.committed(nil))
	switch {
	case errors.Is(err, kefu.ErrConflict):
		return kefu.Conversation{}, fmt.Errorf("rate conversation %d: %w", id, ErrAlreadyRated)
	case errors.Is(err, kefu.ErrForbidden):
		return kefu.Conversation{}, fmt.Errorf("rate conversation %d: %w", id, ErrNotRatable)
	}
	return conv, err
}

// validRating checks stars and a trimmed comment.
func validRating(stars int, comment string) error {
	switch {
	case stars < kefu.MinStars || stars > kefu.MaxStars:
		return ErrInvalidRating
	case !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > kefu.MaxRatingCommentRunes:
		return ErrCommentTooLong
	case comment != "" && protocol.ValidateText(comment) != nil:
		return ErrCommentRejected
	}
	return nil
}

// InviteRating asks the buyer of an assigned conversation to rate it while it
// is open, once: a system line (code rating_invited) the widget answers with
// its stars. Whoever may write to the conversation may invite (access.go), if
// the shop asks for ratings.
func (s *Service) InviteRating(ctx context.Context, actor Actor, id int64) (kefu.Conversation, error) {
	conv, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return kefu.Conversation{}, err
	}
	switch {
	case !mayInviteRating(actor, conv):
		return kefu.Conversation{}, fmt.Errorf("invite a rating of conversation %d: %w", id, ErrForbidden)
	case conv.Status == kefu.StatusClosed:
		return kefu.Conversation{}, fmt.Errorf("invite a rating of conversation %d: %w", id, kefu.ErrConversationClosed)
	case conv.Status != kefu.StatusAssigned:
		return kefu.Conversation{}, fmt.Errorf("invite a rating of conversation %d (%s): %w", id, conv.Status, ErrNotAssigned)
	case conv.Rating != 0 || conv.RatingInvitedAt != nil:
		return kefu.Conversation{}, fmt.Errorf("invite a rating of conversation %d: %w", id, ErrAlreadyInvited)
	}
	shop, err := s.store.Shop(ctx, actor.ShopID)
	if err != nil {
		return kefu.Conversation{}, err
	}
	if !shop.CSATEnabled {
		return kefu.Conversation{}, fmt.Errorf("invite a rating of conversation %d: %w", id, ErrRatingDisabled)
	}
	by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: actor.ID}
	conv, err = s.store.InviteRating(ctx, actor.ShopID, id, by, ratingInvitedLine, s.committed(nil))
	if errors.Is(err, kefu.ErrConflict) {
		// Closed, requeued or invited by a colleague since it was read.
		return kefu.Conversation{}, fmt.Errorf("invite a rating of conversation %d: %w", id, ErrAlreadyInvited)
	}
	return conv, err
}
