package catalog

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
)

// envCatalog is one environment's part of the catalog.
type envCatalog struct {
	c        *Catalog
	env      *dataverse.Environment
	interval time.Duration
	snap     atomic.Pointer[snapshot]

	// mu serialises changes to the snapshot.
	mu sync.Mutex
	// gen counts local changes; touched remembers the gen of each endpoint's last local
	// change, so a refresh that read Dataverse before a local write does not undo it.
	gen     uint64
	touched map[string]uint64

	loaded     chan struct{} // closed after the first successful load
	loadedOnce sync.Once

	// refreshing is the refresh in flight (single-flight); nil when none.
	flightMu   sync.Mutex
	flight     *call
	lastDone   time.Time // when the last refresh ended (for the manual rate limit)
	maxModOn   time.Time // newest modifiedon held, where the next delta starts
	lastFullAt time.Time
	queries    atomic.Int64

	stepsCache readCache[[]endpoint.Step] // by endpoint id; failures are not kept
}

type call struct {
	done chan struct{}
	err  error
}

func (ec *envCatalog) now() time.Time { return ec.c.opts.Now() }

func (ec *envCatalog) view() View {
	s := ec.snap.Load()
	st := s.status
	st.Queries = ec.queries.Load()
	return View{Env: ec.env, Entries: s.entries, Status: st}
}

func (ec *envCatalog) waitLoaded(ctx context.Context) {
	select {
	case <-ec.loaded:
	case <-ctx.Done():
	}
}

// loop loads the environment, then refreshes it every interval until ctx ends.
func (ec *envCatalog) loop(ctx context.Context) {
	wait := time.Duration(0)
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		st := ec.snap.Load().status
		if st.Throttled && ec.now().Before(st.RetryAt) {
			wait = st.RetryAt.Sub(ec.now())
			continue
		}
		full := !st.Loaded || ec.now().Sub(ec.lastFull()) >= ec.c.opts.FullEvery
		_ = ec.refresh(ctx, full)
		st = ec.snap.Load().status
		switch {
		case st.Throttled:
			wait = max(st.RetryAt.Sub(ec.now()), time.Second)
		case !st.Loaded:
			// Not loaded yet: try again soon, but not in a tight loop.
			wait = min(ec.interval, 10*time.Second)
		default:
			// Jitter, so replicas and environments do not refresh in step.
			wait = ec.interval + rand.N(ec.interval/10+1)
		}
	}
}

func (ec *envCatalog) lastFull() time.Time {
	ec.flightMu.Lock()
	defer ec.flightMu.Unlock()
	return ec.lastFullAt
}

// manualWait is how long a person must wait before asking for another refresh.
func (ec *envCatalog) manualWait() time.Duration {
	ec.flightMu.Lock()
	defer ec.flightMu.Unlock()
	if ec.flight != nil || ec.lastDone.IsZero() {
		return 0
	}
	return ec.c.opts.ManualInterval - ec.now().Sub(ec.lastDone)
}

// refresh runs one refresh, or joins the one in flight, and waits for it until ctx ends.
func (ec *envCatalog) refresh(ctx context.Context, full bool) error {
	ec.flightMu.Lock()
	f := ec.flight
	if f == nil {
		f = &call{done: make(chan struct{})}
		ec.flight = f
		since := ec.maxModOn
		if since.IsZero() {
			full = true
		}
		// The refresh belongs to the catalog, not to whoever asked: a person leaving the page
		// (or giving up on a throttled Dataverse) must not cancel it for everybody else.
		go func() {
			f.err = ec.doRefresh(context.WithoutCancel(ctx), full, since)
			ec.flightMu.Lock()
			ec.flight = nil
			ec.lastDone = ec.now()
			ec.flightMu.Unlock()
			if f.err == nil {
				// After the flight is over: whoever waited for the first load and then asks for
				// a refresh gets a new one.
				ec.loadedOnce.Do(func() { close(ec.loaded) })
			}
			close(f.done)
		}()
	}
	ec.flightMu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refreshTimeout bounds one refresh.
const refreshTimeout = 2 * time.Minute

func (ec *envCatalog) doRefresh(ctx context.Context, full bool, since time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	ec.mu.Lock()
	startGen := ec.gen
	ec.mu.Unlock()
	started := ec.now()

	opts := dataverse.ListOptions{}
	if !full {
		// Inclusive: records modified in the same second as the newest one held are read again,
		// which is harmless; none is missed.
		opts.Filter = "modifiedon ge " + dataverse.FormatDateTime(since)
	}
	ec.queries.Add(1)
	var records []endpoint.ServiceEndpoint
	for ep, err := range ec.env.Client.Endpoints(ctx, opts) {
		if err != nil {
			ec.failed(err)
			return err
		}
		records = append(records, ep)
	}
	ids := make([]string, len(records))
	for i, ep := range records {
		ids[i] = ep.ID
	}
	fs, err := ec.c.factsOfMany(ctx, ec.env.ID, ids, full)
	if err != nil {
		ec.failed(err)
		return err
	}

	put := make(map[string]*Entry, len(records))
	newest := since
	for _, ep := range records {
		k := strings.ToLower(ep.ID)
		put[k] = newEntry(ec.env, ep, fs[k])
		if ep.ModifiedOn.After(newest) {
			newest = ep.ModifiedOn
		}
	}

	ec.mu.Lock()
	cur := ec.snap.Load()
	var next map[string]*Entry
	if full {
		next = put
	} else {
		next = maps.Clone(cur.byID)
		maps.Copy(next, put)
	}
	// Local writes made while this refresh was reading win over what it read.
	for k, g := range ec.touched {
		if g <= startGen {
			continue
		}
		if e, ok := cur.byID[k]; ok {
			next[k] = e
		} else {
			delete(next, k)
		}
	}
	if full {
		clear(ec.touched)
	}
	st := cur.status
	st.Loaded, st.AsOf, st.StaleSince, st.Problem, st.Throttled, st.RetryAt = true, started, time.Time{}, "", false, time.Time{}
	if full {
		st.LastFull = started
	}
	ec.publishLocked(next, st)
	ec.mu.Unlock()

	ec.flightMu.Lock()
	ec.maxModOn = newest
	if full {
		ec.lastFullAt = started
	}
	ec.flightMu.Unlock()
	if full {
		ec.forgetAllSteps()
	}
	return nil
}

// failed records a failed refresh: the data stays, marked stale with the cause.
func (ec *envCatalog) failed(err error) {
	now := ec.now()
	ec.mu.Lock()
	defer ec.mu.Unlock()
	cur := ec.snap.Load()
	st := cur.status
	if st.StaleSince.IsZero() {
		st.StaleSince = now
	}
	st.Problem = dataverse.Explain(err)
	st.Throttled, st.RetryAt = false, time.Time{}
	var de *dataverse.Error
	if errors.As(err, &de) && de.Kind == dataverse.Throttled {
		wait := de.RetryAfter
		if wait <= 0 {
			wait = ec.interval
		}
		st.Throttled, st.RetryAt = true, now.Add(wait)
	}
	next := &snapshot{entries: cur.entries, byID: cur.byID, status: st}
	ec.snap.Store(next)
	ec.c.version.Add(1)
	ec.c.log.Warn("catalog: refresh failed; keeping the last good data", "environment", ec.env.ID,
		"throttled", st.Throttled, "err", err)
}

// apply puts and removes entries (local writes and other replicas' changes).
func (ec *envCatalog) apply(put map[string]*Entry, remove []string) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.applyLocked(put, remove)
}

func (ec *envCatalog) applyLocked(put map[string]*Entry, remove []string) {
	cur := ec.snap.Load()
	next := maps.Clone(cur.byID)
	ec.gen++
	if ec.touched == nil {
		ec.touched = map[string]uint64{}
	}
	var changed []string // entries whose record is new or was modified: read their steps anew
	for k, e := range put {
		if old, ok := cur.byID[k]; !ok || !old.Endpoint.ModifiedOn.Equal(e.Endpoint.ModifiedOn) {
			changed = append(changed, k)
		}
		next[k] = e
		ec.touched[k] = ec.gen
	}
	for _, k := range remove {
		delete(next, k)
		ec.touched[k] = ec.gen
	}
	ec.publishLocked(next, cur.status)
	// The portal's own step changes forget the steps explicitly (StepsChanged); a record that is
	// only re-read (a delta refresh's boundary, new facts such as a test result) keeps them.
	for _, k := range changed {
		ec.forgetSteps(k)
	}
	for _, k := range remove {
		ec.forgetSteps(k)
	}
}

func (ec *envCatalog) publishLocked(byID map[string]*Entry, st Status) {
	entries := make([]*Entry, 0, len(byID))
	for _, e := range byID {
		entries = append(entries, e)
	}
	sortEntries(entries)
	ec.snap.Store(&snapshot{entries: entries, byID: byID, status: st})
	ec.c.version.Add(1)
}

// steps reads an endpoint's steps, cached for the refresh interval, single-flight per endpoint.
func (ec *envCatalog) steps(ctx context.Context, id string) ([]endpoint.Step, error) {
	return ec.stepsCache.get(ctx, strings.ToLower(id), ec.interval, ec.now, func(ctx context.Context) ([]endpoint.Step, error) {
		return ec.env.Client.EndpointSteps(ctx, id)
	})
}

func (ec *envCatalog) forgetSteps(id string) { ec.stepsCache.forget(strings.ToLower(id)) }

func (ec *envCatalog) forgetAllSteps() { ec.stepsCache.clear() }
