package handlers

import (
	"context"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// stepStateSubmit disables or enables a step: a disabled step stays registered, and Dataverse
// sends nothing for it until it is enabled again.
func (s *Server) stepStateSubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, _, st, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	var state endpoint.StepState
	var action, done string
	switch r.PostFormValue("state") {
	case "disabled":
		state, action, done = endpoint.StepDisabled, "step.disable", "disabled: Dataverse sends nothing for it until it is enabled again"
	case "enabled":
		state, action, done = endpoint.StepEnabled, "step.enable", "enabled"
	default:
		return &Error{Status: http.StatusBadRequest, Title: "Choose enabled or disabled",
			Message: "The form must say state=enabled or state=disabled. Use the Enable or Disable button on the step's page."}
	}
	url := web.StepPageURL(c.Env.ID, c.Endpoint.ID, st.ID)
	if st.State == state {
		s.addFlash(w, r, web.Flash{Kind: web.FlashInfo, Message: "“" + st.Name + "” was already " + state.Label() + "."})
		http.Redirect(w, r, url, http.StatusSeeOther)
		return nil
	}
	if err := s.setStepState(r, id, c, st, state, action); err != nil {
		return err
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "“" + st.Name + "” is " + done + "."})
	http.Redirect(w, r, url, http.StatusSeeOther)
	return nil
}

// setStepState enables or disables the step st (action names it in the audit), for pages and
// API alike, through changeStep.
func (s *Server) setStepState(r *http.Request, id auth.Identity, c catalogEntry, st endpoint.Step, state endpoint.StepState, action string) error {
	after := st
	after.State = state
	err := s.changeStep(r, id, c, action, &st, &after, func(ctx context.Context) error { return c.Env.Client.SetStepState(ctx, st.ID, state) })
	if err != nil {
		return dataverseError("Dataverse did not change the step's state", err)
	}
	return nil
}
