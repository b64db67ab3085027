package auth

import (
	"testing"
	"time"
)

func TestVerifiedCookiesForgetAfterTheirTime(t *testing.T) {
	var v verifiedCookies
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if _, ok := v.get("cookie", now); ok {
		t.Fatal("an empty cache knows a cookie")
	}
	v.put("cookie", "session-1", now)
	if id, ok := v.get("cookie", now.Add(verifiedCookieTTL)); !ok || id != "session-1" {
		t.Fatalf("within its minute the cookie gives %q, %v", id, ok)
	}
	if _, ok := v.get("cookie", now.Add(verifiedCookieTTL+time.Nanosecond)); ok {
		t.Fatal("a cookie is trusted past its minute without being checked again")
	}
	if _, ok := v.get("cookie-altered", now); ok {
		t.Fatal("another value is trusted")
	}
}

func TestVerifiedCookiesStayBounded(t *testing.T) {
	var v verifiedCookies
	now := time.Now()
	for i := range verifiedCookieMax + 10 {
		v.put(string(rune('a'+i%26))+time.Duration(i).String(), "s", now)
	}
	if n := len(v.entries); n > verifiedCookieMax {
		t.Fatalf("the cache holds %d values, more than %d", n, verifiedCookieMax)
	}
}
