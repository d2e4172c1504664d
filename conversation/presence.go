package conversation

import (
	"context"

	"github.com/kefu/kefu"
)

// Presence keeps which agents have a socket open and what each chose
// (online or away). An agent's effective presence is what they chose while
// at least one of their sockets is open, offline otherwise; several sockets
// (console tabs) are one presence.
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
	// Effective returns an agent's effective presence. It is asked inside
	// routing decisions, so it answers from memory and never blocks.
	Effective(shopID, agentID int64) kefu.Presence
}
