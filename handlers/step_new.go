package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// stepNewForm shows the form that adds a step to an endpoint.
func (s *Server) stepNewForm(w http.ResponseWriter, r *http.Request) error {
	_, c, v, err := s.loadForAction(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	in := newStepInput(strings.TrimSpace(r.URL.Query().Get("message")))
	in.Step.EndpointID = c.Endpoint.ID
	ch := s.stepChoices(r.Context(), c, in.Step)
	s.renderStepForm(w, r, http.StatusOK, c, v, false, settle(in, ch, c.Endpoint), ch, nil, "")
	return nil
}

// stepNewSubmit adds the step, once the rules Dataverse applies to steps pass. "choices"
// (choosing a message or table) shows the form again with what the choice offers.
func (s *Server) stepNewSubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := readStepForm(r, endpoint.Step{EndpointID: c.Endpoint.ID})
	ch := s.stepChoices(ctx, c, in.Step)
	in = settle(in, ch, c.Endpoint)
	if r.PostFormValue("choices") != "" {
		s.renderStepForm(w, r, http.StatusOK, c, v, false, in, ch, nil, "")
		return nil
	}
	if errs := validateStep(in, ch, c.Endpoint); errs != nil {
		s.renderStepForm(w, r, http.StatusUnprocessableEntity, c, v, false, in, ch, errs, ch.MessagesError)
		return nil
	}
	st := in.Step
	already, err := s.addStep(r, id, c, st)
	if already {
		http.Redirect(w, r, web.StepPageURL(c.Env.ID, c.Endpoint.ID, st.ID), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return s.stepFormFailed(w, r, c, v, false, in, ch, "Dataverse did not add the step", err)
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "The step “" + st.Name + "” was added. Send a sample to prove your listener reads what it will receive."})
	http.Redirect(w, r, web.StepPageURL(c.Env.ID, c.Endpoint.ID, st.ID), http.StatusSeeOther)
	return nil
}

// addStep adds the validated step st to the endpoint c, for pages and API alike, through
// changeStep. The step's id was chosen before: when a step with it exists already (the form
// or request was sent twice) and is the same, nothing is done (already); when that add was cut
// short (an image missing), it is finished.
func (s *Server) addStep(r *http.Request, id auth.Identity, c catalogEntry, st endpoint.Step) (already bool, err error) {
	ctx := r.Context()
	add := func(ctx context.Context) error { return c.Env.Client.CreateStep(ctx, st) }
	if steps, err := s.Catalog.Steps(ctx, c.Env.ID, c.Endpoint.ID); err == nil {
		if i := slices.IndexFunc(steps, func(x endpoint.Step) bool { return strings.EqualFold(x.ID, st.ID) }); i >= 0 {
			if sameStep(stepSnapshot(steps[i]), stepSnapshot(st)) {
				return true, nil
			}
			had := steps[i]
			add = func(ctx context.Context) error { return c.Env.Client.UpdateStep(ctx, st, had) }
		}
	}
	return false, s.changeStep(r, id, c, "step.create", nil, &st, add)
}

// renderStepForm shows the add or edit form with what was typed, what Dataverse offers, and
// the problems found.
func (s *Server) renderStepForm(w http.ResponseWriter, r *http.Request, status int, c catalogEntry, v web.EndpointView, editing bool, in stepInput, ch stepChoices, errs web.FieldErrors, formError string) {
	action, title := web.NewStepURL(c.Env.ID, c.Endpoint.ID), "Add a step to "+c.Endpoint.Name
	if editing {
		action, title = web.StepPageURL(c.Env.ID, c.Endpoint.ID, in.Step.ID)+"/edit", "Edit step "+in.Step.Name
	}
	f := stepFormView(v, action, editing, c.Endpoint, in, ch)
	f.Errors, f.FormError = errs, formError
	s.render(w, r, status, web.StepFormPage(s.page(w, r, title, web.NavEndpoints), f))
}

// stepFormFailed shows the form again, everything typed kept, when Dataverse refused a change
// (its reason on the form); other failures go to the error page.
func (s *Server) stepFormFailed(w http.ResponseWriter, r *http.Request, c catalogEntry, v web.EndpointView, editing bool, in stepInput, ch stepChoices, title string, err error) error {
	var de *dataverse.Error
	if !errors.As(err, &de) {
		return err
	}
	he := dataverseError(title, err).(*Error)
	s.renderStepForm(w, r, he.Status, c, v, editing, in, ch, nil, title+": "+he.Message+" Your entries are kept.")
	return nil
}
