package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

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
	} {
		if err := create(bad, io.Discard); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}
