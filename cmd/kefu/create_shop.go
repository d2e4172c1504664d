package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/protocol"
	"github.com/kefu/kefu/store"
)

// createShop is `kefu create-shop`: an operator starting from nothing makes a
// shop and its owner, who then adds agents and origins from the API. The
// owner's password is hashed at passwordCost (api.DefaultPasswordCost; tests
// lower it).
func createShop(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, passwordCost int) error {
	env := envOr(getenv)
	fs := flag.NewFlagSet("kefu create-shop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var storeCfg store.Config
	storeFlags(fs, env, &storeCfg)
	slug := fs.String("slug", "", "the shop's id in URLs and the widget's data-shop, e.g. acme (required)")
	name := fs.String("name", "", "the shop's display name, at most 64 characters (required)")
	owner := fs.String("owner", "owner", "the owner's username: 2 to 32 of a-z, 0-9, '_', '-', '.'")
	password := fs.String("password", env("KEFU_OWNER_PASSWORD", ""), "the owner's password, 8 to 72 bytes; random if empty (env KEFU_OWNER_PASSWORD)")
	origins := fs.String("origins", "", "comma-separated store origins allowed to embed the widget, e.g. https://shop.example.com")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !validSlug(*slug) {
		return errors.New("--slug must be 2 to 32 of a-z, 0-9 and '-'")
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("--name is required")
	}
	if e := protocol.ValidateName(strings.TrimSpace(*name)); e != nil {
		return fmt.Errorf("--name: %s", e.Message)
	}
	if !api.ValidUsername(*owner) {
		return errors.New("--owner must be 2 to 32 of a-z, 0-9, '_', '-', '.'")
	}
	var list []string
	for _, o := range strings.Split(*origins, ",") {
		if strings.TrimSpace(o) == "" {
			continue
		}
		n, ok := api.NormalizeOrigin(o)
		if !ok {
			return fmt.Errorf("--origins: %q is not an origin (scheme://host[:port])", o)
		}
		list = append(list, n)
	}
	generated := *password == ""
	if generated {
		buf := make([]byte, 12)
		rand.Read(buf)
		*password = base64.RawURLEncoding.EncodeToString(buf)
	}
	if len(*password) < 8 || len(*password) > 72 {
		return errors.New("--password must be 8 to 72 bytes")
	}
	hash, err := api.HashPassword(*password, passwordCost)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, storeCfg)
	if err != nil {
		return err
	}
	defer st.Close()
	secret := make([]byte, 24)
	rand.Read(secret)
	shop, err := st.CreateShop(ctx, kefu.Shop{Slug: *slug, Name: strings.TrimSpace(*name), IdentitySecret: hex.EncodeToString(secret), Origins: list})
	if errors.Is(err, kefu.ErrConflict) {
		return fmt.Errorf("a shop %q already exists", *slug)
	}
	if err != nil {
		return err
	}
	if _, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: *owner, Name: *owner, Role: kefu.RoleOwner, PasswordHash: hash}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created shop %q (%s)\n", shop.Slug, shop.Name)
	if generated {
		fmt.Fprintf(stdout, "  owner login: %s / %s (shown once; keep it)\n", *owner, *password)
	} else {
		fmt.Fprintf(stdout, "  owner login: %s\n", *owner)
	}
	fmt.Fprintf(stdout, "  identity secret (sign logged-in buyers with it, see docs/widget.md): %s\n", shop.IdentitySecret)
	fmt.Fprintf(stdout, "  widget origins: %s\n", strings.Join(list, ", "))
	return nil
}

func validSlug(s string) bool {
	if len(s) < 2 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
