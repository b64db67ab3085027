package handlers

import (
	"net/http"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// draftValidateForm shows step 4: the summary, how to validate, and the last result.
func (s *Server) draftValidateForm(w http.ResponseWriter, r *http.Request) error {
	_, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	s.renderValidate(w, r, d)
	return nil
}

// draftValidateSubmit runs the test-send (or goes on, or back). With htmx the result replaces
// the contents of the result region (the region itself stays, so screen readers announce the
// change); without JavaScript the page reloads with it.
func (s *Server) draftValidateSubmit(w http.ResponseWriter, r *http.Request) error {
	id, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	switch r.PostFormValue("nav") {
	case "back":
		return s.advance(w, r, &d, web.StepDetails)
	case "next":
		return s.advance(w, r, &d, web.StepReview)
	case "run":
	default:
		s.renderValidate(w, r, d)
		return nil
	}
	e := d.serviceEndpoint()
	if problems := e.Validate(); problems != nil {
		return s.advance(w, r, &d, web.StepDetails)
	}
	if refused, err := s.refuseTest(w, r, id, "draft/"+d.ID); refused {
		return err
	}
	mode := endpoint.ParseProbeMode(r.PostFormValue("mode"))
	rec := s.probe(r.Context(), e, mode, d.data.Emulator, d.data.NamespaceWide)
	d.data.Mode = mode
	d.data.LastRun = &rec
	if err := s.recordRun(r.Context(), id, d.Environment, "", e.Name, d.ID, d.Version, rec); err != nil {
		return err
	}
	if err := s.saveDraft(r, &d); err != nil {
		return err
	}
	if isHTMX(r) {
		s.render(w, r, http.StatusOK, web.ProbeOutcome(rec.view("")))
		return nil
	}
	http.Redirect(w, r, web.StepURL(d.ID, web.StepValidate), http.StatusSeeOther)
	return nil
}

// renderValidate shows step 4.
func (s *Server) renderValidate(w http.ResponseWriter, r *http.Request, d wizardDraft) {
	e := d.serviceEndpoint()
	form := web.ValidateForm{Modes: modeOptions(d.data.Mode), Result: d.data.LastRun.view(s.fingerprint(e)),
		Summary: s.summaryFacts(d, e)}
	if e.Contract.IsRelay() && e.Contract != endpoint.ContractRest {
		form.Modes = form.Modes[:1]
	}
	s.render(w, r, http.StatusOK, web.WizardValidate(s.page(w, r, "New endpoint: validate", web.NavNew), d.wizard(web.StepValidate, nil), form))
}

// isHTMX reports whether the request came from htmx (it wants a fragment).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// summaryFacts describes a registration with its secrets masked.
func (s *Server) summaryFacts(d wizardDraft, e endpoint.ServiceEndpoint) []web.Fact {
	envName := d.Environment
	if env, ok := s.Environments.Get(d.Environment); ok {
		envName = env.DisplayName
	}
	facts := []web.Fact{
		{Label: "Environment", Value: envName},
		{Label: "Owning team", Value: d.data.Team},
		{Label: "Name", Value: e.Name},
	}
	if e.Description != "" {
		facts = append(facts, web.Fact{Label: "Description", Value: e.Description})
	}
	facts = append(facts, web.Fact{Label: "Designation type", Value: e.Contract.Label()})
	if e.Contract == endpoint.ContractWebhook {
		facts = append(facts, web.Fact{Label: "URL", Value: e.URL},
			web.Fact{Label: "Authentication", Value: endpoint.DescribeWebhookAuth(e)})
	} else {
		facts = append(facts,
			web.Fact{Label: "Namespace address", Value: e.NamespaceAddress},
			web.Fact{Label: "Path", Value: e.Path},
			web.Fact{Label: "Authentication", Value: authFact(e)})
	}
	facts = append(facts,
		web.Fact{Label: "Message format", Value: e.MessageFormat.Label()},
		web.Fact{Label: "User information sent", Value: e.UserClaim.Label()})
	return facts
}

func authFact(e endpoint.ServiceEndpoint) string {
	switch e.AuthType {
	case endpoint.AuthTypeSASKey:
		s := "SAS key of policy " + e.SASKeyName
		if e.HasSecret(endpoint.PurposeSASKey) {
			s += " (key is set)"
		}
		return s
	case endpoint.AuthTypeSASToken:
		return "SAS token (token is set)"
	}
	return e.AuthType.Label()
}
