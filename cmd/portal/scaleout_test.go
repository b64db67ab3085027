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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/internal/pgtest"
	"github.com/contoso/sbportal/servicebus"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
	"github.com/contoso/sbportal/store"
)

// replica is one portal instance of the scale-out test.
type replica struct {
	store *store.Store
}

// TestScaleOutOnPostgreSQL runs two portal instances on one PostgreSQL database behind one
// address: a session made on one works on the other, a draft started on one is finished on
// the other, and the same draft saved from both at once makes exactly one Dataverse endpoint
// and one audit entry.
func TestScaleOutOnPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The shared outside world: identity provider, Dataverse, Service Bus.
	sb, err := sbemulator.New(sbemulator.DefaultConfig(), sbemulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = sb.Serve(sbLn) }()
	defer sb.Close()
	var queueSend string
	for _, cs := range sb.ConnectionStrings(sbLn.Addr().String()) {
		if cs.Policy == "QueueSend" {
			queueSend = cs.Value
		}
	}
	dv, err := dvemulator.StartDev(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer dv.Close()
	envs, err := dataverse.NewEnvironments(dv.Configs, dataverse.EnvironmentsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prober := servicebus.NewProber(servicebus.Options{Policy: servicebus.DevelopmentPolicy()})

	// Both replicas answer at one address (as behind a load balancer): the front door sends
	// each request to the replica the test chooses.
	var mu sync.Mutex
	target := 0
	var backends [2]http.Handler
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := backends[target]
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer front.Close()
	use := func(i int) {
		mu.Lock()
		target = i
		mu.Unlock()
	}

	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	client := devidp.Client{ID: "portal", Secret: base64.RawURLEncoding.EncodeToString(secret),
		RedirectURIs: []string{front.URL + auth.CallbackPath}, PostLogoutRedirectURIs: []string{front.URL + auth.SignedOutPath}}
	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idp, err := devidp.New("http://"+idpLn.Addr().String(), devidp.Options{Clients: []devidp.Client{client}})
	if err != nil {
		t.Fatal(err)
	}
	idpSrv := &http.Server{Handler: idp}
	go func() { _ = idpSrv.Serve(idpLn) }()
	defer idpSrv.Close()

	sessionKey := make([]byte, 32)
	_, _ = rand.Read(sessionKey)
	keys, err := store.ParseKeyring(base64.StdEncoding.EncodeToString(sessionKey))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(front.URL)
	var replicas [2]replica
	for i := range replicas {
		st, err := store.Open(ctx, dsn, keys)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		authn, err := auth.New(ctx, auth.Config{Issuer: idp.Issuer(), ClientID: client.ID, ClientSecret: client.Secret,
			BaseURL: base, SessionKey: sessionKey, Sessions: storeSessions{st}, TeamsByGroup: devTeams,
			AllowedTenants: []string{devidp.TenantID}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := handlers.New(handlers.Config{Logger: log, CookieKey: sessionKey, Auth: authn,
			Pages: &handlers.Pages{Store: st, Environments: envs, Prober: prober, FingerprintKey: deriveKey(sessionKey, "fp")}})
		if err != nil {
			t.Fatal(err)
		}
		backends[i] = h
		replicas[i] = replica{store: st}
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	forms := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Sign in through replica 0; the session works on replica 1.
	use(0)
	resp, err := devidp.SignIn(ctx, browser, front.URL+auth.SignInPath+"?return=/endpoints", "integration-registrar")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	use(1)
	if code := get(t, forms, front.URL+"/endpoints"); code != http.StatusOK {
		t.Fatalf("replica 1 does not accept replica 0's session: %d", code)
	}

	post := func(path string, v url.Values) *http.Response {
		t.Helper()
		resp, err := forms.PostForm(front.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// Start the draft on replica 0 ...
	use(0)
	resp = post("/endpoints/new", url.Values{"environment": {"contoso-dev"}, "team": {"Integration"}, "kind": {"servicebus"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/drafts/") {
		t.Fatalf("create draft: %d %q", resp.StatusCode, loc)
	}
	draft := strings.Split(loc, "/")[2]
	// ... and finish it on replica 1.
	use(1)
	if resp := post("/drafts/"+draft+"/connection", url.Values{"connectionstring": {queueSend}, "nav": {"next"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("connection on replica 1: %d", resp.StatusCode)
	}
	details := url.Values{"name": {"Scale-out queue"}, "contract": {"2"}, "messageformat": {"2"}, "userclaim": {"1"}, "authtype": {"2"},
		"path": {"dataverse-queue"}, "namespaceaddress": {"sb://" + sbLn.Addr().String() + "/"}, "solutionnamespace": {"127"},
		"saskeyname": {"QueueSend"}, "nav": {"next"}}
	if resp := post("/drafts/"+draft+"/details", details); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("details on replica 1: %d", resp.StatusCode)
	}
	if resp := post("/drafts/"+draft+"/validate", url.Values{"nav": {"run"}, "mode": {"send"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("validate on replica 1: %d", resp.StatusCode)
	}

	// Save from both replicas at once, several times each.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			h := backends[i%2]
			req := httptest.NewRequest(http.MethodPost, front.URL+"/drafts/"+draft+"/review", strings.NewReader("nav=save"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, c := range jar.Cookies(base) {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			codes[i] = rec.Code
		})
	}
	wg.Wait()
	saved := 0
	for _, c := range codes {
		switch c {
		case http.StatusSeeOther:
			saved++
		case http.StatusConflict:
		default:
			t.Errorf("a concurrent save answered %d", c)
		}
	}
	if saved == 0 {
		t.Fatalf("no save succeeded: %v", codes)
	}
	env, _ := envs.Get("contoso-dev")
	eps, err := env.Client.ListEndpoints(ctx, dataverse.ListOptions{Filter: "name eq " + dataverse.Quote("Scale-out queue")})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 {
		t.Fatalf("Dataverse has %d endpoints named Scale-out queue, want exactly 1", len(eps))
	}
	page, err := replicas[0].store.ListAudit(ctx, store.AuditFilter{Action: "endpoint.create", EndpointID: eps[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 {
		t.Fatalf("%d audit entries for the save, want exactly 1", len(page.Entries))
	}
	if o, err := replicas[1].store.GetOwnership(ctx, "contoso-dev", eps[0].ID); err != nil || o.Team != "Integration" {
		t.Fatalf("ownership %+v, %v", o, err)
	}
	// The key moved from the draft to the endpoint, for later test-sends.
	if _, err := replicas[0].store.GetSecret(ctx, store.SecretRef{Environment: "contoso-dev", EndpointID: eps[0].ID, Purpose: store.PurposeSASKey}); err != nil {
		t.Fatalf("the saved endpoint's key is not kept: %v", err)
	}
}

func get(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
