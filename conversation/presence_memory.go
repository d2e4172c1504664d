package conversation

import (
	"context"
	"sync"
	"time"

	"github.com/kefu/kefu"
)

// MemoryPresence is Presence for one process: it sees only the sockets of
// this process, and forgets everything when the process ends, which is right
// for it (every socket it counted ended too).
type MemoryPresence struct {
	mu     sync.Mutex
	now    func() time.Time
	grace  time.Duration
	agents map[int64]*agentPresence // by agent id (ids are unique across shops)
}

var _ Presence = (*MemoryPresence)(nil)

type agentPresence struct {
	shopID     int64
	wanted     kefu.Presence // what the agent chose; effective only while present
	sockets    int
	leftAt     time.Time // when the last socket closed, while in grace; zero otherwise
	lastActive time.Time // when they last did something
	idleAway   bool      // away because idle, not by choice
}

// effective is what the agent's presence is: what they chose while a socket
// is open or they are in grace, offline after.
func (p *agentPresence) effective() kefu.Presence {
	if p.sockets == 0 && p.leftAt.IsZero() {
		return kefu.PresenceOffline
	}
	return p.wanted
}

// NewMemoryPresence returns an empty MemoryPresence with the default grace
// period (DefaultPresenceGrace).
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{now: time.Now, grace: DefaultPresenceGrace, agents: map[int64]*agentPresence{}}
}

// SetGrace changes how long a dropped agent keeps their conversations
// (tests that watch a departure in real time).
func (m *MemoryPresence) SetGrace(d time.Duration) {
	m.mu.Lock()
	m.grace = d
	m.mu.Unlock()
}

// SetClock makes presence read time from now (tests).
func (m *MemoryPresence) SetClock(now func() time.Time) {
	m.mu.Lock()
	m.now = now
	m.mu.Unlock()
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
	p.leftAt = time.Time{} // back within grace: nothing happened
	p.lastActive = m.now()
	return p.effective(), nil
}

func (m *MemoryPresence) Disconnect(_ context.Context, a kefu.Agent) (kefu.Presence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agent(a.ShopID, a.ID)
	if p.sockets > 0 {
		p.sockets--
		if p.sockets == 0 {
			p.leftAt = m.now()
		}
	}
	return p.effective(), nil
}

func (m *MemoryPresence) Choose(_ context.Context, a kefu.Agent, presence kefu.Presence) (kefu.Presence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agent(a.ShopID, a.ID)
	p.wanted = presence
	p.idleAway = false
	p.lastActive = m.now()
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

func (m *MemoryPresence) Routable(shopID, agentID int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agents[agentID]
	return p != nil && p.shopID == shopID && p.sockets > 0 && p.wanted == kefu.PresenceOnline
}

func (m *MemoryPresence) Departed(_ context.Context) ([]AgentRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []AgentRef
	for id, p := range m.agents {
		if !p.leftAt.IsZero() && p.sockets == 0 && now.Sub(p.leftAt) >= m.grace {
			p.leftAt = time.Time{}
			out = append(out, AgentRef{ShopID: p.shopID, AgentID: id})
		}
	}
	return out, nil
}

func (m *MemoryPresence) Expect(_ context.Context, a AgentRef) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agent(a.ShopID, a.AgentID)
	if p.sockets == 0 && p.leftAt.IsZero() {
		p.leftAt = m.now()
	}
	return nil
}

func (m *MemoryPresence) AnyOnline(shopID int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.agents {
		if p.shopID == shopID && p.sockets > 0 && p.wanted == kefu.PresenceOnline {
			return true
		}
	}
	return false
}

func (m *MemoryPresence) Active(shopID, agentID int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.agents[agentID]
	if p == nil || p.shopID != shopID {
		return false
	}
	p.lastActive = m.now()
	wasIdle := p.idleAway
	p.idleAway = false
	return wasIdle
}

func (m *MemoryPresence) IdleSince(shopID int64, before time.Time) []AgentRef {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []AgentRef
	for id, p := range m.agents {
		if p.shopID == shopID && p.sockets > 0 && p.wanted == kefu.PresenceOnline && p.lastActive.Before(before) {
			p.wanted, p.idleAway = kefu.PresenceAway, true
			out = append(out, AgentRef{ShopID: shopID, AgentID: id})
		}
	}
	return out
}
