package store

import (
	"slices"
	"sync"
	"time"
)

// sessionCache keeps sessions this process read moments ago, so a busy person's requests do
// not each read the database: finding the session was the largest part of serving a list
// page. An entry lives for sessionCacheTTL at most, and never past the session's own expiry;
// this process drops it at once when it deletes, updates or touches the session, and another
// replica's sign-out takes effect here within sessionCacheTTL.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession // by id hash
}

type cachedSession struct {
	sess    Session
	expires time.Time // the earliest of: read + TTL, idle expiry, absolute expiry
}

// DefaultSessionCacheTTL is how long a read session is reused without reading it again.
const DefaultSessionCacheTTL = time.Second

// sessionCacheMax bounds the entries; past it the cache starts afresh.
const sessionCacheMax = 10000

func (c *sessionCache) get(hash string, now time.Time) (Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || !now.Before(e.expires) {
		return Session{}, false
	}
	s := e.sess
	s.Roles, s.Teams = slices.Clone(s.Roles), slices.Clone(s.Teams)
	return s, true
}

func (c *sessionCache) put(hash string, s Session, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= sessionCacheMax {
		c.m = make(map[string]cachedSession)
	}
	s.Roles, s.Teams = slices.Clone(s.Roles), slices.Clone(s.Teams)
	c.m[hash] = cachedSession{sess: s, expires: expires}
}

func (c *sessionCache) drop(hash string) {
	c.mu.Lock()
	delete(c.m, hash)
	c.mu.Unlock()
}

func (c *sessionCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
