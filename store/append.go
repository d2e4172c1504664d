package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kefu/kefu"
)

// Batch bounds: how many messages share one transaction. Under load a
// larger batch means fewer commits; each message still waits only for the
// commit of its own batch. The careful way (a savepoint per message) is
// rare; on PostgreSQL past 64 savepoints it is slower, never wrong.
const (
	maxAppendBatchSQLite   = 512
	maxAppendBatchPostgres = 256
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("store: closed")

// appendRequest is what the writer is asked to do: append a message (batched
// with the others waiting), or, with command set, run a command in a
// transaction of its own between two batches.
type appendRequest struct {
	msg       kefu.Message
	rule      kefu.WriteRule
	command   command
	committed func(kefu.Change)
	done      chan appendResult // buffered: the writer never waits for the caller
}

// A command changes state and returns the events it wrote in tx, with the
// state each left, in the order it wrote them. It runs on the writer, so its
// changes reach consumers in commit order with every message's.
type command func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error)

type appendResult struct {
	msg       kefu.Message
	conv      kefu.Conversation
	event     kefu.Event
	changes   []kefu.Change // a command's
	stored    bool          // written by this request
	refused   bool          // the rule or the client id check refused it: explain after the commit
	duplicate bool
	err       error
}

// AppendMessage stores m as the next message of its conversation under the
// default rule: buyers and agents write only to open conversations, kefu's
// own lines may follow a close. See Append.
func (s *Store) AppendMessage(ctx context.Context, m kefu.Message) (kefu.Message, bool, error) {
	rule := kefu.WriteRule{OpenOnly: m.Sender == kefu.SenderBuyer || m.Sender == kefu.SenderAgent}
	return s.Append(ctx, m, rule, nil)
}

// Append stores m as the next message of its conversation and returns it
// with id, seq and time. If the sender already stored a message with the
// same client message id, that message is returned with duplicate set and
// nothing is written. A conversation the rule refuses is
// kefu.ErrConversationClosed (closed), kefu.ErrNotFound (no such
// conversation in the shop, or another buyer's) or kefu.ErrForbidden (not
// held by the rule's agent).
//
// committed, if not nil, is called after the commit with the message's
// change: its event, the message, and the conversation's routing state as
// the write left it (id, shop, buyer, agent, status, last seq; no times or
// read marks), before Append returns. One goroutine calls it for every change
// in commit order, so a conversation's messages are seen there in seq order;
// it must not block.
//
// Messages are written by one goroutine that commits everything waiting in
// one transaction (group commit): under load many messages share a commit,
// alone a message is written at once. The call returns after the commit.
// ctx only bounds the wait for the writer to take the message: once taken,
// the call waits for the commit whatever ctx says (the writer bounds it),
// so the caller never reports "not stored" for a message that then is stored.
func (s *Store) Append(ctx context.Context, m kefu.Message, rule kefu.WriteRule, committed func(kefu.Change)) (kefu.Message, bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	req := &appendRequest{msg: m, rule: rule, committed: committed, done: make(chan appendResult, 1)}
	select {
	case s.appends <- req:
	case <-s.stop:
		return kefu.Message{}, false, ErrClosed
	case <-ctx.Done():
		return kefu.Message{}, false, ctx.Err()
	}
	r := <-req.done // the writer answers every request it takes, even at Close
	if r.refused {
		// Looked into here, not by the writer: a flood of retries must not
		// slow everyone else's commits.
		ctx, cancel := bound(context.WithoutCancel(ctx))
		defer cancel()
		r = s.explainRefusal(ctx, req)
	}
	return r.msg, r.duplicate, r.err
}

// committedBatch is a written batch on its way to the publisher.
type committedBatch struct {
	reqs    []*appendRequest
	results []appendResult
}

// writeAppends is the message writer: it takes what is waiting, up to
// maxAppendBatch, and commits it together, until Close. Each committed batch
// goes to publishCommitted, which runs beside it: while one batch is told
// and answered, the next is written. One publisher keeps commit order.
func (s *Store) writeAppends() {
	maxAppendBatch := maxAppendBatchSQLite
	if s.dialect.name == postgresDialect.name {
		maxAppendBatch = maxAppendBatchPostgres
	}
	committed := make(chan committedBatch, 2)
	published := make(chan struct{})
	go func() {
		defer close(published)
		for b := range committed {
			publishCommitted(b)
		}
	}()
	defer func() {
		close(committed)
		<-published
	}()
	for {
		var first *appendRequest
		select {
		case first = <-s.appends:
		case <-s.stop:
			return
		}
		if first.command != nil {
			committed <- s.runCommand(first)
			continue
		}
		batch := append(make([]*appendRequest, 0, 16), first)
		var next *appendRequest // a command that ended the batch
	fill:
		for len(batch) < maxAppendBatch {
			select {
			case req := <-s.appends:
				if req.command != nil {
					next = req
					break fill
				}
				batch = append(batch, req)
			default:
				break fill
			}
		}
		start := time.Now()
		results := s.appendBatch(batch)
		s.tellCommit(results, time.Since(start))
		s.nudgeIndexer()
		committed <- committedBatch{reqs: batch, results: results}
		if next != nil {
			committed <- s.runCommand(next)
		}
	}
}

// tellCommit tells Config.Commits how many messages of a batch were stored
// and how long the batch took.
func (s *Store) tellCommit(results []appendResult, took time.Duration) {
	if s.commits == nil {
		return
	}
	n := 0
	for _, r := range results {
		if r.stored {
			n++
		}
	}
	if n > 0 {
		s.commits(n, took)
	}
}

// runCommand runs a command in a transaction of its own.
func (s *Store) runCommand(req *appendRequest) committedBatch {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var r appendResult
	tx, err := s.sqlW.BeginTx(ctx, nil)
	if err == nil {
		r.changes, err = req.command(ctx, tx)
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
	}
	if err != nil {
		r = appendResult{err: err}
	}
	r.stored = err == nil
	return committedBatch{reqs: []*appendRequest{req}, results: []appendResult{r}}
}

// run hands a command to the writer and waits for its commit. Like Append,
// once the writer took it, the call waits for the outcome whatever ctx says.
// committed, if not nil, is told each change after the commit, in order.
func (s *Store) run(ctx context.Context, cmd command, committed func(kefu.Change)) ([]kefu.Change, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	req := &appendRequest{command: cmd, committed: committed, done: make(chan appendResult, 1)}
	select {
	case s.appends <- req:
	case <-s.stop:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r := <-req.done
	return r.changes, r.err
}

// appendBatch writes a batch in one transaction and returns what became of
// each message. The writer does no reads of its own: a refusal is looked
// into by its caller.
//
// The fast way has no savepoints: the conversation row is updated only if
// the rule allows it and the sender has no message with that client id, so
// no statement is expected to fail. If one does anyway (another process
// stored the same client id a moment before), the transaction is rolled back
// and the batch is written again the careful way, a savepoint per message,
// so a failing message undoes only itself, seq included.
func (s *Store) appendBatch(batch []*appendRequest) []appendResult {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	results := make([]appendResult, len(batch))
	var err error
	if s.dialect.name == postgresDialect.name {
		err = s.appendPipelined(ctx, batch, results)
	} else {
		err = s.appendTx(ctx, batch, results, false)
	}
	var stmtErr *statementError
	if errors.As(err, &stmtErr) {
		// A statement failed, so nothing of the batch was committed: write
		// it again the careful way. Any other failure (the commit, the
		// connection) leaves it unknown whether the batch was committed; it
		// fails as one, and the senders' retries are answered by the
		// client id.
		clear(results)
		err = s.appendTx(ctx, batch, results, true)
	}
	if err != nil {
		for i, req := range batch {
			results[i] = appendResult{err: fmt.Errorf("store: append message to conversation %d: %w", req.msg.ConversationID, err)}
		}
	}
	return results
}

// publishCommitted tells each stored message's committed, in commit order,
// then answers every request of the batch.
func publishCommitted(b committedBatch) {
	for i, req := range b.reqs {
		r := b.results[i]
		if !r.stored || req.committed == nil {
			continue
		}
		if req.command != nil {
			for _, ch := range r.changes {
				req.committed(ch)
			}
			continue
		}
		req.committed(kefu.Change{Event: r.event, Conversation: r.conv, Message: &r.msg})
	}
	for i, req := range b.reqs {
		req.done <- b.results[i]
	}
}

// appendTx writes the batch in one transaction; careful puts each message
// in a savepoint of its own.
func (s *Store) appendTx(ctx context.Context, batch []*appendRequest, results []appendResult, careful bool) error {
	tx, err := s.sqlW.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := s.appendStmts.in(ctx, tx)
	// The transaction holds the deadline. SQLite's driver watches a
	// statement's context with a goroutine of its own per statement, so its
	// statements get one without a deadline.
	if s.dialect.name != postgresDialect.name {
		ctx = context.Background()
	}
	for i, req := range batch {
		if !careful {
			if results[i], err = s.appendOne(ctx, stmts, req); err != nil {
				return &statementError{err}
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT m"); err != nil {
			return err
		}
		r, err := s.appendOne(ctx, stmts, req)
		if err != nil {
			// A failed ROLLBACK TO means the whole transaction is gone and
			// the batch must fail as one.
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT m"); rbErr != nil {
				return rbErr
			}
			if isDuplicate(err) {
				r = appendResult{refused: true}
			} else {
				r = appendResult{err: fmt.Errorf("store: append message to conversation %d: %w", req.msg.ConversationID, err)}
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT m"); err != nil {
			return err
		}
		results[i] = r
	}
	return tx.Commit()
}

// statementError is a statement of a batch that failed before the commit:
// the transaction is rolled back for sure.
type statementError struct{ err error }

func (e *statementError) Error() string { return e.err.Error() }
func (e *statementError) Unwrap() error { return e.err }

// appendPipelined is the fast way on PostgreSQL: the whole batch goes to the
// server at once, one statement per message, and runs as one implicit
// transaction, so a batch costs one network round trip instead of one per
// message. An error anywhere rolls all of it back.
func (s *Store) appendPipelined(ctx context.Context, batch []*appendRequest, results []appendResult) error {
	c, err := s.sqlW.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: unexpected PostgreSQL driver connection %T", driverConn)
		}
		var b pgx.Batch
		msgs := make([]kefu.Message, len(batch))
		for i, req := range batch {
			msgs[i] = s.stamped(req.msg)
			b.Queue(appendPGSQL, appendArgs(msgs[i], req.rule, true)...)
		}
		br := pc.Conn().SendBatch(ctx, &b)
		for i := range batch {
			r, err := scanAppended(msgs[i], br.QueryRow().Scan, true)
			if err != nil {
				br.Close()
				var pgErr *pgconn.PgError
				if errors.As(err, &pgErr) {
					return &statementError{err} // the server refused it: the batch is rolled back
				}
				return err
			}
			results[i] = r
		}
		// Close reads the end of the batch: its commit.
		return br.Close()
	})
}

// appendOne writes one message inside the batch transaction: the
// conversation's seq (and the sender's read mark) moves up only if the rule
// allows it and the client id is new; a refusal writes nothing.
func (s *Store) appendOne(ctx context.Context, st appendStmts, req *appendRequest) (appendResult, error) {
	m := s.stamped(req.msg)
	if s.dialect.name == postgresDialect.name {
		// One statement: the update and the insert in one round trip.
		return scanAppended(m, st.appendPG.QueryRowContext(ctx, appendArgs(m, req.rule, true)...).Scan, true)
	}
	r, err := scanAppended(m, st.bumpSeq.QueryRowContext(ctx, appendArgs(m, req.rule, false)...).Scan, false)
	if err != nil || !r.stored {
		return r, err
	}
	// bumpSeq returned the previous message's link in r.msg.Hash.
	r.msg.Hash = kefu.ChainHash(r.msg.Hash, r.msg.Seq, kefu.MessageDigest(m))
	if err := st.insertMsg.QueryRowContext(ctx, m.ShopID, m.ConversationID, r.msg.Seq, string(m.Kind), string(m.Sender),
		m.SenderID, m.SenderName, m.Text, m.Code, m.ClientMsgID, m.CreatedAt, m.RuleID, quickReplies(m.QuickReplies), cardJSON(m.Card),
		r.msg.Hash).Scan(&r.msg.ID); err != nil {
		return appendResult{}, err
	}
	e := messageEvent(r.msg, r.conv)
	if err := st.insertEvent.QueryRowContext(ctx, e.ShopID, string(e.Type), string(e.Actor.Kind), e.Actor.ID,
		e.ConversationID, e.BuyerID, e.AgentID, e.MessageID, e.Seq, "{}", e.CreatedAt).Scan(&e.ID); err != nil {
		return appendResult{}, err
	}
	r.event = e
	return r, nil
}

// quickReplies is how a message's tappable replies are stored: a JSON array,
// or "" for none (every message but a few of the assistant's).
func quickReplies(q []string) string {
	if len(q) == 0 {
		return ""
	}
	b, _ := json.Marshal(q) // strings always marshal
	return string(b)
}

// parseQuickReplies reads what quickReplies stored.
func parseQuickReplies(s string) []string {
	if s == "" {
		return nil
	}
	var q []string
	if json.Unmarshal([]byte(s), &q) != nil {
		return nil
	}
	return q
}

// cardJSON is how a card message's fields are stored; "" for every other
// message.
func cardJSON(c *kefu.Card) string {
	if c == nil {
		return ""
	}
	b, _ := json.Marshal(c) // a struct of strings and numbers always marshals
	return string(b)
}

// parseCard reads what cardJSON stored.
func parseCard(s string) *kefu.Card {
	if s == "" {
		return nil
	}
	var c kefu.Card
	if json.Unmarshal([]byte(s), &c) != nil {
		return nil
	}
	return &c
}

// stamped is m with the time it is stored at.
func (s *Store) stamped(m kefu.Message) kefu.Message {
	m.CreatedAt = s.now().UTC().Truncate(microsecond)
	return m
}

// appendArgs are the parameters of bumpSeqSQL, and with withInsert those of
// appendPGSQL.
func appendArgs(m kefu.Message, rule kefu.WriteRule, withInsert bool) []any {
	args := []any{string(m.Sender), m.ShopID, m.ConversationID, rule.OpenOnly, rule.BuyerID, rule.HolderID,
		m.ClientMsgID, m.SenderID, rule.Assigned || rule.HolderID != 0}
	if withInsert {
		d := kefu.MessageDigest(m)
		args = append(args, string(m.Kind), m.SenderName, m.Text, m.Code, m.CreatedAt, m.RuleID, quickReplies(m.QuickReplies), cardJSON(m.Card),
			hex.EncodeToString(d[:]))
	} else {
		args = append(args, m.CreatedAt)
	}
	return args
}

// scanAppended reads what a message's statement returned: the
// conversation's routing state as the write left it, then a link of the
// chain into m.Hash (bumpSeqSQL: the previous message's; appendPGSQL: the new
// message's) and, withIDs (appendPGSQL), the new message's and its event's
// ids. No row means the rule or the client id refused the message.
func scanAppended(m kefu.Message, scan func(dest ...any) error, withIDs bool) (appendResult, error) {
	var c conversationRow
	var eventID int64
	var link sql.NullString
	dest := []any{&c.ID, &c.ShopID, &c.BuyerID, &c.AgentID, &c.Status, &c.LastSeq, &c.Helpers, &link}
	if withIDs {
		dest = append(dest, &m.ID, &eventID)
	}
	err := scan(dest...)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return appendResult{refused: true}, nil
	}
	if err != nil {
		return appendResult{}, err
	}
	m.Seq = c.LastSeq
	m.Hash = link.String
	r := appendResult{msg: m, conv: c.conversation(), stored: true}
	if withIDs {
		r.event = messageEvent(m, r.conv)
		r.event.ID = eventID
	}
	return r, nil
}

// explainRefusal answers a request the batch did not write: with the
// sender's stored message of the same client id (a retry, even into a
// conversation that has closed since), or with why the rule refused it.
func (s *Store) explainRefusal(ctx context.Context, req *appendRequest) appendResult {
	m, rule := req.msg, req.rule
	if m.ClientMsgID != "" {
		prev, err := s.messageByClientID(ctx, m)
		if err == nil {
			return appendResult{msg: prev, duplicate: true}
		}
		if !errors.Is(err, kefu.ErrNotFound) {
			return appendResult{err: err}
		}
	}
	fail := func(err error) appendResult {
		return appendResult{err: fmt.Errorf("store: append message to conversation %d: %w", m.ConversationID, err)}
	}
	conv, err := s.Conversation(ctx, m.ShopID, m.ConversationID)
	switch {
	case err != nil:
		return fail(err)
	case rule.BuyerID != 0 && conv.BuyerID != rule.BuyerID:
		return fail(kefu.ErrNotFound)
	case rule.OpenOnly && conv.Status == kefu.StatusClosed:
		return fail(kefu.ErrConversationClosed)
	case rule.HolderID != 0 || rule.Assigned:
		return fail(fmt.Errorf("held by agent %d, status %s: %w", conv.AgentID, conv.Status, kefu.ErrForbidden))
	default:
		// The rule allows it now: the conversation changed between the write
		// and this look. Refuse; the sender's retry is written.
		return fail(kefu.ErrConflict)
	}
}

// The statements of the message path, prepared once on the writer pool.
// SQLite: bumpSeq, insertMsg, then insertEvent; PostgreSQL: appendPG, all
// three in one.
type appendStmts struct {
	bumpSeq, insertMsg, insertEvent, appendPG *sql.Stmt
}

// bumpSeqSQL moves the conversation's seq up by one if the rule allows it
// and the sender has stored nothing under the client id, keeps since when a
// buyer has been waiting for an agent's answer (the slow-reply guard), and
// returns the conversation's routing state as it leaves it. Parameters: 1 sender, 2 shop, 3 conversation, 4 open only,
// 5 buyer (0: any), 6 holder (0: any), 7 client id, 8 sender id,
// 9 assigned only, 10 the message's time.
const bumpSeqSQL = `UPDATE conversations SET last_seq = last_seq + 1,
	buyer_read_seq = CASE WHEN $1 = 'buyer' THEN last_seq + 1 ELSE buyer_read_seq END,
	agent_read_seq = CASE WHEN $1 = 'agent' THEN last_seq + 1 ELSE agent_read_seq END,
	awaiting_since = CASE WHEN $1 = 'buyer' THEN COALESCE(awaiting_since, $10) WHEN $1 = 'agent' THEN NULL ELSE awaiting_since END
WHERE shop_id = $2 AND id = $3
	AND (status <> 'closed' OR NOT $4)
	AND ($5 = 0 OR buyer_id = $5)
	AND ($6 = 0 OR agent_id = $6 OR (helpers <> '' AND ',' || helpers || ',' LIKE '%,' || $6 || ',%')) AND (status = 'assigned' OR NOT $9)
	AND ($7 = '' OR NOT EXISTS (SELECT 1 FROM messages
		WHERE shop_id = $2 AND sender = $1 AND sender_id = $8 AND client_msg_id = $7 AND client_msg_id <> ''))
RETURNING ` + conversationColumns + `, (SELECT p.hash FROM messages p WHERE p.conversation_id = conversations.id AND p.seq = conversations.last_seq - 1)`

const insertMsgSQL = `INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, sender_name, text, code, client_msg_id, created_at,
	rule_id, quick_replies, card, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// appendPGSQL is bumpSeqSQL, the insert and the message's event in one
// statement, with the parameters typed. 10 kind, 11 sender name, 12 text, 13 code, 14 time,
// 15 rule id, 16 quick replies, 17 card, 18 the message's digest (hex). The
// conversation's chain_head moves to the new message's link in the update,
// under the row's lock, so two processes writing one conversation chain in
// commit order.
const appendPGSQL = `WITH c AS (
UPDATE conversations SET last_seq = last_seq + 1,
	chain_head = encode(sha256(decode(CASE WHEN chain_head = '' THEN repeat('0', 64) ELSE chain_head END, 'hex')
		|| int8send(last_seq + 1) || decode($18::text, 'hex')), 'hex'),
	buyer_read_seq = CASE WHEN $1::text = 'buyer' THEN last_seq + 1 ELSE buyer_read_seq END,
	agent_read_seq = CASE WHEN $1::text = 'agent' THEN last_seq + 1 ELSE agent_read_seq END,
	awaiting_since = CASE WHEN $1::text = 'buyer' THEN COALESCE(awaiting_since, $14::timestamptz) WHEN $1::text = 'agent' THEN NULL ELSE awaiting_since END
WHERE shop_id = $2::bigint AND id = $3::bigint
	AND (status <> 'closed' OR NOT $4::boolean)
	AND ($5::bigint = 0 OR buyer_id = $5::bigint)
	AND ($6::bigint = 0 OR agent_id = $6::bigint OR (helpers <> '' AND ',' || helpers || ',' LIKE '%,' || $6::bigint || ',%'))
	AND (status = 'assigned' OR NOT $9::boolean)
	AND ($7::text = '' OR NOT EXISTS (SELECT 1 FROM messages
		WHERE shop_id = $2::bigint AND sender = $1::text AND sender_id = $8::bigint AND client_msg_id = $7::text AND client_msg_id <> ''))
RETURNING ` + conversationColumns + `, chain_head
), m AS (
INSERT INTO messages (shop_id, conversation_id, seq, kind, sender, sender_id, sender_name, text, code, client_msg_id, created_at,
	rule_id, quick_replies, card, hash)
SELECT $2::bigint, $3::bigint, c.last_seq, $10::text, $1::text, $8::bigint, $11::text, $12::text, $13::text, $7::text, $14::timestamptz,
	$15::bigint, $16::text, $17::text, c.chain_head FROM c
RETURNING id
), e AS (
INSERT INTO events (shop_id, type, actor_kind, actor_id, conversation_id, buyer_id, agent_id, message_id, seq, created_at)
SELECT $2::bigint, 'message', $1::text, $8::bigint, $3::bigint, c.buyer_id, COALESCE(c.agent_id, 0), m.id, c.last_seq, $14::timestamptz FROM c, m
RETURNING id
)
SELECT c.*, m.id, e.id FROM m, c, e`

// conversationColumns are what scanAppended reads of the conversation: its
// routing state, all that fan-out and routing need per message (the whole
// row would have four times parsed for every message).
const conversationColumns = `id, shop_id, buyer_id, agent_id, status, last_seq, helpers`

// prepareAppend prepares the message path's statements on the writer pool.
func (s *Store) prepareAppend(ctx context.Context) error {
	var err error
	if s.dialect.name == postgresDialect.name {
		s.appendStmts.appendPG, err = s.sqlW.PrepareContext(ctx, appendPGSQL)
		return err
	}
	// SQLite numbers parameters ?NNN; the same SQL is kept readable with $N.
	if s.appendStmts.bumpSeq, err = s.sqlW.PrepareContext(ctx, strings.ReplaceAll(bumpSeqSQL, "$", "?")); err != nil {
		return err
	}
	if s.appendStmts.insertMsg, err = s.sqlW.PrepareContext(ctx, insertMsgSQL); err != nil {
		return err
	}
	s.appendStmts.insertEvent, err = s.sqlW.PrepareContext(ctx, s.sql(insertEventSQL))
	return err
}

// in binds the prepared statements to tx. On the connection they were
// prepared on, database/sql reuses the prepared statement.
func (a *appendStmts) in(ctx context.Context, tx *sql.Tx) appendStmts {
	bind := func(st *sql.Stmt) *sql.Stmt {
		if st == nil {
			return nil
		}
		return tx.StmtContext(ctx, st)
	}
	return appendStmts{bumpSeq: bind(a.bumpSeq), insertMsg: bind(a.insertMsg), insertEvent: bind(a.insertEvent), appendPG: bind(a.appendPG)}
}

func (a *appendStmts) close() {
	for _, st := range []*sql.Stmt{a.bumpSeq, a.insertMsg, a.insertEvent, a.appendPG} {
		if st != nil {
			st.Close()
		}
	}
}
