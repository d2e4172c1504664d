package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu/kefu"
)

// The report roll-up's tables (migration 33, docs/reports.md): report.Roller
// folds the event log into them; the reports read them.

// ErrReportMarkMoved is returned by SaveReportFold when another fold (a
// second kefu process) moved the roll-up's mark first: the batch is not
// saved, and the next pass reads on from the new mark.
var ErrReportMarkMoved = errors.New("store: the report roll-up's mark moved")

type reportSessionRow struct {
	ShopID         int64
	ConversationID int64 `gorm:"primaryKey"`
	Episode        int   `gorm:"primaryKey"`
	BuyerID        int64
	GroupID        int64
	AgentID        int64
	AgentSince     *int64
	StartedAt      int64
	LineSince      *int64
	AssistantFirst bool
	FirstBuyerAt   *int64
	AssignedAt     *int64
	FirstReplyAt   *int64
	ClosedAt       *int64
	AwaitingSince  *int64
	Abandoned      bool
	LeftMessage    bool
	Transfers      int
	Nudges         int
	Reassigns      int
	Requeues       int
	BuyerMessages  int
	AgentMessages  int
	BotMessages    int
	Replies        int
	ReplyMillis    int64
	Stars          int
}

func (reportSessionRow) TableName() string { return "report_sessions" }

func reportSessionRowOf(s kefu.ReportSession) reportSessionRow {
	return reportSessionRow{ShopID: s.ShopID, ConversationID: s.ConversationID, Episode: s.Episode, BuyerID: s.BuyerID,
		GroupID: s.GroupID, AgentID: s.AgentID, AgentSince: micros(s.AgentSince),
		StartedAt: s.StartedAt.UnixMicro(), LineSince: micros(s.LineSince), AssistantFirst: s.AssistantFirst,
		FirstBuyerAt: micros(s.FirstBuyerAt), AssignedAt: micros(s.AssignedAt), FirstReplyAt: micros(s.FirstReplyAt),
		ClosedAt: micros(s.ClosedAt), AwaitingSince: micros(s.AwaitingSince), Abandoned: s.Abandoned,
		LeftMessage: s.LeftMessage, Transfers: s.Transfers, Nudges: s.Nudges, Reassigns: s.Reassigns, Requeues: s.Requeues,
		BuyerMessages: s.BuyerMessages, AgentMessages: s.AgentMessages, BotMessages: s.BotMessages, Replies: s.Replies,
		ReplyMillis: s.ReplyMillis, Stars: s.Stars}
}

type reportSpanRow struct {
	ShopID    int64  `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	SubjectID int64  `gorm:"primaryKey"`
	Value     string
	StartedAt int64 `gorm:"primaryKey"`
	EndedAt   *int64
}

func (reportSpanRow) TableName() string { return "report_spans" }

func (r reportSpanRow) span() kefu.ReportSpan {
	return kefu.ReportSpan{ShopID: r.ShopID, Kind: r.Kind, SubjectID: r.SubjectID, Value: r.Value,
		StartedAt: time.UnixMicro(r.StartedAt).UTC(), EndedAt: fromMicros(r.EndedAt)}
}

// The roll-up's times are microseconds since 1970, UTC (migration 33).
func micros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func fromMicros(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := time.UnixMicro(*v).UTC()
	return &t
}

// ReportMark returns the id of the last event the report roll-up folded in.
func (s *Store) ReportMark(ctx context.Context) (int64, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var mark int64
	if err := s.rdb.WithContext(ctx).Raw(`SELECT last_id FROM report_mark WHERE one = 1`).Row().Scan(&mark); err != nil {
		return 0, fmt.Errorf("store: read the report roll-up's mark: %w", err)
	}
	return mark, nil
}

// ReportEvents returns up to limit events of every shop with an id above
// afterID, in id order, each message event with its message's code.
func (s *Store) ReportEvents(ctx context.Context, afterID int64, limit int) ([]kefu.ReportEvent, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	rows, err := s.rdb.WithContext(ctx).Raw(`SELECT e.id, e.shop_id, e.type, e.actor_kind, e.actor_id, e.conversation_id,
		e.buyer_id, e.agent_id, e.message_id, e.seq, e.data, e.created_at, COALESCE(m.code, '') FROM events e
		LEFT JOIN messages m ON e.message_id <> 0 AND m.id = e.message_id
		WHERE e.id > ? ORDER BY e.id LIMIT ?`, afterID, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: read events after %d for the reports: %w", afterID, err)
	}
	defer rows.Close()
	var out []kefu.ReportEvent
	for rows.Next() {
		var r eventRow
		var code string
		if err := rows.Scan(&r.ID, &r.ShopID, &r.Type, &r.ActorKind, &r.ActorID, &r.ConversationID, &r.BuyerID, &r.AgentID,
			&r.MessageID, &r.Seq, &r.Data, &r.CreatedAt, &code); err != nil {
			return nil, fmt.Errorf("store: read events after %d for the reports: %w", afterID, err)
		}
		out = append(out, kefu.ReportEvent{Event: r.event(), MessageCode: code})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read events after %d for the reports: %w", afterID, err)
	}
	return out, nil
}

// ReportLatestSessions returns the stretches stored for the given
// conversations (every episode; the fold keeps the latest).
func (s *Store) ReportLatestSessions(ctx context.Context, conversationIDs []int64) ([]kefu.ReportSession, error) {
	var out []kefu.ReportSession
	for start := 0; start < len(conversationIDs); start += 500 {
		ids := conversationIDs[start:min(start+500, len(conversationIDs))]
		marks := make([]string, len(ids))
		args := make([]any, len(ids))
		for i, id := range ids {
			marks[i], args[i] = fmt.Sprintf("$%d", i+1), id
		}
		ss, err := s.reportSessions(ctx, `WHERE conversation_id IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: read report stretches: %w", err)
		}
		out = append(out, ss...)
	}
	return out, nil
}

// ReportOpenSpans returns every span that still holds, of every shop.
func (s *Store) ReportOpenSpans(ctx context.Context) ([]kefu.ReportSpan, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []reportSpanRow
	if err := s.rdb.WithContext(ctx).Where("ended_at IS NULL").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: read open report spans: %w", err)
	}
	out := make([]kefu.ReportSpan, len(rows))
	for i, r := range rows {
		out[i] = r.span()
	}
	return out, nil
}

// SaveReportFold saves what a fold of the events after mark from up to mark
// to changed, and moves the mark to to, in one transaction. When the mark is
// no longer from, nothing is saved and the error is ErrReportMarkMoved.
func (s *Store) SaveReportFold(ctx context.Context, from, to int64, sessions []kefu.ReportSession, spans []kefu.ReportSpan) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE report_mark SET last_id = ? WHERE one = 1 AND last_id = ?`, to, from)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrReportMarkMoved
		}
		if len(sessions) > 0 {
			rows := make([]reportSessionRow, len(sessions))
			for i, ss := range sessions {
				rows[i] = reportSessionRowOf(ss)
			}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(rows, 200).Error; err != nil {
				return err
			}
		}
		if len(spans) > 0 {
			rows := make([]reportSpanRow, len(spans))
			for i, sp := range spans {
				rows[i] = reportSpanRow{ShopID: sp.ShopID, Kind: sp.Kind, SubjectID: sp.SubjectID, Value: sp.Value,
					StartedAt: sp.StartedAt.UnixMicro(), EndedAt: micros(sp.EndedAt)}
			}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(rows, 200).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrReportMarkMoved) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: save the report roll-up up to event %d: %w", to, err)
	}
	return nil
}

// ResetReports empties the report roll-up, so that it is folded again from
// the first event (a rebuild).
func (s *Store) ResetReports(ctx context.Context) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, q := range []string{`DELETE FROM report_sessions`, `DELETE FROM report_spans`, `UPDATE report_mark SET last_id = 0 WHERE one = 1`} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: empty the report roll-up: %w", err)
	}
	return nil
}

// ReportSessions returns the shop's stretches that started in [from, to).
func (s *Store) ReportSessions(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportSession, error) {
	out, err := s.reportSessions(ctx, `WHERE shop_id = $1 AND started_at >= $2 AND started_at < $3
		ORDER BY started_at, conversation_id, episode`, shopID, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("store: report stretches of shop %d: %w", shopID, err)
	}
	return out, nil
}

// reportSessions reads the stretches the clause selects.
// It scans rows by hand: a month of a busy shop is 100,000 of them, and
// reflection would cost more than the query.
func (s *Store) reportSessions(ctx context.Context, clause string, args ...any) ([]kefu.ReportSession, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	rdb, err := s.rdb.DB()
	if err != nil {
		return nil, err
	}
	query := `SELECT shop_id, conversation_id, episode, buyer_id, group_id, agent_id, agent_since, started_at, line_since,
		assistant_first, first_buyer_at, assigned_at, first_reply_at, closed_at, awaiting_since, abandoned, left_message,
		transfers, nudges, reassigns, requeues, buyer_messages, agent_messages, bot_messages, replies, reply_millis, stars
		FROM report_sessions ` + clause
	rows, err := rdb.QueryContext(ctx, s.sql(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kefu.ReportSession
	var started int64
	var agentSince, lineSince, firstBuyer, assigned, firstReply, closed, awaiting *int64
	for rows.Next() {
		var r kefu.ReportSession
		if err := rows.Scan(&r.ShopID, &r.ConversationID, &r.Episode, &r.BuyerID, &r.GroupID, &r.AgentID, &agentSince,
			&started, &lineSince, &r.AssistantFirst, &firstBuyer, &assigned, &firstReply, &closed, &awaiting, &r.Abandoned,
			&r.LeftMessage, &r.Transfers, &r.Nudges, &r.Reassigns, &r.Requeues, &r.BuyerMessages, &r.AgentMessages,
			&r.BotMessages, &r.Replies, &r.ReplyMillis, &r.Stars); err != nil {
			return nil, err
		}
		r.StartedAt = time.UnixMicro(started).UTC()
		r.AgentSince, r.LineSince, r.FirstBuyerAt = fromMicros(agentSince), fromMicros(lineSince), fromMicros(firstBuyer)
		r.AssignedAt, r.FirstReplyAt, r.ClosedAt = fromMicros(assigned), fromMicros(firstReply), fromMicros(closed)
		r.AwaitingSince = fromMicros(awaiting)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReportSpans returns the shop's spans that overlap [from, to).
func (s *Store) ReportSpans(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportSpan, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []reportSpanRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?)", shopID, to.UnixMicro(), from.UnixMicro()).
		Order("started_at, kind, subject_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: report spans of shop %d: %w", shopID, err)
	}
	out := make([]kefu.ReportSpan, len(rows))
	for i, r := range rows {
		out[i] = r.span()
	}
	return out, nil
}

// ReportOrders returns the shop's orders placed in [from, to), oldest first.
func (s *Store) ReportOrders(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportOrder, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	rdb, err := s.rdb.DB()
	if err != nil {
		return nil, fmt.Errorf("store: report orders of shop %d: %w", shopID, err)
	}
	rows, err := rdb.QueryContext(ctx, s.sql(`SELECT order_no, buyer_id, amount_cents, status, created_at FROM orders
		WHERE shop_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id`), shopID, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: report orders of shop %d: %w", shopID, err)
	}
	defer rows.Close()
	var out []kefu.ReportOrder
	for rows.Next() {
		var o kefu.ReportOrder
		if err := rows.Scan(&o.OrderNo, &o.BuyerID, &o.AmountCents, &o.Status, &o.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: report orders of shop %d: %w", shopID, err)
		}
		o.CreatedAt = o.CreatedAt.UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: report orders of shop %d: %w", shopID, err)
	}
	return out, nil
}
