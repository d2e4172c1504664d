package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

type apiKeyRow struct {
	ID         int64 `gorm:"primaryKey"`
	ShopID     int64
	Name       string
	Prefix     string
	SecretHash string
	CreatedAt  time.Time
	LastUsedAt sql.NullTime
	RevokedAt  sql.NullTime
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r apiKeyRow) key() kefu.APIKey {
	return kefu.APIKey{ID: r.ID, ShopID: r.ShopID, Name: r.Name, Prefix: r.Prefix, SecretHash: r.SecretHash,
		CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt.Time, Revoked: r.RevokedAt.Valid}
}

// apiKeyLockSpace is the first key of the shops' API key locks: a shop's
// new keys are counted one at a time.
const apiKeyLockSpace = 0x616b6579 // "akey"

// CreateAPIKey stores a new API key of the shop. A shop that has
// kefu.MaxAPIKeysPerShop keys (revoked ones aside) gets kefu.ErrTooMany; a
// prefix in use, kefu.ErrConflict.
func (s *Store) CreateAPIKey(ctx context.Context, k kefu.APIKey, by kefu.ActorRef) (kefu.APIKey, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	row := apiKeyRow{ShopID: k.ShopID, Name: k.Name, Prefix: k.Prefix, SecretHash: k.SecretHash, CreatedAt: s.now().UTC().Truncate(microsecond)}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockShopGorm(tx, apiKeyLockSpace, k.ShopID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&apiKeyRow{}).Where("shop_id = ? AND revoked_at IS NULL", k.ShopID).Count(&n).Error; err != nil {
			return err
		}
		if n >= kefu.MaxAPIKeysPerShop {
			return kefu.ErrTooMany
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.insertEventGorm(tx, apiKeyEvent(kefu.EventAPIKeyCreated, row.ShopID, row.ID, by))
	})
	if isDuplicate(err) {
		err = kefu.ErrConflict
	}
	if err != nil {
		return kefu.APIKey{}, fmt.Errorf("store: create API key of shop %d: %w", k.ShopID, err)
	}
	return row.key(), nil
}

// APIKeys lists the shop's API keys that are not revoked, oldest first.
func (s *Store) APIKeys(ctx context.Context, shopID int64) ([]kefu.APIKey, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []apiKeyRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND revoked_at IS NULL", shopID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list API keys of shop %d: %w", shopID, err)
	}
	out := make([]kefu.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// APIKeyByPrefix loads the API key with this prefix, of any shop, revoked or not.
func (s *Store) APIKeyByPrefix(ctx context.Context, prefix string) (kefu.APIKey, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row apiKeyRow
	if !storableText(prefix) {
		return kefu.APIKey{}, fmt.Errorf("store: load API key %q: %w", prefix, kefu.ErrNotFound)
	}
	if err := s.rdb.WithContext(ctx).Where("prefix = ?", prefix).Take(&row).Error; err != nil {
		return kefu.APIKey{}, notFound(err, "load API key", prefix)
	}
	return row.key(), nil
}

func apiKeyEvent(t kefu.EventType, shopID, id int64, by kefu.ActorRef) kefu.Event {
	return kefu.Event{ShopID: shopID, Type: t, Actor: by, Data: kefu.EventData{APIKeyID: id}}
}

// RotateAPIKey gives the shop's key id a new prefix and secret hash, at
// once: the old secret no longer matches. A revoked key is kefu.ErrNotFound.
func (s *Store) RotateAPIKey(ctx context.Context, shopID, id int64, prefix, secretHash string, by kefu.ActorRef) (kefu.APIKey, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row apiKeyRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE api_keys SET prefix = ?, secret_hash = ? WHERE shop_id = ? AND id = ? AND revoked_at IS NULL`,
			prefix, secretHash, shopID, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return kefu.ErrNotFound
		}
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		return s.insertEventGorm(tx, apiKeyEvent(kefu.EventAPIKeyRotated, shopID, id, by))
	})
	if isDuplicate(err) {
		err = kefu.ErrConflict
	}
	if err != nil {
		return kefu.APIKey{}, fmt.Errorf("store: rotate API key %d: %w", id, err)
	}
	return row.key(), nil
}

// RevokeAPIKey revokes the shop's key id for good; one revoked already is
// kefu.ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, shopID, id int64, by kefu.ActorRef) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE api_keys SET revoked_at = ? WHERE shop_id = ? AND id = ? AND revoked_at IS NULL`,
			s.now().UTC(), shopID, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return kefu.ErrNotFound
		}
		return s.insertEventGorm(tx, apiKeyEvent(kefu.EventAPIKeyRevoked, shopID, id, by))
	})
	if err != nil {
		return fmt.Errorf("store: revoke API key %d: %w", id, err)
	}
	return nil
}

// TouchAPIKey records that key id was used at `at`, unless it was recorded
// as used less than kefu.APIKeyUseResolution before.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	at = at.UTC().Truncate(microsecond)
	if err := s.db.WithContext(ctx).Exec(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		at, id, at.Add(-kefu.APIKeyUseResolution)).Error; err != nil {
		return fmt.Errorf("store: record use of API key %d: %w", id, err)
	}
	return nil
}
