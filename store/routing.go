package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

// Routing decisions are taken inside a per-shop serialization: what a
// decision reads (agents' loads, the line) cannot change under it until it
// commits. On PostgreSQL that is a transaction-scoped advisory lock on the
// shop, so kefu processes sharing one database decide one at a time per
// shop; on SQLite the writer's transaction holds the database's one write
// lock from its first statement.

// routingLockSpace is the first key of the shops' routing locks
// (pg_advisory_xact_lock(int, int)); PostgreSQL keeps two-key locks apart
// from one-key ones such as the migration lock.
const routingLockSpace = 0x6b656675 // "kefu"

// lockShopRouting takes the shop's routing lock for the rest of tx.
func (s *Store) lockShopRouting(ctx context.Context, tx *sql.Tx, shopID int64) error {
	if s.dialect.name != postgresDialect.name {
		return nil
	}
	high, low := routingLockKeys(shopID)
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, high, low); err != nil {
		return fmt.Errorf("lock routing of shop %d: %w", shopID, err)
	}
	return nil
}

// lockShopRoutingGorm is lockShopRouting for a gorm transaction.
func (s *Store) lockShopRoutingGorm(tx *gorm.DB, shopID int64) error {
	return s.lockShopGorm(tx, routingLockSpace, shopID)
}

// phraseLockSpace is the first key of the shops' quick-phrase locks: a
// shop's phrase writes count its phrases one at a time.
const phraseLockSpace = 0x70687261 // "phra"

// lockShopGorm takes, on PostgreSQL, the shop's lock in a key space for the
// rest of tx (SQLite has one writer at a time anyway).
func (s *Store) lockShopGorm(tx *gorm.DB, space uint32, shopID int64) error {
	if s.dialect.name != postgresDialect.name {
		return nil
	}
	high, low := lockKeys(space, shopID)
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(?::int, ?::int)`, high, low).Error; err != nil {
		return fmt.Errorf("lock shop %d: %w", shopID, err)
	}
	return nil
}

// routingLockKeys are a shop's two 32-bit routing lock keys.
func routingLockKeys(shopID int64) (high, low int32) { return lockKeys(routingLockSpace, shopID) }

// lockKeys are a shop's two 32-bit lock keys in a space: the space mixed
// with the id's high half, then its low half.
func lockKeys(space uint32, shopID int64) (high, low int32) {
	return int32(space ^ uint32(uint64(shopID)>>32)), int32(uint32(uint64(shopID)))
}

// RouteShop assigns the shop's waiting conversations while agents have room,
// in one transaction inside the shop's routing serialization: it reads every
// agent's load (presence from presence, open conversations and cap from the
// database), reads as much of the line as there are free slots, asks decide
// (the pure routing core) who takes what, and stores each assignment with its
// announcement line and events. It returns the assignments made.
//
// presence is asked inside the decision and must not block. committed, if
// not nil, is told every change after the commit. capBonus is added to
// every agent's cap for this decision (surge mode).
func (s *Store) RouteShop(ctx context.Context, shopID int64, presence func(agentID int64) kefu.Presence, capBonus int,
	decide func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment,
	announce func(agentName string) kefu.Message, committed func(kefu.Change)) ([]kefu.Assignment, error) {
	var made []kefu.Assignment
	cmd := func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		made = nil
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		var changes []kefu.Change
		// Decided again while a decision gives a group's conversation to the
		// buyer's own agent outside the group: that leaves the group's slot
		// for the next of its line, which the first read did not reach.
		for round := 0; round < maxRoutingRounds; round++ {
			ch, n, err := s.routeOnce(ctx, tx, shopID, presence, capBonus, decide, announce, &made)
			if err != nil {
				return nil, err
			}
			changes = append(changes, ch...)
			if n == 0 {
				break
			}
		}
		return changes, nil
	}
	_, err := s.run(ctx, cmd, committed)
	if isDeadlock(err) {
		// PostgreSQL chose this decision to break a deadlock with another
		// process's writes (their row locks, taken in another order): it
		// was rolled back whole, so it is taken again.
		_, err = s.run(ctx, cmd, committed)
	}
	if err != nil {
		return nil, fmt.Errorf("store: route shop %d: %w", shopID, err)
	}
	return made, nil
}

// maxRoutingRounds bounds the decisions one RouteShop takes.
const maxRoutingRounds = 8

// routeOnce takes one decision inside RouteShop's transaction and returns
// its changes and how many of its assignments went to an agent outside the
// conversation's group (the buyer's own agent): each leaves a group slot the
// decision's read of the line did not count on.
func (s *Store) routeOnce(ctx context.Context, tx *sql.Tx, shopID int64, presence func(agentID int64) kefu.Presence, capBonus int,
	decide func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment,
	announce func(agentName string) kefu.Message, made *[]kefu.Assignment) ([]kefu.Change, int, error) {
	agents, err := s.agentLoads(ctx, tx, shopID, presence, capBonus)
	if err != nil {
		return nil, 0, err
	}
	free := 0
	for _, a := range agents {
		if a.Presence == kefu.PresenceOnline && a.Active < a.Cap {
			free += a.Cap - a.Active
		}
	}
	if free == 0 {
		return nil, 0, nil
	}
	waiting, err := s.lineForDecision(ctx, tx, shopID, agents)
	if err != nil || len(waiting) == 0 {
		return nil, 0, err
	}
	groupOf := make(map[int64]int64, len(waiting))
	for _, w := range waiting {
		groupOf[w.ConversationID] = w.GroupID
	}
	inGroup := func(agentID, groupID int64) bool {
		for _, a := range agents {
			if a.ID == agentID {
				_, ok := a.Groups[groupID]
				return ok
			}
		}
		return false
	}
	var changes []kefu.Change
	n := 0 // assignments that went outside their group: the group's slots were not all read
	for _, as := range decide(agents, waiting) {
		if g := groupOf[as.ConversationID]; g != 0 && !inGroup(as.AgentID, g) {
			n++
		}
		ch, _, err := s.assignIn(ctx, tx, shopID, as.ConversationID, as.AgentID, kefu.SystemActor, announce, true)
		if errors.Is(err, kefu.ErrConflict) || errors.Is(err, kefu.ErrConversationClosed) {
			// No longer waiting (a command that does not take the
			// routing lock changed it): the next decision weighs the
			// line again.
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("assign conversation %d to agent %d: %w", as.ConversationID, as.AgentID, err)
		}
		changes = append(changes, ch...)
		*made = append(*made, as)
	}
	return changes, n, nil
}

// isDeadlock reports PostgreSQL's deadlock_detected.
func isDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}

// TakeConversation gives a waiting conversation to the agent who picked it,
// whatever their load, inside the shop's routing serialization, with its
// announcement line and events. One that is no longer waiting is
// kefu.ErrConflict (taken) or kefu.ErrConversationClosed.
func (s *Store) TakeConversation(ctx context.Context, shopID, id, agentID int64,
	announce func(agentName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error) {
	var conv kefu.Conversation
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		changes, c, err := s.assignIn(ctx, tx, shopID, id, agentID, kefu.ActorRef{Kind: kefu.SenderAgent, ID: agentID}, announce, true)
		conv = c
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: agent %d takes conversation %d: %w", agentID, id, err)
	}
	return conv, nil
}

// agentLoads reads every agent of the shop with their open conversations.
func (s *Store) agentLoads(ctx context.Context, tx *sql.Tx, shopID int64, presence func(int64) kefu.Presence, capBonus int) ([]kefu.AgentLoad, error) {
	active := map[int64]int{}
	rows, err := tx.QueryContext(ctx, s.sql(`SELECT agent_id, COUNT(*) FROM conversations
		WHERE shop_id = $1 AND status = 'assigned' GROUP BY agent_id`), shopID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		active[id] = n
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	groups := map[int64]map[int64]int{} // agent → group → weight
	rows, err = tx.QueryContext(ctx, s.sql(`SELECT agent_id, group_id, weight FROM agent_group_members WHERE shop_id = $1`), shopID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var agent, group int64
		var weight int
		if err := rows.Scan(&agent, &group, &weight); err != nil {
			rows.Close()
			return nil, err
		}
		if groups[agent] == nil {
			groups[agent] = map[int64]int{}
		}
		groups[agent][group] = weight
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	// A disabled agent is no candidate, whatever sockets they still have.
	rows, err = tx.QueryContext(ctx, s.sql(`SELECT id, max_concurrent, last_assigned_at FROM agents WHERE shop_id = $1 AND NOT disabled ORDER BY id`), shopID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kefu.AgentLoad
	for rows.Next() {
		var a kefu.AgentLoad
		var last *time.Time
		if err := rows.Scan(&a.ID, &a.Cap, &last); err != nil {
			return nil, err
		}
		a.Cap += capBonus
		if last != nil {
			a.LastAssignedAt = *last
		}
		a.Active = active[a.ID]
		a.Presence = presence(a.ID)
		a.Groups = groups[a.ID]
		out = append(out, a)
	}
	return out, rows.Err()
}

// lineForDecision reads the part of the shop's line a decision can serve,
// with what routing weighs for each conversation (its group and priority, the
// buyer's dedicated agent, the agent who last served the buyer within the
// shop's sticky window), in serving order. At most as many conversations can
// be assigned as there are free slots, and a group's conversations only to
// its members: so of each group with a member with room it reads as many
// from the head as the members have free slots, and of those waiting for the
// whole shop as many as the shop has. (A conversation whose group is full is
// weighed once the group has room, even if the buyer's recent or dedicated
// agent has room before.)
func (s *Store) lineForDecision(ctx context.Context, tx *sql.Tx, shopID int64, agents []kefu.AgentLoad) ([]kefu.Waiting, error) {
	total := 0
	byGroup := map[int64]int{}
	for _, a := range agents {
		if a.Presence != kefu.PresenceOnline || a.Active >= a.Cap {
			continue
		}
		total += a.Cap - a.Active
		for g := range a.Groups {
			byGroup[g] += a.Cap - a.Active
		}
	}
	byGroup[0] = total
	type waiter struct {
		kefu.Waiting
		queuedAt time.Time
	}
	var all []waiter
	for g, free := range byGroup {
		if free == 0 {
			continue
		}
		rows, err := tx.QueryContext(ctx, s.sql(`SELECT c.id, c.buyer_id, c.group_id, c.priority, c.queued_at, b.dedicated_agent_id,
			c.transfer_from FROM conversations c JOIN buyers b ON b.id = c.buyer_id
			WHERE c.shop_id = $1 AND c.status = 'queued' AND c.group_id = $2 AND NOT c.assistant_first
			ORDER BY c.priority DESC, c.queued_at, c.id LIMIT $3`), shopID, g, free)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var w waiter
			if err := rows.Scan(&w.ConversationID, &w.BuyerID, &w.GroupID, &w.Priority, &w.queuedAt, &w.DedicatedAgentID, &w.AvoidAgentID); err != nil {
				rows.Close()
				return nil, err
			}
			// Waiting after a transfer (a departure clears it): it was sent
			// to its group on purpose.
			w.GroupOnly = w.AvoidAgentID != 0 && w.GroupID != 0
			all = append(all, w)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	// Conversations the assistant answers first are not in their group's
	// line (they would hold its head); they are read apart, for the buyers'
	// own agents alone.
	first, err := tx.QueryContext(ctx, s.sql(`SELECT c.id, c.buyer_id, c.group_id, c.priority, c.queued_at, b.dedicated_agent_id
		FROM conversations c JOIN buyers b ON b.id = c.buyer_id
		WHERE c.shop_id = $1 AND c.status = 'queued' AND c.assistant_first
		ORDER BY c.priority DESC, c.queued_at, c.id LIMIT $2`), shopID, total)
	if err != nil {
		return nil, err
	}
	for first.Next() {
		w := waiter{Waiting: kefu.Waiting{AssistantFirst: true}}
		if err := first.Scan(&w.ConversationID, &w.BuyerID, &w.GroupID, &w.Priority, &w.queuedAt, &w.DedicatedAgentID); err != nil {
			first.Close()
			return nil, err
		}
		all = append(all, w)
	}
	if err := first.Close(); err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, nil
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		if !a.queuedAt.Equal(b.queuedAt) {
			return a.queuedAt.Before(b.queuedAt)
		}
		return a.ConversationID < b.ConversationID
	})
	line := make([]kefu.Waiting, len(all))
	for i, w := range all {
		line[i] = w.Waiting
	}
	var days int
	if err := tx.QueryRowContext(ctx, s.sql(`SELECT sticky_days FROM shops WHERE id = $1`), shopID).Scan(&days); err != nil {
		return nil, err
	}
	if days <= 0 {
		return line, nil
	}
	since := s.now().UTC().Add(-time.Duration(days) * 24 * time.Hour)
	// The buyers' own conversations, through the (shop, buyer) index: the
	// shop's closed history is never scanned.
	args := []any{shopID, since}
	marks := make([]string, len(line))
	for i, w := range line {
		args = append(args, w.BuyerID)
		marks[i] = fmt.Sprintf("$%d", i+3)
	}
	rows, err := tx.QueryContext(ctx, s.sql(`SELECT c.buyer_id, c.agent_id FROM conversations c
		WHERE c.shop_id = $1 AND c.buyer_id IN (`+strings.Join(marks, ", ")+`)
		AND c.status = 'closed' AND c.agent_id IS NOT NULL AND c.closed_at >= $2
		ORDER BY c.id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	last := map[int64]int64{} // buyer → their latest conversation's agent
	for rows.Next() {
		var buyer, agent int64
		if err := rows.Scan(&buyer, &agent); err != nil {
			return nil, err
		}
		last[buyer] = agent
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range line {
		line[i].LastAgentID = last[line[i].BuyerID]
	}
	return line, nil
}

// waitingIn reads the first limit conversations of the shop's line in
// serving order: higher priority first, then first come first served.
func (s *Store) waitingIn(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, shopID int64, limit int) ([]kefu.Waiting, error) {
	rows, err := q.QueryContext(ctx, s.sql(`SELECT id, buyer_id, group_id, priority FROM conversations
		WHERE shop_id = $1 AND status = 'queued' AND NOT assistant_first ORDER BY priority DESC, queued_at, id LIMIT $2`), shopID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kefu.Waiting
	for rows.Next() {
		var w kefu.Waiting
		if err := rows.Scan(&w.ConversationID, &w.BuyerID, &w.GroupID, &w.Priority); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// maxLine bounds how much of a shop's line one read returns.
const maxLine = 10000

// Waiting returns the shop's line in serving order (at most 10,000), without
// the conversations the shop's assistant answers first (they wait for it,
// not in line).
func (s *Store) Waiting(ctx context.Context, shopID int64) ([]kefu.Waiting, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	db, err := s.rdb.DB()
	if err != nil {
		return nil, fmt.Errorf("store: read the line of shop %d: %w", shopID, err)
	}
	out, err := s.waitingIn(ctx, db, shopID, maxLine)
	if err != nil {
		return nil, fmt.Errorf("store: read the line of shop %d: %w", shopID, err)
	}
	return out, nil
}

// queuePositionSQL counts a waiting conversation's place in its shop's line
// (0 if it is not waiting, or waits for the shop's assistant): those served
// before it, and itself. Parameters:
// 1 shop, 2 conversation.
const queuePositionSQL = `SELECT COUNT(*) FROM conversations c, conversations me
	WHERE me.shop_id = $1 AND me.id = $2 AND me.status = 'queued' AND NOT me.assistant_first
	AND c.shop_id = me.shop_id AND c.status = 'queued' AND NOT c.assistant_first
	AND (c.priority > me.priority OR (c.priority = me.priority AND (c.queued_at < me.queued_at
		OR (c.queued_at = me.queued_at AND c.id <= me.id))))`

// QueuePosition returns a conversation's place in its shop's line (1 =
// next), 0 if it is not waiting.
func (s *Store) QueuePosition(ctx context.Context, conv kefu.Conversation) (int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	db, err := s.rdb.DB()
	if err != nil {
		return 0, fmt.Errorf("store: place of conversation %d in line: %w", conv.ID, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, s.sql(queuePositionSQL), conv.ShopID, conv.ID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: place of conversation %d in line: %w", conv.ID, err)
	}
	return n, nil
}

// ActiveConversations counts the open conversations assigned to an agent.
func (s *Store) ActiveConversations(ctx context.Context, shopID, agentID int64) (int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var n int
	if err := s.rdb.WithContext(ctx).Raw(`SELECT COUNT(*) FROM conversations WHERE shop_id = ? AND agent_id = ? AND status = ?`,
		shopID, agentID, kefu.StatusAssigned).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count conversations of agent %d: %w", agentID, err)
	}
	return n, nil
}

// RequeueAgent puts every open conversation assigned to an agent who left
// back at the front of the shop's line (priority kefu.PriorityReturned,
// their original place in time), each with notice(the agent's name) as its
// next message and their events (EventRequeued, EventMessage), in one
// transaction inside the shop's routing serialization. It returns how many
// went back. committed, if not nil, is told every change after the commit.
func (s *Store) RequeueAgent(ctx context.Context, shopID, agentID int64, notice func(agentName string) kefu.Message,
	committed func(kefu.Change)) (int, error) {
	n := 0
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		n = 0
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		var name string
		if err := tx.QueryRowContext(ctx, s.sql(`SELECT name FROM agents WHERE shop_id = $1 AND id = $2`), shopID, agentID).Scan(&name); err != nil {
			return nil, fmt.Errorf("agent %d: %w", agentID, err)
		}
		var changes []kefu.Change
		var err error
		n, changes, err = s.requeueIn(ctx, tx, shopID, agentID, name, "agent_left", kefu.SystemActor, notice)
		return changes, err
	}, committed)
	if err != nil {
		return 0, fmt.Errorf("store: requeue conversations of agent %d: %w", agentID, err)
	}
	return n, nil
}

// requeueIn puts the agent's open conversations back at the front of the
// line inside tx, which holds the shop's routing lock: each gets
// notice(name) as its next message, then an EventRequeued for reason, by
// actor. It returns how many went back and their changes.
func (s *Store) requeueIn(ctx context.Context, tx *sql.Tx, shopID, agentID int64, name, reason string, actor kefu.ActorRef,
	notice func(agentName string) kefu.Message) (int, []kefu.Change, error) {
	rows, err := tx.QueryContext(ctx, s.sql(`SELECT id FROM conversations WHERE shop_id = $1 AND agent_id = $2 AND status = 'assigned' ORDER BY id`),
		shopID, agentID)
	if err != nil {
		return 0, nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, nil, err
	}
	var changes []kefu.Change
	now := s.now().UTC().Truncate(microsecond)
	for _, id := range ids {
		// A transfer's note and its sender are stale once the agent who
		// took it left.
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET status = 'queued', agent_id = NULL, assigned_at = NULL,
			priority = $1, transfer_from = 0, transfer_note = '', helpers = '', holding_replied = FALSE WHERE shop_id = $2 AND id = $3`), kefu.PriorityReturned, shopID, id); err != nil {
			return 0, nil, err
		}
		_, ch, err := s.lineThenEvent(ctx, tx, notice(name), kefu.Event{ShopID: shopID, Type: kefu.EventRequeued,
			Actor: actor, ConversationID: id, AgentID: agentID, Data: kefu.EventData{Reason: reason}, CreatedAt: now}, "")
		if err != nil {
			return 0, nil, err
		}
		changes = append(changes, ch...)
	}
	return len(ids), changes, nil
}

// TransferConversation hands a conversation held by fromAgentID (0: by
// whoever holds it, for owners and supervisors) to another agent, or puts it
// at the front of a group's line, with line(the agent's or group's name) as
// its next message and their events (EventMessage, then EventTransferred),
// in one transaction inside the shop's routing serialization. by is who
// transferred it. One not held (any more) by fromAgentID is kefu.ErrForbidden;
// a closed or waiting one kefu.ErrConflict; a target not of the shop
// kefu.ErrNotFound.
func (s *Store) TransferConversation(ctx context.Context, shopID, id, fromAgentID int64, by kefu.ActorRef, to kefu.Transfer,
	line func(targetName string) kefu.Message, committed func(kefu.Change)) (kefu.Conversation, error) {
	var conv kefu.Conversation
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		before, err := s.heldIn(ctx, tx, shopID, id, fromAgentID)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC().Truncate(microsecond)
		var target string
		if to.ToAgentID != 0 {
			// Counted inside the lock: routing or another transfer may have
			// filled the agent since the caller looked.
			name, room, disabled, err := s.agentRoom(ctx, tx, shopID, to.ToAgentID)
			if err != nil {
				return nil, err
			}
			if disabled {
				return nil, fmt.Errorf("agent %d: %w", to.ToAgentID, kefu.ErrAgentDisabled)
			}
			if !room && !to.TakeOver {
				return nil, fmt.Errorf("agent %d: %w", to.ToAgentID, kefu.ErrAgentFull)
			}
			target = name
			// A helper who takes the conversation over holds it now.
			if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET agent_id = $1, assigned_at = $2, transfer_from = $3,
				transfer_note = $4, helpers = $5 WHERE shop_id = $6 AND id = $7`), to.ToAgentID, now, before.AgentID, to.Note,
				formatIDs(without(before.HelperIDs, to.ToAgentID)), shopID, id); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, s.sql(`UPDATE agents SET last_assigned_at = $1 WHERE shop_id = $2 AND id = $3`), now, shopID, to.ToAgentID); err != nil {
				return nil, err
			}
		} else {
			if err := tx.QueryRowContext(ctx, s.sql(`SELECT name FROM agent_groups WHERE shop_id = $1 AND id = $2`), shopID, to.ToGroupID).Scan(&target); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return nil, fmt.Errorf("group %d: %w", to.ToGroupID, kefu.ErrNotFound)
				}
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET status = 'queued', agent_id = NULL, assigned_at = NULL,
				group_id = $1, priority = $2, transfer_from = $3, transfer_note = $4, helpers = '' WHERE shop_id = $5 AND id = $6`),
				to.ToGroupID, kefu.PriorityReturned, before.AgentID, to.Note, shopID, id); err != nil {
				return nil, err
			}
		}
		agentName := ""
		if to.ToAgentID != 0 {
			agentName = target
		}
		var changes []kefu.Change
		conv, changes, err = s.lineThenEvent(ctx, tx, line(target), kefu.Event{ShopID: shopID, Type: kefu.EventTransferred, Actor: by,
			ConversationID: id, AgentID: to.ToAgentID, Data: kefu.EventData{FromAgentID: before.AgentID, GroupID: to.ToGroupID, Note: to.Note},
			CreatedAt: now}, agentName)
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, fmt.Errorf("store: transfer conversation %d: %w", id, err)
	}
	return conv, nil
}

// heldIn takes the shop's routing lock and reads an assigned conversation
// inside tx: one closed or waiting is kefu.ErrConflict, one not held by
// holderID (0: by anyone) kefu.ErrForbidden.
func (s *Store) heldIn(ctx context.Context, tx *sql.Tx, shopID, id, holderID int64) (kefu.Conversation, error) {
	if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
		return kefu.Conversation{}, err
	}
	conv, err := s.conversationIn(ctx, tx, shopID, id)
	switch {
	case err != nil:
		return kefu.Conversation{}, err
	case conv.Status != kefu.StatusAssigned:
		return kefu.Conversation{}, fmt.Errorf("conversation %d is %s: %w", id, conv.Status, kefu.ErrConflict)
	case holderID != 0 && conv.AgentID != holderID:
		return kefu.Conversation{}, fmt.Errorf("conversation %d is held by agent %d: %w", id, conv.AgentID, kefu.ErrForbidden)
	}
	return conv, nil
}

// AgentsHoldingConversations lists, across shops, the agents who hold an
// open conversation (id and shop only): at start, those not yet back get a
// grace period, then their buyers go to others.
func (s *Store) AgentsHoldingConversations(ctx context.Context) ([]kefu.Agent, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []struct {
		ShopID  int64
		AgentID int64
	}
	if err := s.rdb.WithContext(ctx).Raw(`SELECT DISTINCT shop_id, agent_id FROM conversations WHERE status = ? AND agent_id IS NOT NULL`,
		kefu.StatusAssigned).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: agents holding conversations: %w", err)
	}
	out := make([]kefu.Agent, len(rows))
	for i, r := range rows {
		out[i] = kefu.Agent{ID: r.AgentID, ShopID: r.ShopID}
	}
	return out, nil
}

// ReopenConversation opens again the buyer's latest conversation if it was
// closed less than within ago (and the buyer has no open one): to the agent
// who held it when routable says they may take it and they have room, else
// back in the line; with its event (EventReopened) and line(agent's name, or
// "" when it waits) as its next message, in one transaction inside the shop's
// routing serialization. ok is false when there was nothing to reopen.
func (s *Store) ReopenConversation(ctx context.Context, shopID, buyerID int64, within time.Duration, routable func(agentID int64) bool,
	line func(agentName string) kefu.Message, committed func(kefu.Change)) (conv kefu.Conversation, ok bool, err error) {
	_, err = s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		ok = false
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		var id int64
		err := tx.QueryRowContext(ctx, s.sql(`SELECT id FROM conversations WHERE shop_id = $1 AND buyer_id = $2 ORDER BY id DESC LIMIT 1`),
			shopID, buyerID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		last, err := s.conversationIn(ctx, tx, shopID, id)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC().Truncate(microsecond)
		if last.Status != kefu.StatusClosed || last.ClosedAt == nil || now.Sub(*last.ClosedAt) > within {
			return nil, nil
		}
		agent, name := last.AgentID, ""
		if agent != 0 {
			var room, disabled bool
			if name, room, disabled, err = s.agentRoom(ctx, tx, shopID, agent); err != nil {
				return nil, err
			}
			if !room || disabled || !routable(agent) {
				agent, name = 0, ""
			}
		}
		if agent != 0 {
			_, err = tx.ExecContext(ctx, s.sql(`UPDATE conversations SET status = 'assigned', closed_at = NULL, assigned_at = $1,
				rating_invited_at = NULL WHERE shop_id = $2 AND id = $3`), now, shopID, id)
		} else {
			_, err = tx.ExecContext(ctx, s.sql(`UPDATE conversations SET status = 'queued', closed_at = NULL, agent_id = NULL,
				assigned_at = NULL, queued_at = $1, rating_invited_at = NULL WHERE shop_id = $2 AND id = $3`), now, shopID, id)
		}
		if err != nil {
			return nil, err // a second open conversation of the buyer is a unique violation: nothing changed
		}
		var changes []kefu.Change
		// The reports start the stretch's wait for people here, unless the
		// assistant still answers first; and count it in its group now.
		data := kefu.EventData{GroupID: last.GroupID, AssistantFirst: agent == 0 && last.AssistantFirst}
		conv, changes, err = s.lineThenEvent(ctx, tx, line(name), kefu.Event{ShopID: shopID, Type: kefu.EventReopened,
			Actor: kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyerID}, ConversationID: id, AgentID: agent, Data: data, CreatedAt: now}, name)
		ok = err == nil
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, false, fmt.Errorf("store: reopen the latest conversation of buyer %d: %w", buyerID, err)
	}
	return conv, ok, nil
}

// agentRoom reads an agent's name inside tx, whether they hold fewer open
// conversations than their cap, and whether the account is disabled (room
// counts only the cap). An agent not of the shop is kefu.ErrNotFound.
func (s *Store) agentRoom(ctx context.Context, tx *sql.Tx, shopID, agentID int64) (name string, room, disabled bool, err error) {
	var cap, held int
	err = tx.QueryRowContext(ctx, s.sql(`SELECT name, max_concurrent, disabled FROM agents WHERE shop_id = $1 AND id = $2`), shopID, agentID).
		Scan(&name, &cap, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, false, fmt.Errorf("agent %d: %w", agentID, kefu.ErrNotFound)
	}
	if err != nil {
		return "", false, false, err
	}
	if err := tx.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM conversations WHERE shop_id = $1 AND agent_id = $2 AND status = 'assigned'`),
		shopID, agentID).Scan(&held); err != nil {
		return "", false, false, err
	}
	return name, held < cap, disabled, nil
}

// LongWaits lists, across shops that hand long waits on (reassign_seconds),
// the assigned conversations whose buyer has waited that long for an answer
// and that were not handed on yet for this wait, oldest wait first.
func (s *Store) LongWaits(ctx context.Context, now time.Time) ([]kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var shops []shopRow
	if err := s.rdb.WithContext(ctx).Select("id", "reassign_seconds").Where("reassign_seconds > 0").Find(&shops).Error; err != nil {
		return nil, fmt.Errorf("store: shops that reassign long waits: %w", err)
	}
	var out []kefu.Conversation
	for _, sh := range shops {
		cutoff := now.UTC().Add(-time.Duration(sh.ReassignSeconds) * time.Second)
		var rows []conversationRow
		if err := s.rdb.WithContext(ctx).Raw(`SELECT * FROM conversations WHERE status = ? AND awaiting_since <= ? AND shop_id = ?
			AND (reassigned_at IS NULL OR reassigned_at < awaiting_since) ORDER BY awaiting_since LIMIT 1000`, kefu.StatusAssigned, cutoff, sh.ID).
			Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: long waits of shop %d: %w", sh.ID, err)
		}
		for _, r := range rows {
			out = append(out, r.conversation())
		}
	}
	return out, nil
}

// ReassignConversation hands an assigned conversation whose buyer has waited
// since conv.AwaitingSince to another agent, the one decide (the pure routing
// core) picks among the others online with a free slot (of its group, for a
// group's conversation), with line(that agent's name) as its next message
// and their events (EventMessage, then EventReassigned), in one transaction
// inside the shop's routing serialization. It is tried once per wait: ok is
// false, and nothing but that try is recorded, when nobody else has room;
// it is false with nothing changed when the agent answered or the
// conversation moved meanwhile.
func (s *Store) ReassignConversation(ctx context.Context, conv kefu.Conversation, presence func(agentID int64) kefu.Presence, capBonus int,
	decide func(agents []kefu.AgentLoad, waiting []kefu.Waiting) []kefu.Assignment,
	line func(agentName string) kefu.Message, committed func(kefu.Change)) (after kefu.Conversation, ok bool, err error) {
	if conv.AwaitingSince == nil {
		return conv, false, nil
	}
	_, err = s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		ok = false
		if err := s.lockShopRouting(ctx, tx, conv.ShopID); err != nil {
			return nil, err
		}
		now := s.now().UTC().Truncate(microsecond)
		// Claimed first, for this wait only: a wait answered or moved since
		// the caller looked claims nothing.
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET reassigned_at = $1 WHERE shop_id = $2 AND id = $3
			AND status = 'assigned' AND agent_id = $4 AND awaiting_since = $5 AND (reassigned_at IS NULL OR reassigned_at < awaiting_since)`),
			now, conv.ShopID, conv.ID, conv.AgentID, *conv.AwaitingSince)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err
		}
		before, err := s.conversationIn(ctx, tx, conv.ShopID, conv.ID)
		if err != nil {
			return nil, err
		}
		loads, err := s.agentLoads(ctx, tx, conv.ShopID, presence, capBonus)
		if err != nil {
			return nil, err
		}
		others := loads[:0:0]
		for _, a := range loads {
			if a.ID != before.AgentID {
				others = append(others, a)
			}
		}
		picked := decide(others, []kefu.Waiting{{ConversationID: before.ID, BuyerID: before.BuyerID, GroupID: before.GroupID,
			Priority: before.Priority, GroupOnly: before.GroupID != 0}})
		if len(picked) == 0 {
			return nil, nil // nobody else has room: it stays, tried once for this wait
		}
		to := picked[0].AgentID
		var name string
		if err := tx.QueryRowContext(ctx, s.sql(`SELECT name FROM agents WHERE shop_id = $1 AND id = $2`), conv.ShopID, to).Scan(&name); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET agent_id = $1, assigned_at = $2, transfer_from = $3, transfer_note = '',
			helpers = $4 WHERE shop_id = $5 AND id = $6`), to, now, before.AgentID, formatIDs(without(before.HelperIDs, to)), conv.ShopID, conv.ID); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE agents SET last_assigned_at = $1 WHERE shop_id = $2 AND id = $3`), now, conv.ShopID, to); err != nil {
			return nil, err
		}
		var changes []kefu.Change
		after, changes, err = s.lineThenEvent(ctx, tx, line(name), kefu.Event{ShopID: conv.ShopID, Type: kefu.EventReassigned,
			Actor: kefu.SystemActor, ConversationID: conv.ID, AgentID: to,
			Data: kefu.EventData{FromAgentID: before.AgentID, Reason: "slow_reply"}, CreatedAt: now}, name)
		ok = err == nil
		return changes, err
	}, committed)
	if err != nil {
		return kefu.Conversation{}, false, fmt.Errorf("store: reassign conversation %d: %w", conv.ID, err)
	}
	return after, ok, nil
}

// Abandon records that a buyer left the line (EventAbandoned, actor the
// buyer) if their latest conversation is waiting and was not counted as left
// before; it stays in line. It reports whether it recorded it.
func (s *Store) Abandon(ctx context.Context, shopID, buyerID int64, committed func(kefu.Change)) (bool, error) {
	left := false
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		left = false
		var id int64
		err := tx.QueryRowContext(ctx, s.sql(`SELECT id FROM conversations WHERE shop_id = $1 AND buyer_id = $2 AND status = 'queued'
			AND abandoned_at IS NULL ORDER BY id DESC LIMIT 1`), shopID, buyerID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		now := s.now().UTC().Truncate(microsecond)
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET abandoned_at = $1 WHERE shop_id = $2 AND id = $3
			AND status = 'queued' AND abandoned_at IS NULL`), now, shopID, id)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err // assigned (by another process) between the two statements
		}
		conv, err := s.conversationIn(ctx, tx, shopID, id)
		if err != nil {
			return nil, err
		}
		e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventAbandoned, Actor: kefu.ActorRef{Kind: kefu.SenderBuyer, ID: buyerID},
			ConversationID: id, BuyerID: buyerID, Data: kefu.EventData{Reason: "buyer_left"}, CreatedAt: now})
		if err != nil {
			return nil, err
		}
		left = true
		return []kefu.Change{{Event: e, Conversation: conv}}, nil
	}, committed)
	if err != nil {
		return false, fmt.Errorf("store: buyer %d left the line: %w", buyerID, err)
	}
	return left, nil
}
