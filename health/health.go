// Package health keeps saved endpoints proven after they were saved, and makes failures
// people would otherwise not see visible: scheduled re-validation of every endpoint whose
// secret the portal keeps, the reading of Dataverse's failed and waiting system jobs of each
// endpoint's steps, the "failing since" state derived from both, and the notifications a
// change of that state queues.
//
// One replica at a time does this work, holding the store's "health" lease; on top of that,
// each endpoint is claimed for a round with a conditional update in the store, so even two
// replicas that both believe they hold the lease never re-validate an endpoint twice in a
// round. Results reach every replica's catalog through FactsChanged, as people's writes do.
//
// What it must not do: probe or record a validation itself (the Revalidate function it is
// given does that through the same path as people's tests, rate limits included), write to
// Dataverse, or read Dataverse per page view (pages read what it stored, via the catalog).
package health

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/notify"
	"github.com/contoso/sbportal/store"
)

// Defaults for Options.
const (
	DefaultInterval      = 6 * time.Hour
	DefaultConcurrency   = 4
	DefaultDeliveryEvery = 15 * time.Minute
	DefaultTick          = time.Minute
)

// LeaseName is the store lease the scheduler's replica holds.
const LeaseName = "health"

// Outcome is a scheduled re-validation's result. Summary is in words, never a secret.
type Outcome struct {
	Passed  bool
	Summary string
}

// WaitError asks the scheduler to try an endpoint again after Wait (the rate limits people's
// tests obey refused it for now).
type WaitError struct{ Wait time.Duration }

func (e *WaitError) Error() string { return fmt.Sprintf("rate limited; try again in %s", e.Wait) }

// ErrNoSecret: the portal keeps no secret for the endpoint (any more): nothing to prove with.
var ErrNoSecret = errors.New("the portal keeps no secret for this endpoint")

// RevalidateFunc proves one saved endpoint with its stored secret and records the run in its
// validation history as scheduled.
type RevalidateFunc func(ctx context.Context, envID, endpointID string) (Outcome, error)

// Options configure a Scheduler.
type Options struct {
	Store      *store.Store
	Catalog    *catalog.Catalog
	Revalidate RevalidateFunc
	// Notifier composes and sends notifications (nil: nobody is told).
	Notifier *notify.Notifier
	// Interval is how often each endpoint is re-validated (DefaultInterval); each endpoint's
	// turn comes up to a tenth of it early, spread by its id, so they do not all fall due
	// together.
	Interval time.Duration
	// Concurrency bounds the re-validations in flight (DefaultConcurrency).
	Concurrency int
	// DeliveryEvery is how often failed deliveries are read from Dataverse (DefaultDeliveryEvery).
	DeliveryEvery time.Duration
	// Tick is how often the lease holder wakes up (DefaultTick, jittered by a tenth).
	Tick time.Duration
	// ObserveLag is told, after each pass, how far re-validation of each environment is behind.
	ObserveLag func(envID string, lag time.Duration)
	Now        func() time.Time
	Logger     *slog.Logger
}

// Scheduler runs the health work.
type Scheduler struct {
	opts Options
	log  *slog.Logger

	mu             sync.Mutex
	lastDeliveries time.Time
}

// New builds a Scheduler.
func New(o Options) *Scheduler {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.DeliveryEvery <= 0 {
		o.DeliveryEvery = DefaultDeliveryEvery
	}
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Scheduler{opts: o, log: o.Logger}
}

// Run does the health work while this replica holds the lease, every Tick, until ctx ends;
// then it releases the lease (a pass in flight is cancelled with ctx).
func (s *Scheduler) Run(ctx context.Context) {
	lease := s.opts.Store.Lease(LeaseName)
	defer lease.Release()
	for {
		if held, err := lease.Hold(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "health: could not take its lease; will retry", "err", err)
			}
		} else if held {
			if err := s.Pass(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "health: a pass failed; will retry", "err", err)
			}
		}
		t := time.NewTimer(s.opts.Tick + rand.N(s.opts.Tick/10+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Pass does one round of the work now (Run calls it while holding the lease; tests call it
// directly): re-validate the endpoints that are due, read failed deliveries when they are due,
// update every endpoint's failing state (queuing notifications), send due notifications, and
// report the lag.
func (s *Scheduler) Pass(ctx context.Context) error {
	var errs []error
	if _, err := s.RevalidateDue(ctx); err != nil {
		errs = append(errs, err)
	}
	s.mu.Lock()
	deliveriesDue := s.lastDeliveries.IsZero() || s.opts.Now().Sub(s.lastDeliveries) >= s.opts.DeliveryEvery
	s.mu.Unlock()
	if deliveriesDue {
		if err := s.ReadDeliveries(ctx); err != nil {
			errs = append(errs, err)
		} else {
			s.mu.Lock()
			s.lastDeliveries = s.opts.Now()
			s.mu.Unlock()
		}
	}
	if err := s.Evaluate(ctx); err != nil {
		errs = append(errs, err)
	}
	if s.opts.Notifier != nil {
		if _, _, err := s.opts.Notifier.SendDue(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.reportLag(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// candidate is an endpoint with a stored secret that the catalog knows.
type candidate struct {
	entry *catalog.Entry
	last  time.Time // the later of its last validation and its last claim
}

// candidates lists the endpoints scheduled re-validation covers.
func (s *Scheduler) candidates(ctx context.Context) ([]candidate, error) {
	refs, err := s.opts.Store.EndpointsWithSecrets(ctx)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, ref := range refs {
		e, loaded, ok := s.opts.Catalog.Get(ctx, ref.Environment, ref.EndpointID)
		if !loaded || !ok {
			continue // deleted outside the portal, or its environment is not loaded yet
		}
		last := e.Health.RevalidationClaimedAt
		if e.HasLastRun && e.LastRun.StartedAt.After(last) {
			last = e.LastRun.StartedAt
		}
		out = append(out, candidate{entry: e, last: last})
	}
	return out, nil
}

// jitter is how much earlier than Interval an endpoint falls due: up to a tenth of the
// interval, fixed per endpoint so every replica agrees.
func (s *Scheduler) jitter(envID, id string) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(envID + "/" + strings.ToLower(id)))
	return time.Duration(h.Sum64() % uint64(s.opts.Interval/10+1))
}

// RevalidateDue re-validates every due endpoint this replica can claim, Concurrency at a time,
// and returns how many it re-validated.
func (s *Scheduler) RevalidateDue(ctx context.Context) (int, error) {
	cands, err := s.candidates(ctx)
	if err != nil {
		return 0, err
	}
	now := s.opts.Now()
	sem := make(chan struct{}, s.opts.Concurrency)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		errs []error
	)
	for _, c := range cands {
		ep := c.entry
		dueBefore := now.Add(-s.opts.Interval + s.jitter(ep.Env.ID, ep.Endpoint.ID))
		if c.last.After(dueBefore) {
			continue
		}
		claimed, err := s.opts.Store.ClaimRevalidation(ctx, ep.Env.ID, ep.Endpoint.ID, now, dueBefore)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !claimed {
			continue // another replica has it this round
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return done, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := s.revalidate(ctx, ep.Env.ID, ep.Endpoint.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			done++
		}()
	}
	wg.Wait()
	return done, errors.Join(errs...)
}

// revalidate proves one endpoint, waiting as long as the rate limits ask (a few times).
func (s *Scheduler) revalidate(ctx context.Context, envID, id string) error {
	for attempt := 0; ; attempt++ {
		_, err := s.opts.Revalidate(ctx, envID, id)
		var wait *WaitError
		if errors.Is(err, ErrNoSecret) {
			return nil
		}
		if !errors.As(err, &wait) || attempt == 3 {
			if err != nil {
				return fmt.Errorf("re-validate endpoint %s in %s: %w", id, envID, err)
			}
			return nil
		}
		t := time.NewTimer(wait.Wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// deliveryWindow is how far back failed deliveries are read.
const deliveryWindow = 7 * 24 * time.Hour

// ReadDeliveries reads, for every endpoint with steps, the failed and waiting system jobs of
// its steps in the last 7 days, and stores their counts (24 hours and 7 days) and newest
// error. An environment's steps are listed at once (StepHandlers) and their jobs read
// together, 25 steps a query: a pass costs a few requests per environment, not several per
// endpoint.
func (s *Scheduler) ReadDeliveries(ctx context.Context) error {
	views, _ := s.opts.Catalog.All(ctx)
	var errs []error
	for _, v := range views {
		if !v.Status.Loaded || len(v.Entries) == 0 {
			continue
		}
		if err := s.readEnvironmentDeliveries(ctx, v.Entries); err != nil {
			errs = append(errs, fmt.Errorf("failed deliveries in %s: %w", v.Entries[0].Env.ID, err))
		}
	}
	return errors.Join(errs...)
}

// readEnvironmentDeliveries reads the jobs of every step of one environment's entries at once
// and records each endpoint's summary.
func (s *Scheduler) readEnvironmentDeliveries(ctx context.Context, entries []*catalog.Entry) error {
	var errs []error
	handlers, err := entries[0].Env.Client.StepHandlers(ctx)
	if err != nil {
		return err
	}
	owner := map[string]*catalog.Entry{} // step id -> its endpoint
	var ids []string
	withSteps := map[*catalog.Entry]bool{}
	for _, e := range entries {
		for _, id := range handlers[strings.ToLower(e.Endpoint.ID)] {
			owner[id] = e
			ids = append(ids, id)
			withSteps[e] = true
		}
	}
	now := s.opts.Now()
	byEndpoint := map[*catalog.Entry][]dataverse.SystemJob{}
	if len(ids) > 0 {
		jobs, err := entries[0].Env.Client.FailedDeliveries(ctx, ids, now.Add(-deliveryWindow))
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, j := range jobs {
			if e, ok := owner[strings.ToLower(j.StepID)]; ok {
				byEndpoint[e] = append(byEndpoint[e], j)
			}
		}
	}
	for _, e := range entries {
		if !withSteps[e] && !e.Health.Deliveries.Any() {
			continue // no steps and nothing to clear: no write
		}
		if err := s.recordDeliveries(ctx, e, Summarize(byEndpoint[e], now)); err != nil {
			errs = append(errs, fmt.Errorf("endpoint %s: %w", e.Endpoint.ID, err))
		}
	}
	return errors.Join(errs...)
}

// recordDeliveries stores an endpoint's delivery summary when it changed.
func (s *Scheduler) recordDeliveries(ctx context.Context, e *catalog.Entry, d store.DeliveryFailures) error {
	if d.Failed7d == e.Health.Deliveries.Failed7d && d.Waiting7d == e.Health.Deliveries.Waiting7d &&
		d.Failed24h == e.Health.Deliveries.Failed24h && d.Waiting24h == e.Health.Deliveries.Waiting24h &&
		d.LastErrorAt.Equal(e.Health.Deliveries.LastErrorAt) && !e.Health.Deliveries.CheckedAt.IsZero() {
		return nil // unchanged: spare the store and the other replicas
	}
	if err := s.opts.Store.RecordDeliveryFailures(ctx, e.Env.ID, e.Endpoint.ID, d); err != nil {
		return err
	}
	s.opts.Catalog.FactsChanged(ctx, e.Env.ID, e.Endpoint.ID)
	return nil
}

// Summarize counts failed and waiting jobs in the last 24 hours and 7 days before now, and
// picks the newest one's error.
func Summarize(jobs []dataverse.SystemJob, now time.Time) store.DeliveryFailures {
	d := store.DeliveryFailures{CheckedAt: now}
	for _, j := range jobs {
		if now.Sub(j.CreatedOn) > deliveryWindow {
			continue
		}
		recent := now.Sub(j.CreatedOn) <= 24*time.Hour
		switch j.StatusCode {
		case dataverse.JobFailed:
			d.Failed7d++
			if recent {
				d.Failed24h++
			}
		case dataverse.JobWaiting:
			d.Waiting7d++
			if recent {
				d.Waiting24h++
			}
		default:
			continue
		}
		if j.CreatedOn.After(d.LastErrorAt) || d.LastErrorAt.IsZero() {
			d.LastErrorAt = j.CreatedOn
			d.LastError = j.FriendlyMessage
			if d.LastError == "" {
				d.LastError = j.Message
			}
		}
	}
	if len(d.LastError) > 500 {
		d.LastError = d.LastError[:500] + "…"
	}
	return d
}

// FailingReason says why an entry is failing, or "" when it is not: its last validation failed,
// or deliveries of its steps failed or wait for a retry in the last 24 hours.
func FailingReason(e *catalog.Entry) string {
	var why []string
	if e.HasLastRun && e.LastRun.Result == store.ValidationFailed {
		why = append(why, "The last validation failed: "+e.LastRun.Summary)
	}
	if d := e.Health.Deliveries; d.Recent() {
		s := fmt.Sprintf("In the last 24 hours %d deliveries failed and %d wait for a retry", d.Failed24h, d.Waiting24h)
		if d.LastError != "" {
			s += "; the last error: " + d.LastError
		}
		why = append(why, s+".")
	}
	return strings.Join(why, " ")
}

// Evaluate updates every endpoint's failing state from its last validation and its recent
// failed deliveries; a change queues the owning team's notifications (once: the store records
// the change with a conditional update) and reaches every replica's catalog.
func (s *Scheduler) Evaluate(ctx context.Context) error {
	views, _ := s.opts.Catalog.All(ctx)
	var errs []error
	for _, v := range views {
		for _, e := range v.Entries {
			reason := FailingReason(e)
			failing := reason != ""
			if failing == e.Health.Failing() {
				continue
			}
			now := s.opts.Now()
			if !failing {
				reason = "The last validation passed and no delivery failed in the last 24 hours."
			}
			var notes []store.Notification
			if e.ViaPortal && s.opts.Notifier != nil {
				notes = s.opts.Notifier.Compose(notify.Event{Team: e.Owner.Team, Environment: e.Env.ID, EnvironmentName: e.Env.DisplayName,
					EndpointID: e.Endpoint.ID, EndpointName: e.Endpoint.Name, Failing: failing, Reason: reason, At: now})
			}
			storedReason := reason
			if !failing {
				storedReason = ""
			}
			changed, err := s.opts.Store.SetFailing(ctx, e.Env.ID, e.Endpoint.ID, failing, storedReason, now, notes)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if changed {
				s.log.InfoContext(ctx, "health: an endpoint's state changed", "environment", e.Env.ID, "endpoint", e.Endpoint.ID,
					"failing", failing, "notifications", len(notes))
			}
			s.opts.Catalog.FactsChanged(ctx, e.Env.ID, e.Endpoint.ID)
		}
	}
	return errors.Join(errs...)
}

// reportLag tells ObserveLag, per environment, how long the most overdue endpoint is past its
// interval (0 when none is).
func (s *Scheduler) reportLag(ctx context.Context) error {
	if s.opts.ObserveLag == nil {
		return nil
	}
	cands, err := s.candidates(ctx)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	lag := map[string]time.Duration{}
	views, _ := s.opts.Catalog.All(ctx)
	for _, v := range views {
		lag[v.Env.ID] = 0
	}
	for _, c := range cands {
		if c.last.IsZero() {
			continue // never validated nor claimed: due at once, not late
		}
		over := now.Sub(c.last.Add(s.opts.Interval))
		if over > lag[c.entry.Env.ID] {
			lag[c.entry.Env.ID] = over
		}
	}
	for env, d := range lag {
		s.opts.ObserveLag(env, d)
	}
	return nil
}
