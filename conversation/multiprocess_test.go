package conversation_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kefu/kefu"
	"github.com/kefu/kefu/conversation"
	"github.com/kefu/kefu/internal/testdb"
	"github.com/kefu/kefu/store"
)

// The routing helper process: it opens the database named in its
// environment, brings the shop's agents online in its own presence and
// has its buyers write at once, as a second kefu process on the same
// database would. It runs only when the test below starts it.
func TestRoutingHelperProcess(t *testing.T) {
	if os.Getenv("KEFU_ROUTING_HELPER") != "1" {
		t.Skip("started by TestTwoProcessesRouteOneShop")
	}
	ctx := context.Background()
	cfg := store.Config{DatabaseURL: os.Getenv("KEFU_ROUTING_DB")}
	if cfg.DatabaseURL == "" {
		cfg.DataDir = os.Getenv("KEFU_ROUTING_DIR")
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	shopID, _ := strconv.ParseInt(os.Getenv("KEFU_ROUTING_SHOP"), 10, 64)
	svc := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
	agents, err := st.Agents(ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	var buyers []kefu.Buyer
	for _, id := range strings.Split(os.Getenv("KEFU_ROUTING_BUYERS"), ",") {
		b, err := st.VisitorBuyer(ctx, shopID, id, id)
		if err != nil {
			t.Fatal(err)
		}
		buyers = append(buyers, b)
	}
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Add(1)
		go func() { defer wg.Done(); svc.AgentConnected(ctx, a) }()
	}
	churn := os.Getenv("KEFU_ROUTING_CHURN") == "1"
	var out sync.Mutex
	for _, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				m, _, err := svc.Send(ctx, conversation.BuyerActor(b), 0, fmt.Sprint("c", i), "在吗")
				if err != nil {
					t.Error(err)
					return
				}
				if !churn {
					return
				}
				// Until killed: the agent holding it (if any) closes it, which
				// moves the line, and the buyer comes back.
				if c, err := st.Conversation(ctx, shopID, m.ConversationID); err == nil && c.AgentID != 0 {
					for _, a := range agents {
						if a.ID == c.AgentID {
							svc.Close(ctx, conversation.AgentActor(a), c.ID)
						}
					}
				}
				out.Lock()
				fmt.Println("sent")
				out.Unlock()
			}
		}()
	}
	wg.Wait()
}

// Two kefu processes on one database, each with the same agents online and
// buyers arriving at once, route the one shop without putting an agent over
// their cap or a conversation with two agents: every decision is taken inside
// the shop's routing serialization.
func TestTwoProcessesRouteOneShop(t *testing.T) {
	if os.Getenv("KEFU_ROUTING_HELPER") == "1" {
		t.Skip("in the helper")
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			var env []string
			cfg := store.Config{}
			if backend == "postgres" {
				cfg.DatabaseURL = testdb.PostgresURL(t)
				env = append(env, "KEFU_ROUTING_DB="+cfg.DatabaseURL)
			} else {
				cfg.DataDir = t.TempDir()
				env = append(env, "KEFU_ROUTING_DIR="+cfg.DataDir)
			}
			st, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
			if err != nil {
				t.Fatal(err)
			}
			const agents, cap, buyersPerProcess = 4, 3, 20
			for i := 0; i < agents; i++ {
				if _, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: fmt.Sprint("a", i), Name: fmt.Sprint("a", i),
					Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: cap}); err != nil {
					t.Fatal(err)
				}
			}
			env = append(env, "KEFU_ROUTING_HELPER=1", fmt.Sprint("KEFU_ROUTING_SHOP=", shop.ID))
			var procs []*exec.Cmd
			for p := 0; p < 2; p++ {
				var ids []string
				for i := 0; i < buyersPerProcess; i++ {
					ids = append(ids, fmt.Sprintf("v_proc%d_buyer%02d", p, i))
				}
				cmd := exec.Command(os.Args[0], "-test.run", "^TestRoutingHelperProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), append(env, "KEFU_ROUTING_BUYERS="+strings.Join(ids, ","))...)
				procs = append(procs, cmd)
			}
			outs := make([][]byte, len(procs))
			var wg sync.WaitGroup
			for i, cmd := range procs {
				wg.Add(1)
				go func() { defer wg.Done(); outs[i], _ = cmd.CombinedOutput() }()
			}
			wg.Wait()
			for i, cmd := range procs {
				if cmd.ProcessState == nil || !cmd.ProcessState.Success() {
					t.Fatalf("process %d failed: %s", i, outs[i])
				}
			}

			list, err := st.ListConversations(ctx, shop.ID, kefu.ConversationFilter{})
			if err != nil {
				t.Fatal(err)
			}
			held := map[int64]int{}
			assigned := 0
			for _, c := range list {
				if c.Status == kefu.StatusAssigned {
					held[c.AgentID]++
					assigned++
				}
			}
			for id, n := range held {
				if n > cap {
					t.Errorf("agent %d holds %d conversations, cap %d", id, n, cap)
				}
			}
			if len(list) != 2*buyersPerProcess || assigned != agents*cap {
				t.Errorf("%d conversations, %d assigned; want %d, with every one of the %d slots filled", len(list), assigned, 2*buyersPerProcess, agents*cap)
			}
			events, err := st.Events(ctx, shop.ID, 0, kefu.MaxPageSize)
			if err != nil {
				t.Fatal(err)
			}
			assignedEvents := map[int64]int{}
			for _, e := range events {
				if e.Type == kefu.EventAssigned {
					assignedEvents[e.ConversationID]++
				}
			}
			for id, n := range assignedEvents {
				if n != 1 {
					t.Errorf("conversation %d was assigned %d times", id, n)
				}
			}
			if len(assignedEvents) != assigned {
				t.Errorf("%d conversations have an assigned event, %d are assigned", len(assignedEvents), assigned)
			}
		})
	}
}

// A kefu process killed (SIGKILL) in the middle of routing, with buyers
// arriving and agents closing, leaves nothing for a count to drift from:
// no agent over cap, every message and every assignment with its event, and
// a new process that brings the agents online fills exactly the free slots.
func TestKillDuringRoutingLeavesNothingToDrift(t *testing.T) {
	if os.Getenv("KEFU_ROUTING_HELPER") == "1" {
		t.Skip("in the helper")
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			cfg := store.Config{DataDir: t.TempDir()}
			env := []string{"KEFU_ROUTING_DIR=" + cfg.DataDir}
			if backend == "postgres" {
				cfg = store.Config{DatabaseURL: testdb.PostgresURL(t)}
				env = []string{"KEFU_ROUTING_DB=" + cfg.DatabaseURL}
			}
			st, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			shop, err := st.CreateShop(ctx, kefu.Shop{Slug: "s", Name: "s", IdentitySecret: "x"})
			if err != nil {
				t.Fatal(err)
			}
			const cap = 2
			var agents []kefu.Agent
			for i := 0; i < 3; i++ {
				a, err := st.CreateAgent(ctx, kefu.Agent{ShopID: shop.ID, Username: fmt.Sprint("a", i), Name: fmt.Sprint("a", i),
					Role: kefu.RoleAgent, PasswordHash: "-", MaxConcurrent: cap})
				if err != nil {
					t.Fatal(err)
				}
				agents = append(agents, a)
			}
			var ids []string
			for i := 0; i < 12; i++ {
				ids = append(ids, fmt.Sprintf("v_kill_buyer%02d", i))
			}
			// This process's own connections end before the helper starts, so
			// that every connection left after the kill is the helper's.
			st.Close()
			cmd := exec.Command(os.Args[0], "-test.run", "^TestRoutingHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), append(env, "KEFU_ROUTING_HELPER=1", "KEFU_ROUTING_CHURN=1",
				fmt.Sprint("KEFU_ROUTING_SHOP=", shop.ID), "KEFU_ROUTING_BUYERS="+strings.Join(ids, ","))...)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			for sent := 0; sent < 60 && lines.Scan(); {
				if lines.Text() == "sent" {
					sent++
				}
			}
			cmd.Process.Kill() // SIGKILL, mid-way through whatever it was doing
			cmd.Wait()
			if backend == "postgres" {
				// A transaction the killed process had sent whole may still
				// commit on the server: wait until its connections are gone,
				// so what is read below is what will stay.
				endOtherBackends(t, cfg.DatabaseURL)
			}
			if st, err = store.Open(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			defer st.Close()

			list, err := st.ListConversations(ctx, shop.ID, kefu.ConversationFilter{Limit: kefu.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) < 12 {
				t.Fatalf("only %d conversations before the kill", len(list))
			}
			held := map[int64]int{}
			for _, c := range list {
				if c.Status == kefu.StatusAssigned {
					held[c.AgentID]++
				}
			}
			for id, n := range held {
				if n > cap {
					t.Errorf("after the kill agent %d holds %d conversations, cap %d", id, n, cap)
				}
			}
			checkLog(t, st, shop.ID, list)

			// A new process: the agents come online and take exactly what is free.
			svc := conversation.New(st, conversation.NewMemoryPresence(), conversation.NewMemoryBroker(), nil)
			for _, a := range agents {
				svc.AgentConnected(ctx, a)
			}
			line, err := st.Waiting(ctx, shop.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range agents {
				n, err := st.ActiveConversations(ctx, shop.ID, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n > cap || (n < cap && len(line) > 0) {
					t.Errorf("after the restart agent %d holds %d (cap %d) with %d waiting", a.ID, n, cap, len(line))
				}
			}
		})
	}
}

// checkLog holds the event log to what is stored: a message event for every
// message, one assignment event for every assigned conversation, to its agent.
func checkLog(t *testing.T, st *store.Store, shopID int64, convs []kefu.ConversationSummary) {
	t.Helper()
	ctx := context.Background()
	msgEvents := map[int64]int{}    // by conversation
	assignedTo := map[int64]int64{} // last assignment, by conversation
	for after := int64(0); ; {
		page, err := st.Events(ctx, shopID, after, kefu.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			switch e.Type {
			case kefu.EventMessage:
				msgEvents[e.ConversationID]++
			case kefu.EventAssigned:
				assignedTo[e.ConversationID] = e.AgentID
			}
		}
		after = page[len(page)-1].ID
	}
	for _, c := range convs {
		if int64(msgEvents[c.ID]) != c.LastSeq {
			t.Errorf("conversation %d holds %d messages and %d message events", c.ID, c.LastSeq, msgEvents[c.ID])
		}
		if c.Status == kefu.StatusAssigned && assignedTo[c.ID] != c.AgentID {
			t.Errorf("conversation %d is held by agent %d, its last assignment event names %d", c.ID, c.AgentID, assignedTo[c.ID])
		}
	}
}

// endOtherBackends terminates every other connection to the database at url
// and waits until each has ended (PostgreSQL 14+).
func endOtherBackends(t *testing.T, url string) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatalf("end the killed process's connections: %v", err)
	}
}
