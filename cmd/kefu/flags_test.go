package main

import (
	"io"
	"reflect"
	"testing"

	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/store"
)

func TestServeFlagsReadEnvAndFlagsWin(t *testing.T) {
	t.Parallel()
	env := map[string]string{"KEFU_ADDR": "0.0.0.0:9000", "KEFU_DEMO": "true", "KEFU_DATABASE_URL": "postgres://x@y/z"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		name string
		args []string
		want serveConfig
	}{
		{"env only", nil, serveConfig{addr: "0.0.0.0:9000", store: store.Config{DataDir: "./kefu-data", DatabaseURL: "postgres://x@y/z"}, demo: true, demoHistoryDays: 21, passwordCost: api.DefaultPasswordCost, timeouts: defaultHTTPTimeouts}},
		{"flags win", []string{"--addr", "127.0.0.1:1", "--demo=false", "--data-dir", "/d"},
			serveConfig{addr: "127.0.0.1:1", store: store.Config{DataDir: "/d", DatabaseURL: "postgres://x@y/z"}, demo: false, demoHistoryDays: 21, passwordCost: api.DefaultPasswordCost, timeouts: defaultHTTPTimeouts}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseServeFlags(tc.args, io.Discard, getenv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := parseServeFlags([]string{"extra"}, io.Discard, getenv); err == nil {
		t.Fatal("a stray argument was accepted")
	}
	if cfg, err := parseServeFlags([]string{"--trusted-proxies", "10.0.0.0/8, 192.168.1.1"}, io.Discard, getenv); err != nil ||
		!reflect.DeepEqual(cfg.proxies, []string{"10.0.0.0/8", "192.168.1.1"}) {
		t.Fatalf("valid proxies: %v, %v", cfg.proxies, err)
	}
	if _, err := parseServeFlags([]string{"--trusted-proxies", "10.0.0.0/8,proxy.local"}, io.Discard, getenv); err == nil {
		t.Fatal("a host name was accepted as a trusted proxy")
	}
}

func TestDemoAddresses(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, next, browse string }{
		{"127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8080"},
		{"0.0.0.0:8080", "0.0.0.0:8081", "127.0.0.1:8080"},
		{"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"},
		{"[::]:80", "[::]:81", "127.0.0.1:80"},
	}
	for _, tc := range cases {
		if got := nextPort(tc.in); got != tc.next {
			t.Errorf("nextPort(%q) = %q, want %q", tc.in, got, tc.next)
		}
		if got := browsable(tc.in); got != tc.browse {
			t.Errorf("browsable(%q) = %q, want %q", tc.in, got, tc.browse)
		}
	}
}
