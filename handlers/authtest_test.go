package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
)

// Test helpers for signed-in requests, shared by every handler test.

const (
	testClientID     = "portal-handlers-test"
	testClientSecret = "handlers-test-secret"
)

// testTeams maps devidp's groups to teams, as `portal dev` does.
var testTeams = map[string]string{devidp.GroupIntegration: "Integration", devidp.GroupFinance: "Finance"}

// testAuth starts a devidp on loopback and returns an Authenticator for a portal at base
// (e.g. "http://example.com", httptest.NewRequest's default host), with an in-memory store.
func testAuth(t testing.TB, base string) (*auth.Authenticator, *devidp.Provider, *auth.MemoryStore) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	idp, err := devidp.New("http://"+srv.Listener.Addr().String(), devidp.Options{Clients: []devidp.Client{{
		ID: testClientID, Secret: testClientSecret, Name: "Service Endpoint Portal",
		RedirectURIs: []string{base + auth.CallbackPath}, PostLogoutRedirectURIs: []string{base + auth.SignedOutPath},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	srv.Start()
	t.Cleanup(srv.Close)
	baseURL, _ := url.Parse(base)
	store := auth.NewMemoryStore()
	a, err := auth.New(context.Background(), auth.Config{Issuer: idp.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret,
		BaseURL: baseURL, SessionKey: bytes.Repeat([]byte{9}, 32), Sessions: store, TeamsByGroup: testTeams})
	if err != nil {
		t.Fatal(err)
	}
	return a, idp, store
}

// sessionCookie starts a session for id directly (no provider round trip) and returns its
// cookie: for tests that need a signed-in request but do not test sign-in itself.
func sessionCookie(t testing.TB, a *auth.Authenticator, id auth.Identity) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if _, err := a.StartSession(context.Background(), rec, id); err != nil {
		t.Fatal(err)
	}
	return rec.Result().Cookies()[0]
}

// Identities for direct sessions.
var (
	testAdmin      = auth.Identity{Key: "t/admin", Name: "Ada Admin", Roles: []auth.Role{auth.RoleAdmin}, Teams: []string{"Integration"}}
	testRegistrar  = auth.Identity{Key: "t/reg", Name: "Rita Registrar", Roles: []auth.Role{auth.RoleRegistrar}, Teams: []string{"Integration"}}
	testViewer     = auth.Identity{Key: "t/view", Name: "Victor Viewer", Roles: []auth.Role{auth.RoleViewer}, Teams: []string{"Integration"}}
	testNoRoleUser = auth.Identity{Key: "t/none", Name: "Nico Norole", Teams: []string{"Integration"}}
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// testPortal is the portal's handler on a loopback server, signing in through a real devidp.
type testPortal struct {
	URL      string
	srv      *Server
	auth     *auth.Authenticator
	idp      *devidp.Provider
	sessions *auth.MemoryStore
	logs     *syncBuffer
}

func newTestPortal(t *testing.T, mutate func(*Config)) *testPortal {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	a, idp, store := testAuth(t, base)
	logs := &syncBuffer{}
	cfg := Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), CookieKey: testKey, Auth: a,
		AccessContact: "the Integration Platform team (platform@contoso.example)"}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = s
	hs.Start()
	t.Cleanup(hs.Close)
	return &testPortal{URL: base, srv: s, auth: a, idp: idp, sessions: store, logs: logs}
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
func (p *testPortal) browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn signs c in as a devidp persona through the real flow and returns the callback's
// response with its body read.
func (p *testPortal) signIn(t *testing.T, c *http.Client, persona, returnTo string) (*http.Response, string) {
	t.Helper()
	follow := *c
	follow.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), p.URL) && req.URL.Path != auth.CallbackPath {
			return http.ErrUseLastResponse // stop once back on the portal after the callback
		}
		return nil
	}
	resp, err := devidp.SignIn(context.Background(), &follow, p.URL+auth.SignInPath+"?return="+url.QueryEscape(returnTo), persona)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// req sends a request with optional headers and returns the response with its body read.
func (p *testPortal) req(t *testing.T, c *http.Client, method, path string, body io.Reader, headers ...string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(method, p.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
