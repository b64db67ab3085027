package handlers

import (
	"net/http"

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
