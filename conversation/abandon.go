package conversation

import (
	"context"
	"sync"
	"time"

	"github.com/kefu/kefu"
)

// AbandonGrace is how long a waiting buyer may have no widget open before
// they count as having left the line (abandoned): a reload or a network
// blip is shorter.
const AbandonGrace = 60 * time.Second

// buyerSockets counts each buyer's open widget sockets in this process and
// remembers when the last one of a buyer closed. It is a cache: lost at a
// restart, it only misses counting a buyer who left meanwhile.
type buyerSockets struct {
	mu   sync.Mutex
	open map[kefu.Buyer]int
	gone map[kefu.Buyer]time.Time
}

func newBuyerSockets() *buyerSockets {
	return &buyerSockets{open: map[kefu.Buyer]int{}, gone: map[kefu.Buyer]time.Time{}}
}

// BuyerConnected counts a buyer's widget socket.
func (s *Service) BuyerConnected(b kefu.Buyer) {
	k := kefu.Buyer{ID: b.ID, ShopID: b.ShopID}
	s.buyers.mu.Lock()
	s.buyers.open[k]++
	delete(s.buyers.gone, k)
	s.buyers.mu.Unlock()
}

// BuyerDisconnected uncounts a buyer's widget socket; with the last one
// closed, the buyer may be leaving the line.
func (s *Service) BuyerDisconnected(b kefu.Buyer) {
	k := kefu.Buyer{ID: b.ID, ShopID: b.ShopID}
	s.buyers.mu.Lock()
	if s.buyers.open[k]--; s.buyers.open[k] <= 0 {
		delete(s.buyers.open, k)
		s.buyers.gone[k] = s.now()
	}
	s.buyers.mu.Unlock()
}

// countAbandoned records, for each buyer gone for AbandonGrace whose
// conversation still waits in line, that they left it (EventAbandoned, once
// per conversation). The conversation stays in line: what they wrote is
// answered like a left message.
func (s *Service) countAbandoned(ctx context.Context, now time.Time) {
	var left []kefu.Buyer
	s.buyers.mu.Lock()
	for b, at := range s.buyers.gone {
		if now.Sub(at) >= AbandonGrace {
			left = append(left, b)
			delete(s.buyers.gone, b)
		}
	}
	s.buyers.mu.Unlock()
	for _, b := range left {
		if _, err := s.store.Abandon(ctx, b.ShopID, b.ID, s.committed(nil)); err != nil {
			s.log.Error("count an abandoned wait", "buyer", b.ID, "err", err)
		}
	}
}
