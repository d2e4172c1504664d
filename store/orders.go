package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

// Orders as the shop's platform puts them in (docs/orders.md): an upsert by
// the shop's order number, each status change kept in order_status_history.

type orderRow struct {
	ID              int64 `gorm:"primaryKey"`
	ShopID          int64
	BuyerID         int64
	OrderNo         string
	Status          string
	AmountCents     int64
	Currency        string
	Items           string
	TrackingNo      string
	CreatedAt       time.Time
	StatusAt        sql.NullTime
	UpdatedAt       sql.NullTime
	BuyerExternalID string `gorm:"->"` // read with a join, never written
}

func (orderRow) TableName() string { return "orders" }

func (r orderRow) order() (kefu.Order, error) {
	o := kefu.Order{ID: r.ID, ShopID: r.ShopID, BuyerID: r.BuyerID, OrderNo: r.OrderNo, Status: r.Status,
		AmountCents: r.AmountCents, Currency: r.Currency, TrackingNo: r.TrackingNo, CreatedAt: r.CreatedAt,
		StatusAt: r.CreatedAt, UpdatedAt: r.CreatedAt, BuyerExternalID: r.BuyerExternalID}
	if r.StatusAt.Valid {
		o.StatusAt = r.StatusAt.Time
	}
	if r.UpdatedAt.Valid {
		o.UpdatedAt = r.UpdatedAt.Time
	}
	if err := json.Unmarshal([]byte(r.Items), &o.Items); err != nil {
		return kefu.Order{}, fmt.Errorf("store: decode items of order %s: %w", r.OrderNo, err)
	}
	return o, nil
}

type statusRow struct {
	ID      int64 `gorm:"primaryKey"`
	ShopID  int64
	OrderID int64
	Status  string
	At      time.Time
}

func (statusRow) TableName() string { return "order_status_history" }

// orderLockSpace is the first key of the shops' order locks: on PostgreSQL a
// shop's order upserts run one at a time, so two deliveries of one new order
// cannot both create it.
const orderLockSpace = 0x6f726472 // "ordr"

// CreateOrder stores an order of a buyer of the shop, its status as the
// first entry of its history. A taken order number is kefu.ErrConflict.
func (s *Store) CreateOrder(ctx context.Context, o kefu.Order) (kefu.Order, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if err := s.requireBuyer(ctx, o.ShopID, o.BuyerID); err != nil {
		return kefu.Order{}, err
	}
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = s.now()
	}
	if o.StatusAt.IsZero() {
		o.StatusAt = o.CreatedAt
	}
	o.CreatedAt, o.StatusAt = o.CreatedAt.UTC().Truncate(microsecond), o.StatusAt.UTC().Truncate(microsecond)
	var id int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		id, err = insertOrder(tx, o, s.now().UTC().Truncate(microsecond))
		return err
	})
	if isDuplicate(err) {
		return kefu.Order{}, fmt.Errorf("store: create order %s: %w", o.OrderNo, kefu.ErrConflict)
	}
	if err != nil {
		return kefu.Order{}, fmt.Errorf("store: create order %s: %w", o.OrderNo, err)
	}
	o.ID = id
	o.History = []kefu.OrderStatusChange{{Status: o.Status, At: o.StatusAt}}
	return o, nil
}

// insertOrder writes a new order and its first status.
func insertOrder(tx *gorm.DB, o kefu.Order, now time.Time) (int64, error) {
	items, err := json.Marshal(orderItems(o.Items))
	if err != nil {
		return 0, err
	}
	row := orderRow{ShopID: o.ShopID, BuyerID: o.BuyerID, OrderNo: o.OrderNo, Status: o.Status, AmountCents: o.AmountCents,
		Currency: o.Currency, Items: string(items), TrackingNo: o.TrackingNo, CreatedAt: o.CreatedAt,
		StatusAt: sql.NullTime{Time: o.StatusAt, Valid: true}, UpdatedAt: sql.NullTime{Time: now, Valid: true}}
	if err := tx.Create(&row).Error; err != nil {
		return 0, err
	}
	if err := tx.Create(&statusRow{ShopID: o.ShopID, OrderID: row.ID, Status: o.Status, At: o.StatusAt}).Error; err != nil {
		return 0, err
	}
	return row.ID, nil
}

func orderItems(items []kefu.OrderItem) []kefu.OrderItem {
	if items == nil {
		return []kefu.OrderItem{}
	}
	return items
}

// UpsertOrder creates or updates the shop's order in.OrderNo, for the buyer
// the shop knows as in.BuyerExternalID (created on first sight, renamed by a
// non-empty in.BuyerName, as IdentifiedBuyer does), all in one transaction.
//
// A status other than the current one is added to the history at
// in.StatusAt (now when not set); it becomes the current status unless the
// history holds a later entry: a late delivery of an older change is kept
// in the history in time order, and never moves the status back. The
// current status again, at a later or unset time, and a status already in
// the history at the same time, change nothing. A repeat of what is stored
// is kefu.OrderUnchanged and writes no order row.
func (s *Store) UpsertOrder(ctx context.Context, shopID int64, in kefu.OrderUpsert) (kefu.Order, kefu.UpsertResult, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var out kefu.Order
	var result kefu.UpsertResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockShopGorm(tx, orderLockSpace, shopID); err != nil {
			return err
		}
		var err error
		result, err = s.upsertOrder(tx, shopID, in)
		if err != nil {
			return err
		}
		out, err = orderByNo(tx, shopID, in.OrderNo)
		return err
	})
	if err != nil {
		return kefu.Order{}, "", fmt.Errorf("store: upsert order %s: %w", in.OrderNo, err)
	}
	return out, result, nil
}

func (s *Store) upsertOrder(tx *gorm.DB, shopID int64, in kefu.OrderUpsert) (kefu.UpsertResult, error) {
	now := s.now().UTC().Truncate(microsecond)
	buyerID, err := identifiedBuyerIn(tx, shopID, in.BuyerExternalID, in.BuyerName, now)
	if err != nil {
		return "", err
	}
	o := in.Order
	o.ShopID, o.BuyerID = shopID, buyerID
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	o.CreatedAt, o.StatusAt = o.CreatedAt.UTC().Truncate(microsecond), o.StatusAt.UTC().Truncate(microsecond)
	if !in.CreatedAtSet {
		o.CreatedAt = now
	}
	if !in.StatusAtSet {
		o.StatusAt = now
	}
	var row orderRow
	if err := tx.Where("shop_id = ? AND order_no = ?", shopID, o.OrderNo).Limit(1).Find(&row).Error; err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	event := kefu.Event{ShopID: shopID, Actor: kefu.SystemActor, BuyerID: buyerID,
		Data: kefu.EventData{OrderNo: o.OrderNo, APIKeyID: in.APIKeyID}}
	if row.ID == 0 {
		if _, err := insertOrder(tx, o, now); err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		event.Type, event.Data.OrderStatus = kefu.EventOrderCreated, o.Status
		return kefu.OrderCreated, s.insertEventGorm(tx, event)
	}

	var history []statusRow
	if err := tx.Where("order_id = ?", row.ID).Order("at, id").Find(&history).Error; err != nil {
		return "", fmt.Errorf("load history: %w", err)
	}
	changes := map[string]any{}
	event.Data.OrderStatus = row.Status
	if add, current := statusChange(history, o.Status, o.StatusAt, in.StatusAtSet); add {
		if err := tx.Create(&statusRow{ShopID: shopID, OrderID: row.ID, Status: o.Status, At: o.StatusAt}).Error; err != nil {
			return "", fmt.Errorf("add status: %w", err)
		}
		event.Data.Fields = append(event.Data.Fields, "history") // a late entry changes the history, if not the status
		if current {
			changes["status"], changes["status_at"] = o.Status, o.StatusAt
			event.Data.OrderStatus = o.Status
		}
	}
	items, err := json.Marshal(orderItems(o.Items))
	if err != nil {
		return "", err
	}
	if row.BuyerID != o.BuyerID {
		changes["buyer_id"] = o.BuyerID
	}
	if row.AmountCents != o.AmountCents {
		changes["amount_cents"] = o.AmountCents
	}
	if row.Currency != o.Currency {
		changes["currency"] = o.Currency
	}
	if row.Items != string(items) {
		changes["items"] = string(items)
	}
	if row.TrackingNo != o.TrackingNo {
		changes["tracking_no"] = o.TrackingNo
	}
	if in.CreatedAtSet && !row.CreatedAt.Equal(o.CreatedAt) {
		changes["created_at"] = o.CreatedAt
	}
	if len(changes) == 0 && len(event.Data.Fields) == 0 {
		return kefu.OrderUnchanged, nil
	}
	for _, f := range orderFields {
		if _, ok := changes[f]; ok {
			event.Data.Fields = append(event.Data.Fields, f)
		}
	}
	changes["updated_at"] = now
	if err := tx.Model(&orderRow{}).Where("id = ?", row.ID).Updates(changes).Error; err != nil {
		return "", fmt.Errorf("update: %w", err)
	}
	if _, moved := changes["buyer_id"]; moved {
		// An order of another buyer now: the conversations of the buyer it
		// was linked under are not about it any more.
		if err := s.unlinkAllGorm(tx, shopID, row.ID, row.OrderNo, now); err != nil {
			return "", err
		}
	}
	event.Type = kefu.EventOrderUpdated
	return kefu.OrderUpdated, s.insertEventGorm(tx, event)
}

// orderFields are the columns an upsert may change, in the order an
// order.updated event names them.
var orderFields = []string{"status", "buyer_id", "amount_cents", "currency", "items", "tracking_no", "created_at"}

// statusChange says whether status at `at` is a new entry of the history
// (oldest first), and if so whether it becomes the current status.
func statusChange(history []statusRow, status string, at time.Time, atSet bool) (add, current bool) {
	if len(history) == 0 {
		return true, true
	}
	latest := history[len(history)-1]
	if status == latest.Status && (!atSet || !at.Before(latest.At)) {
		return false, false
	}
	if atSet {
		for _, h := range history {
			if h.Status == status && h.At.Equal(at) {
				return false, false
			}
		}
	}
	return true, !at.Before(latest.At)
}

// identifiedBuyerIn is IdentifiedBuyer (without a visitor id) inside tx.
func identifiedBuyerIn(tx *gorm.DB, shopID int64, externalID, name string, now time.Time) (int64, error) {
	createName := name
	if createName == "" {
		createName = kefu.IdentifiedBuyerName(externalID)
	}
	if err := tx.Exec(`INSERT INTO buyers (shop_id, visitor_id, external_id, name, created_at) VALUES (?, '', ?, ?, ?) ON CONFLICT DO NOTHING`,
		shopID, externalID, createName, now).Error; err != nil {
		return 0, fmt.Errorf("create buyer: %w", err)
	}
	var b buyerRow
	if err := tx.Where("shop_id = ? AND external_id = ?", shopID, externalID).Take(&b).Error; err != nil {
		return 0, fmt.Errorf("load buyer: %w", err)
	}
	if name != "" && b.Name != name {
		if err := tx.Exec(`UPDATE buyers SET name = ? WHERE id = ?`, name, b.ID).Error; err != nil {
			return 0, fmt.Errorf("rename buyer %d: %w", b.ID, err)
		}
	}
	return b.ID, nil
}

const orderSelect = `SELECT o.id, o.shop_id, o.buyer_id, o.order_no, o.status, o.amount_cents, o.currency, o.items, o.tracking_no,
	o.created_at, o.status_at, o.updated_at, b.external_id AS buyer_external_id
	FROM orders o JOIN buyers b ON b.id = o.buyer_id `

// Order loads the shop's order by its number, with its history.
func (s *Store) Order(ctx context.Context, shopID int64, orderNo string) (kefu.Order, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if !storableText(orderNo) {
		return kefu.Order{}, fmt.Errorf("store: load order %q: %w", orderNo, kefu.ErrNotFound)
	}
	o, err := orderByNo(s.rdb.WithContext(ctx), shopID, orderNo)
	if err != nil {
		return kefu.Order{}, fmt.Errorf("store: load order %q: %w", orderNo, err)
	}
	return o, nil
}

func orderByNo(db *gorm.DB, shopID int64, orderNo string) (kefu.Order, error) {
	var rows []orderRow
	if err := db.Raw(orderSelect+`WHERE o.shop_id = ? AND o.order_no = ?`, shopID, orderNo).Scan(&rows).Error; err != nil {
		return kefu.Order{}, err
	}
	if len(rows) == 0 {
		return kefu.Order{}, kefu.ErrNotFound
	}
	out, err := withHistory(db, shopID, rows)
	if err != nil {
		return kefu.Order{}, err
	}
	return out[0], nil
}

// withHistory turns rows into orders with their status histories, read in one query.
func withHistory(db *gorm.DB, shopID int64, rows []orderRow) ([]kefu.Order, error) {
	out := make([]kefu.Order, 0, len(rows))
	at := make(map[int64]int, len(rows))
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		o, err := r.order()
		if err != nil {
			return nil, err
		}
		at[o.ID] = len(out)
		ids = append(ids, o.ID)
		out = append(out, o)
	}
	if len(ids) == 0 {
		return out, nil
	}
	var history []statusRow
	if err := db.Where("shop_id = ? AND order_id IN ?", shopID, ids).Order("order_id, at, id").Find(&history).Error; err != nil {
		return nil, fmt.Errorf("load status history: %w", err)
	}
	for _, h := range history {
		o := &out[at[h.OrderID]]
		o.History = append(o.History, kefu.OrderStatusChange{Status: h.Status, At: h.At})
	}
	return out, nil
}

// BuyerOrders lists a buyer's orders in the shop, newest first, each with
// its status history.
func (s *Store) BuyerOrders(ctx context.Context, shopID, buyerID int64) ([]kefu.Order, error) {
	return s.LatestOrders(ctx, shopID, buyerID, kefu.MaxPageSize)
}

// LatestOrders lists a buyer's n latest orders in the shop, newest first,
// with their history.
func (s *Store) LatestOrders(ctx context.Context, shopID, buyerID int64, n int) ([]kefu.Order, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	db := s.rdb.WithContext(ctx)
	var rows []orderRow
	if err := db.Raw(orderSelect+`WHERE o.shop_id = ? AND o.buyer_id = ? ORDER BY o.created_at DESC, o.id DESC LIMIT ?`,
		shopID, buyerID, n).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list orders of buyer %d: %w", buyerID, err)
	}
	out, err := withHistory(db, shopID, rows)
	if err != nil {
		return nil, fmt.Errorf("store: list orders of buyer %d: %w", buyerID, err)
	}
	return out, nil
}

// SetOrderWebhookSecret replaces the secret the shop's platform signs order
// webhook deliveries with.
func (s *Store) SetOrderWebhookSecret(ctx context.Context, shopID int64, secret string, by kefu.ActorRef) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE shops SET order_webhook_secret = ? WHERE id = ?`, secret, shopID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return kefu.ErrNotFound
		}
		return s.insertEventGorm(tx, kefu.Event{ShopID: shopID, Type: kefu.EventOrderWebhookSecret, Actor: by})
	})
	if err != nil {
		return fmt.Errorf("store: set order-webhook secret of shop %d: %w", shopID, err)
	}
	return nil
}

// OrderWebhookSecret reads the shop with this slug's id and order-webhook
// secret ("" when none was made).
func (s *Store) OrderWebhookSecret(ctx context.Context, slug string) (int64, string, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if !storableText(slug) {
		return 0, "", fmt.Errorf("store: load shop %q: %w", slug, kefu.ErrNotFound)
	}
	var row struct {
		ID                 int64
		OrderWebhookSecret string
	}
	if err := s.rdb.WithContext(ctx).Raw(`SELECT id, order_webhook_secret FROM shops WHERE slug = ?`, slug).Scan(&row).Error; err != nil {
		return 0, "", fmt.Errorf("store: load shop %q: %w", slug, err)
	}
	if row.ID == 0 {
		return 0, "", fmt.Errorf("store: load shop %q: %w", slug, kefu.ErrNotFound)
	}
	return row.ID, row.OrderWebhookSecret, nil
}

// ClaimWebhookDelivery records a webhook delivery's signature at `at`, and
// reports false when the shop accepted one with the same signature already.
// Signatures recorded before forgetBefore (of every shop) are forgotten:
// deliveries that old are refused for their age anyway.
func (s *Store) ClaimWebhookDelivery(ctx context.Context, shopID int64, signature string, at, forgetBefore time.Time) (bool, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var claimed bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM order_webhook_deliveries WHERE received_at < ?`, forgetBefore.UTC()).Error; err != nil {
			return err
		}
		res := tx.Exec(`INSERT INTO order_webhook_deliveries (shop_id, signature, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			shopID, signature, at.UTC())
		claimed = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: claim webhook delivery of shop %d: %w", shopID, err)
	}
	return claimed, nil
}
