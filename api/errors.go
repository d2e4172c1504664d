package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/protocol"
)

// apiError is an error a client sees: an HTTP status, a stable code and a sentence.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Field names the input that is wrong, as a JSON path ("patterns[1]",
	// "hours.weekly[2][0]"), when one is.
	Field string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

// Errors with fixed wording.
var (
	errUnauthorized       = newError(http.StatusUnauthorized, "unauthorized", "Sign in first: the session is missing or has expired.")
	errInvalidCredentials = newError(http.StatusUnauthorized, "invalid_credentials", "The shop, username or password is wrong.")
	errShopNotFound       = newError(http.StatusNotFound, "shop_not_found", "There is no shop with that name.")
	errOriginNotAllowed   = newError(http.StatusForbidden, "origin_not_allowed", "This page's origin is not registered for the shop's chat.")
	errBadSignature       = newError(http.StatusUnauthorized, "bad_signature", "The buyer signature does not match the buyer id.")
	errInvalidVisitorID   = newError(http.StatusBadRequest, "invalid_visitor_id", "visitor_id must be 8 to 64 letters, digits, '_' or '-'.")
	errNotFound           = newError(http.StatusNotFound, "not_found", "No such record in your shop.")
	errForbidden          = newError(http.StatusForbidden, "forbidden", "Your role does not allow this.")
	errInvalidJSON        = newError(http.StatusBadRequest, "invalid_json", "The request body is not valid JSON for this call.")
	errNotQueued          = newError(http.StatusConflict, "not_queued", "The conversation is no longer waiting in the queue.")
	errConversationClosed = newError(http.StatusConflict, "conversation_closed", "The conversation is closed.")
	errInternal           = newError(http.StatusInternalServerError, "internal", "Something went wrong on our side; try again.")
)

// retryLater is a refusal that passes after a wait. Wherever it is written
// the client is told when to try again: Retry-After on REST, retry_after_ms
// on a socket.
type retryLater struct {
	*apiError
	after time.Duration
}

func (e *retryLater) Unwrap() error { return e.apiError }

func badRequest(code, message string) *apiError {
	return newError(http.StatusBadRequest, code, message)
}

// fieldError is a 400 that names the input that is wrong.
func fieldError(field, code, message string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: message, Field: field}
}

// toAPIError maps any error from below to what the client sees. Unknown
// errors are internal: logged in full, shown as a generic sentence.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	var pe *protocol.Error
	switch {
	case errors.As(err, &ae):
		return ae, true
	case errors.As(err, &pe):
		return badRequest(pe.Code, pe.Message), true
	case errors.Is(err, kefu.ErrNotFound):
		return errNotFound, true
	case errors.Is(err, kefu.ErrConversationClosed):
		return errConversationClosed, true
	case errors.Is(err, conversation.ErrForbidden):
		return errForbidden, true
	case errors.Is(err, conversation.ErrNotQueued):
		return errNotQueued, true
	case errors.Is(err, conversation.ErrAgentUnavailable):
		return newError(http.StatusConflict, "agent_unavailable", "That agent is not online with a free slot (or already holds the conversation)."), true
	case errors.Is(err, conversation.ErrOwnerOnly):
		return errOwnerOnly, true
	case errors.Is(err, conversation.ErrSupervisorOnly):
		return errSupervisorOnly, true
	case errors.Is(err, conversation.ErrSelfLockout):
		return errSelfLockout, true
	case errors.Is(err, kefu.ErrLastOwner):
		return errLastOwner, true
	case errors.Is(err, conversation.ErrNotAssigned):
		return newError(http.StatusConflict, "not_assigned", "Only a conversation an agent holds can be transferred, shared or taken over."), true
	case errors.Is(err, conversation.ErrCannotInvite):
		return newError(http.StatusConflict, "cannot_invite", "That agent is in the conversation already, or it has 3 helpers."), true
	case errors.Is(err, conversation.ErrUnknownOrder):
		return newError(http.StatusBadRequest, "unknown_order", "The order card names no order of this buyer."), true
	case errors.Is(err, conversation.ErrImageOrigin):
		return newError(http.StatusBadRequest, "image_not_allowed", "A card's image must be https or from one of the shop's registered origins."), true
	case errors.Is(err, conversation.ErrLinkOrigin):
		return newError(http.StatusBadRequest, "link_not_allowed", "A buyer's product card must link to one of the shop's registered store pages."), true
	case errors.Is(err, conversation.ErrAlreadyRated):
		return newError(http.StatusConflict, "already_rated", "This conversation has been rated already; a conversation is rated once."), true
	case errors.Is(err, conversation.ErrNotRatable):
		return newError(http.StatusConflict, "not_ratable", "A conversation is rated once it has closed, or when an agent invites a rating."), true
	case errors.Is(err, conversation.ErrRatingDisabled):
		return newError(http.StatusForbidden, "rating_disabled", "This shop does not ask for ratings."), true
	case errors.Is(err, conversation.ErrAlreadyInvited):
		return newError(http.StatusConflict, "already_invited", "A rating of this conversation was invited or given already."), true
	case errors.Is(err, conversation.ErrInvalidRating):
		return fieldError("stars", "invalid_rating", "stars must be a whole number from 1 to 5."), true
	case errors.Is(err, conversation.ErrCommentTooLong):
		return fieldError("comment", "comment_too_long", "The comment must be at most 500 characters."), true
	case errors.Is(err, conversation.ErrCommentRejected):
		return fieldError("comment", "comment_invalid_characters", "The comment holds a control character; only tab and line breaks are allowed."), true
	case errors.Is(err, conversation.ErrNotHelping):
		return newError(http.StatusConflict, "not_helping", "You were not invited into this conversation (or left it already)."), true
	}
	return errInternal, false
}

// errorBody is the JSON every failed request gets.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
		// RetryAfterMs is Retry-After in milliseconds, for a refusal that
		// passes after a wait (rate_limited, too_many_connections).
		RetryAfterMs int64 `json:"retry_after_ms,omitempty"`
	} `json:"error"`
}

// writeError is the one place failed requests are answered and logged.
func (h *handlers) writeError(c *gin.Context, err error) {
	ae, known := toAPIError(err)
	if !known {
		h.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	} else if ae.Status >= 500 {
		h.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Field = ae.Code, ae.Message, ae.Field
	var later *retryLater
	if errors.As(err, &later) {
		c.Header("Retry-After", strconv.Itoa(int(later.after.Seconds())+1))
		body.Error.RetryAfterMs = max(1, later.after.Milliseconds())
	}
	c.AbortWithStatusJSON(ae.Status, body)
}

// wsError turns an error into an error frame for a socket.
func wsError(log *slog.Logger, err error, ref string) []byte {
	ae, known := toAPIError(err)
	if !known {
		log.Error("socket request failed", "err", err)
	}
	f := protocol.ErrorFrame{Type: protocol.TypeError, Code: ae.Code, Message: ae.Message, Ref: ref}
	var later *retryLater
	if errors.As(err, &later) {
		f.RetryAfterMs = max(1, later.after.Milliseconds())
	}
	return protocol.Encode(f)
}

// maxBodyBytes bounds every request body but those of the routes that
// allowBody more.
const maxBodyBytes = 64 << 10

// maxBulkBodyBytes bounds a body of up to kefu.MaxBulkOrders orders.
const maxBulkBodyBytes = 4 << 20

// Context keys of the request body before limitBody and its limit.
const (
	rawBodyKey   = "raw_body"
	bodyLimitKey = "body_limit"
)

// limitBody stops reading a request body after maxBodyBytes.
func limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Set(rawBodyKey, c.Request.Body)
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	}
	c.Next()
}

// allowBody lets one route read a body of up to n bytes instead of maxBodyBytes.
func allowBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if raw, ok := c.Get(rawBodyKey); ok {
			c.Request.Body = http.MaxBytesReader(c.Writer, raw.(io.ReadCloser), n)
			c.Set(bodyLimitKey, n)
		}
		c.Next()
	}
}

// readBody reads the whole request body; a body over the route's limit is
// answered 413, one that breaks off with unreadable (the caller's refusal).
func (h *handlers) readBody(c *gin.Context, unreadable error) ([]byte, bool) {
	body, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.writeError(c, errBodyTooLarge(c))
		return nil, false
	case err != nil:
		h.writeError(c, unreadable)
		return nil, false
	}
	return body, true
}

// errBodyTooLarge is the 413 for a body over the route's limit.
func errBodyTooLarge(c *gin.Context) *apiError {
	limit := int64(maxBodyBytes)
	if n, ok := c.Get(bodyLimitKey); ok {
		limit = n.(int64)
	}
	size := strconv.FormatInt(limit>>10, 10) + " KiB"
	if limit >= 1<<20 {
		size = strconv.FormatInt(limit>>20, 10) + " MiB"
	}
	return newError(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is over "+size+".")
}

// bindJSON decodes the body into v, answering 400 invalid_json or 413
// body_too_large itself when it cannot.
func (h *handlers) bindJSON(c *gin.Context, v any) bool {
	err := c.ShouldBindJSON(v)
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooLarge):
		h.writeError(c, errBodyTooLarge(c))
	default:
		h.writeError(c, errInvalidJSON)
	}
	return false
}
