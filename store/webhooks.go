package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

// Outbound webhooks (docs/orders.md, "Outbound webhooks"): the shop's
// endpoint with the sender's place in the event log, and the delivery log.

type webhookRow struct {
	ShopID       int64 `gorm:"primaryKey"`
	URL          string
	Events       string // comma-separated
	Enabled      bool
	Secret       string
	AfterEventID int64
	Attempts     int
	RetryAt      sql.NullTime
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (webhookRow) TableName() string { return "webhooks" }

func (r webhookRow) webhook() kefu.Webhook {
	w := kefu.Webhook{ShopID: r.ShopID, URL: r.URL, Enabled: r.Enabled, Secret: r.Secret, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		AfterEventID: r.AfterEventID, Attempts: r.Attempts, RetryAt: r.RetryAt.Time, Events: []string{}}
	if r.Events != "" {
		w.Events = strings.Split(r.Events, ",")
	}
	return w
}

type webhookDeliveryRow struct {
	ID         int64 `gorm:"primaryKey"`
	ShopID     int64
	EventID    int64
	Type       string
	Attempt    int
	StatusCode int
	Error      string
	Outcome    string
	At         time.Time
	DurationMS int64 `gorm:"column:duration_ms"`
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

// Delivery log bounds: attempts older than this, or beyond this many of a
// shop's newest, are deleted as new ones are written.
const (
	webhookLogAge   = 7 * 24 * time.Hour
	webhookLogShop  = 1000
	webhookLogLimit = 1000 // the most WebhookDeliveries returns
)

// Webhook loads the shop's outbound webhook; kefu.ErrNotFound if it has none.
func (s *Store) Webhook(ctx context.Context, shopID int64) (kefu.Webhook, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row webhookRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ?", shopID).Take(&row).Error; err != nil {
		return kefu.Webhook{}, notFound(err, "load webhook of shop", shopID)
	}
	return row.webhook(), nil
}

// SaveWebhook sets the shop's outbound webhook: its URL, events and whether
// it is on. The first save makes it, with w.Secret (ignored later; see
// SetWebhookSecret), and created is true. The sender starts after the
// shop's latest event when the webhook is made and when it is turned on
// again: what happened while there was none, or it was off, is not sent.
func (s *Store) SaveWebhook(ctx context.Context, w kefu.Webhook) (saved kefu.Webhook, created bool, err error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	now := s.now().UTC().Truncate(microsecond)
	var row webhookRow
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var latest int64
		if err := tx.Raw(`SELECT COALESCE(MAX(id), 0) FROM events WHERE shop_id = ?`, w.ShopID).Scan(&latest).Error; err != nil {
			return err
		}
		err := tx.Where("shop_id = ?", w.ShopID).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			created = true
			row = webhookRow{ShopID: w.ShopID, URL: w.URL, Events: strings.Join(w.Events, ","), Enabled: w.Enabled, Secret: w.Secret,
				AfterEventID: latest, CreatedAt: now, UpdatedAt: now}
			return tx.Create(&row).Error
		}
		if err != nil {
			return err
		}
		if w.Enabled && !row.Enabled {
			row.AfterEventID, row.Attempts, row.RetryAt = latest, 0, sql.NullTime{}
		}
		row.URL, row.Events, row.Enabled, row.UpdatedAt = w.URL, strings.Join(w.Events, ","), w.Enabled, now
		return tx.Exec(`UPDATE webhooks SET url = ?, events = ?, enabled = ?, updated_at = ?, after_event_id = ?, attempts = ?, retry_at = ?
			WHERE shop_id = ?`, row.URL, row.Events, row.Enabled, row.UpdatedAt, row.AfterEventID, row.Attempts, row.RetryAt, row.ShopID).Error
	})
	if isDuplicate(err) {
		err = kefu.ErrConflict // two first saves at once; the other one made it
	}
	if err != nil {
		return kefu.Webhook{}, false, fmt.Errorf("store: save webhook of shop %d: %w", w.ShopID, err)
	}
	return row.webhook(), created, nil
}

// SetWebhookSecret gives the shop's webhook a new secret, in force for the
// next delivery; kefu.ErrNotFound if the shop has no webhook.
func (s *Store) SetWebhookSecret(ctx context.Context, shopID int64, secret string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Exec(`UPDATE webhooks SET secret = ?, updated_at = ? WHERE shop_id = ?`,
		secret, s.now().UTC().Truncate(microsecond), shopID)
	if res.Error != nil {
		return fmt.Errorf("store: set webhook secret of shop %d: %w", shopID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: set webhook secret of shop %d: %w", shopID, kefu.ErrNotFound)
	}
	return nil
}

// EnabledWebhooks lists the webhooks that are on, of every shop.
func (s *Store) EnabledWebhooks(ctx context.Context) ([]kefu.Webhook, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []webhookRow
	if err := s.rdb.WithContext(ctx).Where("enabled = ?", true).Order("shop_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list enabled webhooks: %w", err)
	}
	out := make([]kefu.Webhook, len(rows))
	for i, r := range rows {
		out[i] = r.webhook()
	}
	return out, nil
}

// AdvanceWebhook moves the shop's sender from event from to event to,
// clearing its retries: events passed over (not subscribed to). It does
// nothing when the sender is no longer at from (the owner turned the
// webhook off and on meanwhile).
func (s *Store) AdvanceWebhook(ctx context.Context, shopID, from, to int64) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	if err := s.db.WithContext(ctx).Exec(`UPDATE webhooks SET after_event_id = ?, attempts = 0, retry_at = NULL
		WHERE shop_id = ? AND after_event_id = ?`, to, shopID, from).Error; err != nil {
		return fmt.Errorf("store: advance webhook of shop %d: %w", shopID, err)
	}
	return nil
}

// RecordWebhookAttempt writes one delivery attempt to the log and, in the
// same transaction, the sender's new place: after event to (from when it
// stays), with attempts failures of the next event and its retry time. The
// place is written only if the sender is still at from. Attempts older than
// 7 days or beyond the shop's 1,000 newest are deleted.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a kefu.WebhookAttempt, from, to int64, attempts int, retryAt time.Time) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	row := webhookDeliveryRow{ShopID: a.ShopID, EventID: a.EventID, Type: a.Type, Attempt: a.Attempt, StatusCode: a.StatusCode,
		Error: a.Error, Outcome: a.Outcome, At: a.At.UTC().Truncate(microsecond), DurationMS: a.Duration.Milliseconds()}
	retry := sql.NullTime{Time: retryAt.UTC().Truncate(microsecond), Valid: !retryAt.IsZero()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE webhooks SET after_event_id = ?, attempts = ?, retry_at = ? WHERE shop_id = ? AND after_event_id = ?`,
			to, attempts, retry, a.ShopID, from).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM webhook_deliveries WHERE shop_id = ? AND (at < ? OR id <= (SELECT id FROM webhook_deliveries
			WHERE shop_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?))`, a.ShopID, row.At.Add(-webhookLogAge), a.ShopID, s.webhookLogCap).Error
	})
	if err != nil {
		return fmt.Errorf("store: record webhook attempt of shop %d, event %d: %w", a.ShopID, a.EventID, err)
	}
	return nil
}

// WebhookDeliveries lists the shop's delivery attempts of the last 7 days,
// newest first, at most limit (1,000).
func (s *Store) WebhookDeliveries(ctx context.Context, shopID int64, limit int) ([]kefu.WebhookAttempt, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if limit <= 0 || limit > webhookLogLimit {
		limit = webhookLogLimit
	}
	var rows []webhookDeliveryRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND at >= ?", shopID, s.now().UTC().Add(-webhookLogAge)).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list webhook deliveries of shop %d: %w", shopID, err)
	}
	out := make([]kefu.WebhookAttempt, len(rows))
	for i, r := range rows {
		out[i] = kefu.WebhookAttempt{ID: r.ID, ShopID: r.ShopID, EventID: r.EventID, Type: r.Type, Attempt: r.Attempt, StatusCode: r.StatusCode,
			Error: r.Error, Outcome: r.Outcome, At: r.At, Duration: time.Duration(r.DurationMS) * time.Millisecond}
	}
	return out, nil
}
