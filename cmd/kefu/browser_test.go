package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu/kefu/internal/testdb"
)

// TestBrowserWidgetAndConsole runs the real server with the demo shop and drives the buyer
// widget on the demo store page and the agent console in headless Chromium (e2e/browser.mjs),
// on the embedded default and on PostgreSQL.
func TestBrowserWidgetAndConsole(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	t.Run("sqlite", func(t *testing.T) { b.run(t, "browser.mjs", "", nil) })
	t.Run("postgres", func(t *testing.T) {
		b.run(t, "browser.mjs", "postgres", nil, "--database-url", testdb.PostgresURL(t))
	})
}

// browser is what the e2e scripts need: node, playwright-core in e2e/ and Chromium.
type browser struct {
	node, chromium, e2eDir string
}

// newBrowser finds the tools, or skips (never under CI=true); -short skips browser tests.
func newBrowser(t *testing.T) browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e2eDir, err := filepath.Abs(filepath.Join("..", "..", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	node, chromium := browserTools(t, e2eDir)
	return browser{node: node, chromium: chromium, e2eDir: e2eDir}
}

// run runs the e2e script (a file in e2e/) against a fresh demo server started with
// serveArgs and adjust applied to its parsed flags; screenshots go to e2e/artifacts/<artifacts>.
func (b browser) run(t *testing.T, script, artifacts string, adjust func(*serveConfig), serveArgs ...string) {
	t.Helper()
	dir := filepath.Join(b.e2eDir, "artifacts", artifacts)
	// Stat'ing the script also makes go test's cache notice when it changes.
	if _, err := os.Stat(filepath.Join(b.e2eDir, script)); err != nil {
		t.Fatalf("browser test script: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startDemoServerWith(t, adjust, serveArgs...)

	nodeCtx, nodeCancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer nodeCancel()
	cmd := exec.CommandContext(nodeCtx, b.node, script)
	cmd.Dir = b.e2eDir
	cmd.Env = append(os.Environ(),
		"KEFU_STORE_URL="+srv.storeURL,
		"KEFU_CONSOLE_URL="+srv.consoleURL,
		"KEFU_ARTIFACTS="+dir,
		"CHROMIUM_PATH="+b.chromium,
	)
	out := &lineLogger{t: t, prefix: "browser: "}
	cmd.Stdout, cmd.Stderr = out, out // one writer: exec serialises the two streams
	cmd.WaitDelay = 10 * time.Second
	browserErr := cmd.Run()
	out.flush()

	if err := srv.stop(15 * time.Second); err != nil {
		t.Errorf("server did not shut down cleanly: %v", err)
	}
	if browserErr != nil {
		t.Fatalf("browser test failed (%v); its output is above, screenshots in %s", browserErr, dir)
	}
}

// browserTools finds node, the installed playwright-core and Chromium. Without them the test
// skips on a developer's machine, but never in CI, where a skipped browser test would hide a
// broken widget.
func browserTools(t *testing.T, e2eDir string) (node, chromium string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		msg := "browser test needs " + what + ": run `cd e2e && npm ci` and `apt-get install chromium` (or set CHROMIUM_PATH)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node on PATH")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing("e2e/node_modules/playwright-core")
	}
	chromium = os.Getenv("CHROMIUM_PATH")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("Chromium at " + chromium)
	}
	return node, chromium
}

// demoServer is `kefu serve --demo` running in this process.
type demoServer struct {
	storeURL, consoleURL string
	// metricsURL and profilerURL are printed with --metrics-addr and --debug-addr.
	metricsURL, profilerURL string
	cancel                  context.CancelFunc
	done                    chan error // run's result
	scanned                 chan struct{}
}

// startDemoServer runs the server and waits for it to print its URLs. The server runs until
// stop, or until the test ends. Passwords are hashed at bcrypt's lowest cost.
func startDemoServer(t *testing.T, serveArgs ...string) *demoServer {
	t.Helper()
	return startDemoServerWith(t, nil, serveArgs...)
}

// startDemoServerWith is startDemoServer with adjust applied to the parsed flags.
func startDemoServerWith(t *testing.T, adjust func(*serveConfig), serveArgs ...string) *demoServer {
	t.Helper()
	dataDir := t.TempDir() // before the cleanup below, so it is removed after the server stops
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &demoServer{cancel: cancel, done: make(chan error, 1), scanned: make(chan struct{})}
	// Both on free ports: the port after kefu's may be another test's. No
	// generated history unless a test asks (it would only slow the start of
	// every browser test; TestDemoHistory covers it).
	args := append([]string{"--demo", "--addr", "127.0.0.1:0", "--demo-addr", "127.0.0.1:0", "--data-dir", dataDir, "--demo-history-days", "0"},
		serveArgs...)
	cfg, err := parseServeFlags(args, io.Discard, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.passwordCost = bcrypt.MinCost
	if adjust != nil {
		adjust(&cfg)
	}
	go func() {
		err := runServer(ctx, cfg, pw, io.Discard)
		pw.Close()
		s.done <- err
	}()
	t.Cleanup(func() { s.stop(15 * time.Second) }) // no goroutine may outlive the test

	type urls struct{ store, console, metrics, profiler string }
	ready := make(chan urls, 1)
	go func() {
		defer close(s.scanned)
		var u urls
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			t.Log("kefu: " + line)
			if v, ok := strings.CutPrefix(line, "agent console:"); ok {
				u.console = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "metrics:"); ok {
				u.metrics = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "profiler:"); ok {
				u.profiler = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "demo store:"); ok {
				u.store = strings.TrimSpace(v)
				select {
				case ready <- u:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr) // keep run from blocking on stdout if a line was too long
	}()

	select {
	case u := <-ready:
		if u.console == "" {
			t.Fatal("kefu printed the demo store URL but no agent console URL")
		}
		s.storeURL, s.consoleURL, s.metricsURL, s.profilerURL = u.store, u.console, u.metrics, u.profiler
		return s
	case err := <-s.done:
		s.done <- err // for stop
		t.Fatalf("kefu serve ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("kefu serve printed no demo store URL within 30s")
	}
	return nil
}

// stop cancels run's context and returns what run returned; later calls return nil.
func (s *demoServer) stop(timeout time.Duration) error {
	s.cancel()
	select {
	case err, ok := <-s.done:
		<-s.scanned
		if ok {
			close(s.done)
		}
		return err
	case <-time.After(timeout):
		return errors.New("run did not return within " + timeout.String() + " of its context ending")
	}
}

// lineLogger passes what a child process prints to t.Log, a line at a time.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // incomplete: wait for the rest
			return len(p), nil
		}
		l.t.Log(l.prefix + strings.TrimRight(line, "\r\n"))
	}
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.t.Log(l.prefix + l.buf.String())
		l.buf.Reset()
	}
}
