package catalog

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// failedReadTTL is how long a failed metadata read is remembered, so a Dataverse outage is not
// asked again by every page view.
const failedReadTTL = 5 * time.Second

// readCache keeps values read from Dataverse for a while, one read per key at a time: every
// caller asking for a key while it is read waits for that read.
type readCache[T any] struct {
	// keepFailures is how long a failed read is remembered; zero reads again at the next get.
	keepFailures time.Duration

	mu    sync.Mutex
	calls map[string]*readCall[T]
}

type readCall[T any] struct {
	done chan struct{}
	at   time.Time
	v    T
	err  error
}

// get returns the value under key, read with read when absent or older than ttl (failures
// are kept keepFailures).
func (rc *readCache[T]) get(ctx context.Context, key string, ttl time.Duration, now func() time.Time, read func(context.Context) (T, error)) (T, error) {
	rc.mu.Lock()
	if rc.calls == nil {
		rc.calls = map[string]*readCall[T]{}
	}
	call, ok := rc.calls[key]
	if ok {
		select {
		case <-call.done:
			keep := ttl
			if call.err != nil {
				keep = rc.keepFailures
			}
			if now().Sub(call.at) >= keep {
				ok = false
			}
		default: // being read
		}
	}
	if !ok {
		call = &readCall[T]{done: make(chan struct{})}
		rc.calls[key] = call
		rc.mu.Unlock()
		// The read outlives the request that started it: others may be waiting for it.
		call.v, call.err = read(context.WithoutCancel(ctx))
		call.at = now()
		close(call.done)
		return call.v, call.err
	}
	rc.mu.Unlock()
	select {
	case <-call.done:
		return call.v, call.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// metadataTTL is how long messages and table columns are kept: they change with
// customizations, rarely, and each read costs requests of the shared application user.
func (c *Catalog) metadataTTL() time.Duration {
	if c.opts.FullEvery > 0 {
		return c.opts.FullEvery
	}
	return DefaultFullEvery
}

// Messages returns the messages steps can be registered on in an environment (with their
// tables), read from Dataverse at most once per full-refresh interval.
func (c *Catalog) Messages(ctx context.Context, envID string) ([]endpoint.Message, error) {
	ec, ok := c.byID[envID]
	if !ok {
		return nil, ErrNoEnvironment
	}
	return c.messages.get(ctx, envID, c.metadataTTL(), c.opts.Now, ec.env.Client.StepMessages)
}

// Columns returns a table's columns in an environment, read from Dataverse at most once per
// full-refresh interval.
func (c *Catalog) Columns(ctx context.Context, envID, table string) ([]endpoint.Column, error) {
	ec, ok := c.byID[envID]
	if !ok {
		return nil, ErrNoEnvironment
	}
	return c.columns.get(ctx, envID+"\x00"+table, c.metadataTTL(), c.opts.Now, func(ctx context.Context) ([]endpoint.Column, error) {
		return ec.env.Client.TableColumns(ctx, table)
	})
}

// Solutions returns the solutions an environment's endpoint belongs to, as Dataverse reports
// them; the whole environment's membership is read at most once per full-refresh interval.
func (c *Catalog) Solutions(ctx context.Context, envID, id string) ([]endpoint.Solution, error) {
	ec, ok := c.byID[envID]
	if !ok {
		return nil, ErrNoEnvironment
	}
	all, err := c.solutions.get(ctx, envID, c.metadataTTL(), c.opts.Now, ec.env.Client.EndpointSolutions)
	return all[strings.ToLower(id)], err
}

// Users returns the users steps can run as in an environment, read from Dataverse at most once
// per full-refresh interval.
func (c *Catalog) Users(ctx context.Context, envID string) ([]dataverse.User, error) {
	ec, ok := c.byID[envID]
	if !ok {
		return nil, ErrNoEnvironment
	}
	return c.users.get(ctx, envID, c.metadataTTL(), c.opts.Now, ec.env.Client.Users)
}

// StepsChanged forgets an endpoint's steps after the portal changed them, here and (through
// the change log) on every other replica, so the next page view reads them anew.
func (c *Catalog) StepsChanged(ctx context.Context, envID, id string) {
	if ec, ok := c.byID[envID]; ok {
		ec.forgetSteps(id)
	}
	c.announce(ctx, envID, id, store.ChangeSteps)
}

// forget drops the value under key; the next get reads it anew.
func (rc *readCache[T]) forget(key string) {
	rc.mu.Lock()
	delete(rc.calls, key)
	rc.mu.Unlock()
}

// clear drops every value.
func (rc *readCache[T]) clear() {
	rc.mu.Lock()
	clear(rc.calls)
	rc.mu.Unlock()
}
