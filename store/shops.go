package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

type shopRow struct {
	ID                   int64 `gorm:"primaryKey"`
	Slug                 string
	Name                 string
	IdentitySecret       string
	OrderWebhookSecret   string
	RetentionDays        int
	RateLimits           string
	CSATEnabled          bool `gorm:"column:csat_enabled"`
	kefu.RoutingSettings `gorm:"embedded"`
	CreatedAt            time.Time
}

func (shopRow) TableName() string { return "shops" }

type agentRow struct {
	ID            int64 `gorm:"primaryKey"`
	ShopID        int64
	Username      string
	Name          string
	Role          string
	PasswordHash  string
	MaxConcurrent int
	Disabled      bool
	AwayReply     string
	CreatedAt     time.Time
}

func (agentRow) TableName() string { return "agents" }

func (r agentRow) agent() kefu.Agent {
	return kefu.Agent{ID: r.ID, ShopID: r.ShopID, Username: r.Username, Name: r.Name, Role: kefu.Role(r.Role),
		PasswordHash: r.PasswordHash, MaxConcurrent: r.MaxConcurrent, Disabled: r.Disabled, AwayReply: r.AwayReply, CreatedAt: r.CreatedAt}
}

// CreateShop stores a new shop with its allowed origins. A taken slug is kefu.ErrConflict.
func (s *Store) CreateShop(ctx context.Context, shop kefu.Shop) (kefu.Shop, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if shop.StickyDays == 0 {
		shop.StickyDays = kefu.DefaultStickyDays
	}
	if shop.SlowReplySeconds == 0 {
		shop.SlowReplySeconds = kefu.DefaultSlowReplySeconds
	}
	// A new shop asks for ratings (CSAT) until it switches them off.
	row := shopRow{Slug: shop.Slug, Name: shop.Name, IdentitySecret: shop.IdentitySecret, RoutingSettings: shop.RoutingSettings,
		CSATEnabled: true, CreatedAt: s.now().UTC()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return setOrigins(tx, row.ID, shop.Origins)
	})
	if isDuplicate(err) {
		return kefu.Shop{}, fmt.Errorf("store: create shop %q: %w", shop.Slug, kefu.ErrConflict)
	}
	if err != nil {
		return kefu.Shop{}, fmt.Errorf("store: create shop %q: %w", shop.Slug, err)
	}
	// A new shop follows the defaults (its rate_limits are '').
	shop.ID, shop.CreatedAt, shop.RateLimits, shop.CSATEnabled = row.ID, row.CreatedAt, kefu.DefaultRateLimits(), true
	return shop, nil
}

// SetShopOrigins replaces the origins allowed to embed the shop's widget.
func (s *Store) SetShopOrigins(ctx context.Context, shopID int64, origins []string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM shop_origins WHERE shop_id = ?`, shopID).Error; err != nil {
			return err
		}
		return setOrigins(tx, shopID, origins)
	})
	if err != nil {
		return fmt.Errorf("store: set origins of shop %d: %w", shopID, err)
	}
	return nil
}

// AddShopOrigins registers origins for the shop's widget in addition to
// those it has; an origin already registered is left as it is.
func (s *Store) AddShopOrigins(ctx context.Context, shopID int64, origins []string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return setOrigins(tx, shopID, origins) })
	if err != nil {
		return fmt.Errorf("store: add origins to shop %d: %w", shopID, err)
	}
	return nil
}

// setOrigins registers origins for the shop; one already registered (or
// named twice) is left as it is.
func setOrigins(tx *gorm.DB, shopID int64, origins []string) error {
	for _, o := range origins {
		if err := tx.Exec(`INSERT INTO shop_origins (shop_id, origin) VALUES (?, ?) ON CONFLICT DO NOTHING`, shopID, o).Error; err != nil {
			return err
		}
	}
	return nil
}

// ShopBySlug loads a shop and its origins by its public slug.
func (s *Store) ShopBySlug(ctx context.Context, slug string) (kefu.Shop, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if !storableText(slug) {
		return kefu.Shop{}, notFound(gorm.ErrRecordNotFound, "load shop", slug)
	}
	var row shopRow
	if err := s.rdb.WithContext(ctx).Where("slug = ?", slug).Take(&row).Error; err != nil {
		return kefu.Shop{}, notFound(err, "load shop", slug)
	}
	return s.withOrigins(ctx, row)
}

// storableText reports whether a text column can hold s on every store.
// PostgreSQL refuses NUL and invalid UTF-8 even as a query argument (an
// error, not "no rows"), and the API never stores them on SQLite either, so a
// lookup by such a key is answered "not found" on both without asking.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Shop loads a shop and its origins by id.
func (s *Store) Shop(ctx context.Context, id int64) (kefu.Shop, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row shopRow
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return kefu.Shop{}, notFound(err, "load shop", id)
	}
	return s.withOrigins(ctx, row)
}

func (s *Store) withOrigins(ctx context.Context, row shopRow) (kefu.Shop, error) {
	shop := kefu.Shop{ID: row.ID, Slug: row.Slug, Name: row.Name, RoutingSettings: row.RoutingSettings,
		IdentitySecret: row.IdentitySecret, HasOrderWebhookSecret: row.OrderWebhookSecret != "", RetentionDays: row.RetentionDays,
		CSATEnabled: row.CSATEnabled, CreatedAt: row.CreatedAt}
	var err error
	if shop.RateLimits, err = decodeRateLimits(row.RateLimits); err != nil {
		return kefu.Shop{}, fmt.Errorf("store: rate limits of shop %d: %w", row.ID, err)
	}
	if err := s.rdb.WithContext(ctx).Raw(`SELECT origin FROM shop_origins WHERE shop_id = ? ORDER BY origin`, row.ID).
		Scan(&shop.Origins).Error; err != nil {
		return kefu.Shop{}, fmt.Errorf("store: load origins of shop %d: %w", row.ID, err)
	}
	if err := s.rdb.WithContext(ctx).Raw(`SELECT slug, name FROM agent_groups WHERE shop_id = ? AND in_menu ORDER BY id`, row.ID).
		Scan(&shop.Menu).Error; err != nil {
		return kefu.Shop{}, fmt.Errorf("store: load the widget menu of shop %d: %w", row.ID, err)
	}
	return shop, nil
}

// decodeRateLimits reads a shop's stored limits: an empty document is the defaults, and a
// limit the document does not name (one added after it was saved) keeps its
// default.
func decodeRateLimits(doc string) (kefu.RateLimits, error) {
	r := kefu.DefaultRateLimits()
	if doc == "" {
		return r, nil
	}
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return kefu.RateLimits{}, err
	}
	return r, nil
}

// SetShopRateLimits replaces the shop's rate limits (validated by the caller).
func (s *Store) SetShopRateLimits(ctx context.Context, shopID int64, r kefu.RateLimits) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: set the rate limits of shop %d: %w", shopID, err)
	}
	res := s.db.WithContext(ctx).Exec(`UPDATE shops SET rate_limits = ? WHERE id = ?`, string(doc), shopID)
	if res.Error != nil {
		return fmt.Errorf("store: set the rate limits of shop %d: %w", shopID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: set the rate limits of shop %d: %w", shopID, kefu.ErrNotFound)
	}
	return nil
}

// CreateAgent stores a new agent. A username taken in the shop is kefu.ErrConflict.
func (s *Store) CreateAgent(ctx context.Context, a kefu.Agent) (kefu.Agent, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if a.MaxConcurrent <= 0 {
		a.MaxConcurrent = kefu.DefaultAgentCap
	}
	row := agentRow{ShopID: a.ShopID, Username: a.Username, Name: a.Name, Role: string(a.Role),
		PasswordHash: a.PasswordHash, MaxConcurrent: a.MaxConcurrent, CreatedAt: s.now().UTC()}
	err := s.db.WithContext(ctx).Create(&row).Error
	if isDuplicate(err) {
		return kefu.Agent{}, fmt.Errorf("store: create agent %q: %w", a.Username, kefu.ErrConflict)
	}
	if err != nil {
		return kefu.Agent{}, fmt.Errorf("store: create agent %q: %w", a.Username, err)
	}
	return row.agent(), nil
}

// AgentByUsername loads an agent of the shop by login name.
func (s *Store) AgentByUsername(ctx context.Context, shopID int64, username string) (kefu.Agent, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if !storableText(username) {
		return kefu.Agent{}, notFound(gorm.ErrRecordNotFound, "load agent", username)
	}
	var row agentRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND username = ?", shopID, username).Take(&row).Error; err != nil {
		return kefu.Agent{}, notFound(err, "load agent", username)
	}
	return row.agent(), nil
}

// Agent loads an agent of the shop by id.
func (s *Store) Agent(ctx context.Context, shopID, id int64) (kefu.Agent, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var row agentRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ? AND id = ?", shopID, id).Take(&row).Error; err != nil {
		return kefu.Agent{}, notFound(err, "load agent", id)
	}
	return row.agent(), nil
}

// Agents lists the shop's agents by id.
func (s *Store) Agents(ctx context.Context, shopID int64) ([]kefu.Agent, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var rows []agentRow
	if err := s.rdb.WithContext(ctx).Where("shop_id = ?", shopID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list agents of shop %d: %w", shopID, err)
	}
	out := make([]kefu.Agent, len(rows))
	for i, r := range rows {
		out[i] = r.agent()
	}
	return out, nil
}

// CreateSession records an agent session by the hash of its token.
func (s *Store) CreateSession(ctx context.Context, shopID, agentID int64, tokenHash string, expires time.Time) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Exec(`INSERT INTO agent_sessions (token_hash, shop_id, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash, shopID, agentID, s.now().UTC(), expires.UTC()).Error
	if err != nil {
		return fmt.Errorf("store: create session for agent %d: %w", agentID, err)
	}
	return nil
}

// SessionAgent returns the agent owning an unexpired session; an unknown or
// expired session, or one of a disabled agent (signed in as they were
// disabled), is kefu.ErrNotFound.
func (s *Store) SessionAgent(ctx context.Context, tokenHash string) (kefu.Agent, time.Time, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var sess struct {
		ShopID    int64
		AgentID   int64
		ExpiresAt time.Time
	}
	err := s.rdb.WithContext(ctx).Raw(`SELECT shop_id, agent_id, expires_at FROM agent_sessions WHERE token_hash = ?`, tokenHash).
		Take(&sess).Error
	if err != nil {
		return kefu.Agent{}, time.Time{}, notFound(err, "load session", "")
	}
	if !s.now().Before(sess.ExpiresAt) {
		return kefu.Agent{}, time.Time{}, fmt.Errorf("store: session expired: %w", kefu.ErrNotFound)
	}
	a, err := s.Agent(ctx, sess.ShopID, sess.AgentID)
	if err == nil && a.Disabled {
		return kefu.Agent{}, time.Time{}, fmt.Errorf("store: session of disabled agent %d: %w", a.ID, kefu.ErrNotFound)
	}
	return a, sess.ExpiresAt, err
}

// DeleteSession ends a session, and sweeps expired ones while at it.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Exec(`DELETE FROM agent_sessions WHERE token_hash = ? OR expires_at < ?`, tokenHash, s.now().UTC()).Error
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// SetAgentCap changes how many conversations an agent holds at once.
func (s *Store) SetAgentCap(ctx context.Context, shopID, agentID int64, cap int) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Exec(`UPDATE agents SET max_concurrent = ? WHERE shop_id = ? AND id = ?`, cap, shopID, agentID)
	if res.Error != nil {
		return fmt.Errorf("store: set cap of agent %d: %w", agentID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: set cap of agent %d: %w", agentID, kefu.ErrNotFound)
	}
	return nil
}

// UpdateAgent applies ch to an agent of the shop, in one transaction inside
// the shop's routing serialization. allow is asked first with the agent as
// it is; its error refuses the change whole. A change that would leave the
// shop with no enabled owner is kefu.ErrLastOwner. Disabling the agent ends
// their sessions and puts their open conversations back at the front of the
// line as RequeueAgent does (reason agent_disabled, notice(their name) as
// each one's next message); a new password ends their sessions but
// ch.KeepSession. What changed writes its events (EventAgentUpdated,
// EventAgentDisabled or EventAgentEnabled; by made the change); a change to
// what already is writes nothing. committed, if not nil, is told every
// change after the commit.
func (s *Store) UpdateAgent(ctx context.Context, shopID, agentID int64, ch kefu.AgentChange, by kefu.ActorRef,
	allow func(viewer, before kefu.Agent) error, notice, helperLeft func(agentName string) kefu.Message,
	committed func(kefu.Change)) (kefu.AgentUpdate, error) {
	var up kefu.AgentUpdate
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		up = kefu.AgentUpdate{}
		if err := s.lockShopRouting(ctx, tx, shopID); err != nil {
			return nil, err
		}
		before, err := s.agentIn(ctx, tx, shopID, agentID)
		if err != nil {
			return nil, err
		}
		// The rule is asked about the viewer as they are now: one disabled
		// or demoted while the request was on its way has lost its rights.
		var viewer kefu.Agent
		if by.Kind == kefu.SenderAgent {
			if viewer, err = s.agentIn(ctx, tx, shopID, by.ID); err != nil {
				return nil, err
			}
			if viewer.Disabled {
				return nil, fmt.Errorf("agent %d is disabled: %w", viewer.ID, kefu.ErrForbidden)
			}
		}
		if err := allow(viewer, before); err != nil {
			return nil, err
		}
		after := before
		var fields []string
		if ch.Name != nil && *ch.Name != before.Name {
			after.Name, fields = *ch.Name, append(fields, "name")
		}
		if ch.MaxConcurrent != nil && *ch.MaxConcurrent != before.MaxConcurrent {
			after.MaxConcurrent, fields = *ch.MaxConcurrent, append(fields, "max_concurrent")
		}
		if ch.Role != nil && *ch.Role != before.Role {
			after.Role, fields = *ch.Role, append(fields, "role")
		}
		if ch.PasswordHash != nil {
			after.PasswordHash, fields = *ch.PasswordHash, append(fields, "password")
		}
		if ch.AwayReply != nil && *ch.AwayReply != before.AwayReply {
			after.AwayReply, fields = *ch.AwayReply, append(fields, "away_reply")
		}
		if ch.Disabled != nil {
			after.Disabled = *ch.Disabled
		}
		toggled := after.Disabled != before.Disabled
		up.Agent, up.Fields = after, fields
		if toggled {
			up.Fields = append(slices.Clone(fields), "disabled")
		}
		if len(up.Fields) == 0 {
			return nil, nil
		}
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE agents SET name = $1, max_concurrent = $2, role = $3, password_hash = $4, disabled = $5,
			away_reply = $8 WHERE shop_id = $6 AND id = $7`), after.Name, after.MaxConcurrent, string(after.Role), after.PasswordHash, after.Disabled,
			shopID, agentID, after.AwayReply); err != nil {
			return nil, err
		}
		wasOwner := before.Role == kefu.RoleOwner && !before.Disabled
		if wasOwner && (after.Role != kefu.RoleOwner || after.Disabled) {
			var owners int
			if err := tx.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM agents WHERE shop_id = $1 AND role = $2 AND NOT disabled`),
				shopID, string(kefu.RoleOwner)).Scan(&owners); err != nil {
				return nil, err
			}
			if owners == 0 {
				return nil, kefu.ErrLastOwner
			}
		}
		if (after.Disabled && toggled) || ch.PasswordHash != nil {
			keep := ch.KeepSession
			if after.Disabled {
				keep = ""
			}
			if up.EndedSessions, err = s.endSessionsIn(ctx, tx, shopID, agentID, keep); err != nil {
				return nil, err
			}
		}
		now := s.now().UTC().Truncate(microsecond)
		var changes []kefu.Change
		if len(fields) > 0 {
			data := kefu.EventData{Fields: fields}
			if after.Role != before.Role {
				data.Role = after.Role
			}
			e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: kefu.EventAgentUpdated, Actor: by, AgentID: agentID, Data: data, CreatedAt: now})
			if err != nil {
				return nil, err
			}
			changes = append(changes, kefu.Change{Event: e})
		}
		if toggled {
			typ := kefu.EventAgentEnabled
			if after.Disabled {
				typ = kefu.EventAgentDisabled
			}
			e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: shopID, Type: typ, Actor: by, AgentID: agentID, CreatedAt: now})
			if err != nil {
				return nil, err
			}
			changes = append(changes, kefu.Change{Event: e})
		}
		if after.Disabled && toggled {
			_, requeued, err := s.requeueIn(ctx, tx, shopID, agentID, before.Name, "agent_disabled", by, notice)
			if err != nil {
				return nil, err
			}
			changes = append(changes, requeued...)
			left, err := s.leaveAllIn(ctx, tx, shopID, agentID, by, helperLeft)
			if err != nil {
				return nil, err
			}
			changes = append(changes, left...)
		}
		return changes, nil
	}, committed)
	if err != nil {
		return kefu.AgentUpdate{}, fmt.Errorf("store: update agent %d: %w", agentID, err)
	}
	return up, nil
}

// agentIn reads an agent of the shop inside tx; one not of the shop is
// kefu.ErrNotFound.
func (s *Store) agentIn(ctx context.Context, tx *sql.Tx, shopID, id int64) (kefu.Agent, error) {
	var r agentRow
	err := tx.QueryRowContext(ctx, s.sql(`SELECT id, shop_id, username, name, role, password_hash, max_concurrent, disabled, away_reply, created_at
		FROM agents WHERE shop_id = $1 AND id = $2`), shopID, id).
		Scan(&r.ID, &r.ShopID, &r.Username, &r.Name, &r.Role, &r.PasswordHash, &r.MaxConcurrent, &r.Disabled, &r.AwayReply, &r.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return kefu.Agent{}, fmt.Errorf("agent %d: %w", id, kefu.ErrNotFound)
	}
	if err != nil {
		return kefu.Agent{}, err
	}
	return r.agent(), nil
}

// endSessionsIn deletes the agent's sessions but the one whose hash is keep
// (none when empty) inside tx, and returns the hashes it deleted.
func (s *Store) endSessionsIn(ctx context.Context, tx *sql.Tx, shopID, agentID int64, keep string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.sql(`DELETE FROM agent_sessions WHERE shop_id = $1 AND agent_id = $2 AND token_hash <> $3
		RETURNING token_hash`), shopID, agentID, keep)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// SetIdentitySecret replaces the secret the shop's server signs logged-in
// buyers with.
func (s *Store) SetIdentitySecret(ctx context.Context, shopID int64, secret string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Exec(`UPDATE shops SET identity_secret = ? WHERE id = ?`, secret, shopID)
	if res.Error != nil {
		return fmt.Errorf("store: set identity secret of shop %d: %w", shopID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: set identity secret of shop %d: %w", shopID, kefu.ErrNotFound)
	}
	return nil
}

// SetShopRouting changes the shop's routing settings: how many days a
// buyer's last agent stays theirs (0 to 90), after how many quiet minutes an
// assigned conversation closes, after how many seconds a waiting buyer
// nudges their agent, and is handed to another, after how many idle minutes an agent is away, within
// how many hours of a close a buyer's message reopens the conversation (0:
// never, for each of the last four).
func (s *Store) SetShopRouting(ctx context.Context, shopID int64, r kefu.RoutingSettings) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Exec(`UPDATE shops SET sticky_days = ?, auto_close_minutes = ?, slow_reply_seconds = ?, reassign_seconds = ?,
		auto_away_minutes = ?, reopen_hours = ?, high_value_cents = ? WHERE id = ?`, r.StickyDays, r.AutoCloseMinutes, r.SlowReplySeconds,
		r.ReassignSeconds, r.AutoAwayMinutes, r.ReopenHours, r.HighValueCents, shopID)
	if res.Error != nil {
		return fmt.Errorf("store: set routing of shop %d: %w", shopID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: set routing of shop %d: %w", shopID, kefu.ErrNotFound)
	}
	return nil
}

// SetShopCSAT switches the shop's satisfaction ratings (CSAT) on or off.
func (s *Store) SetShopCSAT(ctx context.Context, shopID int64, enabled bool) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Exec(`UPDATE shops SET csat_enabled = ? WHERE id = ?`, enabled, shopID)
	if res.Error != nil {
		return fmt.Errorf("store: set ratings of shop %d: %w", shopID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: set ratings of shop %d: %w", shopID, kefu.ErrNotFound)
	}
	return nil
}

// AutoAwayShops returns the idle limit of every shop that makes idle agents
// away, by shop id.
func (s *Store) AutoAwayShops(ctx context.Context) (map[int64]int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var shops []shopRow
	if err := s.rdb.WithContext(ctx).Select("id", "auto_away_minutes").Where("auto_away_minutes > 0").Find(&shops).Error; err != nil {
		return nil, fmt.Errorf("store: shops that make idle agents away: %w", err)
	}
	out := make(map[int64]int, len(shops))
	for _, sh := range shops {
		out[sh.ID] = sh.AutoAwayMinutes
	}
	return out, nil
}

// QuietConversations lists, for every shop that closes quiet conversations,
// its assigned conversations whose last message is older than the shop's
// limit at now. shorter gives shops a shorter limit in minutes (surge mode's
// auto-close), also shops that close none otherwise.
func (s *Store) QuietConversations(ctx context.Context, now time.Time, shorter map[int64]int) ([]kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var shops []shopRow
	if err := s.rdb.WithContext(ctx).Select("id", "auto_close_minutes").Where("auto_close_minutes > 0").Find(&shops).Error; err != nil {
		return nil, fmt.Errorf("store: shops that close quiet conversations: %w", err)
	}
	for i, sh := range shops {
		if m, ok := shorter[sh.ID]; ok && m > 0 && m < sh.AutoCloseMinutes {
			shops[i].AutoCloseMinutes = m
		}
	}
	for id, m := range shorter {
		if m > 0 && !slices.ContainsFunc(shops, func(sh shopRow) bool { return sh.ID == id }) {
			shops = append(shops, shopRow{ID: id, RoutingSettings: kefu.RoutingSettings{AutoCloseMinutes: m}})
		}
	}
	var out []kefu.Conversation
	for _, sh := range shops {
		cutoff := now.UTC().Add(-time.Duration(sh.AutoCloseMinutes) * time.Minute)
		var rows []conversationRow
		if err := s.rdb.WithContext(ctx).Raw(`SELECT c.* FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
			WHERE c.shop_id = ? AND c.status = ? AND m.created_at < ? ORDER BY c.id LIMIT 1000`, sh.ID, kefu.StatusAssigned, cutoff).
			Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: quiet conversations of shop %d: %w", sh.ID, err)
		}
		for _, r := range rows {
			out = append(out, r.conversation())
		}
	}
	return out, nil
}

// SlowReplies lists, for every shop with a slow-reply limit, its assigned
// conversations whose buyer has waited longer than the limit at now and whose
// agent was not yet nudged about this wait.
func (s *Store) SlowReplies(ctx context.Context, now time.Time) ([]kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var shops []shopRow
	if err := s.rdb.WithContext(ctx).Select("id", "slow_reply_seconds").Where("slow_reply_seconds > 0").Find(&shops).Error; err != nil {
		return nil, fmt.Errorf("store: shops with a slow-reply limit: %w", err)
	}
	var out []kefu.Conversation
	for _, sh := range shops {
		cutoff := now.UTC().Add(-time.Duration(sh.SlowReplySeconds) * time.Second)
		var rows []conversationRow
		if err := s.rdb.WithContext(ctx).Raw(`SELECT * FROM conversations WHERE status = ? AND awaiting_since <= ? AND shop_id = ?
			AND (nudged_at IS NULL OR nudged_at < awaiting_since) ORDER BY awaiting_since LIMIT 1000`, kefu.StatusAssigned, cutoff, sh.ID).
			Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: slow replies of shop %d: %w", sh.ID, err)
		}
		for _, r := range rows {
			out = append(out, r.conversation())
		}
	}
	return out, nil
}

// Nudge records that a conversation's agent was nudged about the buyer
// waiting since awaitingSince (EventNudged), once per wait: it reports false
// if the agent already was, or answered meanwhile. committed, if not nil,
// is told the change after the commit.
func (s *Store) Nudge(ctx context.Context, conv kefu.Conversation, committed func(kefu.Change)) (bool, error) {
	if conv.AwaitingSince == nil {
		return false, nil
	}
	nudged := false
	_, err := s.run(ctx, func(ctx context.Context, tx *sql.Tx) ([]kefu.Change, error) {
		nudged = false
		now := s.now().UTC().Truncate(microsecond)
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE conversations SET nudged_at = $1 WHERE shop_id = $2 AND id = $3
			AND status = 'assigned' AND awaiting_since = $4 AND (nudged_at IS NULL OR nudged_at < awaiting_since)`),
			now, conv.ShopID, conv.ID, *conv.AwaitingSince)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err
		}
		nudged = true
		e, err := s.insertEvent(ctx, tx, kefu.Event{ShopID: conv.ShopID, Type: kefu.EventNudged, Actor: kefu.SystemActor,
			ConversationID: conv.ID, BuyerID: conv.BuyerID, AgentID: conv.AgentID, CreatedAt: now})
		if err != nil {
			return nil, err
		}
		return []kefu.Change{{Event: e, Conversation: conv}}, nil
	}, committed)
	if err != nil {
		return false, fmt.Errorf("store: nudge about conversation %d: %w", conv.ID, err)
	}
	return nudged, nil
}
