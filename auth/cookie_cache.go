package auth

import (
	"sync"
	"time"
)

// verifiedCookies remembers, for a short while, session cookie values whose signature was
// checked, and the session id each holds. Checking a cookie (an HMAC and a JSON decode) is the
// largest part of serving a kept page; a person's browser sends the same value with every
// request. A value is only ever trusted because the full check passed on this process; it is
// forgotten after verifiedCookieTTL, so a cookie outlives its MaxAge by at most that long (the
// session's own idle and absolute expiry are checked in the store on every request regardless).
type verifiedCookies struct {
	mu      sync.Mutex
	entries map[string]verifiedCookie
}

type verifiedCookie struct {
	id    string
	until time.Time
}

const (
	verifiedCookieTTL = time.Minute
	// verifiedCookieMax bounds the memory: past it the cache starts again empty.
	verifiedCookieMax = 20000
)

func (v *verifiedCookies) get(value string, now time.Time) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.entries[value]
	if !ok || now.After(e.until) {
		return "", false
	}
	return e.id, true
}

func (v *verifiedCookies) put(value, id string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.entries == nil || len(v.entries) >= verifiedCookieMax {
		v.entries = map[string]verifiedCookie{}
	}
	v.entries[value] = verifiedCookie{id: id, until: now.Add(verifiedCookieTTL)}
}
