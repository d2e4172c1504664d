// Package testdb gives tests a real, empty kefu database: SQLite in a temp
// directory, or a fresh PostgreSQL database that is dropped afterwards.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver used to create and drop test databases

	"github.com/kefu/kefu/store"
)

// PostgresEnv names the variable holding the admin URL of a PostgreSQL server
// tests may create databases on, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresEnv = "KEFU_TEST_POSTGRES_URL"

// SQLite opens a new embedded database in a temp dir.
func SQLite(t testing.TB, now func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir(), Now: now})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// PostgresURL creates an empty database kefu_test_<random> and returns its
// URL; it is dropped when the test ends. Without KEFU_TEST_POSTGRES_URL the
// test is skipped, except under CI=true, where PostgreSQL must be there.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: PostgreSQL tests must run in CI", PostgresEnv)
		}
		t.Skipf("%s not set; skipping PostgreSQL", PostgresEnv)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	buf := make([]byte, 6)
	rand.Read(buf)
	name := "kefu_test_" + hex.EncodeToString(buf)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgres at %s: create database: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Postgres opens a new, empty PostgreSQL database (see PostgresURL).
func Postgres(t testing.TB, now func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DatabaseURL: PostgresURL(t), Now: now})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
