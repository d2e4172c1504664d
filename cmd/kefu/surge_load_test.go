package main

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kefu/kefu/internal/load"
)

// demoLoadTarget points the load tool at a demo server started for the test.
// Each buyer names its own address (X-Forwarded-For from a trusted
// loopback), as buyers on many networks would: the shop's per-address
// limits see many buyers, not one flooding address.
func demoLoadTarget(t *testing.T) load.Config {
	t.Helper()
	srv := startDemoServer(t, "--trusted-proxies", "127.0.0.1")
	storeURL, err := url.Parse(srv.storeURL)
	if err != nil {
		t.Fatal(err)
	}
	return load.Config{
		URL: strings.TrimSuffix(srv.consoleURL, "/agent/"), Shop: "demo",
		Origin: storeURL.Scheme + "://" + storeURL.Host, Owner: "owner", Password: demoPassword,
		PID:          os.Getpid(), // server and load tool together: the memory figures are only exercised
		ForwardedFor: true,
	}
}

// TestSurgeLoad is issue 9's short surge in CI: the load tool's surge
// scenario, with small numbers, against `kefu serve --demo` on SQLite in
// this process. It fails on any message lost, duplicated or out of order,
// and on any buyer never answered. Not parallel: it measures, so it runs
// before the package's parallel tests rather than beside them.
func TestSurgeLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load run skipped in -short mode")
	}
	cfg := load.SurgeConfig{
		Config: demoLoadTarget(t),
		Agents: 3, AgentCap: 5, Think: 300 * time.Millisecond, Exchanges: 2,
		BaseRate: 2, Factor: 10, Steady: 4 * time.Second, Surge: 8 * time.Second, After: 4 * time.Second,
		Grace: 25 * time.Second, BuyerMessages: 2, BuyerInterval: time.Second, TextBytes: 60,
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	progress, human := &lineLogger{t: t, prefix: "load: "}, &lineLogger{t: t, prefix: "load: "}
	sum, err := load.Surge(ctx, cfg, progress, human)
	progress.flush()
	human.flush()
	if err != nil {
		t.Fatal(err)
	}
	arrived := sum.Arrivals.Steady + sum.Arrivals.Surge + sum.Arrivals.After
	if sum.Arrivals.Surge < 100 || arrived < 100 {
		t.Errorf("arrivals %+v: the surge did not happen", sum.Arrivals)
	}
	if sum.TimeToFirstAnswer.N != arrived {
		t.Errorf("%d buyers answered of %d arrived", sum.TimeToFirstAnswer.N, arrived)
	}
	if sum.Assigned == 0 || sum.Closed == 0 || sum.AgentAcked == 0 {
		t.Errorf("the agents served nobody: %d assigned, %d closed, %d answers acked", sum.Assigned, sum.Closed, sum.AgentAcked)
	}
}

// TestStormLoad is a small reconnect storm: every buyer dropped at once and
// back with its token, resuming by seq with nothing missed. 120 buyers
// arriving at once are some 500 frames to every agent's socket within a
// second (their conversations, messages and the assistant's lines): more
// than an agent's buffer once held, which closed the agents as slow
// consumers.
func TestStormLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load run skipped in -short mode")
	}
	cfg := load.StormConfig{Config: demoLoadTarget(t), Buyers: 120, Agents: 4, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	progress, human := &lineLogger{t: t, prefix: "load: "}, &lineLogger{t: t, prefix: "load: "}
	sum, err := load.Storm(ctx, cfg, progress, human)
	progress.flush()
	human.flush()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != cfg.Buyers || sum.AllBackS < 0 {
		t.Errorf("%d of %d buyers resumed, all back after %v s", sum.Resumed, cfg.Buyers, sum.AllBackS)
	}
}
