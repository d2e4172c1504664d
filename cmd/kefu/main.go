// Command kefu is the customer-service IM server: buyer widget, agent
// console, routing and REST API in one binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // shops' time zones (business hours, reports) on a machine without a zone database

	"github.com/kefu/kefu/api"
	"github.com/kefu/kefu/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kefu:", err)
		os.Exit(1)
	}
}

const usage = `kefu — customer-service IM for online shops

Usage:
  kefu serve [flags]          run the server (kefu serve -h for flags)
  kefu create-shop [flags]    create a shop and its owner (kefu create-shop -h)
  kefu verify-export FILE     check an order's dispute export against the store (kefu verify-export -h)
  kefu rebuild-reports        fold the event log into the reports again (kefu rebuild-reports -h)
`

// run is the whole program, minus process-level wiring, so tests can run it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, os.Getenv)
	case "create-shop":
		return createShop(ctx, args[1:], stdout, stderr, os.Getenv, api.DefaultPasswordCost)
	case "verify-export":
		return verifyExport(ctx, args[1:], stdout, stderr, os.Getenv)
	case "rebuild-reports":
		return rebuildReports(ctx, args[1:], stdout, stderr, os.Getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// envOr returns a lookup of an environment variable that falls back to a
// default when it is unset or empty: every flag's default reads one.
func envOr(getenv func(string) string) func(name, def string) string {
	return func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
}

// storeFlags registers where the data lives, for every command that opens the store.
func storeFlags(fs *flag.FlagSet, env func(name, def string) string, cfg *store.Config) {
	fs.StringVar(&cfg.DataDir, "data-dir", env("KEFU_DATA_DIR", "./kefu-data"), "directory of the embedded SQLite database (env KEFU_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", env("KEFU_DATABASE_URL", ""), "postgres:// URL to use PostgreSQL instead of SQLite (env KEFU_DATABASE_URL)")
}
