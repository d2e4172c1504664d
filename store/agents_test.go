package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu/kefu"
)

// allowAll is an UpdateAgent rule that refuses nothing.
func allowAll(_, _ kefu.Agent) error { return nil }

func leftLine(name string) kefu.Message {
	return kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, SenderName: name, Text: name + " 已离开", Code: kefu.SystemRequeued}
}

func ptr[T any](v T) *T { return &v }

// An account change is one transaction: refused whole (by the rule, or
// because the shop would keep no enabled owner), or made with its events;
// disabling ends the agent's sessions and requeues what they hold.
func testUpdateAgent(t *testing.T, e env) {
	shop := mustShop(t, e, "a")
	other := mustShop(t, e, "b")
	alice, err := e.st.CreateAgent(e.ctx, kefu.Agent{ShopID: shop.ID, Username: "alice", Name: "Alice", Role: kefu.RoleOwner, PasswordHash: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	carol, err := e.st.CreateAgent(e.ctx, kefu.Agent{ShopID: shop.ID, Username: "carol", Name: "Carol", Role: kefu.RoleOwner, PasswordHash: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	bob := mustAgent(t, e, shop.ID, "bob")
	expires := start.Add(time.Hour)
	for _, s := range []struct {
		agent int64
		hash  string
	}{{alice.ID, "alice-1"}, {alice.ID, "alice-2"}, {bob.ID, "bob-1"}, {bob.ID, "bob-2"}} {
		if err := e.st.CreateSession(e.ctx, shop.ID, s.agent, s.hash, expires); err != nil {
			t.Fatal(err)
		}
	}
	by := kefu.ActorRef{Kind: kefu.SenderAgent, ID: alice.ID}
	update := func(id int64, ch kefu.AgentChange) (kefu.AgentUpdate, error) {
		return e.st.UpdateAgent(e.ctx, shop.ID, id, ch, by, allowAll, leftLine, leftLine, nil)
	}
	sessionLive := func(hash string) bool {
		_, _, err := e.st.SessionAgent(e.ctx, hash)
		return err == nil
	}

	// Bob holds a conversation.
	buyer := mustVisitor(t, e, shop.ID, "v_buyer0001")
	conv, _, err := e.st.OpenConversation(e.ctx, shop.ID, buyer.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	announce := func(name string) kefu.Message {
		return kefu.Message{Kind: kefu.KindSystem, Sender: kefu.SenderSystem, Text: name, Code: kefu.SystemAssigned}
	}
	if _, err := e.st.TakeConversation(e.ctx, shop.ID, conv.ID, bob.ID, announce, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("refused by the rule, nothing changes", func(t *testing.T) {
		no := errors.New("no")
		_, err := e.st.UpdateAgent(e.ctx, shop.ID, bob.ID, kefu.AgentChange{Name: ptr("Robert"), Disabled: ptr(true)}, by,
			func(_, before kefu.Agent) error {
				if before.ID != bob.ID || before.Name != "Bob" {
					t.Errorf("rule asked about %+v", before)
				}
				return no
			}, leftLine, leftLine, nil)
		if !errors.Is(err, no) {
			t.Fatalf("err = %v, want the rule's", err)
		}
		if got, _ := e.st.Agent(e.ctx, shop.ID, bob.ID); got.Name != "Bob" || got.Disabled || !sessionLive("bob-1") {
			t.Fatalf("after a refusal: %+v, session live %v", got, sessionLive("bob-1"))
		}
	})

	t.Run("another shop's agent", func(t *testing.T) {
		if _, err := e.st.UpdateAgent(e.ctx, other.ID, bob.ID, kefu.AgentChange{Name: ptr("X")}, by, allowAll, leftLine, leftLine, nil); !errors.Is(err, kefu.ErrNotFound) {
			t.Fatalf("err = %v, want not found", err)
		}
	})

	t.Run("a disabled owner does not count", func(t *testing.T) {
		if up, err := update(carol.ID, kefu.AgentChange{Disabled: ptr(true)}); err != nil || !up.Agent.Disabled {
			t.Fatalf("disable carol: %+v, %v", up, err)
		}
		for name, ch := range map[string]kefu.AgentChange{
			"demote the last enabled owner":  {Role: ptr(kefu.RoleSupervisor), Name: ptr("Al")},
			"disable the last enabled owner": {Disabled: ptr(true)},
		} {
			if _, err := update(alice.ID, ch); !errors.Is(err, kefu.ErrLastOwner) {
				t.Fatalf("%s: err = %v, want ErrLastOwner", name, err)
			}
		}
		if got, _ := e.st.Agent(e.ctx, shop.ID, alice.ID); got.Role != kefu.RoleOwner || got.Name != "Alice" || got.Disabled {
			t.Fatalf("alice after refusals: %+v", got)
		}
		// With carol enabled again, alice may step down.
		if _, err := update(carol.ID, kefu.AgentChange{Disabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if up, err := update(alice.ID, kefu.AgentChange{Role: ptr(kefu.RoleSupervisor)}); err != nil || up.Agent.Role != kefu.RoleSupervisor {
			t.Fatalf("demote alice beside carol: %+v, %v", up, err)
		}
		if _, err := update(alice.ID, kefu.AgentChange{Role: ptr(kefu.RoleOwner)}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a new password ends every session but the one kept", func(t *testing.T) {
		up, err := update(alice.ID, kefu.AgentChange{PasswordHash: ptr("new-hash"), KeepSession: "alice-1"})
		if err != nil || !slices.Equal(up.EndedSessions, []string{"alice-2"}) || !slices.Equal(up.Fields, []string{"password"}) {
			t.Fatalf("password: %+v, %v", up, err)
		}
		if !sessionLive("alice-1") || sessionLive("alice-2") {
			t.Fatalf("sessions after the password change: kept %v, ended %v", sessionLive("alice-1"), !sessionLive("alice-2"))
		}
		if got, _ := e.st.Agent(e.ctx, shop.ID, alice.ID); got.PasswordHash != "new-hash" {
			t.Fatalf("hash %q", got.PasswordHash)
		}
	})

	t.Run("what already is changes nothing", func(t *testing.T) {
		up, err := update(bob.ID, kefu.AgentChange{Name: ptr("Bob"), Role: ptr(kefu.RoleAgent), Disabled: ptr(false), MaxConcurrent: ptr(bob.MaxConcurrent)})
		if err != nil || len(up.Fields) != 0 || len(up.EndedSessions) != 0 {
			t.Fatalf("no-op: %+v, %v", up, err)
		}
	})

	var before int64
	if evs, err := e.st.Events(e.ctx, shop.ID, 0, 0); err == nil && len(evs) > 0 {
		before = evs[len(evs)-1].ID
	}
	t.Run("disable", func(t *testing.T) {
		var told []kefu.EventType
		up, err := e.st.UpdateAgent(e.ctx, shop.ID, bob.ID, kefu.AgentChange{Disabled: ptr(true), MaxConcurrent: ptr(7)}, by, allowAll, leftLine, leftLine,
			func(ch kefu.Change) { told = append(told, ch.Event.Type) })
		slices.Sort(up.EndedSessions)
		if err != nil || !up.Agent.Disabled || up.Agent.MaxConcurrent != 7 || !slices.Equal(up.EndedSessions, []string{"bob-1", "bob-2"}) ||
			!slices.Equal(up.Fields, []string{"max_concurrent", "disabled"}) {
			t.Fatalf("disable bob: %+v, %v", up, err)
		}
		if want := []kefu.EventType{kefu.EventAgentUpdated, kefu.EventAgentDisabled, kefu.EventMessage, kefu.EventRequeued}; !slices.Equal(told, want) {
			t.Fatalf("told %v, want %v", told, want)
		}
		got, err := e.st.Conversation(e.ctx, shop.ID, conv.ID)
		if err != nil || got.Status != kefu.StatusQueued || got.AgentID != 0 || got.Priority != kefu.PriorityReturned {
			t.Fatalf("bob's conversation: %+v, %v", got, err)
		}
		evs, err := e.st.Events(e.ctx, shop.ID, before, 0)
		if err != nil || len(evs) != 4 {
			t.Fatalf("events: %+v, %v", evs, err)
		}
		if u := evs[0]; u.AgentID != bob.ID || u.Actor != by || !slices.Equal(u.Data.Fields, []string{"max_concurrent"}) {
			t.Errorf("agent.updated: %+v", u)
		}
		if d := evs[1]; d.Type != kefu.EventAgentDisabled || d.AgentID != bob.ID || d.Actor != by {
			t.Errorf("agent.disabled: %+v", d)
		}
		if r := evs[3]; r.ConversationID != conv.ID || r.AgentID != bob.ID || r.Data.Reason != "agent_disabled" || r.Actor != by {
			t.Errorf("conversation.requeued: %+v", r)
		}
		// A session made as he was disabled (a sign-in racing it) admits nobody.
		if err := e.st.CreateSession(e.ctx, shop.ID, bob.ID, "bob-3", expires); err != nil {
			t.Fatal(err)
		}
		if sessionLive("bob-1") || sessionLive("bob-3") {
			t.Fatal("a disabled agent's session still admits them")
		}
		// Routing never gives him a conversation, whatever presence says.
		everyone := func(int64) kefu.Presence { return kefu.PresenceOnline }
		var weighed []int64
		if _, err := e.st.RouteShop(e.ctx, shop.ID, everyone, 0, func(agents []kefu.AgentLoad, _ []kefu.Waiting) []kefu.Assignment {
			for _, a := range agents {
				weighed = append(weighed, a.ID)
			}
			return nil
		}, announce, nil); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(weighed, bob.ID) || !slices.Contains(weighed, alice.ID) {
			t.Fatalf("routing weighed agents %v; bob (%d) is disabled", weighed, bob.ID)
		}
		// Nor does he take one himself (a socket not yet closed answering a waiting buyer).
		if _, err := e.st.TakeConversation(e.ctx, shop.ID, conv.ID, bob.ID, announce, nil); !errors.Is(err, kefu.ErrForbidden) {
			t.Fatalf("a disabled agent takes a conversation: %v, want ErrForbidden", err)
		}
	})

	t.Run("enable", func(t *testing.T) {
		up, err := update(bob.ID, kefu.AgentChange{Disabled: ptr(false)})
		if err != nil || up.Agent.Disabled || !slices.Equal(up.Fields, []string{"disabled"}) {
			t.Fatalf("enable bob: %+v, %v", up, err)
		}
		evs, _ := e.st.Events(e.ctx, shop.ID, before, 0)
		if last := evs[len(evs)-1]; last.Type != kefu.EventAgentEnabled || last.AgentID != bob.ID {
			t.Fatalf("last event %+v, want agent.enabled", last)
		}
		if err := e.st.CreateSession(e.ctx, shop.ID, bob.ID, "bob-4", expires); err != nil || !sessionLive("bob-4") {
			t.Fatalf("a new session after enabling: %v", err)
		}
	})
}
