package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// Saving a registration is idempotent: the endpoint's id was chosen when the draft was made, so
// any attempt, on any replica, after any failure, first asks Dataverse for that id and either
// finds the record an earlier attempt created or creates it. Then the portal's side (owner,
// encrypted secret, validation history, audit outcome, catalog) is completed in one
// transaction that only one attempt can win. The audit records the intent before Dataverse is
// called and the outcome after; "failed" only when Dataverse has no such record.

// saveWait is how long a second Save of the same draft (a double click, a retry on another
// replica) waits for the first to finish before it takes the save over.
const saveWait = 3 * time.Second

// saveJob is one attempt at finishing a draft's save.
type saveJob struct {
	claim     store.DraftClaim
	env       *dataverse.Environment
	actorKey  string
	actorName string
	requestID string
	// create says whether to create the record when Dataverse has none (a person's Save), or
	// to give the save up (the recoverer finishing what a dead request started).
	create bool
}

// errSaveLost: another attempt finished the save first; the endpoint exists and is the portal's.
var errSaveLost = errors.New("another request finished the save")

// saveEndpoint saves the draft's endpoint and sends the person to its page.
func (s *Server) saveEndpoint(w http.ResponseWriter, r *http.Request, id auth.Identity, d wizardDraft) error {
	env, created, err := s.saveRegistration(r, id, d)
	if err != nil {
		return err
	}
	if created.ID != "" {
		s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Endpoint “" + created.Name + "” was validated and saved in " + env.DisplayName + ". Next, add a step: without one, Dataverse sends it nothing."})
	}
	http.Redirect(w, r, web.EndpointURL(d.Environment, d.EndpointID), http.StatusSeeOther)
	return nil
}

// saveRegistration saves a proved draft's endpoint, for pages and API alike: the policy asked
// again, the draft claimed, the endpoint created idempotently (finishSave). It returns the
// record created, or a zero one when another request (a double click, another replica) saved
// it already.
func (s *Server) saveRegistration(r *http.Request, id auth.Identity, d wizardDraft) (*dataverse.Environment, endpoint.ServiceEndpoint, error) {
	ctx := r.Context()
	env, ok := s.Environments.Get(d.Environment)
	if !ok {
		return nil, endpoint.ServiceEndpoint{}, &Error{Status: http.StatusConflict, Title: "Environment no longer configured",
			Message: "The draft's Dataverse environment is not in the portal's configuration any more. Start a new registration."}
	}
	if err := s.authorize(r, auth.ActionRegister, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: d.data.Team}); err != nil {
		return env, endpoint.ServiceEndpoint{}, err
	}
	claim, err := s.claimForSave(ctx, d, id.Key)
	switch {
	case errors.Is(err, store.ErrDraftSaved):
		return env, endpoint.ServiceEndpoint{}, nil
	case errors.Is(err, store.ErrConflict):
		return env, endpoint.ServiceEndpoint{}, &Error{Status: http.StatusConflict, Title: "The draft changed",
			Message: "It was changed in another window after you opened this page. Review it again."}
	case err != nil:
		return env, endpoint.ServiceEndpoint{}, err
	}
	created, err := s.finishSave(ctx, saveJob{claim: claim, env: env, actorKey: id.Key, actorName: id.Name,
		requestID: RequestID(ctx), create: true})
	if errors.Is(err, errSaveLost) {
		return env, endpoint.ServiceEndpoint{}, nil
	}
	if err != nil {
		// Whatever is unknown stays to be found out, by the next Save at once (no waiting for
		// the claim to lapse) or by the recoverer.
		_ = s.Store.ExpireDraftClaim(context.WithoutCancel(ctx), claim)
		return env, endpoint.ServiceEndpoint{}, err
	}
	return env, created, nil
}

// claimForSave claims the draft for saving. When another request holds it, this one waits
// briefly for that one to finish (ErrDraftSaved), then takes the save over: finishing is
// idempotent, so a request that died never locks the person out.
func (s *Server) claimForSave(ctx context.Context, d wizardDraft, owner string) (store.DraftClaim, error) {
	claim, err := s.Store.ClaimDraftForSave(ctx, d.ID, owner, d.Version)
	if !errors.Is(err, store.ErrDraftSaving) {
		return claim, err
	}
	deadline := time.Now().Add(saveWait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return store.DraftClaim{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		cur, err := s.Store.GetDraft(ctx, d.ID, owner)
		if err != nil {
			return store.DraftClaim{}, err
		}
		switch cur.Status {
		case store.DraftSaved:
			return store.DraftClaim{}, store.ErrDraftSaved
		case store.DraftOpen: // the other attempt failed and let go: try again
			return s.Store.ClaimDraftForSave(ctx, d.ID, owner, d.Version)
		}
	}
	return s.Store.TakeOverDraftSave(ctx, d.ID, owner)
}

// finishSave makes sure the draft's endpoint exists in Dataverse with the draft's values and
// completes the portal's side. It returns the record; errSaveLost when another attempt
// finished first.
func (s *Server) finishSave(ctx context.Context, job saveJob) (endpoint.ServiceEndpoint, error) {
	data, err := decodeDraftData(job.claim.Draft.Data)
	if err != nil {
		return endpoint.ServiceEndpoint{}, fmt.Errorf("read draft %s: %w", job.claim.Draft.ID, err)
	}
	d := wizardDraft{Draft: job.claim.Draft, data: data}
	e := d.serviceEndpoint()
	e.ID = job.claim.Draft.EndpointID
	env := job.env
	entry := store.AuditEntry{ActorKey: job.actorKey, ActorName: job.actorName, Action: "endpoint.create",
		Environment: env.ID, EndpointID: e.ID, EndpointName: e.Name, After: auditSnapshot(e), RequestID: job.requestID}
	// The intent comes first: Dataverse is never changed without an audit entry saying so. An
	// interrupted earlier attempt's intent is completed rather than doubled.
	if prior, ok, err := s.Store.PendingIntent(ctx, entry.Action, env.ID, e.ID); err != nil {
		return e, err
	} else if ok {
		entry.RequestID = prior.RequestID
	} else if err := s.auditIntent(ctx, entry); err != nil {
		return e, err
	}
	// giveUp records that the endpoint was not created and opens the draft again.
	giveUp := func(detail string) {
		failed := entry
		failed.Outcome, failed.Detail = store.AuditFailed, detail
		_, _ = s.Store.AppendAudit(context.WithoutCancel(ctx), failed)
		_ = s.Store.ReleaseDraftClaim(context.WithoutCancel(ctx), job.claim)
	}

	got, err := env.Client.Endpoint(ctx, e.ID)
	switch {
	case err == nil:
		// An earlier attempt created it; finish only if it is what this draft proved.
	case errors.Is(err, dataverse.NotFound) && !job.create:
		giveUp("The save was interrupted before Dataverse created the endpoint; save it again.")
		return e, &Error{Status: http.StatusConflict, Title: "Not saved", Message: "Dataverse has no such endpoint."}
	case errors.Is(err, dataverse.NotFound):
		if taken := s.nameTaken(ctx, env, e); taken != nil {
			giveUp("Another endpoint in " + env.DisplayName + " is named “" + e.Name + "”.")
			return e, taken
		}
		got, err = env.Client.CreateEndpoint(ctx, e, dataverse.CreateOptions{SolutionUniqueName: env.SolutionUniqueName})
		var de *dataverse.Error
		if errors.As(err, &de) && de.IsDuplicateKey() {
			// Another attempt created it between our read and our create.
			got, err = env.Client.Endpoint(ctx, e.ID)
		}
		if err != nil {
			if definitelyRefused(err) {
				giveUp(dataverseMessage(err))
			}
			// Otherwise whether it landed is unknown: the intent stays pending and the claim
			// held, so the next Save (or the recoverer) finds out by asking Dataverse.
			return e, dataverseError("Dataverse did not create the endpoint", err)
		}
	default:
		return e, dataverseError("Dataverse did not answer whether the endpoint exists", err)
	}
	if diffs := recordDifferences(got, e); len(diffs) > 0 {
		giveUp("Dataverse holds a different endpoint with this id: " + strings.Join(diffs, "; ") + ".")
		return e, &Error{Status: http.StatusConflict, Title: "A different endpoint has this id",
			Message: "Dataverse already holds an endpoint with this registration's id, but " + strings.Join(diffs, "; ") +
				". Nothing was changed. Start a new registration, or ask an administrator to look at that endpoint."}
	}

	s.Faults.beforeFinishSave(ctx)
	done := entry
	done.Outcome = store.AuditSucceeded
	team := data.Team
	_, err = s.Store.FinishDraftSave(ctx, job.claim, store.DraftSave{Team: team, RegisteredByName: job.actorName, Audit: done})
	if errors.Is(err, store.ErrClaimLost) {
		// Another attempt took the save over and may have finished it: the endpoint is ours
		// either way once the draft says saved.
		if cur, gerr := s.Store.GetDraft(ctx, job.claim.Draft.ID, job.claim.Draft.Owner); gerr == nil && cur.Status == store.DraftSaved {
			return got, errSaveLost
		}
		return got, &Error{Status: http.StatusConflict, Title: "Still being saved",
			Message: "Another request is finishing this save. Open the endpoints list in a moment to find it."}
	}
	if err != nil {
		return got, err // the claim stays: the next Save or the recoverer finishes it
	}
	s.Catalog.Put(ctx, env.ID, got)
	return got, nil
}

// definitelyRefused says whether a failed Dataverse call certainly changed nothing: Dataverse
// refused the request, as opposed to an answer that never came.
func definitelyRefused(err error) bool {
	var de *dataverse.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Kind {
	case dataverse.Invalid, dataverse.Forbidden, dataverse.Unauthorized:
		return true
	case dataverse.Conflict:
		return !de.IsDuplicateKey()
	}
	return false
}

// recordDifferences lists how the record Dataverse holds differs from the registration, in
// words; none when it is the registration's.
func recordDifferences(got, want endpoint.ServiceEndpoint) []string {
	var out []string
	diff := func(what, g, w string) {
		if !strings.EqualFold(strings.TrimSuffix(g, "/"), strings.TrimSuffix(w, "/")) {
			out = append(out, fmt.Sprintf("its %s is “%s”, the registration's “%s”", what, g, w))
		}
	}
	diff("name", got.Name, want.Name)
	diff("designation type", got.Contract.Label(), want.Contract.Label())
	diff("namespace address", got.NamespaceAddress, want.NamespaceAddress)
	diff("path", got.Path, want.Path)
	diff("URL", got.URL, want.URL)
	return out
}

// nameTaken refuses a name another endpoint of the environment has: the catalog answers
// first, then Dataverse itself right before the create (the catalog may be a minute old).
func (s *Server) nameTaken(ctx context.Context, env *dataverse.Environment, e endpoint.ServiceEndpoint) error {
	taken := func(otherID string) error {
		return &Error{Status: http.StatusConflict, Title: "This name is taken",
			Message: "Another endpoint in " + env.DisplayName + " is named “" + e.Name + "” (" + web.EndpointURL(env.ID, otherID) +
				"). Names are unique in an environment: go back to the details step and choose another."}
	}
	if v, ok := s.Catalog.View(env.ID); ok {
		for _, other := range v.Entries {
			if strings.EqualFold(other.Endpoint.Name, e.Name) && !strings.EqualFold(other.Endpoint.ID, e.ID) {
				return taken(other.Endpoint.ID)
			}
		}
	}
	same, err := env.Client.ListEndpoints(ctx, dataverse.ListOptions{Select: []string{"serviceendpointid", "name"},
		Filter: "name eq " + dataverse.Quote(e.Name), PageSize: 5})
	if err != nil {
		return nil // the catalog's answer stands; the create itself goes on
	}
	for _, other := range same {
		if !strings.EqualFold(other.ID, e.ID) {
			return taken(other.ID)
		}
	}
	return nil
}

// Faults lets fault-injection tests stop a save at a chosen point, as a crash or an outage
// would; nil (none) in production.
type Faults struct {
	beforeFinish atomic.Pointer[func(context.Context)]
}

// BeforeFinishSave runs fn in every save after Dataverse holds the record and before the
// portal's side is recorded (nil fn: nothing). A test makes it panic to play a replica that
// dies there: nothing after it runs, the claim stays, the intent stays pending.
func (f *Faults) BeforeFinishSave(fn func(context.Context)) { f.beforeFinish.Store(&fn) }

func (f *Faults) beforeFinishSave(ctx context.Context) {
	if f == nil {
		return
	}
	if fn := f.beforeFinish.Load(); fn != nil && *fn != nil {
		(*fn)(ctx)
	}
}
