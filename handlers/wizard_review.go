package handlers

import (
	"errors"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// draftReviewForm shows step 5: the summary, the validation, and Save when it is allowed.
func (s *Server) draftReviewForm(w http.ResponseWriter, r *http.Request) error {
	_, d, err := s.loadDraft(r)
	if err != nil || sentToSaved(w, r, d) {
		return err
	}
	s.renderReview(w, r, d)
	return nil
}

// draftReviewSubmit saves the endpoint (or goes back).
func (s *Server) draftReviewSubmit(w http.ResponseWriter, r *http.Request) error {
	id, d, err := s.loadDraft(r)
	if err != nil || sentToSaved(w, r, d) {
		return err
	}
	switch r.PostFormValue("nav") {
	case "back":
		return s.advance(w, r, &d, web.StepValidate)
	case "save":
		if _, _, why := s.reviewOf(d); why != "" {
			return &Error{Status: http.StatusConflict, Title: "Not saved", Message: why}
		}
		return s.saveEndpoint(w, r, id, d)
	}
	s.renderReview(w, r, d)
	return nil
}

// sentToSaved sends the person to the endpoint when the draft was saved already (a second
// click, a refresh, the back button).
func sentToSaved(w http.ResponseWriter, r *http.Request, d wizardDraft) bool {
	if d.Status != store.DraftSaved {
		return false
	}
	http.Redirect(w, r, web.EndpointURL(d.Environment, d.EndpointID), http.StatusSeeOther)
	return true
}

// reviewOf is the draft's registration, its fingerprint, and why it cannot be saved yet ("" when
// it can): only a valid registration proved by a passing validation of exactly these values is.
func (s *Server) reviewOf(d wizardDraft) (e endpoint.ServiceEndpoint, fingerprint, why string) {
	e = d.serviceEndpoint()
	fingerprint = s.fingerprint(e)
	switch {
	case e.Validate() != nil:
		why = "Some details are missing or wrong: go back to the details step."
	case d.data.LastRun == nil:
		why = "Validate the configuration first: only a configuration proved by a test can be saved."
	case !d.data.LastRun.Passed:
		why = "The last validation failed. Fix the cause and validate again."
	case d.data.LastRun.Fingerprint != fingerprint:
		why = "The values changed after the last validation. Validate again before saving."
	}
	return e, fingerprint, why
}

// renderReview shows step 5.
func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, d wizardDraft) {
	e, fp, why := s.reviewOf(d)
	form := web.ReviewForm{Summary: s.summaryFacts(d, e), Result: d.data.LastRun.view(fp), CanSave: why == "", WhyNotSave: why}
	s.render(w, r, http.StatusOK, web.WizardReview(s.page(w, r, "New endpoint: review", web.NavNew), d.wizard(web.StepReview, nil), form))
}

// saveEndpoint creates the endpoint in Dataverse exactly once, however many times Save is
// pressed and on however many replicas: the draft is claimed first, the endpoint id was chosen
// when the draft was made, and a "duplicate" answer means an earlier attempt already created it.
func (s *Server) saveEndpoint(w http.ResponseWriter, r *http.Request, id auth.Identity, d wizardDraft) error {
	ctx := r.Context()
	env, ok := s.Environments.Get(d.Environment)
	if !ok {
		return &Error{Status: http.StatusConflict, Title: "Environment no longer configured",
			Message: "The draft's Dataverse environment is not in the portal's configuration any more. Start a new registration."}
	}
	if err := s.authorize(r, auth.ActionRegister, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: d.data.Team}); err != nil {
		return err
	}
	claim, err := s.Store.ClaimDraftForSave(ctx, d.ID, id.Key, d.Version)
	switch {
	case errors.Is(err, store.ErrDraftSaved):
		http.Redirect(w, r, web.EndpointURL(d.Environment, d.EndpointID), http.StatusSeeOther)
		return nil
	case errors.Is(err, store.ErrDraftSaving):
		return &Error{Status: http.StatusConflict, Title: "Already being saved",
			Message: "Another request is saving this endpoint right now. Open the endpoints list in a moment to find it."}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Title: "The draft changed",
			Message: "It was changed in another window after you opened this page. Review it again."}
	case err != nil:
		return err
	}
	e := wizardDraft{Draft: claim.Draft, data: d.data}.serviceEndpoint()
	e.ID = claim.Draft.EndpointID
	created, err := env.Client.CreateEndpoint(ctx, e, dataverse.CreateOptions{SolutionUniqueName: env.SolutionUniqueName})
	if err != nil {
		_ = s.Store.ReleaseDraftClaim(ctx, claim)
		_, _ = s.Store.AppendAudit(ctx, store.AuditEntry{ActorKey: id.Key, ActorName: id.Name, Action: "endpoint.create",
			Environment: env.ID, EndpointID: e.ID, EndpointName: e.Name, After: auditSnapshot(e),
			Outcome: store.AuditFailed, Detail: dataverseMessage(err), RequestID: RequestID(ctx)})
		return dataverseError("Dataverse did not create the endpoint", err)
	}
	_, err = s.Store.FinishDraftSave(ctx, claim, store.DraftSave{Team: d.data.Team, RegisteredByName: id.Name,
		Audit: store.AuditEntry{ActorKey: id.Key, ActorName: id.Name, Action: "endpoint.create", EndpointName: created.Name,
			After: auditSnapshot(e), Outcome: store.AuditSucceeded, RequestID: RequestID(ctx)}})
	if err != nil {
		return err
	}
	s.Catalog.Put(ctx, env.ID, created)
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Endpoint “" + created.Name + "” was validated and saved in " + env.DisplayName + "."})
	http.Redirect(w, r, web.EndpointURL(env.ID, e.ID), http.StatusSeeOther)
	return nil
}
