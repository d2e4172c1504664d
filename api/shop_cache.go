package api

import (
	"context"
	"sync"
	"time"

	"github.com/kefu/kefu"
)

// shopCacheTTL is how long a shop (its origins and identity secret) is served
// from memory. Widget sessions and buyer sockets read the shop on every
// connect; a reconnect storm would otherwise read it thousands of times a
// second. A change made on this node is seen at once; on other nodes within
// the TTL.
const shopCacheTTL = 30 * time.Second

type shopCache struct {
	store Store
	now   func() time.Time

	mu     sync.Mutex
	byID   map[int64]cachedShop
	bySlug map[string]int64
}

type cachedShop struct {
	shop    kefu.Shop
	fetched time.Time
}

func newShopCache(store Store, now func() time.Time) *shopCache {
	return &shopCache{store: store, now: now, byID: map[int64]cachedShop{}, bySlug: map[string]int64{}}
}

// shop returns the shop with id, from memory when fresh.
func (c *shopCache) shop(ctx context.Context, id int64) (kefu.Shop, error) {
	if s, ok := c.fresh(id); ok {
		return s, nil
	}
	s, err := c.store.Shop(ctx, id)
	if err == nil {
		c.put(s)
	}
	return s, err
}

// shopBySlug returns the shop with slug, from memory when fresh.
func (c *shopCache) shopBySlug(ctx context.Context, slug string) (kefu.Shop, error) {
	c.mu.Lock()
	id, ok := c.bySlug[slug]
	c.mu.Unlock()
	if ok {
		if s, ok := c.fresh(id); ok {
			return s, nil
		}
	}
	s, err := c.store.ShopBySlug(ctx, slug)
	if err == nil {
		c.put(s)
	}
	return s, err
}

// forget drops a shop this node just changed.
func (c *shopCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, id)
}

func (c *shopCache) fresh(id int64) (kefu.Shop, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok || c.now().Sub(e.fetched) >= shopCacheTTL {
		return kefu.Shop{}, false
	}
	return e.shop, true
}

func (c *shopCache) put(s kefu.Shop) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID[s.ID] = cachedShop{shop: s, fetched: c.now()}
	c.bySlug[s.Slug] = s.ID
}
