package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// stepSnapshot is a step as audit entries keep it: what a person set, not what Dataverse
// computes (no secrets: a step has none).
func stepSnapshot(st endpoint.Step) json.RawMessage {
	st.IsManaged, st.CreatedOn, st.ModifiedOn = false, endpoint.Step{}.CreatedOn, endpoint.Step{}.ModifiedOn
	b, _ := json.Marshal(st)
	return b
}

// changeStep carries out one change to a step for a page's request (see changeStepAs).
func (s *Server) changeStep(r *http.Request, id auth.Identity, c catalogEntry, action string, before, after *endpoint.Step, call func(context.Context) error) error {
	return s.changeStepAs(r.Context(), actorOf(r, id), c, action, before, after, call)
}

// changeStepAs carries out one change to a step the one way every change goes: the audit
// intent before the Dataverse call, the call, the catalog told, the outcome after. before or
// after is nil for a create or a delete.
func (s *Server) changeStepAs(ctx context.Context, a actor, c catalogEntry, action string, before, after *endpoint.Step, call func(context.Context) error) error {
	audit := a.audit(action, c.Env.ID, c.Endpoint)
	name := ""
	if before != nil {
		audit.Before, name = stepSnapshot(*before), before.Name
	}
	if after != nil {
		audit.After, name = stepSnapshot(*after), after.Name
	}
	audit.Detail = "Step “" + name + "”"
	if err := s.auditIntent(ctx, audit); err != nil {
		return err
	}
	if err := call(ctx); err != nil {
		s.auditFailure(ctx, audit, err)
		if !definitelyRefused(err) {
			// What Dataverse holds is not known: read the steps anew next time.
			s.Catalog.StepsChanged(ctx, c.Env.ID, c.Endpoint.ID)
		}
		return err
	}
	s.Catalog.StepsChanged(ctx, c.Env.ID, c.Endpoint.ID)
	audit.Outcome = store.AuditSucceeded
	_, err := s.Store.AppendAudit(ctx, audit)
	return err
}

// resolveStepIntent finds the outcome of a step change whose request never recorded one,
// from what Dataverse holds now: a create or update succeeded when the step holds the intended
// values, a delete when the step is gone. detail is set when the outcome needs explaining.
func (s *Server) resolveStepIntent(ctx context.Context, in store.AuditEntry, env *dataverse.Environment) (outcome store.AuditOutcome, detail string, err error) {
	var want endpoint.Step
	snap := in.After
	if len(snap) == 0 {
		snap = in.Before
	}
	if err := json.Unmarshal(snap, &want); err != nil || want.ID == "" {
		return store.AuditFailed, "", nil
	}
	got, err := env.Client.Step(ctx, want.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, dataverse.NotFound) {
		return "", "", err
	}
	switch {
	case len(in.After) == 0:
		return map[bool]store.AuditOutcome{true: store.AuditFailed, false: store.AuditSucceeded}[exists], "", nil
	case exists && sameStep(stepSnapshot(got), in.After):
		return store.AuditSucceeded, "", nil
	case exists && in.Action == "step.create":
		return store.AuditFailed, "The request was interrupted after Dataverse added the step, before all of it was written (an image or a setting is missing). Submit the form again, or edit the step, to finish it.", nil
	}
	return store.AuditFailed, "", nil
}

// sameStep compares two step snapshots, ignoring image ids and names Dataverse may assign.
func sameStep(a, b json.RawMessage) bool {
	var sa, sb endpoint.Step
	if json.Unmarshal(a, &sa) != nil || json.Unmarshal(b, &sb) != nil {
		return false
	}
	for _, st := range []*endpoint.Step{&sa, &sb} {
		for i := range st.Images {
			st.Images[i].ID, st.Images[i].Name = "", ""
		}
	}
	ja, _ := json.Marshal(sa)
	jb, _ := json.Marshal(sb)
	return string(ja) == string(jb)
}
