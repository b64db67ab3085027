package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// stepDeleteForm asks to confirm the deletion of a step.
func (s *Server) stepDeleteForm(w http.ResponseWriter, r *http.Request) error {
	id, c, v, st, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, web.StepDeletePage(s.page(w, r, "Delete "+st.Name, web.NavEndpoints),
		web.StepDeleteForm{View: s.stepView(r, id, c, v, st)}))
	return nil
}

// stepDeleteSubmit deletes the step, with its images, once its name is typed to confirm.
func (s *Server) stepDeleteSubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, st, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != st.Name {
		s.render(w, r, http.StatusUnprocessableEntity, web.StepDeletePage(s.page(w, r, "Delete "+st.Name, web.NavEndpoints),
			web.StepDeleteForm{View: s.stepView(r, id, c, v, st), ConfirmError: "Type the step's name exactly as shown (" + st.Name + ") to confirm the deletion."}))
		return nil
	}
	if err := s.deleteStep(r, id, c, st); err != nil {
		return err
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "The step “" + st.Name + "” was deleted; Dataverse no longer sends those events to " + c.Endpoint.Name + "."})
	http.Redirect(w, r, web.EndpointURL(c.Env.ID, c.Endpoint.ID), http.StatusSeeOther)
	return nil
}

// deleteStep deletes the step st with its images, for pages and API alike, through changeStep.
func (s *Server) deleteStep(r *http.Request, id auth.Identity, c catalogEntry, st endpoint.Step) error {
	err := s.changeStep(r, id, c, "step.delete", &st, nil, func(ctx context.Context) error { return c.Env.Client.DeleteStep(ctx, st.ID) })
	if err != nil {
		return dataverseError("Dataverse did not delete the step", err)
	}
	return nil
}
