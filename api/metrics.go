package api

import "errors"

// Metrics is told what the HTTP surface refuses (metrics.Metrics); nil in
// Config means nothing is counted.
type Metrics interface {
	// RateLimited counts a refusal by the named limit (buyer_messages, ...).
	RateLimited(limit string)
	// ConnectionRefused counts a socket refused for reason (unauthorized, ...).
	ConnectionRefused(reason string)
}

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) RateLimited(string)       {}
func (noMetrics) ConnectionRefused(string) {}

// Sockets returns how many buyer and agent sockets are open, for the
// metrics' gauge: read once per scrape, so one lock and one walk of the hub.
func (s *Server) Sockets() (buyers, agents int) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	for c := range s.hub.conns {
		if c.agentID == 0 {
			buyers++
		} else {
			agents++
		}
	}
	return buyers, agents
}

// refusalReason is the reason conn.start closed a socket with, for err.
func refusalReason(err error) string {
	switch {
	case errors.Is(err, errSocketUnauthorized):
		return "unauthorized"
	case errors.Is(err, errSocketAccountChanged):
		return "account_changed"
	}
	return "internal"
}
