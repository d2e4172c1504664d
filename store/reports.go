package store

import (
	"context"
	"errors"
	"fmt"
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
	AgentSince     *time.Time
	FirstAgentID   int64
	StartedAt      time.Time
	LineSince      *time.Time
	AssistantFirst bool
	FirstBuyerAt   *time.Time
	AssignedAt     *time.Time
	FirstReplyAt   *time.Time
	ClosedAt       *time.Time
	AwaitingSince  *time.Time
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
	RepliesIn3m    int `gorm:"column:replies_in3m"`
	Stars          int
	RatedAt        *time.Time
}

func (reportSessionRow) TableName() string { return "report_sessions" }

func (r reportSessionRow) session() kefu.ReportSession {
	return kefu.ReportSession{ShopID: r.ShopID, ConversationID: r.ConversationID, Episode: r.Episode, BuyerID: r.BuyerID,
		GroupID: r.GroupID, AgentID: r.AgentID, AgentSince: utcPtr(r.AgentSince), FirstAgentID: r.FirstAgentID,
		StartedAt: r.StartedAt.UTC(), LineSince: utcPtr(r.LineSince), AssistantFirst: r.AssistantFirst,
		FirstBuyerAt: utcPtr(r.FirstBuyerAt), AssignedAt: utcPtr(r.AssignedAt), FirstReplyAt: utcPtr(r.FirstReplyAt),
		ClosedAt: utcPtr(r.ClosedAt), AwaitingSince: utcPtr(r.AwaitingSince), Abandoned: r.Abandoned, LeftMessage: r.LeftMessage,
		Transfers: r.Transfers, Nudges: r.Nudges, Reassigns: r.Reassigns, Requeues: r.Requeues, BuyerMessages: r.BuyerMessages,
		AgentMessages: r.AgentMessages, BotMessages: r.BotMessages, Replies: r.Replies, ReplyMillis: r.ReplyMillis,
		RepliesIn3m: r.RepliesIn3m, Stars: r.Stars, RatedAt: utcPtr(r.RatedAt)}
}

func reportSessionRowOf(s kefu.ReportSession) reportSessionRow {
	return reportSessionRow{ShopID: s.ShopID, ConversationID: s.ConversationID, Episode: s.Episode, BuyerID: s.BuyerID,
		GroupID: s.GroupID, AgentID: s.AgentID, AgentSince: s.AgentSince, FirstAgentID: s.FirstAgentID, StartedAt: s.StartedAt,
		LineSince: s.LineSince, AssistantFirst: s.AssistantFirst, FirstBuyerAt: s.FirstBuyerAt, AssignedAt: s.AssignedAt,
		FirstReplyAt: s.FirstReplyAt, ClosedAt: s.ClosedAt, AwaitingSince: s.AwaitingSince, Abandoned: s.Abandoned,
		LeftMessage: s.LeftMessage, Transfers: s.Transfers, Nudges: s.Nudges, Reassigns: s.Reassigns, Requeues: s.Requeues,
		BuyerMessages: s.BuyerMessages, AgentMessages: s.AgentMessages, BotMessages: s.BotMessages, Replies: s.Replies,
		ReplyMillis: s.ReplyMillis, RepliesIn3m: s.RepliesIn3m, Stars: s.Stars, RatedAt: s.RatedAt}
}

type reportSpanRow struct {
	ShopID    int64  `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	SubjectID int64  `gorm:"primaryKey"`
	Value     string
	StartedAt time.Time `gorm:"primaryKey"`
	EndedAt   *time.Time
}

func (reportSpanRow) TableName() string { return "report_spans" }

func (r reportSpanRow) span() kefu.ReportSpan {
	return kefu.ReportSpan{ShopID: r.ShopID, Kind: r.Kind, SubjectID: r.SubjectID, Value: r.Value,
		StartedAt: r.StartedAt.UTC(), EndedAt: utcPtr(r.EndedAt)}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
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
	ctx, cancel := bound(ctx)
	defer cancel()
	var out []kefu.ReportSession
	for start := 0; start < len(conversationIDs); start += 500 {
		ids := conversationIDs[start:min(start+500, len(conversationIDs))]
		var rows []reportSessionRow
		if err := s.rdb.WithContext(ctx).Where("conversation_id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: read report stretches: %w", err)
		}
		for _, r := range rows {
			out = append(out, r.session())
		}
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
					StartedAt: sp.StartedAt, EndedAt: sp.EndedAt}
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
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []reportSessionRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND started_at >= ? AND started_at < ?", shopID, from.UTC(), to.UTC()).
		Order("started_at, conversation_id, episode").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: report stretches of shop %d: %w", shopID, err)
	}
	out := make([]kefu.ReportSession, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// ReportSpans returns the shop's spans that overlap [from, to).
func (s *Store) ReportSpans(ctx context.Context, shopID int64, from, to time.Time) ([]kefu.ReportSpan, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []reportSpanRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?)", shopID, to.UTC(), from.UTC()).
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
	var rows []kefu.ReportOrder
	if err := s.rdb.WithContext(ctx).Table("orders").Select("order_no, buyer_id, amount_cents, status, created_at").
		Where("shop_id = ? AND created_at >= ? AND created_at < ?", shopID, from.UTC(), to.UTC()).
		Order("created_at, id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: report orders of shop %d: %w", shopID, err)
	}
	for i := range rows {
		rows[i].CreatedAt = rows[i].CreatedAt.UTC()
	}
	return rows, nil
}
