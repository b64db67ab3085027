package catalog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/internal/pgtest"
	"github.com/contoso/sbportal/store"
)

// rig is a catalog's outside world on loopback: the two Dataverse stand-ins of the dev stack
// (real Web API over HTTP, real tokens) and a real store.
type rig struct {
	ctx   context.Context
	dv    *dvemulator.DevStack
	envs  *dataverse.Environments
	bytes *countingTransport
}

// countingTransport counts the response bytes Dataverse sent.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func newRig(t testing.TB) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dv, err := dvemulator.StartDev(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dv.Close() })
	cred := dataverse.CredentialConfig{Kind: dataverse.ClientSecretCredential, TenantID: dv.Tokens.TenantID(),
		ClientID: dvemulator.DevApp.ClientID, ClientSecret: dataverse.ConfigSecret(dvemulator.DevApp.ClientSecret),
		AuthorityHost: dv.Tokens.AuthorityHost(), AuthorityCAs: dv.Tokens.CertPool()}
	var cfgs []dataverse.EnvironmentConfig
	for i, org := range dv.Environments {
		id := []string{"contoso-dev", "contoso-test"}[i]
		cfgs = append(cfgs, dataverse.EnvironmentConfig{ID: id, DisplayName: org.Name(), URL: org.URL(),
			Teams: []string{"Integration", "Finance"}, AllowInsecureHTTP: true, Credential: cred})
	}
	counter := &countingTransport{}
	envs, err := dataverse.NewEnvironments(cfgs, dataverse.EnvironmentsOptions{HTTPClient: &http.Client{Transport: counter},
		Retry: dataverse.RetryPolicy{MaxAttempts: 2, BaseDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{ctx: ctx, dv: dv, envs: envs, bytes: counter}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Keyring{}, store.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sqliteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "portal.db") }

func (r *rig) catalog(t testing.TB, st *store.Store, o Options) *Catalog {
	t.Helper()
	o.Store, o.Environments, o.Logger = st, r.envs, quiet()
	if o.ManualInterval == 0 {
		o.ManualInterval = time.Millisecond
	}
	return New(o)
}

// dev is the first environment ("contoso-dev") and its stand-in.
func (r *rig) dev() (*dataverse.Environment, *dvemulator.Server) {
	env, _ := r.envs.Get("contoso-dev")
	return env, r.dv.Environments[0]
}

// listQueries counts the collection reads of serviceendpoints a stand-in received, and how
// many of them were modifiedon deltas.
func listQueries(s *dvemulator.Server) (all, deltas int) {
	for _, r := range s.Requests() {
		if strings.HasPrefix(r, "GET serviceendpoints?") {
			all++
			if strings.Contains(r, "$filter=modifiedon") {
				deltas++
			}
		}
	}
	return all, deltas
}

func queue(name string) endpoint.ServiceEndpoint {
	return endpoint.ServiceEndpoint{Name: name, SolutionNamespace: "catns", NamespaceAddress: "sb://catns.servicebus.windows.net/",
		Path: strings.ToLower(strings.ReplaceAll(name, " ", "-")), Contract: endpoint.ContractQueue, ConnectionMode: endpoint.ConnectionModeNormal,
		UserClaim: endpoint.UserClaimNone, MessageFormat: endpoint.MessageFormatJSON, AuthType: endpoint.AuthTypeSASKey,
		SASKeyName: "send", SASKey: endpoint.NewSecret(strings.Repeat("k", 43) + "="), NamespaceFormat: endpoint.NamespaceFormatAddress}
}

func names(v View) []string {
	out := make([]string, len(v.Entries))
	for i, e := range v.Entries {
		out[i] = e.Endpoint.Name
	}
	return out
}

func hasName(v View, name string) bool {
	for _, e := range v.Entries {
		if e.Endpoint.Name == name {
			return true
		}
	}
	return false
}

func mustView(t testing.TB, c *Catalog, env string) View {
	t.Helper()
	v, ok := c.View(env)
	if !ok {
		t.Fatalf("no view of %s", env)
	}
	return v
}

// TestViewsShareOneQuery: after the first load, any number of concurrent readers and
// concurrent refresh requests cost at most one list query per refresh.
func TestViewsShareOneQuery(t *testing.T) {
	r := newRig(t)
	c := r.catalog(t, openStore(t, sqliteDSN(t)), Options{Refresh: time.Hour})
	c.Start(r.ctx)
	_, srv := r.dev()
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	views := c.Views(ctx)
	if len(views) != 2 || !views[0].Status.Loaded || len(views[0].Entries) == 0 {
		t.Fatalf("first load: %+v", views)
	}
	loads, _ := listQueries(srv)
	if loads != 1 {
		t.Fatalf("first load sent %d list queries, want 1", loads)
	}

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 20 {
				_ = c.Views(ctx)
				_, _, _ = c.Get(ctx, "contoso-dev", views[0].Entries[0].Endpoint.ID)
			}
		})
	}
	wg.Wait()
	if n, _ := listQueries(srv); n != loads {
		t.Fatalf("1,000 views sent %d list queries, want none", n-loads)
	}

	// 20 people press Refresh while a slow refresh is running: one query serves them all.
	srv.InjectFault(dvemulator.Fault{Method: http.MethodGet, Path: "serviceendpoints", Latency: 300 * time.Millisecond})
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- c.envs[0].refresh(ctx, true) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := listQueries(srv); n != loads+1 {
		t.Fatalf("20 concurrent refreshes sent %d list queries, want 1", n-loads)
	}
	if st := mustView(t, c, "contoso-dev").Status; st.Queries != 2 {
		t.Fatalf("status counts %d queries, want 2", st.Queries)
	}
}

// TestDeltaAndFullRefresh: a delta refresh picks up records created and changed outside the
// portal with a modifiedon filter; only a full refresh notices a deletion made outside.
func TestDeltaAndFullRefresh(t *testing.T) {
	r := newRig(t)
	c := r.catalog(t, openStore(t, sqliteDSN(t)), Options{})
	env, srv := r.dev()
	ec := c.byID[env.ID]
	if err := ec.refresh(r.ctx, true); err != nil {
		t.Fatal(err)
	}
	first := mustView(t, c, env.ID)
	victim := first.Entries[0].Endpoint

	// Dataverse's modifiedon has whole seconds: let the clock move past the newest record.
	time.Sleep(1100 * time.Millisecond)
	created, err := env.Client.CreateEndpoint(r.ctx, queue("Made elsewhere"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.DeleteEndpoint(r.ctx, victim.ID); err != nil {
		t.Fatal(err)
	}
	if err := ec.refresh(r.ctx, false); err != nil {
		t.Fatal(err)
	}
	v := mustView(t, c, env.ID)
	if !hasName(v, "Made elsewhere") {
		t.Fatalf("delta refresh missed a new record: %v", names(v))
	}
	if !hasName(v, victim.Name) {
		t.Fatalf("a delta refresh cannot see deletions, yet %q is gone", victim.Name)
	}
	all, deltas := listQueries(srv)
	if all != 2 || deltas != 1 {
		t.Fatalf("queries: %d, deltas: %d; want 2 and 1", all, deltas)
	}
	// The delta read only what changed.
	if got := len(v.Entries); got != len(first.Entries)+1 {
		t.Fatalf("after the delta %d entries, want %d", got, len(first.Entries)+1)
	}

	if err := ec.refresh(r.ctx, true); err != nil {
		t.Fatal(err)
	}
	v = mustView(t, c, env.ID)
	if hasName(v, victim.Name) || !hasName(v, created.Name) {
		t.Fatalf("after a full refresh: %v", names(v))
	}
}

// TestOwnWritesShowAtOnce: the portal's own create, facts and delete reach the catalog
// without a refresh.
func TestOwnWritesShowAtOnce(t *testing.T) {
	r := newRig(t)
	st := openStore(t, sqliteDSN(t))
	c := r.catalog(t, st, Options{Refresh: time.Hour})
	c.Start(r.ctx)
	env, srv := r.dev()
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	c.Views(ctx)
	loads, _ := listQueries(srv)

	ep := queue("Own write")
	ep.ID = dataverse.NewGUID()
	created, err := env.Client.CreateEndpoint(ctx, ep, dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetOwnership(ctx, store.Ownership{Environment: env.ID, EndpointID: created.ID, Team: "Integration", RegisteredBy: "k", RegisteredByName: "Reg"}); err != nil {
		t.Fatal(err)
	}
	c.Put(ctx, env.ID, ep) // what the portal wrote, secrets included: the catalog must drop them
	e, _, ok := c.Get(ctx, env.ID, created.ID)
	if !ok || e.Owner.Team != "Integration" || !e.ViaPortal {
		t.Fatalf("own create not shown with its owner: %+v", e)
	}
	if e.Endpoint.SASKey.IsSet() || !e.Endpoint.IsSASKeySet {
		t.Fatal("the catalog must keep only whether the key is set")
	}

	if _, err := st.RecordValidationRun(ctx, store.ValidationRun{Environment: env.ID, EndpointID: created.ID, RunBy: "k", RunByName: "Reg",
		StartedAt: time.Now(), Result: store.ValidationPassed, Summary: "ok"}); err != nil {
		t.Fatal(err)
	}
	c.FactsChanged(ctx, env.ID, created.ID)
	if e, _, _ := c.Get(ctx, env.ID, created.ID); !e.HasLastRun || e.LastRun.Result != store.ValidationPassed {
		t.Fatalf("validation not shown: %+v", e)
	}

	c.Deleted(ctx, env.ID, created.ID)
	if _, _, ok := c.Get(ctx, env.ID, created.ID); ok {
		t.Fatal("own delete still listed")
	}
	if n, _ := listQueries(srv); n != loads {
		t.Fatalf("own writes cost %d list queries, want none", n-loads)
	}
}

// TestWritesReachOtherReplicas runs two catalogs (two replicas) on one database: a write on
// one reaches the other within two seconds, on SQLite and on PostgreSQL.
func TestWritesReachOtherReplicas(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{{"sqlite", func(t *testing.T) string { return sqliteDSN(t) }}, {"postgres", func(t *testing.T) string { return pgtest.NewDSN(t) }}} {
		t.Run(db.name, func(t *testing.T) {
			r := newRig(t)
			dsn := db.dsn(t)
			stA, stB := openStore(t, dsn), openStore(t, dsn)
			a := r.catalog(t, stA, Options{Refresh: time.Hour})
			b := r.catalog(t, stB, Options{Refresh: time.Hour}) // default FollowEvery: 1 s
			a.Start(r.ctx)
			b.Start(r.ctx)
			ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
			defer cancel()
			a.Views(ctx)
			b.Views(ctx)
			env, _ := r.dev()

			within := func(what string, ok func() bool) {
				t.Helper()
				start := time.Now()
				for !ok() {
					if time.Since(start) > 2*time.Second {
						t.Fatalf("%s did not reach the other replica within 2 s", what)
					}
					time.Sleep(20 * time.Millisecond)
				}
				t.Logf("%s reached the other replica after %v", what, time.Since(start).Round(time.Millisecond))
			}

			created, err := env.Client.CreateEndpoint(ctx, queue("Replicated"), dataverse.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			a.Put(ctx, env.ID, created)
			within("a create", func() bool { _, _, ok := b.Get(ctx, env.ID, created.ID); return ok })

			if _, err := stA.SetOwnership(ctx, store.Ownership{Environment: env.ID, EndpointID: created.ID, Team: "Finance", RegisteredBy: "k", RegisteredByName: "Reg"}); err != nil {
				t.Fatal(err)
			}
			a.FactsChanged(ctx, env.ID, created.ID)
			within("an owner", func() bool { e, _, _ := b.Get(ctx, env.ID, created.ID); return e != nil && e.Owner.Team == "Finance" })

			created.Description = "edited on replica A"
			if err := env.Client.UpdateEndpoint(ctx, created); err != nil {
				t.Fatal(err)
			}
			a.Put(ctx, env.ID, created)
			within("an edit", func() bool {
				e, _, _ := b.Get(ctx, env.ID, created.ID)
				return e != nil && e.Endpoint.Description == "edited on replica A" && e.Owner.Team == "Finance"
			})

			if err := env.Client.DeleteEndpoint(ctx, created.ID); err != nil {
				t.Fatal(err)
			}
			a.Deleted(ctx, env.ID, created.ID)
			within("a delete", func() bool { _, _, ok := b.Get(ctx, env.ID, created.ID); return !ok })
		})
	}
}

// TestFailingRefreshKeepsData: an outage keeps the last good data, marked stale with the cause;
// a throttled refresh waits as long as Dataverse asks and says it is throttling.
func TestFailingRefreshKeepsData(t *testing.T) {
	r := newRig(t)
	now := time.Now()
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	c := r.catalog(t, openStore(t, sqliteDSN(t)), Options{Now: clock})
	env, srv := r.dev()
	ec := c.byID[env.ID]
	if err := ec.refresh(r.ctx, true); err != nil {
		t.Fatal(err)
	}
	good := mustView(t, c, env.ID)

	srv.InjectFault(dvemulator.Fault{Status: http.StatusServiceUnavailable, Times: 10})
	err := ec.refresh(r.ctx, false)
	if !errors.Is(err, dataverse.Unavailable) {
		t.Fatalf("refresh during an outage: %v", err)
	}
	v := mustView(t, c, env.ID)
	if len(v.Entries) != len(good.Entries) || !v.Status.Stale() || !v.Status.StaleSince.Equal(now) || v.Status.Problem == "" || v.Status.Throttled {
		t.Fatalf("stale status: %+v (entries %d, had %d)", v.Status, len(v.Entries), len(good.Entries))
	}
	if !v.Status.AsOf.Equal(good.Status.AsOf) {
		t.Fatal("a failed refresh moved 'as of'")
	}
	srv.ClearFaults()

	srv.InjectFault(dvemulator.Fault{Status: http.StatusTooManyRequests, RetryAfter: 90 * time.Second, Times: 10})
	err = ec.refresh(r.ctx, false)
	if !errors.Is(err, dataverse.Throttled) {
		t.Fatalf("refresh while throttled: %v", err)
	}
	v = mustView(t, c, env.ID)
	if !v.Status.Throttled || !v.Status.RetryAt.Equal(now.Add(90*time.Second)) || len(v.Entries) != len(good.Entries) {
		t.Fatalf("throttled status: %+v", v.Status)
	}
	if !strings.Contains(strings.ToLower(v.Status.Problem), "throttl") || strings.Contains(strings.ToLower(v.Status.Problem), "unavailable") {
		t.Fatalf("throttled problem wording: %q", v.Status.Problem)
	}
	srv.ClearFaults()

	// The background loop honours Retry-After: started now, it sends nothing until RetryAt.
	before, _ := listQueries(srv)
	loopCtx, stop := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { ec.loop(loopCtx); close(done) }()
	time.Sleep(300 * time.Millisecond)
	if n, _ := listQueries(srv); n != before {
		t.Fatalf("the loop sent %d queries before Retry-After ran out", n-before)
	}
	stop()
	<-done

	clockMu.Lock()
	now = now.Add(2 * time.Minute)
	clockMu.Unlock()
	if err := ec.refresh(r.ctx, false); err != nil {
		t.Fatal(err)
	}
	if st := mustView(t, c, env.ID).Status; st.Stale() || st.Throttled || st.Problem != "" || !st.AsOf.Equal(now) {
		t.Fatalf("after recovery: %+v", st)
	}
}

// TestManualRefreshIsRateLimited: people cannot make the portal hammer Dataverse.
func TestManualRefreshIsRateLimited(t *testing.T) {
	r := newRig(t)
	c := r.catalog(t, openStore(t, sqliteDSN(t)), Options{ManualInterval: time.Minute})
	env, srv := r.dev()
	if err := c.Refresh(r.ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	err := c.Refresh(r.ctx, env.ID)
	var soon *TooSoonError
	if !errors.As(err, &soon) || !errors.Is(err, ErrTooSoon) || soon.Wait <= 0 || soon.Wait > time.Minute {
		t.Fatalf("second refresh: %v", err)
	}
	if !strings.Contains(err.Error(), "try again in") {
		t.Fatalf("message %q", err)
	}
	if n, _ := listQueries(srv); n != 1 {
		t.Fatalf("%d list queries, want 1", n)
	}
	if err := c.Refresh(r.ctx, "nowhere"); !errors.Is(err, ErrNoEnvironment) {
		t.Fatalf("unknown environment: %v", err)
	}
}

// TestStepsAreCached: an endpoint page's steps cost one Dataverse read per refresh interval,
// and a write to the endpoint reads them again.
func TestStepsAreCached(t *testing.T) {
	r := newRig(t)
	c := r.catalog(t, openStore(t, sqliteDSN(t)), Options{})
	env, srv := r.dev()
	if err := c.Refresh(r.ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	id := mustView(t, c, env.ID).Entries[0].Endpoint.ID
	stepReads := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if strings.Contains(r, "serviceendpoint_sdkmessageprocessingstep") {
				n++
			}
		}
		return n
	}
	for range 5 {
		if _, err := c.Steps(r.ctx, env.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := stepReads(); n != 1 {
		t.Fatalf("5 views read the steps %d times, want 1", n)
	}
	// The record written again unchanged (a delta refresh's boundary, a test's result) keeps
	// the steps; a change of the steps, or of the record, reads them anew.
	e, _, _ := c.Get(r.ctx, env.ID, id)
	c.Put(r.ctx, env.ID, e.Endpoint)
	if _, err := c.Steps(r.ctx, env.ID, id); err != nil {
		t.Fatal(err)
	}
	if n := stepReads(); n != 1 {
		t.Fatalf("after the record was put again unchanged the steps were read %d times in all, want 1", n)
	}
	c.StepsChanged(r.ctx, env.ID, id)
	if _, err := c.Steps(r.ctx, env.ID, id); err != nil {
		t.Fatal(err)
	}
	if n := stepReads(); n != 2 {
		t.Fatalf("after the steps changed they were read %d times in all, want 2", n)
	}
	modified := e.Endpoint
	modified.ModifiedOn = modified.ModifiedOn.Add(time.Second)
	c.Put(r.ctx, env.ID, modified)
	if _, err := c.Steps(r.ctx, env.ID, id); err != nil {
		t.Fatal(err)
	}
	if n := stepReads(); n != 3 {
		t.Fatalf("after the record changed the steps were read %d times in all, want 3", n)
	}
}

func TestTooSoonMessage(t *testing.T) {
	for _, c := range []struct {
		wait time.Duration
		want string
	}{{1500 * time.Millisecond, "2 seconds"}, {10 * time.Millisecond, "in 1 second"}, {9 * time.Second, "9 seconds"}} {
		if got := (&TooSoonError{Wait: c.wait}).Error(); !strings.Contains(got, c.want) {
			t.Errorf("%v: %q", c.wait, got)
		}
	}
}

// TestAllIsSortedAndBuiltOncePerVersion: the list across environments comes sorted by name,
// is shared until something changes, and shows a change at once.
func TestAllIsSortedAndBuiltOncePerVersion(t *testing.T) {
	r := newRig(t)
	c := r.catalog(t, openStore(t, sqliteDSN(t)), Options{Refresh: time.Hour})
	c.Start(r.ctx)
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	c.All(ctx) // waits for the first loads
	views, all := c.All(ctx)
	if len(views) != 2 || len(all) != len(views[0].Entries)+len(views[1].Entries) {
		t.Fatalf("%d views, %d entries", len(views), len(all))
	}
	if !slices.IsSortedFunc(all, CompareByName) {
		t.Fatal("All is not sorted by name")
	}
	envs := map[string]bool{}
	for _, e := range all {
		envs[e.Env.ID] = true
	}
	if len(envs) != 2 {
		t.Fatalf("entries of %d environments, want 2", len(envs))
	}
	if _, again := c.All(ctx); &again[0] != &all[0] {
		t.Fatal("All was rebuilt without a change")
	}
	env, _ := r.dev()
	created, err := env.Client.CreateEndpoint(ctx, queue("aaa first by name"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Put(ctx, env.ID, created)
	if _, after := c.All(ctx); len(after) != len(all)+1 || after[0].Endpoint.ID != created.ID {
		t.Fatalf("after a write: %d entries, first %q", len(after), after[0].Endpoint.Name)
	}
}
