package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/store"
)

var testProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}

// accessLine sends req through h and returns the access log line it wrote.
func accessLine(t *testing.T, h http.Handler, logs *bytes.Buffer, req *http.Request) (map[string]any, int) {
	t.Helper()
	logs.Reset()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" {
			return m, rec.Code
		}
	}
	t.Fatalf("no access log line in %s", logs.String())
	return nil, 0
}

// TestTrustedProxiesNameTheClient: behind a trusted proxy the access log records the client's
// address from X-Forwarded-For; from anyone else the header is ignored.
func TestTrustedProxiesNameTheClient(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	h := TrustProxies(testProxies, s)
	for _, c := range []struct{ name, peer, xff, want string }{
		{"via two proxies", "127.0.0.1:5555", "198.51.100.9, 10.0.0.2", "198.51.100.9"},
		{"client-chosen entry on the left", "10.0.0.3:5555", "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{"untrusted peer", "192.0.2.1:4444", "198.51.100.9", "192.0.2.1"},
		{"no header", "127.0.0.1:5555", "", "127.0.0.1"},
		{"unreadable hop", "127.0.0.1:5555", "198.51.100.9, junk", "127.0.0.1"},
	} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.RemoteAddr = c.peer
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		line, _ := accessLine(t, h, logs, req)
		if line["client"] != c.want || line["remote"] != c.peer {
			t.Errorf("%s: client %v remote %v, want client %s", c.name, line["client"], line["remote"], c.want)
		}
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.RemoteAddr = "10.1.1.1:443"
	req.Header.Set("X-Forwarded-Proto", "https")
	if line, _ := accessLine(t, h, logs, req); line["proto"] != "https" {
		t.Errorf("proto %v, want https", line["proto"])
	}
}

// TestForwardedHostPassesTheCrossOriginCheck: a form posted to the public host arrives with the
// proxy's Host; X-Forwarded-Host from a trusted proxy restores it, from anyone else it does not.
func TestForwardedHostPassesTheCrossOriginCheck(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	h := TrustProxies(testProxies, s)
	post := func(peer string) int {
		req := httptest.NewRequest("POST", "http://10.0.0.5:8080"+auth.SignOutPath, nil)
		req.RemoteAddr = peer
		req.Header.Set("Origin", "https://portal.contoso.com")
		req.Header.Set("X-Forwarded-Host", "portal.contoso.com")
		req.Header.Set("X-Forwarded-Proto", "https")
		_, code := accessLine(t, h, logs, req)
		return code
	}
	if code := post("10.0.0.2:40000"); code != http.StatusSeeOther {
		t.Errorf("through the proxy: %d, want 303", code)
	}
	if code := post("192.0.2.1:40000"); code != http.StatusForbidden {
		t.Errorf("forged header from outside: %d, want 403", code)
	}
}

// TestAuditEntriesRecordTheClient: the access log middleware hands the client's address to the
// store, which writes it into every audit entry of the request.
func TestAuditEntriesRecordTheClient(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	st := openTestStore(t)
	h := TrustProxies(testProxies, s.accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := st.AppendAudit(r.Context(), store.AuditEntry{ActorKey: "t/a", ActorName: "Ada", Action: "endpoint.delete", Outcome: store.AuditSucceeded}); err != nil {
			t.Error(err)
		}
	})))
	req := httptest.NewRequest("POST", "/x", nil)
	req.RemoteAddr = "127.0.0.1:9999"
	req.Header.Set("X-Forwarded-For", "203.0.113.50")
	h.ServeHTTP(httptest.NewRecorder(), req)
	page, err := st.ListAudit(context.Background(), store.AuditFilter{})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].ClientAddress != "203.0.113.50" {
		t.Fatalf("audit %+v, %v", page.Entries, err)
	}
}

func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "portal.db"), store.Keyring{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestAuditLogFindsPeopleByNameOrKey: the audit log's person filter takes the name it shows,
// or the stable key.
func TestAuditLogFindsPeopleByNameOrKey(t *testing.T) {
	st := openTestStore(t)
	envs, err := dataverse.NewEnvironments([]dataverse.EnvironmentConfig{{ID: "dev", DisplayName: "Dev", URL: "https://dev.crm.dynamics.com",
		Teams: []string{"Integration"}, Credential: dataverse.CredentialConfig{Kind: dataverse.ClientSecretCredential, TenantID: "t", ClientID: "c", ClientSecret: "s"}}},
		dataverse.EnvironmentsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct{ key, name string }{{"tid/rita", "Rita Registrar"}, {"tid/rita", "Rita Registrar"}, {"tid/ada", "Ada Admin"}} {
		if _, err := st.AppendAudit(context.Background(), store.AuditEntry{ActorKey: who.key, ActorName: who.name, Action: "endpoint.create", Environment: "dev", Outcome: store.AuditSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := newTestServer(t, Config{Pages: &Pages{Store: st, Environments: envs, Catalog: catalog.New(catalog.Options{Store: st, Environments: envs})}})
	for actor, want := range map[string]int{"rita registrar": 2, "tid/ada": 1, "": 3, "Nobody": 0} {
		resp := do(t, s, "GET", "/audit?actor="+url.QueryEscape(actor), nil)
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Find("main table tbody tr").Length(); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("actor %q: status %d, %d rows, want %d", actor, resp.StatusCode, got, want)
		}
	}
}

// TestUnfinishedSignOutIsLogged: a provider that refuses the post-logout address leaves the
// browser on its own page; when the person comes back to sign in, the log says what to
// register.
func TestUnfinishedSignOutIsLogged(t *testing.T) {
	for _, registered := range []bool{false, true} {
		hs := httptest.NewUnstartedServer(nil)
		base := "http://" + hs.Listener.Addr().String()
		idpSrv := httptest.NewUnstartedServer(nil)
		client := devidp.Client{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{base + auth.CallbackPath}}
		if registered {
			client.PostLogoutRedirectURIs = []string{base + auth.SignedOutPath}
		}
		idp, err := devidp.New("http://"+idpSrv.Listener.Addr().String(), devidp.Options{Clients: []devidp.Client{client}})
		if err != nil {
			t.Fatal(err)
		}
		idpSrv.Config.Handler = idp
		idpSrv.Start()
		a, err := auth.New(context.Background(), auth.Config{Issuer: idp.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret,
			BaseURL: mustParseURL(t, base), SessionKey: bytes.Repeat([]byte{9}, 32), Sessions: auth.NewMemoryStore(), TeamsByGroup: testTeams})
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		s, err := New(Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), CookieKey: testKey, Auth: a})
		if err != nil {
			t.Fatal(err)
		}
		hs.Config.Handler = s
		hs.Start()
		p := &testPortal{URL: base, srv: s, auth: a, idp: idp, logs: logs}
		c := p.browser(t)
		p.signIn(t, c, "admin", "/")
		resp, _ := p.req(t, c, "POST", auth.SignOutPath, nil, "Sec-Fetch-Site", "same-origin")
		// The browser follows to the provider, and (when it redirects) back to the portal.
		follow := *c
		follow.CheckRedirect = nil
		if r, err := follow.Get(resp.Header.Get("Location")); err == nil {
			r.Body.Close()
			if registered != (r.Request.URL.Path == auth.SignedOutPath) {
				t.Errorf("registered=%v: the browser ended at %s (%d)", registered, r.Request.URL, r.StatusCode)
			}
		}
		p.req(t, c, "GET", auth.SignInPath+"?return=/", nil)
		warned := strings.Contains(logs.String(), "sign-out did not complete") && strings.Contains(logs.String(), "register "+base+auth.SignedOutPath)
		if warned == registered {
			t.Errorf("registered=%v: warned=%v\n%s", registered, warned, logs.String())
		}
		hs.Close()
		idpSrv.Close()
	}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
