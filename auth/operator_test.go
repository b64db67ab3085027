package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
)

// withLogger sends the Authenticator's log to buf.
func withLogger(buf *syncBuffer) harnessOption {
	return func(c *auth.Config, _ *harness) { c.Logger = slog.New(slog.NewJSONHandler(buf, nil)) }
}

// profileOnlyInUserInfo makes devidp's ID tokens carry no name, like generic providers that
// tell names only at userinfo.
func profileOnlyInUserInfo(_ devidp.Persona, claims map[string]any) {
	delete(claims, "name")
	delete(claims, "preferred_username")
}

// TestNamesComeFromUserInfoWhenTheIDTokenHasNone: a provider that keeps names out of the ID
// token still gives people their names, from userinfo; the identity stays tid/oid.
func TestNamesComeFromUserInfoWhenTheIDTokenHasNone(t *testing.T) {
	h := newHarness(t)
	h.idp.SetTokenHook(profileOnlyInUserInfo)
	status, body := h.signIn(newBrowser(t), "integration-registrar", "/")
	want := "name=Rita Registrar roles=[Registrar] teams=[Integration] key=" + devidp.TenantID + "/a0000000-0000-4000-8000-000000000002"
	if status != http.StatusOK || !strings.Contains(body, want) {
		t.Fatalf("status %d, body %q, want %q", status, body, want)
	}
}

// TestNameClaimSetting: PORTAL_OIDC_NAME_CLAIM's claim names the person when present.
func TestNameClaimSetting(t *testing.T) {
	h := newHarness(t, func(c *auth.Config, _ *harness) { c.Claims.Name = "display_name" })
	h.idp.SetTokenHook(func(_ devidp.Persona, claims map[string]any) { claims["display_name"] = "Rita R. (Integration)" })
	if _, body := h.signIn(newBrowser(t), "integration-registrar", "/"); !strings.Contains(body, "name=Rita R. (Integration) ") {
		t.Fatalf("body %q", body)
	}
}

// TestUserInfoOfAnotherSubjectIsIgnored: userinfo answers about the access token's subject;
// when that is not the ID token's, nothing of it is used, and the log says why.
func TestUserInfoOfAnotherSubjectIsIgnored(t *testing.T) {
	var logs syncBuffer
	h := newHarness(t, withLogger(&logs))
	h.idp.SetTokenHook(func(p devidp.Persona, claims map[string]any) {
		profileOnlyInUserInfo(p, claims)
		claims["sub"] = "someone-else"
	})
	if _, body := h.signIn(newBrowser(t), "integration-registrar", "/"); !strings.Contains(body, "name=Signed-in user ") {
		t.Fatalf("body %q", body)
	}
	for _, want := range []string{"another subject", "PORTAL_OIDC_NAME_CLAIM"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// signOut posts to the sign-out path and returns where the portal sends the browser.
func (h *harness) signOut(c *http.Client) *url.URL {
	h.t.Helper()
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Post(h.portal.URL+auth.SignOutPath, "application/x-www-form-urlencoded", nil)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return loc
}

// TestSignOutNamesTheApplicationAndThePerson: the provider's sign-out gets client_id and the
// sign-in's ID token as id_token_hint, and (checking both) sends the browser back.
func TestSignOutNamesTheApplicationAndThePerson(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	h.signIn(c, "admin", "/")
	loc := h.signOut(c)
	q := loc.Query()
	if q.Get("client_id") != testClientID || q.Get("post_logout_redirect_uri") != h.portal.URL+auth.SignedOutPath {
		t.Fatalf("sign-out URL %s", loc)
	}
	parts := strings.Split(q.Get("id_token_hint"), ".")
	if len(parts) != 3 {
		t.Fatalf("id_token_hint %q is not a JWT", q.Get("id_token_hint"))
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Aud string `json:"aud"`
		Oid string `json:"oid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Aud != testClientID || claims.Oid != "a0000000-0000-4000-8000-000000000001" {
		t.Fatalf("id_token_hint claims %s", payload)
	}
	resp, err := c.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.String() != h.portal.URL+auth.SignedOutPath {
		t.Fatalf("the provider sent the browser to %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	// The hint is used once: a second sign-out has none.
	if q := h.signOut(c).Query(); q.Get("id_token_hint") != "" || q.Get("client_id") != testClientID {
		t.Errorf("second sign-out: %v", q)
	}
}

// TestSignOutWithALargeIDTokenNamesTheApplicationOnly: an ID token too large for a cookie is
// not kept; sign-out still names the application.
func TestSignOutWithALargeIDTokenNamesTheApplicationOnly(t *testing.T) {
	h := newHarness(t)
	h.idp.SetTokenHook(func(_ devidp.Persona, claims map[string]any) {
		var groups []string
		for i := range 200 {
			groups = append(groups, fmt.Sprintf("%08x-0000-4000-8000-%012x", i*7919, i*104729))
		}
		claims["groups"] = groups
	})
	c := newBrowser(t)
	h.signIn(c, "admin", "/")
	u, _ := url.Parse(h.portal.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if len(ck.Name)+len(ck.Value) > 4000 {
			t.Errorf("cookie %s has %d bytes", ck.Name, len(ck.Value))
		}
	}
	if q := h.signOut(c).Query(); q.Get("id_token_hint") != "" || q.Get("client_id") != testClientID {
		t.Errorf("sign-out: %v", q)
	}
}

// TestSignOutNotCompleted: a browser sent to the provider that comes back without passing the
// signed-out page is reported once, with what to register; one that passes it is not.
func TestSignOutNotCompleted(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	h.signIn(c, "admin", "/")
	h.signOut(c) // the browser never follows to the provider
	check := func() (string, bool) {
		req := httptest.NewRequest("GET", "/auth/signin", nil)
		u, _ := url.Parse(h.portal.URL)
		for _, ck := range c.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		msg, ok := h.a.SignOutNotCompleted(rec, req)
		c.Jar.SetCookies(u, rec.Result().Cookies())
		return msg, ok
	}
	msg, ok := check()
	if !ok || !strings.Contains(msg, "register "+h.portal.URL+auth.SignedOutPath) || !strings.Contains(msg, testClientID) {
		t.Fatalf("not reported: %v %q", ok, msg)
	}
	if _, again := check(); again {
		t.Error("reported twice")
	}

	h.signIn(c, "admin", "/")
	loc := h.signOut(c)
	if resp, err := c.Get(loc.String()); err == nil {
		resp.Body.Close()
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", auth.SignedOutPath, nil)
	u, _ := url.Parse(h.portal.URL)
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	h.a.SignedOut(rec, req)
	c.Jar.SetCookies(u, rec.Result().Cookies())
	if _, ok := check(); ok {
		t.Error("a completed sign-out was reported")
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
