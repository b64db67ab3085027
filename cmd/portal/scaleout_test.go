package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/internal/pgtest"
	"github.com/contoso/sbportal/store"
)

// TestScaleOutOnPostgreSQL runs two portal instances on one PostgreSQL database behind one
// address: a session made on one works on the other, a draft started on one is finished on
// the other, and the same draft saved from both at once makes exactly one Dataverse endpoint
// and one intent with one outcome in the audit trail.
func TestScaleOutOnPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDSN(t)
	w := newWorld(t)
	ctx := w.ctx
	front := w.front
	var stores [2]*store.Store
	for i := range stores {
		stores[i], _ = w.addPortal(t, dsn)
	}
	use := w.use
	jar := newJar()
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	forms := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base, _ := url.Parse(front.URL)
	queueSend, sbAddr, envs, backends := w.queueSend, w.sbAddr, w.envs, w.backends

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
		"path": {"dataverse-queue"}, "namespaceaddress": {"sb://" + sbAddr + "/"}, "solutionnamespace": {"127.0.0.1"},
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
	for _, c := range codes {
		if c != http.StatusSeeOther {
			t.Errorf("a concurrent save answered %d, want every one sent to the endpoint page: %v", c, codes)
		}
	}
	env, _ := envs.Get("contoso-dev")
	eps, err := env.Client.ListEndpoints(ctx, dataverse.ListOptions{Filter: "name eq " + dataverse.Quote("Scale-out queue")})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 {
		t.Fatalf("Dataverse has %d endpoints named Scale-out queue, want exactly 1", len(eps))
	}
	page, err := stores[0].ListAudit(ctx, store.AuditFilter{Action: "endpoint.create", EndpointID: eps[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[store.AuditOutcome]int{}
	for _, e := range page.Entries {
		outcomes[e.Outcome]++
	}
	if len(page.Entries) != 2 || outcomes[store.AuditPending] != 1 || outcomes[store.AuditSucceeded] != 1 {
		t.Fatalf("audit entries for the save: %v, want one intent and one success", outcomes)
	}
	if o, err := stores[1].GetOwnership(ctx, "contoso-dev", eps[0].ID); err != nil || o.Team != "Integration" {
		t.Fatalf("ownership %+v, %v", o, err)
	}
	// The key moved from the draft to the endpoint, for later test-sends.
	if _, err := stores[0].GetSecret(ctx, store.SecretRef{Environment: "contoso-dev", EndpointID: eps[0].ID, Purpose: endpoint.PurposeSASKey}); err != nil {
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
