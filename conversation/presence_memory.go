package conversation

import (
	"context"
	"sync"

	"github.com/kefu/kefu"
)

// MemoryPresence is Presence for one process: it sees only the sockets of
// this process, and forgets everything when the process ends, which is right
// for it (every socket it counted ended too).
type MemoryPresence struct {
	mu     sync.Mutex
	agents map[int64]*agentPresence // by agent id (ids are unique across shops)
}

var _ Presence = (*MemoryPresence)(nil)

type agentPresence struct {
	shopID  int64
	wanted  kefu.Presence // what the agent chose; effective only while a socket is open
	sockets int
}

func (p *agentPresence) effective() kefu.Presence {
	if p.sockets == 0 {
		return kefu.PresenceOffline
	}
	return p.wanted
}

// NewMemoryPresence returns an empty MemoryPresence.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{agents: map[int64]*agentPresence{}}
}

// agent returns the agent's record. p.mu is held.
func (m *MemoryPresence) agent(shopID, agentID int64) *agentPresence {
	a := m.agents[agentID]
	if a == nil {
		a = &agentPresence{shopID: shopID, wanted: kefu.PresenceOnline}
		m.agents[agentID] = a
	}
	return a
}

func (m *MemoryPresence) Connect(_ context.Context, a kefu.Agent) (kefu.Presence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agent(a.ShopID, a.ID)
	p.sockets++
	return p.effective(), nil
}

func (m *MemoryPresence) Disconnect(_ context.Context, a kefu.Agent) (kefu.Presence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agent(a.ShopID, a.ID)
	if p.sockets > 0 {
		p.sockets--
	}
	return p.effective(), nil
}

func (m *MemoryPresence) Choose(_ context.Context, a kefu.Agent, presence kefu.Presence) (kefu.Presence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agent(a.ShopID, a.ID)
	p.wanted = presence
	return p.effective(), nil
}

func (m *MemoryPresence) Effective(shopID, agentID int64) kefu.Presence {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.agents[agentID]; p != nil && p.shopID == shopID {
		return p.effective()
	}
	return kefu.PresenceOffline
}
