package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
)

// apiStepList answers an endpoint's steps (from the catalog's cache).
func (s *Server) apiStepList(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionView)
	if err != nil {
		return err
	}
	steps, err := s.Catalog.Steps(r.Context(), c.Env.ID, c.Endpoint.ID)
	if err != nil {
		return dataverseError("The steps of "+c.Endpoint.Name+" could not be read", err)
	}
	return writeJSON(w, http.StatusOK, api.StepList{Items: append([]endpoint.Step{}, steps...)})
}

// apiStepGet answers one step.
func (s *Server) apiStepGet(w http.ResponseWriter, r *http.Request) error {
	_, _, _, st, err := s.loadStep(r, auth.ActionView)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// apiStepCreate adds a step through the step form's path: completed from what Dataverse says
// about its message and table (settle), checked with the same rules (validateStep), added
// with an audited intent and outcome (addStep). A step's id, when sent, makes a retried
// request harmless.
func (s *Server) apiStepCreate(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionEdit)
	if err != nil {
		return err
	}
	var st endpoint.Step
	if err := decodeJSON(r, &st); err != nil {
		return err
	}
	st.ID = strings.ToLower(strings.TrimSpace(st.ID))
	if !endpoint.IsGUID(st.ID) {
		st.ID = dataverse.NewGUID()
	}
	st.EndpointID, st.State, st.IsManaged = c.Endpoint.ID, endpoint.StepEnabled, false
	st, err = s.apiSettledStep(r, c, st)
	if err != nil {
		return err
	}
	if _, err := s.addStep(r, id, c, st); err != nil {
		return stepChangeFailed("Dataverse did not add the step", err)
	}
	w.Header().Set("Location", APIPrefix+"/endpoints/"+c.Env.ID+"/"+c.Endpoint.ID+"/steps/"+st.ID)
	return writeJSON(w, http.StatusCreated, st)
}

// apiStepUpdate replaces a step's settings (all of them, as sent) through the step form's
// path; its state changes through apiStepState.
func (s *Server) apiStepUpdate(w http.ResponseWriter, r *http.Request) error {
	id, c, _, old, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	var st endpoint.Step
	if err := decodeJSON(r, &st); err != nil {
		return err
	}
	st.ID, st.EndpointID, st.State, st.IsManaged = old.ID, old.EndpointID, old.State, false
	// An image sent without an id changes the step's image of the same kind in place.
	for i := range st.Images {
		for _, had := range old.Images {
			if st.Images[i].ID == "" && (had.Type == st.Images[i].Type || had.Type == endpoint.ImageBoth) {
				st.Images[i].ID, st.Images[i].Name = had.ID, had.Name
			}
		}
	}
	if st, err = s.apiSettledStep(r, c, st); err != nil {
		return err
	}
	if _, err := s.updateStep(r, id, c, old, st); err != nil {
		return stepChangeFailed("Dataverse did not save the step", err)
	}
	return writeJSON(w, http.StatusOK, st)
}

// apiSettledStep completes and checks a step as the step form does; a 422 problem lists what
// is wrong by field.
func (s *Server) apiSettledStep(r *http.Request, c catalogEntry, st endpoint.Step) (endpoint.Step, error) {
	in := stepInputOf(st)
	ch := s.stepChoices(r.Context(), c, st)
	in = settle(in, ch, c.Endpoint)
	if errs := validateStep(in, ch, c.Endpoint); errs != nil {
		p := invalid("The step breaks Dataverse's rules", errs)
		if ch.MessagesError != "" {
			p.Detail += " " + ch.MessagesError
		}
		return st, p
	}
	return in.Step, nil
}

// apiStepState enables or disables a step.
func (s *Server) apiStepState(w http.ResponseWriter, r *http.Request) error {
	id, c, _, st, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	var req api.StepState
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	states := map[string]struct {
		state  endpoint.StepState
		action string
	}{"enabled": {endpoint.StepEnabled, "step.enable"}, "disabled": {endpoint.StepDisabled, "step.disable"}}
	want, ok := states[req.State]
	if !ok {
		return invalid("Choose enabled or disabled", map[string][]string{"state": {"Send state \"enabled\" or \"disabled\"."}})
	}
	if st.State != want.state {
		if err := s.setStepState(r, id, c, st, want.state, want.action); err != nil {
			return err
		}
		st.State = want.state
	}
	return writeJSON(w, http.StatusOK, st)
}

// apiStepDelete deletes a step with its images.
func (s *Server) apiStepDelete(w http.ResponseWriter, r *http.Request) error {
	id, c, _, st, err := s.loadStepToChange(r)
	if err != nil {
		return err
	}
	if err := s.deleteStep(r, id, c, st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stepChangeFailed words a failed step change: Dataverse's refusal with its reason,
// anything else as it is.
func stepChangeFailed(title string, err error) error {
	var de *dataverse.Error
	if errors.As(err, &de) {
		return dataverseError(title, err)
	}
	return err
}
