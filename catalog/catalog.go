// Package catalog is the portal's read model of each Dataverse environment's service
// endpoints: an in-memory copy that pages and the API read, so a page view never costs a
// Dataverse query. Dataverse throttles per user, and the portal's application user is one user
// for everybody using the portal: reads have to be shared.
//
// Per environment the catalog loads every endpoint at start, then refreshes in the background,
// single-flight: one list query per refresh interval whatever the number of viewers. Most
// refreshes ask only for records modified since the newest one it holds (a modifiedon delta);
// every FullEvery a full read catches deletions made outside the portal. The portal's own
// writes update it at once (Put, Deleted, FactsChanged) and are written to the store's change
// log, which every replica follows each second, so a write on one replica reaches the others'
// catalogs within about a second. The store's facts (owning team, latest validation) are
// joined in memory when an entry changes, never per view.
//
// A failing refresh keeps the last good data and says since when it is stale and why; a
// throttled one (429) waits as long as Dataverse asks before trying again.
//
// What it must not do: write to Dataverse (callers write, then tell the catalog), or hold a
// secret: entries come from Dataverse reads, which never return the write-only columns.
package catalog

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// Defaults for Options.
const (
	DefaultRefresh        = 60 * time.Second
	DefaultFullEvery      = 10 * time.Minute
	DefaultFollowEvery    = time.Second
	DefaultManualInterval = 10 * time.Second
)

// Options configure a Catalog.
type Options struct {
	Store        *store.Store
	Environments *dataverse.Environments
	// Refresh is how often each environment is refreshed (DefaultRefresh when 0); RefreshByEnv
	// overrides it per environment id.
	Refresh      time.Duration
	RefreshByEnv map[string]time.Duration
	// FullEvery is how often a refresh reads every record instead of the modified ones, to
	// notice deletions made outside the portal (DefaultFullEvery when 0).
	FullEvery time.Duration
	// FollowEvery is how often the store's change log is read for other replicas' writes
	// (DefaultFollowEvery when 0).
	FollowEvery time.Duration
	// ManualInterval is the least time between two refreshes asked for by people
	// (DefaultManualInterval when 0).
	ManualInterval time.Duration
	Logger         *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Entry is one endpoint as the pages show it: the Dataverse record joined with what the
// portal knows about it. Entries are shared between readers: never modify one.
type Entry struct {
	Env        *dataverse.Environment
	Endpoint   endpoint.ServiceEndpoint
	Owner      store.Ownership
	ViaPortal  bool
	LastRun    store.ValidationRun
	HasLastRun bool
	// Health is what scheduled re-validation and the reading of failed deliveries found (the
	// zero value when nothing was recorded).
	Health store.Health

	nameKey  string // lower-cased name, for sorting
	haystack string // lower-cased searchable text
}

// Matches reports whether the entry contains the lower-cased search text.
func (e *Entry) Matches(lowerSearch string) bool {
	return lowerSearch == "" || strings.Contains(e.haystack, lowerSearch)
}

// NameKey is the lower-cased name entries are sorted by.
func (e *Entry) NameKey() string { return e.nameKey }

func newEntry(env *dataverse.Environment, ep endpoint.ServiceEndpoint, f facts) *Entry {
	return NewEntry(Entry{Env: env, Endpoint: ep, Owner: f.owner, ViaPortal: f.via, LastRun: f.run, HasLastRun: f.hasRun, Health: f.health})
}

// NewEntry completes an entry built by hand (the row of a fresh test result, unit tests) with
// what the catalog derives from it for searching and sorting.
func NewEntry(e Entry) *Entry {
	ep := &e.Endpoint
	e.nameKey = strings.ToLower(ep.Name)
	e.haystack = strings.ToLower(ep.Name + "\x00" + ep.NamespaceAddress + "\x00" + ep.SolutionNamespace + "\x00" + ep.Path + "\x00" + ep.URL)
	return &e
}

// CompareByName orders entries by name, then environment and id, so pages are stable.
func CompareByName(a, b *Entry) int {
	return cmp.Or(cmp.Compare(a.nameKey, b.nameKey), cmp.Compare(a.Env.ID, b.Env.ID), cmp.Compare(a.Endpoint.ID, b.Endpoint.ID))
}

// facts are the store's facts about one endpoint.
type facts struct {
	owner  store.Ownership
	via    bool
	run    store.ValidationRun
	hasRun bool
	health store.Health
}

// Status says how fresh an environment's data is.
type Status struct {
	// Loaded is false until the first successful load.
	Loaded bool
	// AsOf is when the data was last known to match Dataverse (the last successful refresh).
	AsOf time.Time
	// StaleSince is when refreshing started failing; zero while refreshes succeed.
	StaleSince time.Time
	// Problem says why the last refresh failed, in words a person can act on.
	Problem string
	// Throttled says Dataverse answered the last refresh with 429; RetryAt is when the next
	// refresh will be tried.
	Throttled bool
	RetryAt   time.Time
	// LastFull is when every record was last read; Queries counts list queries (full and delta)
	// sent to Dataverse since start.
	LastFull time.Time
	Queries  int64
}

// Stale reports whether the last refresh failed.
func (s Status) Stale() bool { return !s.StaleSince.IsZero() }

// View is one environment's endpoints at one moment, sorted by name, with its status.
// Entries is shared: never modify it.
type View struct {
	Env     *dataverse.Environment
	Entries []*Entry
	Status  Status
}

// snapshot is an environment's published state; replaced whole on every change.
type snapshot struct {
	entries []*Entry          // sorted by name
	byID    map[string]*Entry // lower-case id
	status  Status
}

// Catalog holds every environment's endpoints.
type Catalog struct {
	opts   Options
	log    *slog.Logger
	envs   []*envCatalog
	byID   map[string]*envCatalog
	origin string

	followMu sync.Mutex
	seq      int64 // last change log entry applied

	version atomic.Uint64 // bumped whenever any environment's view changes
	merged  atomic.Pointer[merged]

	messages readCache[[]endpoint.Message] // by environment
	columns  readCache[[]endpoint.Column]  // by environment and table
	users    readCache[[]dataverse.User]   // by environment; all three keep failures failedReadTTL
	// solutions are each environment's endpoints' solutions (see Solutions).
	solutions readCache[map[string][]endpoint.Solution]
}

// merged is every environment's entries in one list sorted by name, for one catalog version.
type merged struct {
	version uint64
	entries []*Entry
}

// All returns every environment's view (waiting for first loads like Views) and all their
// entries in one list sorted by name. The list is shared and built once per catalog version:
// never modify it.
func (c *Catalog) All(ctx context.Context) ([]View, []*Entry) {
	version := c.Version() // read first: a change while building makes the next call rebuild
	views := c.Views(ctx)
	if m := c.merged.Load(); m != nil && m.version == version && c.Version() == version {
		return views, m.entries
	}
	n := 0
	for _, v := range views {
		n += len(v.Entries)
	}
	all := make([]*Entry, 0, n)
	for _, v := range views {
		all = append(all, v.Entries...)
	}
	MergeByName(all)
	c.merged.Store(&merged{version: version, entries: all})
	return views, all
}

// Version changes whenever any environment's view (entries or status) changes, so a page
// rendered from the catalog can be reused until it does.
func (c *Catalog) Version() uint64 { return c.version.Load() }

// ErrTooSoon is returned by Refresh when people asked for a refresh too recently.
var ErrTooSoon = errors.New("refreshed moments ago")

// ErrNoEnvironment is returned for an environment id the portal does not serve.
var ErrNoEnvironment = errors.New("no such environment")

// New builds a catalog of every environment. Nothing is loaded until Start (or a Refresh).
func New(opts Options) *Catalog {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.FullEvery <= 0 {
		opts.FullEvery = DefaultFullEvery
	}
	if opts.FollowEvery <= 0 {
		opts.FollowEvery = DefaultFollowEvery
	}
	if opts.ManualInterval <= 0 {
		opts.ManualInterval = DefaultManualInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	c := &Catalog{opts: opts, log: opts.Logger, byID: map[string]*envCatalog{}, origin: hex.EncodeToString(b[:]),
		messages: readCache[[]endpoint.Message]{keepFailures: failedReadTTL}, columns: readCache[[]endpoint.Column]{keepFailures: failedReadTTL},
		solutions: readCache[map[string][]endpoint.Solution]{keepFailures: failedReadTTL}}
	var envs []*dataverse.Environment
	if opts.Environments != nil {
		envs = opts.Environments.List()
	}
	for _, env := range envs {
		interval := opts.Refresh
		if d, ok := opts.RefreshByEnv[env.ID]; ok && d > 0 {
			interval = d
		}
		ec := &envCatalog{c: c, env: env, interval: interval, loaded: make(chan struct{})}
		ec.snap.Store(&snapshot{byID: map[string]*Entry{}})
		c.envs = append(c.envs, ec)
		c.byID[env.ID] = ec
	}
	return c
}

// Start loads every environment and keeps the catalog fresh until ctx ends: one refresh loop
// per environment and one follower of the change log. It returns at once.
func (c *Catalog) Start(ctx context.Context) {
	// Follow the log from where it stands now: the first full loads read everything after.
	if seq, err := c.opts.Store.LatestChange(ctx); err == nil {
		c.followMu.Lock()
		c.seq = seq
		c.followMu.Unlock()
	} else {
		c.log.WarnContext(ctx, "catalog: could not read the change log; following it from the start", "err", err)
	}
	for _, ec := range c.envs {
		go ec.loop(ctx)
	}
	go c.follow(ctx)
}

// Views returns every environment's view. An environment not loaded yet is waited for until
// ctx ends (bound it: one slow environment must not hold a page); its view then has
// Status.Loaded false.
func (c *Catalog) Views(ctx context.Context) []View {
	out := make([]View, len(c.envs))
	for i, ec := range c.envs {
		ec.waitLoaded(ctx)
		out[i] = ec.view()
	}
	return out
}

// View returns one environment's view without waiting.
func (c *Catalog) View(envID string) (View, bool) {
	ec, ok := c.byID[envID]
	if !ok {
		return View{}, false
	}
	return ec.view(), true
}

// Get returns one endpoint. ok is false when the environment or endpoint is unknown;
// loaded says whether the environment's data has loaded at all (an unknown endpoint in an
// environment that has not loaded may still exist). It waits for the first load until ctx
// ends.
func (c *Catalog) Get(ctx context.Context, envID, id string) (e *Entry, loaded, ok bool) {
	ec, found := c.byID[envID]
	if !found {
		return nil, false, false
	}
	ec.waitLoaded(ctx)
	s := ec.snap.Load()
	e, ok = s.byID[strings.ToLower(id)]
	return e, s.status.Loaded, ok
}

// Refresh refreshes one environment now, as asked for by a person: a full read, unless one is
// already running (then it waits for that one). It answers ErrTooSoon (wrapped, with the wait)
// when the last refresh finished less than ManualInterval ago.
func (c *Catalog) Refresh(ctx context.Context, envID string) error {
	ec, ok := c.byID[envID]
	if !ok {
		return ErrNoEnvironment
	}
	if wait := ec.manualWait(); wait > 0 {
		return &TooSoonError{Wait: wait}
	}
	return ec.refresh(ctx, true)
}

// TooSoonError says how long to wait before asking for another refresh.
type TooSoonError struct{ Wait time.Duration }

func (e *TooSoonError) Error() string {
	n := max(1, int((e.Wait+time.Second-1)/time.Second))
	if n == 1 {
		return "the list was refreshed moments ago; try again in 1 second"
	}
	return fmt.Sprintf("the list was refreshed moments ago; try again in %d seconds", n)
}

// Unwrap makes errors.Is(err, ErrTooSoon) work.
func (e *TooSoonError) Unwrap() error { return ErrTooSoon }

// Put records the portal's own write of ep (created, edited, re-keyed) in envID: the catalog
// shows it at once, with the store's facts re-read, and other replicas are told.
func (c *Catalog) Put(ctx context.Context, envID string, ep endpoint.ServiceEndpoint) {
	ec, ok := c.byID[envID]
	if !ok {
		return
	}
	// Dataverse holds the secrets now; the catalog keeps only whether each is set.
	ep.IsSASKeySet = ep.IsSASKeySet || ep.SASKey.IsSet()
	ep.IsSASTokenSet = ep.IsSASTokenSet || ep.SASToken.IsSet()
	ep.IsAuthValueSet = ep.IsAuthValueSet || ep.AuthValue.IsSet()
	ep.SASKey, ep.SASToken, ep.AuthValue = endpoint.Secret{}, endpoint.Secret{}, endpoint.Secret{}
	f, err := c.factsOf(ctx, envID, ep.ID)
	if err != nil {
		c.log.WarnContext(ctx, "catalog: could not read the portal's facts about an endpoint", "endpoint", ep.ID, "err", err)
	}
	ec.apply(map[string]*Entry{strings.ToLower(ep.ID): newEntry(ec.env, ep, f)}, nil)
	c.announce(ctx, envID, ep.ID, store.ChangeRecord)
}

// Deleted records the portal's own deletion of an endpoint.
func (c *Catalog) Deleted(ctx context.Context, envID, id string) {
	ec, ok := c.byID[envID]
	if !ok {
		return
	}
	ec.apply(nil, []string{strings.ToLower(id)})
	c.announce(ctx, envID, id, store.ChangeDeleted)
}

// FactsChanged re-reads the store's facts about an endpoint (owner, latest validation, health) after
// the portal changed them, and tells other replicas.
func (c *Catalog) FactsChanged(ctx context.Context, envID, id string) {
	c.refreshFacts(ctx, envID, id)
	c.announce(ctx, envID, id, store.ChangeFacts)
}

func (c *Catalog) refreshFacts(ctx context.Context, envID, id string) {
	ec, ok := c.byID[envID]
	if !ok {
		return
	}
	f, err := c.factsOf(ctx, envID, id)
	if err != nil {
		c.log.WarnContext(ctx, "catalog: could not read the portal's facts about an endpoint", "endpoint", id, "err", err)
		return
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	old, ok := ec.snap.Load().byID[strings.ToLower(id)]
	if !ok {
		return
	}
	ec.applyLocked(map[string]*Entry{strings.ToLower(id): newEntry(ec.env, old.Endpoint, f)}, nil)
}

func (c *Catalog) announce(ctx context.Context, envID, id string, kind store.ChangeKind) {
	// The change log outlives the request that wrote it: a cancelled request must not leave the
	// other replicas uninformed.
	ctx = context.WithoutCancel(ctx)
	if _, err := c.opts.Store.RecordChange(ctx, store.Change{Environment: envID, EndpointID: id, Kind: kind, Origin: c.origin}); err != nil {
		c.log.WarnContext(ctx, "catalog: could not tell other replicas about a change; they will see it at their next refresh",
			"endpoint", id, "err", err)
	}
}

// factsOf reads the store's facts about one endpoint.
func (c *Catalog) factsOf(ctx context.Context, envID, id string) (facts, error) {
	var f facts
	o, err := c.opts.Store.GetOwnership(ctx, envID, id)
	switch {
	case err == nil:
		f.owner, f.via = o, true
	case !errors.Is(err, store.ErrNotFound):
		return f, err
	}
	runs, err := c.opts.Store.LatestValidationRuns(ctx, envID, []string{id})
	if err != nil {
		return f, err
	}
	f.run, f.hasRun = runs[strings.ToLower(id)]
	if f.health, err = c.opts.Store.GetHealth(ctx, envID, id); err != nil {
		return f, err
	}
	return f, nil
}

// factsOfMany reads the store's facts about many endpoints of one environment at once.
func (c *Catalog) factsOfMany(ctx context.Context, envID string, ids []string, allOwners bool) (map[string]facts, error) {
	out := make(map[string]facts, len(ids))
	var owners map[string]store.Ownership
	if allOwners {
		list, err := c.opts.Store.OwnershipInEnvironment(ctx, envID)
		if err != nil {
			return nil, err
		}
		owners = make(map[string]store.Ownership, len(list))
		for _, o := range list {
			owners[strings.ToLower(o.EndpointID)] = o
		}
	} else {
		var err error
		if owners, err = c.opts.Store.OwnershipOf(ctx, envID, ids); err != nil {
			return nil, err
		}
	}
	runs, err := c.opts.Store.LatestValidationRuns(ctx, envID, ids)
	if err != nil {
		return nil, err
	}
	health, err := c.opts.Store.HealthOf(ctx, envID, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		k := strings.ToLower(id)
		var f facts
		f.owner, f.via = owners[k]
		f.run, f.hasRun = runs[k]
		f.health = health[k]
		out[k] = f
	}
	return out, nil
}

// follow applies other replicas' changes from the store's change log until ctx ends.
func (c *Catalog) follow(ctx context.Context) {
	t := time.NewTicker(c.opts.FollowEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.Follow(ctx); err != nil && ctx.Err() == nil {
			c.log.WarnContext(ctx, "catalog: could not read the change log; will retry", "err", err)
		}
	}
}

// Follow applies the change log's new entries now (the background follower calls it each
// FollowEvery).
func (c *Catalog) Follow(ctx context.Context) error {
	c.followMu.Lock()
	defer c.followMu.Unlock()
	changes, err := c.opts.Store.ChangesSince(ctx, c.seq, 1000)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		if ch.Origin != c.origin {
			if err := c.applyChange(ctx, ch); err != nil {
				return err // retried from this change at the next tick
			}
		}
		c.seq = ch.Seq
	}
	return nil
}

func (c *Catalog) applyChange(ctx context.Context, ch store.Change) error {
	ec, ok := c.byID[ch.Environment]
	if !ok {
		return nil
	}
	switch ch.Kind {
	case store.ChangeDeleted:
		ec.apply(nil, []string{strings.ToLower(ch.EndpointID)})
	case store.ChangeFacts:
		c.refreshFacts(ctx, ch.Environment, ch.EndpointID)
	case store.ChangeSteps:
		ec.forgetSteps(ch.EndpointID)
	default:
		ep, err := ec.env.Client.Endpoint(ctx, ch.EndpointID)
		if errors.Is(err, dataverse.NotFound) {
			ec.apply(nil, []string{strings.ToLower(ch.EndpointID)})
			return nil
		}
		if err != nil {
			return fmt.Errorf("read endpoint %s changed on another replica: %w", ch.EndpointID, err)
		}
		f, err := c.factsOf(ctx, ch.Environment, ch.EndpointID)
		if err != nil {
			return err
		}
		ec.apply(map[string]*Entry{strings.ToLower(ep.ID): newEntry(ec.env, ep, f)}, nil)
	}
	return nil
}

// Steps returns the steps registered against an endpoint, read from Dataverse at most once per
// refresh interval (and again after the portal changes the endpoint).
func (c *Catalog) Steps(ctx context.Context, envID, id string) ([]endpoint.Step, error) {
	ec, ok := c.byID[envID]
	if !ok {
		return nil, ErrNoEnvironment
	}
	return ec.steps(ctx, id)
}

// sortEntries sorts by name (then environment and id).
func sortEntries(entries []*Entry) { slices.SortFunc(entries, CompareByName) }

// MergeByName sorts entries by name (CompareByName) in place, cheaply when they are runs that
// are each sorted already, as a concatenation of Views' entries is.
func MergeByName(entries []*Entry) {
	// Find the sorted runs; merge neighbours until one is left.
	var bounds []int
	for i := 1; i < len(entries); i++ {
		if CompareByName(entries[i-1], entries[i]) > 0 {
			bounds = append(bounds, i)
		}
	}
	if len(bounds) == 0 {
		return
	}
	if len(bounds) > 8 {
		slices.SortStableFunc(entries, CompareByName)
		return
	}
	runs := append(append([]int{0}, bounds...), len(entries))
	tmp := make([]*Entry, 0, len(entries))
	for len(runs) > 2 {
		next := []int{0}
		for i := 0; i+2 < len(runs); i += 2 {
			lo, mid, hi := runs[i], runs[i+1], runs[i+2]
			tmp = tmp[:0]
			a, b := lo, mid
			for a < mid && b < hi {
				if CompareByName(entries[b], entries[a]) < 0 {
					tmp = append(tmp, entries[b])
					b++
				} else {
					tmp = append(tmp, entries[a])
					a++
				}
			}
			tmp = append(tmp, entries[a:mid]...)
			tmp = append(tmp, entries[b:hi]...)
			copy(entries[lo:hi], tmp)
			next = append(next, hi)
		}
		if (len(runs)-1)%2 == 1 { // an odd run out carries over
			next = append(next, runs[len(runs)-1])
		}
		runs = next
	}
}
