package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
	"github.com/contoso/sbportal/catalog"
)

// publicRoutes are the only routes served without a session. Adding one here needs a reason.
var publicRoutes = map[string]bool{
	"GET /healthz":              true, // orchestrator probes
	"GET /readyz":               true,
	"/static/*":                 true, // any method: the static handler itself refuses non-GET
	"GET " + auth.SignInPath:    true, // the sign-in flow cannot need a session
	"GET " + auth.CallbackPath:  true,
	"POST " + auth.SignOutPath:  true, // ends whatever session the cookie names, if any
	"GET " + auth.SignedOutPath: true, // where the provider returns after sign-out
}

var routeParam = regexp.MustCompile(`\{[^}]+\}`)

// sampleParamValues are tried for route parameters (some routes constrain them with a pattern).
var sampleParamValues = []string{"x", "1", "00000000-0000-4000-8000-000000000000", "abc-1"}

// concretePath fills a route pattern's parameters with a sample value the router accepts, or
// returns "" when none fits.
func concretePath(mux *chi.Mux, method, route string) string {
	for _, v := range sampleParamValues {
		path := strings.ReplaceAll(routeParam.ReplaceAllString(route, v), "*", v)
		if mux.Match(chi.NewRouteContext(), method, path) {
			return path
		}
	}
	return ""
}

// TestEveryRouteRequiresSignIn walks every route registered in the router and checks that
// without a session it redirects to sign-in (page loads) or answers 401 (htmx, forms, APIs):
// a route added later cannot forget.
func TestEveryRouteRequiresSignIn(t *testing.T) {
	// With the endpoint pages registered (their dependencies are never reached without a
	// session), so every route of the full portal is swept.
	p := newTestPortal(t, func(c *Config) { c.Pages = &Pages{Catalog: catalog.New(catalog.Options{})} })
	c := p.browser(t)
	checked := 0
	err := chi.Walk(p.srv.mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if publicRoutes[method+" "+route] || publicRoutes[route] {
			return nil
		}
		if strings.HasPrefix(route, APIPrefix+"/") {
			return nil // the API signs in with bearer tokens, never sessions: see cmd/portal's api_test.go
		}
		path := concretePath(p.srv.mux, method, route)
		t.Run(method+" "+route, func(t *testing.T) {
			if path == "" {
				t.Fatalf("no sample value matches the route's parameters: add one to sampleParamValues")
			}
			// Same-origin, so the CSRF check lets it through to the sign-in check.
			resp, body := p.req(t, c, method, path, nil, "Accept", "text/html", "Sec-Fetch-Site", "same-origin")
			if method == http.MethodGet || method == http.MethodHead {
				want := p.auth.SignInURL(path)
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
					t.Errorf("without a session: %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
				}
			} else if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("without a session: %d, want 401: %.200s", resp.StatusCode, body)
			}
			resp, _ = p.req(t, c, method, path, nil, "HX-Request", "true", "Sec-Fetch-Site", "same-origin")
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("HX-Redirect"), auth.SignInPath+"?return=") {
				t.Errorf("htmx without a session: %d, HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
			}
			resp, _ = p.req(t, c, method, path, nil, "Accept", "application/json", "Sec-Fetch-Site", "same-origin")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("API client without a session: %d, want 401", resp.StatusCode)
			}
		})
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no protected routes found: the walk checked nothing")
	}
}

func TestPublicRoutesNeedNoSession(t *testing.T) {
	p := newTestPortal(t, nil)
	c := p.browser(t)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, auth.SignedOutPath: 200, auth.SignInPath: 302, auth.CallbackPath: 401} {
		if resp, _ := p.req(t, c, "GET", path, nil); resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestSignInShowsUserMenuAndReturns(t *testing.T) {
	p := newTestPortal(t, nil)
	c := p.browser(t)
	resp, body := p.signIn(t, c, "integration-registrar", "/?tab=mine")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/?tab=mine" {
		t.Fatalf("callback: %d to %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = p.req(t, c, "GET", "/?tab=mine", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("home: %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if got := strings.TrimSpace(doc.Find(".user-menu summary").Text()); got != "Rita Registrar" {
		t.Errorf("user menu shows %q", got)
	}
	menu := doc.Find(".user-menu").Text()
	for _, want := range []string{"rita.registrar@contoso.example", "Registrar", "Integration"} {
		if !strings.Contains(menu, want) {
			t.Errorf("user menu lacks %q: %q", want, menu)
		}
	}
	if a, _ := doc.Find(".user-menu form").Attr("action"); a != auth.SignOutPath {
		t.Errorf("sign-out form posts to %q", a)
	}
	if !strings.Contains(p.logs.String(), `"msg":"signed in"`) {
		t.Error("sign-in not logged")
	}
	checkNoSecretsInLogs(t, p)
}

// checkNoSecretsInLogs fails when a token, code, client secret or session id reached the log.
func checkNoSecretsInLogs(t *testing.T, p *testPortal) {
	t.Helper()
	logs := p.logs.String()
	for _, bad := range []string{"eyJ", testClientSecret, "code=", "state="} {
		if strings.Contains(logs, bad) {
			t.Errorf("logs contain %q: %s", bad, logs)
		}
	}
}

func TestNoRolePageSaysWhomToAsk(t *testing.T) {
	p := newTestPortal(t, nil)
	c := p.browser(t)
	p.signIn(t, c, "no-role", "/")
	resp, body := p.req(t, c, "GET", "/", nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if got := doc.Find("#role-contact").Text(); got != "the Integration Platform team (platform@contoso.example)" {
		t.Errorf("contact %q", got)
	}
	for _, want := range []string{"Nico Norole", "Viewer", "Registrar", "Your teams: Integration"} {
		if !strings.Contains(doc.Find("main").Text(), want) {
			t.Errorf("no-role page lacks %q", want)
		}
	}
	if doc.Find(".user-menu form").Length() != 1 {
		t.Error("no sign-out button on the no-role page")
	}
}

func TestGroupsOveragePageExplainsConfiguration(t *testing.T) {
	p := newTestPortal(t, nil)
	c := p.browser(t)
	resp, body := p.signIn(t, c, "groups-overage", "/")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if h1 := doc.Find("h1").Text(); h1 != "The portal cannot tell which teams you are in" {
		t.Errorf("h1 %q", h1)
	}
	if !strings.Contains(body, "Groups assigned to the application") || !strings.Contains(body, "olga.overage@contoso.example") {
		t.Error("the page does not say what to configure")
	}
	if p.sessions.Len() != 0 {
		t.Error("a session was created")
	}
}

func TestFailedSignInPage(t *testing.T) {
	p := newTestPortal(t, nil)
	p.idp.SetTokenHook(func(_ devidp.Persona, c map[string]any) { c["aud"] = "another-app" })
	c := p.browser(t)
	resp, body := p.signIn(t, c, "admin", "/")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if href, _ := doc.Find("#sign-in").Attr("href"); href != auth.SignInPath+"?return=%2F" {
		t.Errorf("try-again link %q", href)
	}
	if !strings.Contains(p.logs.String(), "audience") {
		t.Errorf("cause not logged: %s", p.logs.String())
	}
	checkNoSecretsInLogs(t, p)
}

func TestHTMXWithoutSessionGetsHXRedirect(t *testing.T) {
	p := newTestPortal(t, nil)
	c := p.browser(t)
	resp, _ := p.req(t, c, "GET", "/", nil, "HX-Request", "true", "HX-Current-URL", p.URL+"/endpoints?env=prod")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("HX-Redirect") != "/auth/signin?return=%2Fendpoints%3Fenv%3Dprod" {
		t.Errorf("%d HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	// A current URL on another site is not a return target.
	resp, _ = p.req(t, c, "GET", "/", nil, "HX-Request", "true", "HX-Current-URL", "https://evil.example/x")
	if resp.Header.Get("HX-Redirect") != "/auth/signin?return=%2F" {
		t.Errorf("HX-Redirect %q", resp.Header.Get("HX-Redirect"))
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	p := newTestPortal(t, nil)
	c := p.browser(t)
	u, _ := url.Parse(p.URL)
	c.Jar.SetCookies(u, []*http.Cookie{sessionCookie(t, p.auth, testAdmin)})
	for name, headers := range map[string][]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		resp, body := p.req(t, c, "POST", auth.SignOutPath, nil, headers...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "came from another site") {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	if p.sessions.Len() != 1 {
		t.Fatal("a refused cross-origin sign-out ended the session")
	}
	if resp, _ := p.req(t, c, "GET", "/", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("session unusable after refused requests: %d", resp.StatusCode)
	}
	resp, _ := p.req(t, c, "POST", auth.SignOutPath, nil, "Sec-Fetch-Site", "same-origin", "Origin", p.URL)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin sign-out: %d", resp.StatusCode)
	}
}

func TestSignOutEndsSessionAndAllowsProviderInCSP(t *testing.T) {
	p := newTestPortal(t, nil)
	c := p.browser(t)
	p.signIn(t, c, "admin", "/")
	u, _ := url.Parse(p.URL)
	var old *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == p.auth.SessionCookieName() {
			old = ck
		}
	}
	resp, body := p.req(t, c, "GET", "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self' "+p.auth.EndSessionOrigin()) {
		t.Fatalf("CSP %q does not let the sign-out continue to the provider (%d %.100s)", resp.Header.Get("Content-Security-Policy"), resp.StatusCode, body)
	}
	resp, _ = p.req(t, c, "POST", auth.SignOutPath, nil, "Sec-Fetch-Site", "same-origin")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("post_logout_redirect_uri") != p.URL+auth.SignedOutPath {
		t.Fatalf("sign-out: %d to %q", resp.StatusCode, loc)
	}
	stale := p.browser(t)
	stale.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value}})
	if resp, _ := p.req(t, stale, "GET", "/", nil); resp.StatusCode != http.StatusFound {
		t.Errorf("old cookie after sign-out: %d, want a redirect to sign-in", resp.StatusCode)
	}
}

func TestFormPostWithoutSessionSaysSignIn(t *testing.T) {
	p := newTestPortal(t, nil)
	p.srv.mux.Group(func(m chi.Router) {
		m.Use(p.srv.requireSignIn)
		m.Post("/test-form", func(http.ResponseWriter, *http.Request) { t.Error("handler ran without a session") })
	})
	resp, body := p.req(t, p.browser(t), "POST", "/test-form", strings.NewReader("a=b"), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Please sign in") {
		t.Errorf("%d %.200s", resp.StatusCode, body)
	}
}

// TestWithoutAuthenticatorNothingProtectedIsServed checks the server fails closed when it is
// built without an Authenticator.
func TestWithoutAuthenticatorNothingProtectedIsServed(t *testing.T) {
	s, err := New(Config{CookieKey: testKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/": 503, auth.SignInPath: 503, auth.CallbackPath: 503, "/healthz": 200} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
	}
}

// TestDirectSessionsForEachRole checks the sessionCookie helper other handler tests use: each
// identity reaches the home page (or the no-role page) with its name in the user menu.
func TestDirectSessionsForEachRole(t *testing.T) {
	p := newTestPortal(t, nil)
	u, _ := url.Parse(p.URL)
	for _, c := range []struct {
		id     auth.Identity
		status int
	}{{testAdmin, 200}, {testRegistrar, 200}, {testViewer, 200}, {testNoRoleUser, 403}} {
		b := p.browser(t)
		b.Jar.SetCookies(u, []*http.Cookie{sessionCookie(t, p.auth, c.id)})
		resp, body := p.req(t, b, "GET", "/", nil)
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
		if resp.StatusCode != c.status || strings.TrimSpace(doc.Find(".user-menu summary").Text()) != c.id.Name {
			t.Errorf("%s: %d, menu %q", c.id.Name, resp.StatusCode, doc.Find(".user-menu summary").Text())
		}
	}
}

func TestAuthorizeExplainsRefusals(t *testing.T) {
	p := newTestPortal(t, nil)
	p.srv.mux.Group(func(m chi.Router) {
		m.Use(p.srv.requireSignIn)
		m.Get("/test-edit/{team}", p.srv.handle(func(w http.ResponseWriter, r *http.Request) error {
			res := auth.Resource{Environment: "prod", EnvironmentTeams: []string{"Integration", "Finance"}, OwnerTeam: chi.URLParam(r, "team")}
			if err := p.srv.authorize(r, auth.ActionEdit, res); err != nil {
				return err
			}
			_, _ = w.Write([]byte("edited"))
			return nil
		}))
	})
	u, _ := url.Parse(p.URL)
	for _, c := range []struct {
		id     auth.Identity
		team   string
		status int
		text   string
	}{
		{testRegistrar, "Integration", 200, "edited"},
		{testRegistrar, "Finance", 403, `belongs to team &#34;Finance&#34;`},
		{testViewer, "Integration", 403, "needs the Registrar role"},
		{testAdmin, "Finance", 200, "edited"},
	} {
		b := p.browser(t)
		b.Jar.SetCookies(u, []*http.Cookie{sessionCookie(t, p.auth, c.id)})
		resp, body := p.req(t, b, "GET", "/test-edit/"+c.team, nil)
		if resp.StatusCode != c.status || !strings.Contains(body, c.text) {
			t.Errorf("%s editing %s's endpoint: %d, want %d with %q: %.300s", c.id.Name, c.team, resp.StatusCode, c.status, c.text, body)
		}
	}
}
