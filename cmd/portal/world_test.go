package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/servicebus"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
	"github.com/contoso/sbportal/store"
)

// world is the outside world of portal tests, all on loopback: the local identity provider,
// two Dataverse environments, a Service Bus namespace, and a front door at one address that
// routes each request to the portal instance the test chooses (like a load balancer).
type world struct {
	ctx        context.Context
	front      *httptest.Server
	sbAddr     string
	sb         *sbemulator.Server
	queueSend  string
	dv         *dvemulator.DevStack
	envs       *dataverse.Environments
	prober     *servicebus.Prober
	idp        *devidp.Provider
	client     devidp.Client
	sessionKey []byte
	keys       store.Keyring

	mu       sync.Mutex
	catalogs []*catalog.Catalog // one per portal instance, in the order added
	servers  []*handlers.Server
	backends []http.Handler
	target   int
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{ctx: ctx}
	w.front = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		h := w.backends[w.target]
		w.mu.Unlock()
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(w.front.Close)

	w.sb, w.sbAddr = startServiceBus(t)
	for _, cs := range w.sb.ConnectionStrings(w.sbAddr) {
		if cs.Policy == "QueueSend" {
			w.queueSend = cs.Value
		}
	}
	var err error
	if w.dv, err = dvemulator.StartDev(ctx, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.dv.Close() })
	if w.envs, err = dataverse.NewEnvironments(devEnvironmentConfigs(w.dv), dataverse.EnvironmentsOptions{}); err != nil {
		t.Fatal(err)
	}
	w.prober = servicebus.NewProber(servicebus.Options{Policy: servicebus.DevelopmentPolicy()})

	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	w.client = devidp.Client{ID: "portal", Secret: base64.RawURLEncoding.EncodeToString(secret),
		RedirectURIs: []string{w.front.URL + auth.CallbackPath}, PostLogoutRedirectURIs: []string{w.front.URL + auth.SignedOutPath}}
	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if w.idp, err = devidp.New("http://"+idpLn.Addr().String(), devidp.Options{Clients: []devidp.Client{w.client}}); err != nil {
		t.Fatal(err)
	}
	idpSrv := &http.Server{Handler: w.idp}
	go func() { _ = idpSrv.Serve(idpLn) }()
	t.Cleanup(func() { idpSrv.Close() })

	w.sessionKey = make([]byte, 32)
	_, _ = rand.Read(w.sessionKey)
	if w.keys, err = store.ParseKeyring(base64.StdEncoding.EncodeToString(w.sessionKey)); err != nil {
		t.Fatal(err)
	}
	return w
}

// addPortal starts one more portal instance on the database dsn and returns its store and
// its index for use.
func (w *world) addPortal(t testing.TB, dsn string, opts ...store.Option) (*store.Store, int) {
	t.Helper()
	opts = append([]store.Option{store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	st, err := store.Open(w.ctx, dsn, w.keys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base, _ := url.Parse(w.front.URL)
	authn, err := auth.New(w.ctx, auth.Config{Issuer: w.idp.Issuer(), ClientID: w.client.ID, ClientSecret: w.client.Secret,
		BaseURL: base, SessionKey: w.sessionKey, Sessions: storeSessions{st}, TeamsByGroup: devTeams,
		AllowedTenants: []string{devidp.TenantID}})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Options{Store: st, Environments: w.envs, FollowEvery: 100 * time.Millisecond,
		ManualInterval: time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cat.Start(w.ctx)
	w.catalogs = append(w.catalogs, cat)
	h, err := handlers.New(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CookieKey: w.sessionKey, Auth: authn,
		Readiness: readinessChecks(st, w.envs, cat),
		Pages: &handlers.Pages{Store: st, Environments: w.envs, Prober: w.prober, Catalog: cat, FingerprintKey: deriveKey(w.sessionKey, "fp"),
			ListTimeout: 2 * time.Second, Faults: &handlers.Faults{},
			// Tests run many validations in a minute; TestTestLimitsOverHTTP sets its own.
			TestLimits: handlers.TestLimits{PerPersonPerMinute: 600, PerEndpointPerMinute: 600}}})
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.backends = append(w.backends, h)
	w.servers = append(w.servers, h)
	return st, len(w.backends) - 1
}

// refresh re-reads every environment into every portal's catalog now (a test that changed
// Dataverse behind the portal's back, as another tool would).
func (w *world) refresh(t testing.TB) {
	t.Helper()
	w.mu.Lock()
	cats := slices.Clone(w.catalogs)
	w.mu.Unlock()
	for _, c := range cats {
		for _, env := range w.envs.List() {
			_ = c.Refresh(w.ctx, env.ID) // a failure shows on the pages, which the test checks
		}
	}
}

// use routes the front door's next requests to portal i.
func (w *world) use(i int) {
	w.mu.Lock()
	w.target = i
	w.mu.Unlock()
}

// signIn signs a new cookie jar in as a persona and returns a client that does not follow
// redirects (to check each answer) and the jar.
func (w *world) signIn(t testing.TB, persona string) (*http.Client, http.CookieJar) {
	t.Helper()
	jar := newJar()
	browser := &http.Client{Jar: jar}
	resp, err := devidp.SignIn(w.ctx, browser, w.front.URL+auth.SignInPath+"?return=/", persona)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, jar
}

func newJar() http.CookieJar {
	jar, _ := cookiejar.New(nil)
	return jar
}

// startServiceBus starts a Service Bus stand-in on a free loopback port for the test, and
// returns it and its address.
func startServiceBus(t testing.TB) (*sbemulator.Server, string) {
	t.Helper()
	sb, err := sbemulator.New(sbemulator.DefaultConfig(), sbemulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = sb.Serve(ln) }()
	t.Cleanup(func() { sb.Close() })
	return sb, ln.Addr().String()
}
