package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/health"
	"github.com/contoso/sbportal/internal/pgtest"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/notify"
	"github.com/contoso/sbportal/notify/devsmtp"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
	"github.com/contoso/sbportal/store"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// healthRig is a portal with the health scheduler of replica i, e-mail notifications to the
// stand-in SMTP recipient, and its metrics.
type healthRig struct {
	sched   *health.Scheduler
	clock   *testClock
	mailbox *devsmtp.Server
	metrics *metrics.Metrics
}

func (w *world) healthFor(t *testing.T, st *store.Store, i int, clock *testClock) *healthRig {
	t.Helper()
	mailbox, err := devsmtp.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mailbox.Close() })
	m := metrics.New()
	n := notify.New(notify.Options{Store: st, PortalURL: w.front.URL, Observe: m.NotificationSent, Now: clock.Now,
		Targets: map[string]notify.Target{"Integration": {Email: []string{"integration@contoso.example"}}},
		SMTP:    notify.SMTP{Addr: mailbox.Addr(), From: "portal@contoso.example"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	w.mu.Lock()
	srv, cat := w.servers[i], w.catalogs[i]
	w.mu.Unlock()
	sched := health.New(health.Options{Store: st, Catalog: cat, Revalidate: srv.Revalidate, Notifier: n, Interval: time.Hour,
		ObserveLag: m.SetRevalidationLag, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &healthRig{sched: sched, clock: clock, mailbox: mailbox, metrics: m}
}

// scheduledRuns counts an endpoint's validation runs made by the scheduler, and their results.
func scheduledRuns(t *testing.T, st *store.Store, env, id string) (passed, failed int) {
	t.Helper()
	runs, err := st.ValidationHistory(t.Context(), env, id, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.RunBy != handlers.Scheduler.Key {
			continue
		}
		if r.Result == store.ValidationPassed {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// TestScheduledRevalidationCatchesRotatedKey: a key rotated in the Service Bus stand-in is
// caught by the scheduler and flagged on the list and the page, the team is told once (not
// once per check), and the recovery once.
func TestScheduledRevalidationCatchesRotatedKey(t *testing.T) {
	w := newWorld(t)
	st, i := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	c := w.formsFor(t, "integration-registrar")
	page := c.savedEndpoint("Rotated queue")
	id := page[strings.LastIndex(page, "/")+1:]
	rig := w.healthFor(t, st, i, &testClock{now: time.Now().Add(2 * time.Hour)})
	ctx := w.ctx

	pass := func() {
		t.Helper()
		if err := rig.sched.Pass(ctx); err != nil {
			t.Fatalf("pass: %v", err)
		}
	}
	pass() // due (saved more than an interval ago by the clock): passes, nothing to tell
	if p, f := scheduledRuns(t, st, "contoso-dev", id); p != 1 || f != 0 {
		t.Fatalf("first round: %d passed, %d failed scheduled runs; want 1 passed", p, f)
	}
	pass() // the same round: not re-validated again
	if p, _ := scheduledRuns(t, st, "contoso-dev", id); p != 1 {
		t.Fatalf("re-validated twice in one round: %d runs", p)
	}
	if n := len(rig.mailbox.Mail()); n != 0 {
		t.Fatalf("%d mails for a passing endpoint", n)
	}

	// Someone rotates the policy's primary key in Azure.
	if _, err := w.sb.RegenerateKey(sbemulator.DefaultQueueSendPolicy, sbemulator.PrimaryKey, ""); err != nil {
		t.Fatal(err)
	}
	rig.clock.Advance(61 * time.Minute)
	pass()
	if _, f := scheduledRuns(t, st, "contoso-dev", id); f != 1 {
		t.Fatalf("the rotated key was not caught: %d failed scheduled runs", f)
	}
	mail := rig.mailbox.Mail()
	if len(mail) != 1 || !strings.Contains(mail[0].Data, "Subject: Failing: Rotated queue in Contoso Dev") ||
		!strings.Contains(mail[0].Data, "/endpoints/contoso-dev/"+id) {
		t.Fatalf("after the rotation: %d mails %+v", len(mail), mail)
	}
	if strings.Contains(mail[0].Data, sbemulator.DefaultQueueSendPrimaryKey) {
		t.Fatal("the notification holds the key")
	}
	list := c.send(http.MethodGet, "/endpoints?health=failing", nil)
	if list.status != 200 || !strings.Contains(list.body, "Rotated queue") || !strings.Contains(list.body, "Failing since") {
		t.Fatalf("the list's Failing filter does not show the endpoint: %d", list.status)
	}
	if a := c.send(http.MethodGet, page, nil); !strings.Contains(a.body, "Failing since") || !strings.Contains(a.body, "Scheduled re-validation") ||
		!strings.Contains(a.body, "Re-validated without delivering") {
		t.Fatalf("the endpoint page does not flag the failure:\n%s", a.mainText())
	}

	// Checked again, still failing: nobody is told again.
	rig.clock.Advance(61 * time.Minute)
	pass()
	if _, f := scheduledRuns(t, st, "contoso-dev", id); f != 2 {
		t.Fatalf("second failing round: %d failed runs, want 2", f)
	}
	if n := len(rig.mailbox.Mail()); n != 1 {
		t.Fatalf("told %d times about one failure", n)
	}

	// The key is put back: the recovery is told once.
	if _, err := w.sb.RegenerateKey(sbemulator.DefaultQueueSendPolicy, sbemulator.PrimaryKey, sbemulator.DefaultQueueSendPrimaryKey); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rig.clock.Advance(61 * time.Minute)
		pass()
	}
	mail = rig.mailbox.Mail()
	if len(mail) != 2 || !strings.Contains(mail[1].Data, "Subject: Recovered: Rotated queue in Contoso Dev works again") {
		t.Fatalf("after the recovery: %d mails", len(mail))
	}
	if list := c.send(http.MethodGet, "/endpoints?health=failing", nil); strings.Contains(list.body, "Rotated queue") {
		t.Fatal("the recovered endpoint is still listed as failing")
	}

	// The series are fed.
	srv := httptest.NewServer(rig.metrics.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`portal_notifications_total{channel="email",outcome="sent"} 2`, `portal_revalidation_lag_seconds{environment="contoso-dev"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestDeliveryFailuresCounted: failed and waiting system jobs of an endpoint's steps are
// counted for 24 hours and 7 days, shown on the list and the page, and flag the endpoint.
func TestDeliveryFailuresCounted(t *testing.T) {
	w := newWorld(t)
	st, i := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	c := w.formsFor(t, "integration-registrar")
	page := c.savedEndpoint("Delivery queue")
	stepID := "3f2b7c1e-5d4a-4e8b-9c0d-1a2b3c4d5e6f"
	if a := c.send(http.MethodPost, page+"/steps/new", updateStepForm(stepID)); a.status != http.StatusSeeOther {
		t.Fatalf("add step: %d\n%s", a.status, a.mainText())
	}
	dv := w.dv.Environments[0]
	for _, j := range []dvemulator.SystemJob{
		{Status: dvemulator.JobFailed, Age: time.Hour, Message: "older failure"},
		{Status: dvemulator.JobFailed, Age: 30 * time.Minute, Message: "401 Unauthorized: the SAS key was refused"},
		{Status: dvemulator.JobFailed, Age: 3 * 24 * time.Hour},
		{Status: dvemulator.JobWaiting, Age: 2 * time.Hour, Message: "waiting"},
		{Status: dvemulator.JobSucceeded, Age: time.Hour},
		{Status: dvemulator.JobFailed, Age: 8 * 24 * time.Hour},
	} {
		j.StepID = stepID
		if _, err := dv.RecordSystemJob(j); err != nil {
			t.Fatal(err)
		}
	}
	rig := w.healthFor(t, st, i, &testClock{now: time.Now()})
	jobQueries := func() (n int) {
		for _, r := range dv.Requests() {
			if strings.HasPrefix(r, "GET asyncoperations?") && strings.Contains(r, stepID) {
				n++
			}
		}
		return n
	}
	perEndpoint := dv.RequestCount(http.MethodGet, "serviceendpoints()/serviceendpoint_sdkmessageprocessingstep")
	if err := rig.sched.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}
	if got := dv.RequestCount(http.MethodGet, "serviceendpoints()/serviceendpoint_sdkmessageprocessingstep") - perEndpoint; got != 0 {
		t.Fatalf("the pass read %d endpoints' steps one by one; one list of the environment's steps is enough", got)
	}
	if got := jobQueries(); got != 1 {
		t.Fatalf("%d system job queries for one endpoint with one step, want 1", got)
	}
	// The environment's other endpoints with steps (the dev seed's) are read in the same query:
	// one query per 25 steps of an environment, not one per endpoint.
	all := 0
	for _, r := range dv.Requests() {
		if strings.HasPrefix(r, "GET asyncoperations?") {
			all++
		}
	}
	if all != 1 {
		t.Fatalf("%d system job queries for Contoso Dev's few steps, want 1", all)
	}
	id := page[strings.LastIndex(page, "/")+1:]
	h, err := st.GetHealth(w.ctx, "contoso-dev", id)
	if err != nil {
		t.Fatal(err)
	}
	d := h.Deliveries
	if d.Failed24h != 2 || d.Waiting24h != 1 || d.Failed7d != 3 || d.Waiting7d != 1 || d.LastError != "401 Unauthorized: the SAS key was refused" {
		t.Fatalf("counts: %+v", d)
	}
	if !h.Failing() || !strings.Contains(h.FailingReason, "2 deliveries failed and 1 wait") {
		t.Fatalf("not flagged: %+v", h)
	}
	if n := len(rig.mailbox.Mail()); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
	// Pages read the stored counts: no Dataverse query per view.
	for range 3 {
		a := c.send(http.MethodGet, page, nil)
		if !strings.Contains(a.body, "Failed deliveries") || !strings.Contains(a.body, "401 Unauthorized: the SAS key was refused") {
			t.Fatalf("the endpoint page lacks the failed deliveries:\n%s", a.mainText())
		}
		list := c.send(http.MethodGet, "/endpoints?health=deliveries", nil)
		if !strings.Contains(list.body, "Delivery queue") || !strings.Contains(list.body, "3 failed") {
			t.Fatalf("the list's Failed deliveries filter does not show it")
		}
	}
	if got := jobQueries(); got != 1 {
		t.Fatalf("page views queried system jobs: %d queries", got)
	}

	// Ask Dataverse to check: TriggerServiceEndpointCheck answers 204, shown as accepted.
	checks := dv.RequestCount(http.MethodPost, "serviceendpoints()/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck")
	a := c.send(http.MethodPost, page+"/check", nil)
	if a.status != 200 || !strings.Contains(a.body, "Dataverse accepted the configuration") {
		t.Fatalf("check: %d\n%s", a.status, a.mainText())
	}
	if got := dv.RequestCount(http.MethodPost, "serviceendpoints()/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck") - checks; got != 1 {
		t.Fatalf("%d TriggerServiceEndpointCheck calls, want 1", got)
	}

	// Deleting the endpoint forgets its health.
	if a := c.send(http.MethodPost, page+"/delete", url.Values{"confirm": {"Delivery queue"}}); a.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", a.status, a.mainText())
	}
	if left, err := st.HealthOf(w.ctx, "contoso-dev", []string{id}); err != nil || len(left) != 0 {
		t.Fatalf("a deleted endpoint's health is kept: %+v, %v", left, err)
	}
}

// TestRevalidationOncePerRoundOnPostgreSQL: two replicas on one PostgreSQL, both running a
// round at the same moment (as if both held the lease), re-validate each endpoint once.
func TestRevalidationOncePerRoundOnPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDSN(t)
	w := newWorld(t)
	st0, i0 := w.addPortal(t, dsn)
	st1, i1 := w.addPortal(t, dsn)
	c := w.formsFor(t, "integration-registrar")
	var ids []string
	for _, name := range []string{"Round A", "Round B", "Round C", "Round D", "Round E"} {
		p := c.savedEndpoint(name)
		ids = append(ids, p[strings.LastIndex(p, "/")+1:])
	}
	clock := &testClock{now: time.Now().Add(2 * time.Hour)}
	rigs := []*healthRig{w.healthFor(t, st0, i0, clock), w.healthFor(t, st1, i1, clock)}
	// Both catalogs know every endpoint before the round starts.
	w.refresh(t)
	for round := 1; round <= 2; round++ {
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for r, rig := range rigs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := rig.sched.RevalidateDue(w.ctx)
				if err != nil {
					t.Error(err)
				}
				counts[r] = n
			}()
		}
		wg.Wait()
		if counts[0]+counts[1] != len(ids) {
			t.Fatalf("round %d: the replicas re-validated %d and %d endpoints, want %d together", round, counts[0], counts[1], len(ids))
		}
		for _, id := range ids {
			if p, f := scheduledRuns(t, st0, "contoso-dev", id); p+f != round {
				t.Fatalf("round %d: endpoint %s has %d scheduled runs", round, id, p+f)
			}
		}
		clock.Advance(61 * time.Minute)
	}
}
