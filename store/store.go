// Package store keeps kefu's data in SQL through gorm: SQLite (pure Go, WAL)
// as the embedded default, PostgreSQL for production. Every query that reads
// or writes tenant data takes the shop id, so one shop never sees another's.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/kefu/kefu"
)

// callTimeout bounds every store call, including those made on contexts
// without a deadline: a stuck database fails calls instead of holding their
// callers forever.
const callTimeout = 10 * time.Second

const microsecond = time.Microsecond // PostgreSQL keeps times to the microsecond; so does the store everywhere

// Store is kefu's persistent state.
//
// On SQLite, writes go through one connection (SQLite has one writer anyway)
// and every read outside a transaction through a separate read-only pool, so
// no read ever waits for the writer's connection. gorm's prepared-statement
// cache is off: it holds a lock while it waits for a connection, which with
// one writer connection can stall everything behind a busy writer. The
// message path uses its own statements, prepared once (append.go).
type Store struct {
	db      *gorm.DB // writes
	rdb     *gorm.DB // reads; on SQLite a separate pool so reads never queue behind a write
	sqlW    *sql.DB  // db's pool
	dialect dialect
	now     func() time.Time
	commits func(messages int, took time.Duration) // Config.Commits; nil: none
	// webhookLogCap is how many delivery attempts of a shop are kept
	// (webhookLogShop; tests lower it).
	webhookLogCap int

	appendStmts appendStmts

	appends   chan *appendRequest // to the message writer (append.go)
	stop      chan struct{}       // closed by Close
	writer    sync.WaitGroup
	closeOnce sync.Once

	// The search indexer (SQLite only, search_index.go).
	indexWake chan struct{} // 1-buffered: the writer's non-blocking nudge after a commit
	indexStop context.CancelFunc
	indexer   sync.WaitGroup
}

// Config says where the data lives.
type Config struct {
	// DatabaseURL selects PostgreSQL when it starts with postgres:// or postgresql://.
	DatabaseURL string
	// DataDir holds the SQLite file when DatabaseURL is empty.
	DataDir string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Commits, if set, is told after each commit of the message writer how
	// many messages it stored and how long their write and commit took
	// (metrics). It runs on the writer's goroutine and must be cheap.
	Commits func(messages int, took time.Duration)
}

// Open connects to the database and brings its schema up to date.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{now: cfg.Now, commits: cfg.Commits, webhookLogCap: webhookLogShop, appends: make(chan *appendRequest), stop: make(chan struct{}),
		indexWake: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = time.Now
	}
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return s.now().UTC() },
	}
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		db, err := gorm.Open(postgres.Open(cfg.DatabaseURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		s.db, s.rdb, s.dialect = db, db, postgresDialect
	case cfg.DatabaseURL != "":
		// The URL is not repeated: it may hold a password.
		return nil, fmt.Errorf("store: unsupported database URL: want postgres://user:password@host:port/dbname")
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data dir: %w", err)
		}
		path := filepath.Join(cfg.DataDir, "kefu.db")
		// busy_timeout comes first so that switching to WAL waits for another
		// process opening the same file instead of failing.
		// One writer connection: SQLite allows one writer at a time anyway, and a
		// single connection never waits on its own lock. Readers get their own pool.
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
			// A page cache of 64 MiB per connection and reads through mmap: the
			// indexes the message path touches stay in memory, without a
			// system call per page.
			"&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)"
		// The writer's transactions take the write lock when they begin; the
		// readers' (if any) must never.
		db, err := openSQLite(ctx, dsn+"&_txlock=immediate", gcfg)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
		}
		w, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		w.SetMaxOpenConns(1)
		rdb, err := openSQLite(ctx, dsn+"&_pragma=query_only(1)", gcfg)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite reader: %w", err)
		}
		r, err := rdb.DB()
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite reader: %w", err)
		}
		// Idle readers are kept: opening one applies every pragma again.
		r.SetMaxOpenConns(4)
		r.SetMaxIdleConns(4)
		s.db, s.rdb, s.dialect = db, rdb, sqliteDialect
	}
	var err error
	if s.sqlW, err = s.db.DB(); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.closeDB()
		return nil, err
	}
	if err := s.prepareAppend(ctx); err != nil {
		s.closeDB()
		return nil, fmt.Errorf("store: prepare statements: %w", err)
	}
	s.writer.Add(1)
	go func() {
		defer s.writer.Done()
		s.writeAppends()
	}()
	if s.dialect.name == sqliteDialect.name {
		s.startIndexer()
	}
	return s, nil
}

// openSQLite opens a SQLite pool. Switching a new database file to WAL can
// fail at once with SQLITE_BUSY, without waiting for busy_timeout, while
// another connection (another kefu starting on the same file) switches it
// too; that first open is tried again for up to callTimeout.
func openSQLite(ctx context.Context, dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	deadline := time.Now().Add(callTimeout)
	for {
		db, err := gorm.Open(sqlite.Open(dsn), cfg)
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops the message writer and the search indexer and releases the
// database connections. Calls made after it fail with ErrClosed or a
// closed-database error. Messages not yet indexed are indexed by the next
// Open's indexer.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	s.writer.Wait()
	s.stopIndexer()
	return s.closeDB()
}

func (s *Store) closeDB() error {
	s.appendStmts.close()
	var errs []error
	for _, g := range []*gorm.DB{s.db, s.rdb} {
		if sqlDB, err := g.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
		if s.rdb == s.db {
			break
		}
	}
	return errors.Join(errs...)
}

// Dialect names the database in use: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Secret returns the server-wide secret stored under key, creating a random
// one the first time, so tokens signed with it survive restarts.
func (s *Store) Secret(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var value string
	err := s.rdb.WithContext(ctx).Raw(`SELECT value FROM settings WHERE key = ?`, key).Row().Scan(&value)
	if err == nil {
		return hex.DecodeString(value)
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	if err := s.db.WithContext(ctx).Exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
		key, hex.EncodeToString(buf)).Error; err != nil {
		return nil, fmt.Errorf("store: create secret %s: %w", key, err)
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT value FROM settings WHERE key = ?`, key).Row().Scan(&value); err != nil {
		return nil, fmt.Errorf("store: read secret %s: %w", key, err)
	}
	return hex.DecodeString(value)
}

// notFound turns gorm's record-not-found into kefu.ErrNotFound with context.
func notFound(err error, what string, id any) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("store: %s %v: %w", what, id, kefu.ErrNotFound)
	}
	return fmt.Errorf("store: %s %v: %w", what, id, err)
}

// isDuplicate reports a unique index violation, as gorm translates it or
// as the driver reports it to plain database/sql.
func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// bound gives ctx the store's call deadline unless it already has a sooner one.
func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= callTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, callTimeout)
}
