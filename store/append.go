package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

// Batch bounds: how many messages share one transaction. PostgreSQL keeps
// at most 64 subtransactions per session in its fast cache, and each
// message's savepoint is one.
const (
	maxAppendBatchSQLite   = 128
	maxAppendBatchPostgres = 60
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("store: closed")

type appendRequest struct {
	msg  kefu.Message
	done chan appendResult // buffered: the writer never waits for the caller
}

type appendResult struct {
	msg       kefu.Message
	duplicate bool
	err       error
}

// AppendMessage stores m as the next message of its conversation and returns
// it with id, seq and time. If the sender already stored a message with the
// same client message id, that message is returned with duplicate set and
// nothing is written. Buyers and agents cannot write to a closed conversation
// (kefu.ErrConversationClosed); system messages can.
//
// Messages are written by one goroutine that commits everything waiting in
// one transaction (group commit): under load many messages share a commit,
// alone a message is written at once. The call returns after the commit.
// ctx only bounds the wait for the writer to take the message: once taken,
// the call waits for the commit whatever ctx says, so the caller never
// reports "not stored" for a message that then is stored.
func (s *Store) AppendMessage(ctx context.Context, m kefu.Message) (kefu.Message, bool, error) {
	req := &appendRequest{msg: m, done: make(chan appendResult, 1)}
	select {
	case s.appends <- req:
	case <-s.stop:
		return kefu.Message{}, false, ErrClosed
	case <-ctx.Done():
		return kefu.Message{}, false, ctx.Err()
	}
	r := <-req.done // the writer answers every request it takes, even at Close
	return r.msg, r.duplicate, r.err
}

// writeAppends is the message writer: it takes what is waiting, up to
// maxAppendBatch, and commits it together, until Close.
func (s *Store) writeAppends() {
	maxAppendBatch := maxAppendBatchSQLite
	if s.dialect.name == postgresDialect.name {
		maxAppendBatch = maxAppendBatchPostgres
	}
	batch := make([]*appendRequest, 0, maxAppendBatch)
	for {
		select {
		case req := <-s.appends:
			batch = append(batch[:0], req)
		case <-s.stop:
			return
		}
	fill:
		for len(batch) < maxAppendBatch {
			select {
			case req := <-s.appends:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		s.appendBatch(batch)
	}
}

// appendBatch writes a batch in one transaction. Each message has its own
// savepoint, so a duplicate or a closed conversation undoes only that
// message, seq included.
func (s *Store) appendBatch(batch []*appendRequest) {
	results := make([]appendResult, len(batch))
	retryLookup := make([]bool, len(batch))
	err := s.db.Transaction(func(tx *gorm.DB) error {
		for i, req := range batch {
			// Plain statements, not gorm's SavePoint/RollbackTo helpers, which
			// drop the database's error: a failed ROLLBACK TO means the whole
			// transaction is gone and the batch must fail as one.
			if err := tx.Exec("SAVEPOINT m").Error; err != nil {
				return err
			}
			msg, lookup, err := s.appendOne(tx, req.msg)
			if err != nil || lookup {
				if rbErr := tx.Exec("ROLLBACK TO SAVEPOINT m").Error; rbErr != nil {
					return rbErr
				}
			}
			if relErr := tx.Exec("RELEASE SAVEPOINT m").Error; relErr != nil {
				return relErr
			}
			results[i] = appendResult{msg: msg, err: err}
			retryLookup[i] = lookup
		}
		return nil
	})
	for i, req := range batch {
		r := results[i]
		switch {
		case err != nil:
			r = appendResult{err: fmt.Errorf("store: append message to conversation %d: %w", req.msg.ConversationID, err)}
		case retryLookup[i]:
			// The sender may have stored this message already (a retry): the
			// unique index caught it, or the conversation has closed since.
			prev, lookupErr := s.messageByClientID(context.Background(), req.msg)
			switch {
			case lookupErr == nil:
				r = appendResult{msg: prev, duplicate: true}
			case errors.Is(lookupErr, kefu.ErrNotFound) && r.err == nil:
				r = appendResult{err: fmt.Errorf("store: append message to conversation %d: %w", req.msg.ConversationID, kefu.ErrConversationClosed)}
			case errors.Is(lookupErr, kefu.ErrNotFound):
			default:
				r = appendResult{err: lookupErr}
			}
		}
		req.done <- r
	}
}

// appendOne writes one message inside the batch transaction. lookup asks
// the caller to answer with the sender's stored message of the same client
// id, if there is one.
func (s *Store) appendOne(tx *gorm.DB, m kefu.Message) (stored kefu.Message, lookup bool, err error) {
	row := messageRow{ShopID: m.ShopID, ConversationID: m.ConversationID, Kind: string(m.Kind), Sender: string(m.Sender),
		SenderID: m.SenderID, SenderName: m.SenderName, Text: m.Text, Code: m.Code, ClientMsgID: m.ClientMsgID, CreatedAt: s.now().UTC()}
	// Buyers and agents write only to open conversations; kefu's own lines may follow a close.
	openOnly := m.Sender == kefu.SenderBuyer || m.Sender == kefu.SenderAgent
	// The sender has seen everything up to their own message.
	readCol := ""
	switch m.Sender {
	case kefu.SenderBuyer:
		readCol = ", buyer_read_seq = last_seq + 1"
	case kefu.SenderAgent:
		readCol = ", agent_read_seq = last_seq + 1"
	}
	var seqs []int64
	if err := tx.Raw(`UPDATE conversations SET last_seq = last_seq + 1`+readCol+`
		WHERE shop_id = ? AND id = ? AND (status <> ? OR ?) RETURNING last_seq`,
		m.ShopID, m.ConversationID, kefu.StatusClosed, !openOnly).Scan(&seqs).Error; err != nil {
		return kefu.Message{}, false, err
	}
	if len(seqs) == 0 {
		// Either there is no such conversation in the shop, or it is closed.
		var status string
		err := tx.Raw(`SELECT status FROM conversations WHERE shop_id = ? AND id = ?`, m.ShopID, m.ConversationID).Row().Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return kefu.Message{}, false, fmt.Errorf("store: append message: conversation %d: %w", m.ConversationID, kefu.ErrNotFound)
		}
		if err != nil {
			return kefu.Message{}, false, err
		}
		// A retry of a message stored before the close still gets its ack.
		return kefu.Message{}, m.ClientMsgID != "", fmt.Errorf("store: append message: conversation %d: %w", m.ConversationID, kefu.ErrConversationClosed)
	}
	row.Seq = seqs[0]
	if err := tx.Create(&row).Error; err != nil {
		if isDuplicate(err) {
			return kefu.Message{}, true, nil
		}
		return kefu.Message{}, false, err
	}
	return row.message(), false, nil
}
