package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/kefu/kefu"
)

type shopRow struct {
	ID               int64 `gorm:"primaryKey"`
	Slug             string
	Name             string
	IdentitySecret   string
	StickyDays       int
	AutoCloseMinutes int
	SlowReplySeconds int
	ReassignSeconds  int
	AutoAwayMinutes  int
	ReopenHours      int
	HighValueCents   int64
	CreatedAt        time.Time
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
	CreatedAt     time.Time
}

func (agentRow) TableName() string { return "agents" }

func (r agentRow) agent() kefu.Agent {
	return kefu.Agent{ID: r.ID, ShopID: r.ShopID, Username: r.Username, Name: r.Name, Role: kefu.Role(r.Role),
		PasswordHash: r.PasswordHash, MaxConcurrent: r.MaxConcurrent, CreatedAt: r.CreatedAt}
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
	row := shopRow{Slug: shop.Slug, Name: shop.Name, IdentitySecret: shop.IdentitySecret, StickyDays: shop.StickyDays,
		SlowReplySeconds: shop.SlowReplySeconds, CreatedAt: s.now().UTC()}
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
	shop.ID, shop.CreatedAt = row.ID, row.CreatedAt
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
	shop := kefu.Shop{ID: row.ID, Slug: row.Slug, Name: row.Name, StickyDays: row.StickyDays, AutoCloseMinutes: row.AutoCloseMinutes,
		SlowReplySeconds: row.SlowReplySeconds, ReassignSeconds: row.ReassignSeconds, AutoAwayMinutes: row.AutoAwayMinutes,
		ReopenHours: row.ReopenHours, HighValueCents: row.HighValueCents,
		IdentitySecret: row.IdentitySecret, CreatedAt: row.CreatedAt}
	if err := s.rdb.WithContext(ctx).Raw(`SELECT origin FROM shop_origins WHERE shop_id = ? ORDER BY origin`, row.ID).
		Scan(&shop.Origins).Error; err != nil {
		return kefu.Shop{}, fmt.Errorf("store: load origins of shop %d: %w", row.ID, err)
	}
	return shop, nil
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
// expired session is kefu.ErrNotFound.
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
// limit at now.
func (s *Store) QuietConversations(ctx context.Context, now time.Time) ([]kefu.Conversation, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var shops []shopRow
	if err := s.rdb.WithContext(ctx).Select("id", "auto_close_minutes").Where("auto_close_minutes > 0").Find(&shops).Error; err != nil {
		return nil, fmt.Errorf("store: shops that close quiet conversations: %w", err)
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
