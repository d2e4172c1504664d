// Command kefu-load measures a running kefu from outside, over loopback
// only, and stops by itself; the scenarios live in internal/load, whose
// package doc says what each measures. Idle, storm and surge print JSON
// lines (progress each second, then a summary) on stdout and a human
// summary on stderr; relay prints lines of text. Each exits non-zero when
// what it checks did not hold.
//
//   - idle: many buyer widget sessions and sockets held open; connect rate,
//     failures and the server's resident memory per connection.
//
//     go run ./cmd/kefu-load idle --url http://127.0.0.1:8080 --shop demo \
//     --origin http://127.0.0.1:8081 --n 5000 --pid $(pgrep -f 'kefu serve')
//
//   - storm: buyers in conversations with agents; every buyer socket is
//     dropped at once, agents write meanwhile, and all reconnect at once
//     and resume by seq: reconnects/s, failures by cause, time until all
//     are back, messages missed.
//
//     go run ./cmd/kefu-load storm --url http://127.0.0.1:8080 --origin http://127.0.0.1:8081 \
//     --buyers 1000 --agents 20
//
//   - relay: buyers and agents chatting both ways at a fixed rate; delivery
//     latency (p50/p95/p99), lost, doubled and out-of-order messages, and
//     the server's CPU time per message.
//
//     go run ./cmd/kefu-load relay --url http://127.0.0.1:8080 --origin http://127.0.0.1:8081 \
//     --buyers 1000 --agents 200 --rate 5000 --duration 30s --pid $(pgrep -f 'kefu serve')
//
//   - surge: new buyers at a base rate, then ten times it for 60 s, then
//     the base rate again, served by simulated agents: time to first
//     answer, lost / duplicated messages, refusals, memory, recovery.
//
//     go run ./cmd/kefu-load surge --url http://127.0.0.1:8080 --origin http://127.0.0.1:8081 \
//     --base 3 --factor 10 --surge 60s --pid $(pgrep -f 'kefu serve')
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/kefu/kefu/internal/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kefu-load:", err)
		os.Exit(1)
	}
}

const usage = "usage: kefu-load idle|storm|relay|surge [flags] (kefu-load <scenario> -h)"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "idle":
		return idle(ctx, args[1:], stdout, stderr)
	case "storm":
		return storm(ctx, args[1:], stdout, stderr)
	case "relay":
		return relay(ctx, args[1:], stdout, stderr)
	case "surge":
		return surge(ctx, args[1:], stdout, stderr)
	}
	return errors.New(usage)
}

// target registers the flags every scenario shares.
func target(fs *flag.FlagSet, cfg *load.Config, pidWhat string) {
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "kefu base URL (loopback)")
	fs.StringVar(&cfg.Shop, "shop", "demo", "shop slug")
	fs.StringVar(&cfg.Origin, "origin", "http://127.0.0.1:8081", "a registered store origin, sent as the buyers' Origin")
	fs.StringVar(&cfg.Owner, "owner", "owner", "the shop owner's username (creates the load agents, clears old conversations)")
	fs.StringVar(&cfg.Password, "password", "kefu1234", "the owner's password; the load agents get it too")
	fs.IntVar(&cfg.PID, "pid", 0, "the kefu server's process id, to read its "+pidWhat)
	fs.BoolVar(&cfg.ForwardedFor, "forwarded-for", false, "storm, surge: each buyer names its own address (198.18.0.0/15) in X-Forwarded-For, for a server run with --trusted-proxies 127.0.0.1, so that per-address limits see many buyers")
}

func idle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := load.IdleConfig{}
	fs := flag.NewFlagSet("kefu-load idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target(fs, &cfg.Config, "resident memory")
	fs.IntVar(&cfg.N, "n", 1000, "buyer connections to open")
	fs.IntVar(&cfg.Concurrency, "concurrency", 256, "connections opened at once")
	fs.DurationVar(&cfg.Hold, "hold", 5*time.Second, "how long to hold the idle connections (under 50s: no heartbeats are sent)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := load.Idle(ctx, cfg, stdout, stderr)
	return err
}

func storm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := load.StormConfig{}
	fs := flag.NewFlagSet("kefu-load storm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target(fs, &cfg.Config, "resident memory")
	fs.IntVar(&cfg.Buyers, "buyers", 1000, "buyer widgets, one conversation each")
	fs.IntVar(&cfg.Agents, "agents", 20, "agents holding the conversations (storm001… are created if absent)")
	fs.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "how long the reconnect may take before the buyers still away count as failed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := load.Storm(ctx, cfg, stdout, stderr)
	return err
}

// relay keeps the flags it had before the scenarios moved to
// internal/load: its figures are compared across versions.
func relay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := load.RelayConfig{}
	fs := flag.NewFlagSet("kefu-load relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target(fs, &cfg.Config, "CPU time")
	fs.IntVar(&cfg.Buyers, "buyers", 1000, "buyer sockets, one conversation each")
	fs.IntVar(&cfg.Agents, "agents", 200, "agent sockets (agents load001… are created if absent)")
	fs.IntVar(&cfg.Rate, "rate", 2000, "messages per second, both directions together")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send")
	fs.DurationVar(&cfg.Warmup, "warmup", 5*time.Second, "first part of the run left out of the latency figures")
	fs.DurationVar(&cfg.Tail, "tail", 10*time.Second, "how long to wait after the last send for deliveries")
	fs.IntVar(&cfg.TextBytes, "text-bytes", 200, "bytes of message text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return load.Relay(ctx, cfg, stdout)
}

func surge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := load.SurgeConfig{}
	fs := flag.NewFlagSet("kefu-load surge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target(fs, &cfg.Config, "resident memory")
	fs.IntVar(&cfg.Agents, "agents", 5, "simulated agents online (surge001… are created if absent)")
	fs.IntVar(&cfg.AgentCap, "agent-cap", 4, "conversations each agent holds at once (their max_concurrent, set on each run)")
	fs.DurationVar(&cfg.Think, "think", time.Second, "how long an agent takes to answer a buyer's message")
	fs.IntVar(&cfg.Exchanges, "exchanges", 3, "answers after which the agent closes the conversation (at most --buyer-messages)")
	fs.Float64Var(&cfg.BaseRate, "base", 3, "new buyers per second in the steady and after phases")
	fs.Float64Var(&cfg.Factor, "factor", 10, "the surge phase's arrival rate over the base rate")
	fs.DurationVar(&cfg.Steady, "steady", 20*time.Second, "length of the steady phase, before the surge")
	fs.DurationVar(&cfg.Surge, "surge", 60*time.Second, "length of the surge phase")
	fs.DurationVar(&cfg.After, "after", 30*time.Second, "length of the after phase, at the base rate again")
	fs.DurationVar(&cfg.Grace, "grace", 15*time.Second, "wait after the last arrival for answers and deliveries")
	fs.IntVar(&cfg.BuyerMessages, "buyer-messages", 3, "messages each buyer sends")
	fs.DurationVar(&cfg.BuyerInterval, "buyer-interval", 2*time.Second, "time between a buyer's messages")
	fs.DurationVar(&cfg.LeftMessageStay, "left-message-stay", 3*time.Second, "how long a buyer told their message is a left message (留言) stays before closing the widget; 0: to the end")
	fs.IntVar(&cfg.TextBytes, "text-bytes", 100, "bytes of message text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := load.Surge(ctx, cfg, stdout, stderr)
	return err
}
