package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/plan"
	"github.com/contoso/sbportal/store"
)

// PlanTarget is one environment as the plan engine reads and writes it for one person (or
// pipeline identity). It reads the catalog and writes through the pages' own path: every
// write is authorized by the policy, proved where it touches a destination or a secret, audited
// (intent before the Dataverse call, outcome after) under one change-set id, and told to the
// catalog. The pages' copy and plan/apply use it; the API will too.
type PlanTarget struct {
	s         *Server
	id        auth.Identity
	env       *dataverse.Environment
	changeSet string
}

var (
	_ plan.Environment = (*PlanTarget)(nil)
	_ plan.Writer      = (*PlanTarget)(nil)
)

// PlanTarget returns the environment envID for id, whose writes are audited with changeSet as
// their request id (one apply, one change set).
func (s *Server) PlanTarget(id auth.Identity, envID, changeSet string) (*PlanTarget, error) {
	env, ok := s.Environments.Get(envID)
	if !ok {
		return nil, &Error{Status: http.StatusNotFound, Title: "No such environment",
			Message: "The portal serves no Dataverse environment named “" + envID + "”. Choose one of the list."}
	}
	return &PlanTarget{s: s, id: id, env: env, changeSet: changeSet}, nil
}

// ID is the environment's id.
func (t *PlanTarget) ID() string { return t.env.ID }

// Endpoints lists the environment's endpoints from the catalog, with their teams.
func (t *PlanTarget) Endpoints(ctx context.Context) ([]plan.Current, error) {
	for _, v := range t.s.Catalog.Views(ctx) {
		if v.Env.ID != t.env.ID {
			continue
		}
		if !v.Status.Loaded {
			return nil, fmt.Errorf("%s has not been read yet: %s", t.env.DisplayName, v.Status.Problem)
		}
		out := make([]plan.Current, 0, len(v.Entries))
		for _, e := range v.Entries {
			c := plan.Current{Endpoint: e.Endpoint}
			if e.ViaPortal {
				c.Team = e.Owner.Team
			}
			out = append(out, c)
		}
		return out, nil
	}
	return nil, errors.New("unknown environment " + t.env.ID)
}

// Steps lists an endpoint's steps.
func (t *PlanTarget) Steps(ctx context.Context, endpointID string) ([]endpoint.Step, error) {
	return t.s.Catalog.Steps(ctx, t.env.ID, endpointID)
}

// Messages lists the messages steps can be registered on.
func (t *PlanTarget) Messages(ctx context.Context) ([]endpoint.Message, error) {
	return t.s.Catalog.Messages(ctx, t.env.ID)
}

// Columns lists a table's columns.
func (t *PlanTarget) Columns(ctx context.Context, table string) ([]endpoint.Column, error) {
	return t.s.Catalog.Columns(ctx, t.env.ID, table)
}

// StoredSecret is the secret the portal keeps (encrypted) for an endpoint.
func (t *PlanTarget) StoredSecret(ctx context.Context, endpointID string, p endpoint.SecretPurpose) (endpoint.Secret, bool, error) {
	sec, err := t.s.Store.GetSecret(ctx, store.SecretRef{Environment: t.env.ID, EndpointID: endpointID, Purpose: p})
	if errors.Is(err, store.ErrNotFound) {
		return endpoint.Secret{}, false, nil
	}
	return sec, err == nil, err
}

// Authorize asks the policy.
func (t *PlanTarget) Authorize(a auth.Action, team string) error {
	return t.s.cfg.Policy.Check(t.id, a, t.resource(team))
}

func (t *PlanTarget) resource(team string) auth.Resource {
	return auth.Resource{Environment: t.env.ID, EnvironmentTeams: t.env.Teams, OwnerTeam: team}
}

func (t *PlanTarget) actor() actor { return actor{id: t.id, requestID: t.changeSet} }

func (t *PlanTarget) entry(e endpoint.ServiceEndpoint) catalogEntry {
	return catalogEntry{Env: t.env, Endpoint: e}
}

// Prove sends a test message through e and records it in e's history.
func (t *PlanTarget) Prove(ctx context.Context, e endpoint.ServiceEndpoint, emulator bool) (plan.Proof, error) {
	if err := t.s.allowTest(t.id, t.env.ID+"/"+e.ID); err != nil {
		return plan.Proof{}, err
	}
	rec, err := t.s.proveAndRecord(ctx, t.id, t.env.ID, e, emulator)
	if err != nil {
		return plan.Proof{}, err
	}
	return plan.Proof{Passed: rec.Passed, Summary: rec.Detail, Fix: rec.Fix}, nil
}

// CreateEndpoint creates e (with its secret) for team: see Server.createAs.
func (t *PlanTarget) CreateEndpoint(ctx context.Context, e endpoint.ServiceEndpoint, team string) error {
	if err := t.Authorize(auth.ActionRegister, team); err != nil {
		return err
	}
	return t.s.createAs(ctx, t.actor(), t.env, e, team)
}

// UpdateEndpoint writes after over before (and keeps after's secret when it has one).
func (t *PlanTarget) UpdateEndpoint(ctx context.Context, before, after endpoint.ServiceEndpoint) error {
	owner, err := t.owner(ctx, before.ID)
	if err != nil {
		return err
	}
	action, keyOnly := "endpoint.edit", sameSettings(before, after)
	if keyOnly {
		action = "endpoint.setkey"
		err = t.Authorize(auth.ActionRekey, owner)
	} else {
		err = t.Authorize(auth.ActionEdit, owner)
		if err == nil && before.IsManaged {
			err = errors.New(endpoint.ReadOnlyReason(before, nil))
		}
	}
	if err != nil {
		return err
	}
	if err := t.s.updateAs(ctx, t.actor(), t.entry(before), after, action); err != nil {
		return err
	}
	if _, ok := after.AuthType.SecretPurpose(); ok && after.Secret(mustPurpose(after)).IsSet() {
		return t.s.keepSecretOf(ctx, t.env.ID, after)
	}
	return nil
}

func mustPurpose(e endpoint.ServiceEndpoint) endpoint.SecretPurpose {
	p, _ := e.AuthType.SecretPurpose()
	return p
}

// sameSettings says whether two records differ in nothing a person sets but the secrets.
func sameSettings(a, b endpoint.ServiceEndpoint) bool {
	return string(auditSnapshot(a.WithoutSecrets())) == string(auditSnapshot(b.WithoutSecrets()))
}

func (t *PlanTarget) owner(ctx context.Context, id string) (string, error) {
	o, err := t.s.Store.GetOwnership(ctx, t.env.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return o.Team, err
}

// SetTeam gives the endpoint to team (adopting it when it had none).
func (t *PlanTarget) SetTeam(ctx context.Context, e endpoint.ServiceEndpoint, team string) error {
	owner, err := t.owner(ctx, e.ID)
	if err != nil {
		return err
	}
	a := auth.ActionAdopt
	if owner != "" {
		a = auth.ActionEdit
	}
	if err := t.Authorize(a, owner); err != nil {
		return err
	}
	if err := t.Authorize(auth.ActionRegister, team); err != nil {
		return err
	}
	return t.s.assignTeam(ctx, t.actor(), t.entry(e), owner, team)
}

// DeleteEndpoint deletes the endpoint and its steps.
func (t *PlanTarget) DeleteEndpoint(ctx context.Context, e endpoint.ServiceEndpoint) error {
	owner, err := t.owner(ctx, e.ID)
	if err != nil {
		return err
	}
	if err := t.Authorize(auth.ActionDelete, owner); err != nil {
		return err
	}
	return t.s.deleteAs(ctx, t.actor(), t.entry(e))
}

// CreateStep adds a step to ep.
func (t *PlanTarget) CreateStep(ctx context.Context, ep endpoint.ServiceEndpoint, st endpoint.Step) error {
	st.EndpointID = ep.ID
	return t.changeStep(ctx, ep, "step.create", nil, &st, func(ctx context.Context) error { return t.env.Client.CreateStep(ctx, st) })
}

// UpdateStep changes a step of ep, its state included.
func (t *PlanTarget) UpdateStep(ctx context.Context, ep endpoint.ServiceEndpoint, before, after endpoint.Step) error {
	after.EndpointID = ep.ID
	return t.changeStep(ctx, ep, "step.edit", &before, &after, func(ctx context.Context) error {
		if err := t.env.Client.UpdateStep(ctx, after, before); err != nil {
			return err
		}
		if after.State != before.State {
			return t.env.Client.SetStepState(ctx, after.ID, after.State)
		}
		return nil
	})
}

// DeleteStep removes a step of ep.
func (t *PlanTarget) DeleteStep(ctx context.Context, ep endpoint.ServiceEndpoint, st endpoint.Step) error {
	return t.changeStep(ctx, ep, "step.delete", &st, nil, func(ctx context.Context) error { return t.env.Client.DeleteStep(ctx, st.ID) })
}

func (t *PlanTarget) changeStep(ctx context.Context, ep endpoint.ServiceEndpoint, action string, before, after *endpoint.Step, call func(context.Context) error) error {
	owner, err := t.owner(ctx, ep.ID)
	if err != nil {
		return err
	}
	if err := t.Authorize(auth.ActionEdit, owner); err != nil {
		return err
	}
	return t.s.changeStepAs(ctx, t.actor(), t.entry(ep), action, before, after, call)
}

// actor is who makes a change and the request (or change-set) id its audit entries share.
type actor struct {
	id        auth.Identity
	requestID string
}

func actorOf(r *http.Request, id auth.Identity) actor {
	return actor{id: id, requestID: RequestID(r.Context())}
}

func (a actor) audit(action string, env string, e endpoint.ServiceEndpoint) store.AuditEntry {
	return store.AuditEntry{ActorKey: a.id.Key, ActorName: a.id.Name, Action: action, Environment: env,
		EndpointID: e.ID, EndpointName: e.Name, RequestID: a.requestID}
}

// createAs creates e (holding its secret) in env for team, the way a registration's save
// does: the intent first, then Dataverse (a record with this id already holding these values
// is taken as created: a retried apply), then the owner, the encrypted secret, the catalog and
// the outcome.
func (s *Server) createAs(ctx context.Context, a actor, env *dataverse.Environment, e endpoint.ServiceEndpoint, team string) error {
	entry := a.audit("endpoint.create", env.ID, e)
	entry.After = auditSnapshot(e)
	got, err := env.Client.Endpoint(ctx, e.ID)
	switch {
	case err == nil:
		if diffs := recordDifferences(got, e); len(diffs) > 0 {
			return errors.New("Dataverse holds a different endpoint with this id: " + strings.Join(diffs, "; "))
		}
	case errors.Is(err, dataverse.NotFound):
		if taken := s.nameTaken(ctx, env, e); taken != nil {
			return taken
		}
		if err := s.auditIntent(ctx, entry); err != nil {
			return err
		}
		if got, err = env.Client.CreateEndpoint(ctx, e, dataverse.CreateOptions{SolutionUniqueName: env.SolutionUniqueName}); err != nil {
			s.auditFailure(ctx, entry, err)
			return dataverseError("Dataverse did not create the endpoint", err)
		}
	default:
		return dataverseError("Dataverse did not answer whether the endpoint exists", err)
	}
	if _, err := s.Store.SetOwnership(ctx, store.Ownership{Environment: env.ID, EndpointID: e.ID, Team: team,
		RegisteredBy: a.id.Key, RegisteredByName: a.id.Name}); err != nil {
		return err
	}
	if err := s.keepSecretOf(ctx, env.ID, e); err != nil {
		return err
	}
	s.Catalog.Put(ctx, env.ID, got)
	entry.Outcome = store.AuditSucceeded
	_, err = s.Store.AppendAudit(ctx, entry)
	return err
}

// updateAs writes e to Dataverse (c is the endpoint as read before) and records the outcome in
// the audit trail, failed or not.
func (s *Server) updateAs(ctx context.Context, a actor, c catalogEntry, e endpoint.ServiceEndpoint, action string) error {
	entry := a.audit(action, c.Env.ID, e)
	entry.Before, entry.After = auditSnapshot(c.Endpoint), auditSnapshot(e)
	if err := s.auditIntent(ctx, entry); err != nil {
		return err
	}
	if err := c.Env.Client.UpdateEndpoint(ctx, e); err != nil {
		s.auditFailure(ctx, entry, err)
		return err
	}
	s.Catalog.Put(ctx, c.Env.ID, e)
	entry.Outcome = store.AuditSucceeded
	_, err := s.Store.AppendAudit(ctx, entry)
	return err
}

// deleteAs deletes the endpoint with its steps, and forgets its secrets and owner.
func (s *Server) deleteAs(ctx context.Context, a actor, c catalogEntry) error {
	e := c.Endpoint
	entry := a.audit("endpoint.delete", c.Env.ID, e)
	entry.Before = auditSnapshot(e)
	if err := s.auditIntent(ctx, entry); err != nil {
		return err
	}
	if err := c.Env.Client.DeleteEndpoint(ctx, e.ID); err != nil {
		s.auditFailure(ctx, entry, err)
		return dataverseError("Dataverse did not delete the endpoint", err)
	}
	s.Catalog.Deleted(ctx, c.Env.ID, e.ID)
	if _, err := s.Store.DeleteEndpointSecrets(ctx, c.Env.ID, e.ID); err != nil {
		return err
	}
	if err := s.Store.DeleteOwnership(ctx, c.Env.ID, e.ID); err != nil {
		return err
	}
	if err := s.Store.DeleteHealth(ctx, c.Env.ID, e.ID); err != nil {
		return err
	}
	entry.Outcome = store.AuditSucceeded
	_, err := s.Store.AppendAudit(ctx, entry)
	return err
}

// assignTeam records team as the endpoint's owner (from owner, "" when it had none), audited as
// an adoption or a transfer. Dataverse is not called: ownership is the portal's own fact.
func (s *Server) assignTeam(ctx context.Context, a actor, c catalogEntry, owner, team string) error {
	action := "endpoint.adopt"
	if owner != "" {
		action = "endpoint.transfer"
	}
	entry := a.audit(action, c.Env.ID, c.Endpoint)
	entry.Before, _ = json.Marshal(map[string]string{"team": owner})
	entry.After, _ = json.Marshal(map[string]string{"team": team})
	entry.Detail = "Owning team: " + team
	if _, err := s.Store.SetOwnership(ctx, store.Ownership{Environment: c.Env.ID, EndpointID: c.Endpoint.ID, Team: team,
		RegisteredBy: a.id.Key, RegisteredByName: a.id.Name}); err != nil {
		entry.Outcome, entry.Detail = store.AuditFailed, "The owner could not be recorded."
		_, _ = s.Store.AppendAudit(context.WithoutCancel(ctx), entry)
		return err
	}
	s.Catalog.FactsChanged(ctx, c.Env.ID, c.Endpoint.ID)
	entry.Outcome = store.AuditSucceeded
	_, err := s.Store.AppendAudit(ctx, entry)
	return err
}
