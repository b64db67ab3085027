package handlers

import (
	"net/http"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/web"
)

// endpointDeleteForm asks to confirm the deletion of an endpoint and, with it, the steps
// registered against it.
func (s *Server) endpointDeleteForm(w http.ResponseWriter, r *http.Request) error {
	_, c, v, err := s.loadForAction(r, auth.ActionDelete)
	if err != nil {
		return err
	}
	s.renderDelete(w, r, c, v, http.StatusOK, "")
	return nil
}

// endpointDeleteSubmit deletes the endpoint once its name is typed to confirm.
func (s *Server) endpointDeleteSubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionDelete)
	if err != nil {
		return err
	}
	e := c.Endpoint
	if strings.TrimSpace(r.PostFormValue("confirm")) != e.Name {
		s.renderDelete(w, r, c, v, http.StatusUnprocessableEntity, "Type the name exactly as shown ("+e.Name+") to confirm the deletion.")
		return nil
	}
	if err := s.deleteAs(r.Context(), actorOf(r, id), c); err != nil {
		return err
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "“" + e.Name + "” was deleted from " + c.Env.DisplayName + "."})
	http.Redirect(w, r, "/endpoints", http.StatusSeeOther)
	return nil
}

// renderDelete shows the confirmation, naming the endpoint and counting its steps;
// confirmError says why the last confirmation was not taken.
func (s *Server) renderDelete(w http.ResponseWriter, r *http.Request, c catalogEntry, v web.EndpointView, status int, confirmError string) {
	form := web.DeleteForm{View: v, ConfirmError: confirmError}
	if steps, err := s.Catalog.Steps(r.Context(), c.Env.ID, c.Endpoint.ID); err == nil {
		form.StepCount, form.StepsKnown = len(steps), true
		for _, st := range steps {
			form.StepNames = append(form.StepNames, st.Name)
		}
	}
	s.render(w, r, status, web.DeletePage(s.page(w, r, "Delete "+c.Endpoint.Name, web.NavEndpoints), form))
}
