package api_test

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/api"
)

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"https://Shop.Example.com", "https://shop.example.com", true},
		{"https://shop.example.com:443/", "https://shop.example.com", true},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081", true},
		{"http://shop.example.com:80", "http://shop.example.com", true},
		{"https://shop.example.com/path", "", false},
		{"shop.example.com", "", false},
		{"ftp://shop.example.com", "", false},
		{"https://user:pw@shop.example.com", "", false},
		{"https://shop.example.com/?q=1", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		got, ok := api.NormalizeOrigin(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The owner registers the origins the widget may be embedded on; the new
// origin works at once and the old one stops working. Agents may not.
func TestOwnerSetsWidgetOrigins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAgent("boss", kefu.RoleOwner)
	owner, agent := e.login("acme", "boss"), e.login("acme", "wang")

	var view struct {
		Shop struct {
			Origins        []string
			IdentitySecret string `json:"identity_secret"`
		}
	}
	if code := e.do("GET", "/api/v1/shop", agent, "", nil, &view); code != 200 || view.Shop.IdentitySecret != "" {
		t.Fatalf("agent view of shop: %d, secret shown: %v", code, view.Shop.IdentitySecret != "")
	}
	var out apiErr
	if code := e.do("PUT", "/api/v1/shop/origins", agent, "", map[string]any{"origins": []string{"https://new.example"}}, &out); code != 403 || out.Error.Code != "owner_only" {
		t.Fatalf("agent sets origins: %d %q, want 403 owner_only", code, out.Error.Code)
	}
	if code := e.do("PUT", "/api/v1/shop/origins", owner, "", map[string]any{"origins": []string{"https://new.example/x"}}, &out); code != 400 || out.Error.Code != "invalid_origin" {
		t.Fatalf("bad origin: %d %q, want 400 invalid_origin", code, out.Error.Code)
	}
	if code := e.do("PUT", "/api/v1/shop/origins", owner, "", map[string]any{"origins": []string{"https://New.Example:443"}}, &view); code != 200 ||
		len(view.Shop.Origins) != 1 || view.Shop.Origins[0] != "https://new.example" || view.Shop.IdentitySecret != e.shop.IdentitySecret {
		t.Fatalf("owner sets origins: %d %+v", code, view.Shop)
	}
	body := map[string]string{"visitor_id": "v_abcdefgh"}
	if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", "https://new.example", body, nil); code != 200 {
		t.Fatalf("new origin refused: %d", code)
	}
	if code := e.do("POST", "/api/v1/widget/shops/acme/session", "", storeOrigin, body, nil); code != 403 {
		t.Fatalf("removed origin still allowed: %d", code)
	}
}

func TestOwnerAddsAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAgent("boss", kefu.RoleOwner)
	owner := e.login("acme", "boss")
	cases := []struct {
		name string
		body map[string]any
		code int
		err  string
	}{
		{"ok", map[string]any{"username": "zhou", "name": "小周", "password": "long-enough", "max_concurrent": 8}, 201, ""},
		{"taken", map[string]any{"username": "zhou", "name": "again", "password": "long-enough"}, 409, "username_taken"},
		{"bad username", map[string]any{"username": "Zhou Li", "name": "x", "password": "long-enough"}, 400, "invalid_username"},
		{"short password", map[string]any{"username": "qian", "name": "x", "password": "short"}, 400, "weak_password"},
		{"bad role", map[string]any{"username": "qian", "name": "x", "password": "long-enough", "role": "god"}, 400, "invalid_role"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out apiErr
			if code := e.do("POST", "/api/v1/agents", owner, "", tc.body, &out); code != tc.code || out.Error.Code != tc.err {
				t.Fatalf("%d %q, want %d %q", code, out.Error.Code, tc.code, tc.err)
			}
		})
	}
	var me struct{ Token string }
	if code := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"shop": "acme", "username": "zhou", "password": "long-enough"}, &me); code != 200 {
		t.Fatalf("new agent cannot log in: %d", code)
	}
	// Hashed at the configured cost (Config.PasswordCost), not bcrypt's default.
	if zhou, err := e.store.AgentByUsername(t.Context(), e.shop.ID, "zhou"); err != nil {
		t.Fatal(err)
	} else if cost, err := bcrypt.Cost([]byte(zhou.PasswordHash)); err != nil || cost != passwordCost {
		t.Fatalf("new agent's hash has cost %d (%v), want %d", cost, err, passwordCost)
	}
	var out apiErr
	if code := e.do("POST", "/api/v1/agents", me.Token, "", cases[0].body, &out); code != 403 {
		t.Fatalf("plain agent adds agents: %d", code)
	}
}
