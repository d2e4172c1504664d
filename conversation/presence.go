package conversation

import (
	"context"
	"time"

	"github.com/kefu/kefu"
)

// Presence keeps which agents have a socket open and what each chose
// (online or away). An agent's effective presence is what they chose while
// at least one of their sockets is open, offline otherwise; several sockets
// (console tabs) are one presence. When the last socket closes the agent is
// in grace (DefaultPresenceGrace): still what they chose, so a dropped
// connection that comes back changes nothing, but given no new
// conversations; once grace ends without a socket they have departed.
//
// It is the one piece of routing state that lives outside the database: it
// changes with every socket and is worthless once its process is gone. So
// an implementation shared by several processes (Redis, later) must expire
// what a process stopped refreshing, and a dead process's agents time out;
// MemoryPresence lives and dies with its process.
type Presence interface {
	// Connect counts an open socket of the agent and returns their effective
	// presence after it.
	Connect(ctx context.Context, a kefu.Agent) (kefu.Presence, error)
	// Disconnect uncounts one, and returns their effective presence after it.
	Disconnect(ctx context.Context, a kefu.Agent) (kefu.Presence, error)
	// Choose records what the agent chose and returns their effective presence.
	Choose(ctx context.Context, a kefu.Agent, p kefu.Presence) (kefu.Presence, error)
	// Effective returns an agent's effective presence, from memory.
	Effective(shopID, agentID int64) kefu.Presence
	// Routable reports whether routing may give the agent a new
	// conversation: online with a socket open (not in grace). It is asked
	// inside routing decisions, so it answers from memory and never blocks.
	Routable(shopID, agentID int64) bool
	// AnyOnline reports whether any agent of the shop is online with a
	// socket open, from memory.
	AnyOnline(shopID int64) bool
	// Departed returns the agents whose grace ended since the last call,
	// once each: they are offline now.
	Departed(ctx context.Context) ([]AgentRef, error)
	// Active records that the agent did something (sent, typed, read,
	// chose); it reports whether they were away only because they had been
	// idle, so the caller brings them back online.
	Active(shopID, agentID int64) bool
	// IdleSince marks away, as idle, the online agents of the shop who did
	// nothing since before, and returns them.
	IdleSince(shopID int64, before time.Time) []AgentRef
	// Expect starts a grace period for an agent with no socket open (one
	// who holds conversations when kefu starts, or whose departure could
	// not be handled): unless they connect, they depart when it ends.
	Expect(ctx context.Context, a AgentRef) error
}

// AgentRef names an agent of a shop.
type AgentRef struct {
	ShopID, AgentID int64
}

// DefaultPresenceGrace is how long an agent whose last socket closed stays
// as they were: longer than the blip of a page reload or a network change.
const DefaultPresenceGrace = 30 * time.Second
