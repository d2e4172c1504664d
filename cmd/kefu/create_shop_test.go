package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/store"
)

func TestCreateShop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	create := func(args []string, stdout io.Writer) error {
		return createShop(context.Background(), args, stdout, io.Discard, func(string) string { return "" }, bcrypt.MinCost)
	}
	var out bytes.Buffer
	args := []string{"--data-dir", dir, "--slug", "acme", "--name", "Acme", "--password", "owner-pass-1", "--origins", "https://Shop.Example.com, http://localhost:3000"}
	if err := create(args, &out); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := st.ShopBySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(shop.Origins, " ") != "http://localhost:3000 https://shop.example.com" || len(shop.IdentitySecret) < 32 {
		t.Fatalf("shop %+v", shop)
	}
	owner, err := st.AgentByUsername(context.Background(), shop.ID, "owner")
	if err != nil || owner.Role != "owner" || bcrypt.CompareHashAndPassword([]byte(owner.PasswordHash), []byte("owner-pass-1")) != nil {
		t.Fatalf("owner %+v, %v", owner, err)
	}
	if !strings.Contains(out.String(), shop.IdentitySecret) {
		t.Fatalf("output does not show the identity secret: %s", out.String())
	}
	st.Close()

	for _, bad := range [][]string{
		{"--data-dir", dir, "--slug", "acme", "--name", "Again", "--password", "owner-pass-1"},
		{"--data-dir", dir, "--slug", "Bad Slug", "--name", "x"},
		{"--data-dir", dir, "--slug", "ok", "--name", "x", "--origins", "shop.example.com"},
		{"--data-dir", dir, "--slug", "ok2", "--name", "x", "--password", "short"},
		{"--data-dir", dir, "--slug", "ok3", "--name", "Acme\u202e", "--password", "owner-pass-1"},
		{"--data-dir", dir, "--slug", "ok4", "--name", "Acme\x00", "--password", "owner-pass-1"},
		{"--data-dir", dir, "--slug", "ok5", "--name", strings.Repeat("店", 65), "--password", "owner-pass-1"},
		{"--data-dir", dir, "--slug", "ok6", "--name", "x", "--owner", "the boss", "--password", "owner-pass-1"},
		{"--data-dir", dir, "--slug", "ok7", "--name", "x", "--owner", "boss\x00", "--password", "owner-pass-1"},
	} {
		if err := create(bad, io.Discard); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
	// A refused shop leaves nothing behind (no shop without its owner).
	st, err = store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, slug := range []string{"ok", "ok2", "ok3", "ok4", "ok5", "ok6", "ok7"} {
		if shop, err := st.ShopBySlug(context.Background(), slug); !errors.Is(err, kefu.ErrNotFound) {
			t.Errorf("refused shop %s: %+v, %v; want not found", slug, shop, err)
		}
	}
}
