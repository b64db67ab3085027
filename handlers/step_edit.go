package handlers

import (
	"context"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// loadStepToChange loads a step for a change, refusing steps of a managed solution: those are
// changed in the solution's source environment.
func (s *Server) loadStepToChange(r *http.Request) (auth.Identity, catalogEntry, web.EndpointView, endpoint.Step, error) {
	id, c, v, st, err := s.loadStep(r, auth.ActionEdit)
	if err == nil && st.IsManaged {
		err = &Error{Status: http.StatusConflict, Title: "This step is managed",
			Message: "“" + st.Name + "” is part of a managed solution, so Dataverse does not let it be changed here. Change it in the solution's source environment and import the solution again."}
	}
	return id, c, v, st, err
}

// stepEditForm shows a step's settings for editing.
func (s *Server) stepEditForm(w http.ResponseWriter, r *http.Request) error {
	_, c, v, st, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	in := stepInputOf(st)
	ch := s.stepChoices(r.Context(), c, st)
	s.renderStepForm(w, r, http.StatusOK, c, v, true, settle(in, ch, c.Endpoint), ch, nil, "")
	return nil
}

// stepEditSubmit saves a step's changed settings.
func (s *Server) stepEditSubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, old, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := readStepForm(r, old)
	ch := s.stepChoices(ctx, c, in.Step)
	in = settle(in, ch, c.Endpoint)
	if r.PostFormValue("choices") != "" {
		s.renderStepForm(w, r, http.StatusOK, c, v, true, in, ch, nil, "")
		return nil
	}
	if errs := validateStep(in, ch, c.Endpoint); errs != nil {
		s.renderStepForm(w, r, http.StatusUnprocessableEntity, c, v, true, in, ch, errs, ch.MessagesError)
		return nil
	}
	st := in.Step
	unchanged, err := s.updateStep(r, id, c, old, st)
	if unchanged {
		s.addFlash(w, r, web.Flash{Kind: web.FlashInfo, Message: "Nothing changed in “" + st.Name + "”."})
		http.Redirect(w, r, web.StepPageURL(c.Env.ID, c.Endpoint.ID, st.ID), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return s.stepFormFailed(w, r, c, v, true, in, ch, "Dataverse did not save the step", err)
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Changes to the step “" + st.Name + "” were saved."})
	http.Redirect(w, r, web.StepPageURL(c.Env.ID, c.Endpoint.ID, st.ID), http.StatusSeeOther)
	return nil
}

// updateStep saves the validated step st over old, for pages and API alike, through
// changeStep; unchanged when there is nothing to save.
func (s *Server) updateStep(r *http.Request, id auth.Identity, c catalogEntry, old, st endpoint.Step) (unchanged bool, err error) {
	if sameStep(stepSnapshot(st), stepSnapshot(old)) {
		return true, nil
	}
	return false, s.changeStep(r, id, c, "step.update", &old, &st, func(ctx context.Context) error { return c.Env.Client.UpdateStep(ctx, st, old) })
}
