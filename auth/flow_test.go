package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
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

const (
	testClientID     = "portal-test"
	testClientSecret = "test-client-secret-value"
)

// clock is a settable clock, starting at the real time so tokens from devidp verify.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// harness is a minimal portal (sign-in, callback, one protected page, sign-out) wired to a
// real devidp over loopback.
type harness struct {
	t        *testing.T
	idp      *devidp.Provider
	a        *auth.Authenticator
	sessions *auth.MemoryStore
	clock    *clock
	portal   *httptest.Server
	// lastErr is the error of the last callback, for assertions.
	mu      sync.Mutex
	lastErr error
}

type harnessOption func(*auth.Config, *harness)

func multiTenant(allowed ...string) harnessOption {
	return func(c *auth.Config, h *harness) {
		c.Issuer = h.idp.MultiTenantIssuer()
		c.AllowedTenants = allowed
	}
}

func newIDP(t testing.TB, portalBase string) (*devidp.Provider, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	idp, err := devidp.New("http://"+srv.Listener.Addr().String(), devidp.Options{Clients: []devidp.Client{{
		ID: testClientID, Secret: testClientSecret,
		RedirectURIs:           []string{portalBase + auth.CallbackPath},
		PostLogoutRedirectURIs: []string{portalBase + auth.SignedOutPath},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	srv.Start()
	t.Cleanup(srv.Close)
	return idp, srv
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, sessions: auth.NewMemoryStore(), clock: &clock{}}
	h.portal = httptest.NewUnstartedServer(nil)
	base := "http://" + h.portal.Listener.Addr().String()
	h.idp, _ = newIDP(t, base)
	baseURL, _ := url.Parse(base)
	cfg := auth.Config{
		Issuer: h.idp.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret, BaseURL: baseURL,
		SessionKey: []byte("0123456789abcdef0123456789abcdef"), Sessions: h.sessions, Now: h.clock.Now,
		TeamsByGroup: map[string]string{devidp.GroupIntegration: "Integration", devidp.GroupFinance: "Finance"},
		IdleTimeout:  time.Hour, MaxAge: 4 * time.Hour,
	}
	for _, o := range opts {
		o(&cfg, h)
	}
	a, err := auth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+auth.SignInPath, func(w http.ResponseWriter, r *http.Request) {
		u, err := a.StartSignIn(w, r.URL.Query().Get("return"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
	})
	mux.HandleFunc("GET "+auth.CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		_, ret, err := a.FinishSignIn(w, r)
		h.mu.Lock()
		h.lastErr = err
		h.mu.Unlock()
		if err != nil {
			http.Error(w, "sign-in failed", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, ret, http.StatusFound)
	})
	mux.HandleFunc("POST "+auth.SignOutPath, func(w http.ResponseWriter, r *http.Request) {
		u, err := a.SignOut(w, r)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		http.Redirect(w, r, u, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s, err := a.Authenticate(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := s.Identity()
		fmt.Fprintf(w, "path=%s name=%s roles=%v teams=%v key=%s", r.URL.Path, id.Name, id.Roles, id.Teams, id.Key)
	})
	h.portal.Config.Handler = mux
	h.portal.Start()
	t.Cleanup(h.portal.Close)
	return h
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func (h *harness) callbackErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastErr
}

func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// signIn signs in as persona and returns the final status and body.
func (h *harness) signIn(c *http.Client, persona, returnTo string) (int, string) {
	resp, err := devidp.SignIn(context.Background(), c, h.portal.URL+auth.SignInPath+"?return="+url.QueryEscape(returnTo), persona)
	if err != nil {
		h.t.Errorf("sign in as %s: %v", persona, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get fetches a portal path (or an absolute URL). Errors are reported with t.Errorf, not
// Fatal, so it can be called from subtests.
func (h *harness) get(c *http.Client, path string) (int, string) {
	if !strings.HasPrefix(path, "http") {
		path = h.portal.URL + path
	}
	resp, err := c.Get(path)
	if err != nil {
		h.t.Errorf("GET %s: %v", path, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) sessionCookie(c *http.Client) *http.Cookie {
	u, _ := url.Parse(h.portal.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == h.a.SessionCookieName() {
			return ck
		}
	}
	return nil
}

func TestSignInAsPersonaLandsOnReturnPathWithIdentity(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	status, body := h.signIn(c, "integration-registrar", "/endpoints?env=prod")
	if status != http.StatusOK {
		t.Fatalf("status %d, body %q, callback error %v", status, body, h.callbackErr())
	}
	want := "path=/endpoints name=Rita Registrar roles=[Registrar] teams=[Integration] key=" + devidp.TenantID + "/a0000000-0000-4000-8000-000000000002"
	if body != want {
		t.Errorf("got  %q\nwant %q", body, want)
	}
	if h.sessions.Len() != 1 {
		t.Errorf("store holds %d sessions, want 1", h.sessions.Len())
	}
}

func TestEachPersonaGetsItsRolesAndTeams(t *testing.T) {
	h := newHarness(t)
	cases := map[string]string{
		"admin":                 "name=Ada Admin roles=[Admin] teams=[Integration]",
		"integration-viewer":    "name=Victor Viewer roles=[Viewer] teams=[Integration]",
		"finance-registrar":     "name=Fiona Finance roles=[Registrar] teams=[Finance]",
		"no-role":               "name=Nico Norole roles=[] teams=[Integration]",
		"integration-registrar": "name=Rita Registrar roles=[Registrar] teams=[Integration]",
	}
	for persona, want := range cases {
		t.Run(persona, func(t *testing.T) {
			c := newBrowser(t)
			status, body := h.signIn(c, persona, "/")
			if status != http.StatusOK || !strings.Contains(body, want) {
				t.Fatalf("status %d body %q, want it to contain %q (callback error %v)", status, body, want, h.callbackErr())
			}
		})
	}
}

func TestGroupsOverageRefusesWithTypedError(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	status, _ := h.signIn(c, "groups-overage", "/")
	var overage *auth.GroupsOverageError
	if status != http.StatusUnauthorized || !errors.As(h.callbackErr(), &overage) {
		t.Fatalf("status %d, error %v; want a GroupsOverageError", status, h.callbackErr())
	}
	if overage.Username != "olga.overage@contoso.example" {
		t.Errorf("username %q", overage.Username)
	}
	if h.sessions.Len() != 0 {
		t.Errorf("a session was created for an overage token")
	}
}

func TestGroupsOverageDoesNotMatterWhenTeamsComeFromRoles(t *testing.T) {
	h := newHarness(t, func(c *auth.Config, _ *harness) {
		c.TeamsByGroup = nil
		c.TeamsByRole = map[string]string{"Registrar": "Registrars"}
	})
	c := newBrowser(t)
	status, body := h.signIn(c, "groups-overage", "/")
	if status != http.StatusOK || !strings.Contains(body, "teams=[Registrars]") {
		t.Fatalf("status %d body %q err %v", status, body, h.callbackErr())
	}
}

func TestRefusedTokens(t *testing.T) {
	cases := []struct {
		name string
		opts []harnessOption
		hook func(devidp.Persona, map[string]any)
		want string // in the logged cause
	}{
		{name: "wrong nonce", hook: func(_ devidp.Persona, c map[string]any) { c["nonce"] = "someone-elses-nonce" }, want: "nonce"},
		{name: "missing nonce", hook: func(_ devidp.Persona, c map[string]any) { delete(c, "nonce") }, want: "nonce"},
		{name: "wrong audience", hook: func(_ devidp.Persona, c map[string]any) { c["aud"] = "another-app" }, want: "audience"},
		{name: "expired", hook: func(_ devidp.Persona, c map[string]any) {
			c["exp"] = time.Now().Add(-10 * time.Minute).Unix()
			c["iat"] = time.Now().Add(-70 * time.Minute).Unix()
		}, want: "expired"},
		{name: "other issuer, single tenant", hook: func(_ devidp.Persona, c map[string]any) {
			c["iss"] = strings.Replace(c["iss"].(string), devidp.TenantID, devidp.OtherTenantID, 1)
			c["tid"] = devidp.OtherTenantID
		}, want: "different provider"},
		{name: "tenant not allowed, single tenant with allowed list", opts: []harnessOption{func(c *auth.Config, _ *harness) {
			c.AllowedTenants = []string{devidp.OtherTenantID}
		}}, want: "not in the allowed list"},
		{name: "tenant not allowed, multi-tenant", opts: []harnessOption{multiTenant(devidp.TenantID)},
			hook: func(_ devidp.Persona, c map[string]any) {
				c["iss"] = strings.Replace(c["iss"].(string), devidp.TenantID, devidp.OtherTenantID, 1)
				c["tid"] = devidp.OtherTenantID
			}, want: "not in the allowed list"},
		{name: "multi-tenant iss names another tenant than tid", opts: []harnessOption{multiTenant(devidp.TenantID, devidp.OtherTenantID)},
			hook: func(_ devidp.Persona, c map[string]any) {
				c["iss"] = strings.Replace(c["iss"].(string), devidp.TenantID, devidp.OtherTenantID, 1)
			}, want: "does not name its tenant"},
		{name: "multi-tenant iss from another host", opts: []harnessOption{multiTenant(devidp.TenantID)},
			hook: func(_ devidp.Persona, c map[string]any) {
				c["iss"] = "https://login.evil.example/" + devidp.TenantID + "/v2.0"
			}, want: "pattern"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			h.idp.SetTokenHook(tc.hook)
			c := newBrowser(t)
			status, _ := h.signIn(c, "admin", "/")
			err := h.callbackErr()
			var se *auth.SignInError
			if status != http.StatusUnauthorized || !errors.As(err, &se) {
				t.Fatalf("status %d, err %v: want a refused sign-in", status, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if se.Message == "" {
				t.Error("no message for the person")
			}
			if h.sessions.Len() != 0 {
				t.Error("a session was created")
			}
			if code, _ := h.get(c, "/"); code != http.StatusUnauthorized {
				t.Errorf("protected page answered %d after a refused sign-in", code)
			}
		})
	}
}

func TestMultiTenantAllowedTenantSignsIn(t *testing.T) {
	h := newHarness(t, multiTenant(devidp.TenantID))
	c := newBrowser(t)
	if status, body := h.signIn(c, "admin", "/"); status != http.StatusOK || !strings.Contains(body, "Ada Admin") {
		t.Fatalf("status %d body %q err %v", status, body, h.callbackErr())
	}
}

func TestMultiTenantWithoutAllowedTenantsRefusesToStart(t *testing.T) {
	idp, _ := newIDP(t, "http://127.0.0.1:1")
	base, _ := url.Parse("http://127.0.0.1:1")
	_, err := auth.New(context.Background(), auth.Config{Issuer: idp.MultiTenantIssuer(), ClientID: "x", BaseURL: base,
		SessionKey: make([]byte, 32), Sessions: auth.NewMemoryStore()})
	if err == nil || !strings.Contains(err.Error(), "multi-tenant") {
		t.Fatalf("err = %v, want a multi-tenant configuration error", err)
	}
}

func TestCallbackRefusals(t *testing.T) {
	h := newHarness(t)
	t.Run("state mismatch", func(t *testing.T) {
		c := newBrowser(t)
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == auth.CallbackPath {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, err := devidp.SignIn(context.Background(), c, h.portal.URL+auth.SignInPath, "admin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		// Same cookie (the name uses the state's first characters), different state.
		q.Set("state", q.Get("state")[:12]+strings.Repeat("A", 31))
		loc.RawQuery = q.Encode()
		if code, _ := h.get(c, loc.RequestURI()); code != http.StatusUnauthorized {
			t.Fatalf("status %d", code)
		}
		if err := h.callbackErr(); err == nil || !strings.Contains(err.Error(), "state does not match") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no sign-in cookie (callback in another browser)", func(t *testing.T) {
		c := newBrowser(t)
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == auth.CallbackPath {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, err := devidp.SignIn(context.Background(), c, h.portal.URL+auth.SignInPath, "admin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		other := newBrowser(t)
		if code, _ := h.get(other, resp.Header.Get("Location")); code != http.StatusUnauthorized {
			t.Fatalf("status %d", code)
		}
		if err := h.callbackErr(); err == nil || !strings.Contains(err.Error(), "no sign-in cookie for this state") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("provider error", func(t *testing.T) {
		c := newBrowser(t)
		resp, err := c.Get(h.portal.URL + auth.SignInPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = c.PostForm(resp.Request.URL.String(), url.Values{"cancel": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(fmt.Sprint(h.callbackErr()), `"access_denied"`) {
			t.Fatalf("status %d err %v", resp.StatusCode, h.callbackErr())
		}
	})
	t.Run("code replayed", func(t *testing.T) {
		c := newBrowser(t)
		var callback string
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == auth.CallbackPath {
				callback = req.URL.RequestURI()
			}
			return nil
		}
		if status, _ := h.signIn(c, "admin", "/"); status != http.StatusOK {
			t.Fatalf("first sign-in: %d", status)
		}
		// The flow cookie is gone and the code is used: replaying the callback must fail.
		if code, _ := h.get(c, callback); code != http.StatusUnauthorized {
			t.Fatalf("replayed callback answered %d", code)
		}
	})
}

func TestNewSessionIDAtEverySignIn(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	h.signIn(c, "admin", "/")
	first := h.sessionCookie(c)
	if first == nil {
		t.Fatal("no session cookie after sign-in")
	}
	h.signIn(c, "integration-viewer", "/")
	second := h.sessionCookie(c)
	if second == nil || second.Value == first.Value {
		t.Fatal("the session cookie did not change at the second sign-in")
	}
	if h.sessions.Len() != 1 {
		t.Errorf("store holds %d sessions; the first should have ended", h.sessions.Len())
	}
	// The first cookie no longer works.
	old := newBrowser(t)
	u, _ := url.Parse(h.portal.URL)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: first.Name, Value: first.Value}})
	if code, body := h.get(old, "/"); code != http.StatusUnauthorized || !strings.Contains(body, "session has ended") {
		t.Errorf("old cookie: %d %q", code, body)
	}
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		h := newHarness(t)
		c := newBrowser(t)
		h.signIn(c, "admin", "/")
		h.clock.Advance(50 * time.Minute)
		if code, _ := h.get(c, "/"); code != http.StatusOK {
			t.Fatalf("active session refused after 50 min: %d", code)
		}
		// Activity moved the idle deadline: another 50 minutes are fine.
		h.clock.Advance(50 * time.Minute)
		if code, _ := h.get(c, "/"); code != http.StatusOK {
			t.Fatalf("session refused although used 50 min ago: %d", code)
		}
		h.clock.Advance(61 * time.Minute)
		if code, body := h.get(c, "/"); code != http.StatusUnauthorized || !strings.Contains(body, "idle") {
			t.Fatalf("idle session: %d %q", code, body)
		}
		if h.sessions.Len() != 0 {
			t.Error("expired session was not deleted")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		h := newHarness(t)
		c := newBrowser(t)
		h.signIn(c, "admin", "/")
		for range 7 { // 3.5 hours of steady use
			h.clock.Advance(30 * time.Minute)
			if code, _ := h.get(c, "/"); code != http.StatusOK {
				t.Fatalf("refused during steady use: %d", code)
			}
		}
		h.clock.Advance(30 * time.Minute)
		if code, body := h.get(c, "/"); code != http.StatusUnauthorized || !strings.Contains(body, "maximum age") {
			t.Fatalf("after max age: %d %q", code, body)
		}
	})
}

func TestTamperedCookieIsRefused(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	h.signIn(c, "admin", "/")
	ck := h.sessionCookie(c)
	u, _ := url.Parse(h.portal.URL)
	for name, value := range map[string]string{
		"flipped character": flip(ck.Value),
		"truncated":         ck.Value[:len(ck.Value)-4],
		"garbage":           "not-a-cookie",
		"raw session id":    firstSessionID(t, h),
	} {
		t.Run(name, func(t *testing.T) {
			b := newBrowser(t)
			b.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: value}})
			if code, body := h.get(b, "/"); code != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
				t.Fatalf("%d %q", code, body)
			}
		})
	}
	// A validly signed cookie of another portal (same key, other session store) names a
	// session this portal does not have.
	other := newHarness(t)
	oc := newBrowser(t)
	other.signIn(oc, "admin", "/")
	b := newBrowser(t)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: other.sessionCookie(oc).Value}})
	if code, body := h.get(b, "/"); code != http.StatusUnauthorized || !strings.Contains(body, "session has ended") {
		t.Fatalf("a session id from another portal: %d %q", code, body)
	}
}

func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// firstSessionID starts a session and returns its raw id: an id without the cookie's signature
// must not be accepted.
func firstSessionID(t *testing.T, h *harness) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := h.a.StartSession(context.Background(), rec, auth.Identity{Key: "k", Name: "n", Roles: []auth.Role{auth.RoleViewer}})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func TestSignOutEndsSessionAndContinuesToProvider(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	h.signIn(c, "admin", "/")
	ck := h.sessionCookie(c)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Post(h.portal.URL+auth.SignOutPath, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasSuffix(loc.Path, "/oauth2/v2.0/logout") {
		t.Fatalf("sign-out went to %q", resp.Header.Get("Location"))
	}
	if got := loc.Query().Get("post_logout_redirect_uri"); got != h.portal.URL+auth.SignedOutPath {
		t.Errorf("post_logout_redirect_uri = %q", got)
	}
	if h.sessions.Len() != 0 {
		t.Error("the server-side session survived sign-out")
	}
	if h.a.EndSessionOrigin() != loc.Scheme+"://"+loc.Host {
		t.Errorf("EndSessionOrigin %q, location %q", h.a.EndSessionOrigin(), loc)
	}
	// The provider sends the browser back to the signed-out page.
	resp, err = c.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != h.portal.URL+auth.SignedOutPath {
		t.Errorf("provider answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The old cookie no longer works.
	b := newBrowser(t)
	u, _ := url.Parse(h.portal.URL)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value}})
	if code, _ := h.get(b, "/"); code != http.StatusUnauthorized {
		t.Errorf("old cookie still works after sign-out: %d", code)
	}
}

func TestOpenRedirectAttemptsLandOnStartPage(t *testing.T) {
	h := newHarness(t)
	for _, target := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "/%2F%2Fevil.example",
		"javascript:alert(1)", "/auth/callback?code=x", "\\\\evil.example", "/%5Cevil.example"} {
		t.Run(target, func(t *testing.T) {
			c := newBrowser(t)
			status, body := h.signIn(c, "admin", target)
			if status != http.StatusOK || !strings.HasPrefix(body, "path=/ ") {
				t.Fatalf("return %q landed on %d %q", target, status, body)
			}
		})
	}
}

// TestSignInsStartedInTwoTabsBothComplete: when a session ends, every open tab is sent to sign
// in; each flow keeps its own cookie, so finishing one does not break the other.
func TestSignInsStartedInTwoTabsBothComplete(t *testing.T) {
	h := newHarness(t)
	c := newBrowser(t)
	callbacks := make([]string, 0, 2)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == auth.CallbackPath {
			callbacks = append(callbacks, req.URL.String())
			return http.ErrUseLastResponse
		}
		return nil
	}
	for _, ret := range []string{"/tab-one", "/tab-two"} {
		resp, err := devidp.SignIn(context.Background(), c, h.portal.URL+auth.SignInPath+"?return="+ret, "admin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(callbacks) != 2 {
		t.Fatalf("callbacks %v", callbacks)
	}
	for i, want := range []string{"path=/tab-one", "path=/tab-two"} {
		c.CheckRedirect = nil
		code, body := h.get(c, callbacks[i])
		if code != http.StatusOK || !strings.HasPrefix(body, want) {
			t.Errorf("tab %d: %d %q (%v)", i+1, code, body, h.callbackErr())
		}
	}
}
