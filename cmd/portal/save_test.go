package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/internal/pgtest"
	"github.com/contoso/sbportal/store"
)

// formClient is a signed-in person's browser that does not follow redirects.
type formClient struct {
	t     testing.TB
	w     *world
	forms *http.Client
}

func (w *world) formsFor(t testing.TB, persona string) *formClient {
	forms, _ := w.signIn(t, persona)
	forms.Timeout = 60 * time.Second
	return &formClient{t: t, w: w, forms: forms}
}

func (c *formClient) post(path string, v url.Values) *http.Response {
	c.t.Helper()
	resp, err := c.forms.PostForm(c.w.front.URL+path, v)
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// validatedDraft walks the wizard up to a passing validation of a queue endpoint named name
// and returns the draft's id.
func (c *formClient) validatedDraft(name string) string {
	c.t.Helper()
	resp := c.post("/endpoints/new", url.Values{"environment": {"contoso-dev"}, "team": {"Integration"}, "kind": {"servicebus"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/drafts/") {
		c.t.Fatalf("create draft: %d %q", resp.StatusCode, loc)
	}
	draft := strings.Split(loc, "/")[2]
	if resp := c.post("/drafts/"+draft+"/connection", url.Values{"connectionstring": {c.w.queueSend}, "nav": {"next"}}); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("connection: %d", resp.StatusCode)
	}
	details := url.Values{"name": {name}, "contract": {"2"}, "messageformat": {"2"}, "userclaim": {"1"}, "authtype": {"2"},
		"path": {"dataverse-queue"}, "namespaceaddress": {"sb://" + c.w.sbAddr + "/"}, "solutionnamespace": {"127.0.0.1"},
		"saskeyname": {"QueueSend"}, "nav": {"next"}}
	if resp := c.post("/drafts/"+draft+"/details", details); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("details: %d", resp.StatusCode)
	}
	if resp := c.post("/drafts/"+draft+"/validate", url.Values{"nav": {"run"}, "mode": {"send"}}); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("validate: %d", resp.StatusCode)
	}
	return draft
}

// saveOutcome is what a save left behind: records in Dataverse, owner, audit entries.
type saveOutcome struct {
	records                   []string // ids of the endpoints with the name
	owner                     string
	succeeded, failed, intent int
}

func (w *world) saveOutcome(t testing.TB, st *store.Store, name string) saveOutcome {
	t.Helper()
	env, _ := w.envs.Get("contoso-dev")
	eps, err := env.Client.ListEndpoints(w.ctx, dataverse.ListOptions{Filter: "name eq " + dataverse.Quote(name)})
	if err != nil {
		t.Fatal(err)
	}
	var out saveOutcome
	for _, e := range eps {
		out.records = append(out.records, e.ID)
	}
	if len(eps) != 1 {
		return out
	}
	if o, err := st.GetOwnership(w.ctx, "contoso-dev", eps[0].ID); err == nil {
		out.owner = o.Team
	}
	page, err := st.ListAudit(w.ctx, store.AuditFilter{Action: "endpoint.create", EndpointID: eps[0].ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		switch e.Outcome {
		case store.AuditSucceeded:
			out.succeeded++
		case store.AuditFailed:
			out.failed++
		case store.AuditPending:
			out.intent++
		}
	}
	return out
}

func (o saveOutcome) exactlyOne() bool {
	return len(o.records) == 1 && o.owner == "Integration" && o.succeeded == 1 && o.failed == 0
}

var errCrash = errors.New("the replica died between Dataverse's answer and the database commit")

// crashRuns is how many crash points TestSaveFinishesAfterACrash tries: SAVE_CRASH_RUNS, or 3.
func crashRuns() int {
	if n, err := strconv.Atoi(os.Getenv("SAVE_CRASH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// TestSaveFinishesAfterACrash: a replica dies after Dataverse created the record and before
// the portal recorded its side; Save pressed again on the other replica finishes it in one
// request (no 409, no second record), on SQLite and on two replicas sharing PostgreSQL.
func TestSaveFinishesAfterACrash(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "portal.db")
			if db == "postgres" {
				dsn = pgtest.NewDSN(t)
			}
			w := newWorld(t)
			st, _ := w.addPortal(t, dsn)
			w.addPortal(t, dsn)
			c := w.formsFor(t, "integration-registrar")
			runs := crashRuns()
			for run := range runs {
				name := fmt.Sprintf("Crash-tested queue %s %02d", db, run)
				w.use(0)
				draft := c.validatedDraft(name)
				w.servers[0].Faults.BeforeFinishSave(func(context.Context) { panic(errCrash) })
				if resp := c.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}}); resp.StatusCode != http.StatusInternalServerError {
					t.Fatalf("run %d: the crashed save answered %d", run, resp.StatusCode)
				}
				w.servers[0].Faults.BeforeFinishSave(nil)
				if o := w.saveOutcome(t, st, name); len(o.records) != 1 || o.owner != "" || o.succeeded != 0 {
					t.Fatalf("run %d: after the crash %+v, want the record in Dataverse and nothing else", run, o)
				}
				// The person presses Save again; the load balancer sends it to the other replica.
				w.use(1)
				start := time.Now()
				resp := c.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/endpoints/contoso-dev/") {
					t.Fatalf("run %d: the retried save answered %d to %q", run, resp.StatusCode, resp.Header.Get("Location"))
				}
				if o := w.saveOutcome(t, st, name); !o.exactlyOne() || o.intent != 1 {
					t.Fatalf("run %d: after the retry %+v, want one record, one owner, one intent and one succeeded entry", run, o)
				}
				t.Logf("run %d: finished by the retry in %v", run, time.Since(start).Round(time.Millisecond))
			}
			t.Logf("%d crash points: %d records, each with one owner, one intent and one succeeded audit entry", runs, runs)
		})
	}
}

// TestRecovererFinishesAbandonedSaves: when nobody presses Save again, the recoverer finishes
// the save once its claim is stale, and resolves the crashed request's intent.
func TestRecovererFinishesAbandonedSaves(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"), store.WithDraftClaimTimeout(100*time.Millisecond))
	c := w.formsFor(t, "integration-registrar")
	draft := c.validatedDraft("Abandoned queue")
	w.servers[0].Faults.BeforeFinishSave(func(context.Context) { panic(errCrash) })
	if resp := c.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}}); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("the crashed save answered %d", resp.StatusCode)
	}
	w.servers[0].Faults.BeforeFinishSave(nil)
	time.Sleep(150 * time.Millisecond) // the claim goes stale
	if err := w.servers[0].RecoverOnce(w.ctx, 0); err != nil {
		t.Fatal(err)
	}
	if o := w.saveOutcome(t, st, "Abandoned queue"); !o.exactlyOne() || o.intent != 1 {
		t.Fatalf("after the recoverer %+v, want one record, one owner, one intent and one succeeded entry", o)
	}
	// The person's draft now leads to the endpoint.
	resp, err := c.forms.Get(w.front.URL + "/drafts/" + draft + "/review")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/endpoints/contoso-dev/") {
		t.Fatalf("the saved draft answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A second pass finds nothing left to do.
	if err := w.servers[0].RecoverOnce(w.ctx, 0); err != nil {
		t.Fatal(err)
	}
	if o := w.saveOutcome(t, st, "Abandoned queue"); o.succeeded != 1 || o.intent != 1 {
		t.Fatalf("a second pass changed the audit: %+v", o)
	}
}

// TestDoubleClickSaves: eight concurrent Saves of one draft on two replicas make one record and
// all eight land on the endpoint page.
func TestDoubleClickSaves(t *testing.T) {
	dsn := pgtest.NewDSN(t)
	w := newWorld(t)
	st, _ := w.addPortal(t, dsn)
	w.addPortal(t, dsn)
	c := w.formsFor(t, "integration-registrar")
	draft := c.validatedDraft("Double-clicked queue")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	locs := make([]string, 8)
	for i := range codes {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, w.front.URL+"/drafts/"+draft+"/review", strings.NewReader("nav=save"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			base, _ := url.Parse(w.front.URL)
			for _, ck := range c.forms.Jar.Cookies(base) {
				req.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			w.servers[i%2].ServeHTTP(rec, req)
			codes[i], locs[i] = rec.Code, rec.Header().Get("Location")
		})
	}
	wg.Wait()
	for i := range codes {
		if codes[i] != http.StatusSeeOther || locs[i] != locs[0] {
			t.Fatalf("save %d answered %d to %q (all: %v)", i, codes[i], locs[i], codes)
		}
	}
	if o := w.saveOutcome(t, st, "Double-clicked queue"); !o.exactlyOne() {
		t.Fatalf("after eight concurrent saves %+v", o)
	}
}

// TestSaveRefusesATakenName: names are unique in an environment, even when the catalog has not
// seen the other endpoint yet.
func TestSaveRefusesATakenName(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	c := w.formsFor(t, "integration-registrar")
	first := c.validatedDraft("Taken name")
	if resp := c.post("/drafts/"+first+"/review", url.Values{"nav": {"save"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first save answered %d", resp.StatusCode)
	}
	// Another tool registers "Elsewhere" behind the catalog's back; the portal must still refuse it.
	env, _ := w.envs.Get("contoso-dev")
	other := seedNamed(t, w, "Elsewhere")
	for _, name := range []string{"taken NAME", "Elsewhere"} {
		draft := c.validatedDraft(name)
		resp, err := c.forms.PostForm(w.front.URL+"/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "This name is taken") {
			t.Fatalf("%q: save answered %d: %.400s", name, resp.StatusCode, body)
		}
	}
	eps, err := env.Client.ListEndpoints(w.ctx, dataverse.ListOptions{Filter: "name eq 'Taken name' or name eq 'Elsewhere'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 {
		t.Fatalf("Dataverse holds %d endpoints with those names, want 2", len(eps))
	}
	if o, err := st.GetOwnership(w.ctx, "contoso-dev", other); err == nil {
		t.Fatalf("an endpoint registered elsewhere got an owner: %+v", o)
	}
}

func seedNamed(t *testing.T, w *world, name string) string {
	t.Helper()
	id, err := w.dv.Environments[0].CreateRecord("serviceendpoints", map[string]any{
		"name": name, "solutionnamespace": "elsewherens", "namespaceaddress": "sb://elsewherens.servicebus.windows.net/",
		"path": "q", "contract": 2, "connectionmode": 1, "userclaim": 1, "messageformat": 2, "namespaceformat": 2,
		"authtype": 2, "saskeyname": "send", "saskey": strings.Repeat("k", 43) + "="})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSaveWhoseAnswerWasLost: Dataverse creates the record but its answer never arrives, and
// the client's retries find Dataverse unavailable; the person sees an error, and the next Save
// finds the record and finishes in one request, with one intent and one outcome.
func TestSaveWhoseAnswerWasLost(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	c := w.formsFor(t, "integration-registrar")
	draft := c.validatedDraft("Lost answer queue")
	dv := w.dv.Environments[0]
	dv.InjectFault(dvemulator.Fault{Method: http.MethodPost, Path: "serviceendpoints", DropResponse: true})
	dv.InjectFault(dvemulator.Fault{Method: http.MethodPost, Path: "serviceendpoints", Status: http.StatusServiceUnavailable, Times: 20})
	resp := c.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
	dv.ClearFaults()
	if resp.StatusCode < 500 {
		t.Fatalf("the save whose answer was lost answered %d", resp.StatusCode)
	}
	if o := w.saveOutcome(t, st, "Lost answer queue"); len(o.records) != 1 || o.owner != "" || o.intent != 1 || o.failed != 0 {
		t.Fatalf("after the lost answer %+v, want the record, a pending intent and nothing else", o)
	}
	if resp := c.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the retried save answered %d", resp.StatusCode)
	}
	if o := w.saveOutcome(t, st, "Lost answer queue"); !o.exactlyOne() || o.intent != 1 {
		t.Fatalf("after the retry %+v", o)
	}
}
