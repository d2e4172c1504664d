// Package testredis gives tests a real Redis: the one named by
// KEFU_TEST_REDIS_URL (shared, so each test uses keys of its own prefix and
// never flushes), or a redis-server of the test's own on a unix socket,
// which the test may stop and start.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisEnv names the variable holding the URL of a Redis tests may use,
// e.g. redis://127.0.0.1:6379/0.
const RedisEnv = "KEFU_TEST_REDIS_URL"

// Client connects to the Redis at KEFU_TEST_REDIS_URL and returns it with a
// key prefix of the test's own; the test's keys are deleted when it ends.
// Without the variable, or when that Redis does not answer, the test is
// skipped, except under CI=true, where Redis must be there.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	raw := os.Getenv(RedisEnv)
	ci := os.Getenv("CI") == "true"
	if raw == "" {
		if ci {
			t.Fatalf("CI=true but %s is not set: Redis tests must run in CI", RedisEnv)
		}
		t.Skipf("%s not set; skipping Redis", RedisEnv)
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", RedisEnv, err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		if ci {
			t.Fatalf("redis at %s: %v", RedisEnv, err)
		}
		t.Skipf("redis at %s does not answer (%v); skipping Redis", RedisEnv, err)
	}
	prefix := "kefu_test_" + randomHex() + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Other libraries put their own prefix in front (redis_rate's "rate:").
		iter := client.Scan(ctx, 0, "*"+prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	return client, prefix
}

func randomHex() string {
	buf := make([]byte, 6)
	rand.Read(buf)
	return hex.EncodeToString(buf)
}

// Server is a redis-server of one test, on a unix socket, keeping nothing
// on disk. It is stopped when the test ends.
type Server struct {
	t      testing.TB
	Socket string // the unix socket's path
	cmd    *exec.Cmd
}

// Start runs a redis-server (from PATH) for the test, skipped without one
// except under CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but redis-server is not on PATH")
		}
		t.Skip("redis-server not on PATH")
	}
	s := &Server{t: t, Socket: filepath.Join(t.TempDir(), "redis.sock")}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Client is a client of the server with the given options' timeouts (nil:
// go-redis's defaults).
func (s *Server) Client(opts *redis.Options) *redis.Client {
	if opts == nil {
		opts = &redis.Options{}
	}
	o := *opts
	o.Network, o.Addr = "unix", s.Socket
	c := redis.NewClient(&o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Stop kills the server and waits until it has exited; its socket is gone.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
	os.Remove(s.Socket)
}

// Restart starts the server (empty) and waits until it accepts clients.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	cmd := exec.Command("redis-server", "--port", "0", "--unixsocket", s.Socket, "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.Socket, MaxRetries: -1})
	defer c.Close()
	// Polled only until the server is up; no test times anything by it.
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not start: %v", s.Socket, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
