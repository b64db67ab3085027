package handlers

import (
	"net/http"
	"slices"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// editFields are the edit page's fields: what an endpoint says and sends, and where to on its
// namespace or host. What it is and which namespace and policy it uses are not edits: they
// come with a key (re-key) or a new registration.
func editFields(kind endpoint.Kind) []string {
	if kind == endpoint.KindWebhook {
		return append(slices.Clip(commonDetailsFields), endpoint.FieldURL)
	}
	return append(slices.Clip(commonDetailsFields), endpoint.FieldPath)
}

// editForm is the edit page's form for e.
func editForm(v web.EndpointView, e endpoint.ServiceEndpoint) web.EditForm {
	kind := endpoint.KindOf(e)
	return web.EditForm{View: v, Details: detailsForm(kind, e, editFields(kind))}
}

// renderEdit shows the edit page.
func (s *Server) renderEdit(w http.ResponseWriter, r *http.Request, status int, name string, form web.EditForm) {
	s.render(w, r, status, web.EditPage(s.page(w, r, "Edit "+name, web.NavEndpoints), form))
}

// endpointEditForm shows an endpoint's non-secret fields for editing.
func (s *Server) endpointEditForm(w http.ResponseWriter, r *http.Request) error {
	_, c, v, err := s.loadForAction(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	s.renderEdit(w, r, http.StatusOK, c.Endpoint.Name, editForm(v, c.Endpoint))
	return nil
}

// endpointEditSubmit changes an endpoint's non-secret fields (see editEndpoint).
func (s *Server) endpointEditSubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	e := c.Endpoint
	readDetails(r, editFields(endpoint.KindOf(e)), &e)
	form := editForm(v, e)
	refusal, err := s.editEndpoint(r, id, c, e, endpoint.CredentialFromForm(r.PostForm))
	if err != nil {
		return err
	}
	if refusal != nil {
		form.Errors, form.Message = refusal.Errors, refusal.Message
		if refusal.Result != nil {
			form.Result = refusal.Result.view("")
		}
		s.renderEdit(w, r, refusal.Status, c.Endpoint.Name, form)
		return nil
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Changes to “" + e.Name + "” were saved."})
	http.Redirect(w, r, web.EndpointURL(c.Env.ID, e.ID), http.StatusSeeOther)
	return nil
}

// editRefusal is why an edit was not saved: what to say, the problems by field, and the
// failed test when there was one.
type editRefusal struct {
	Status  int
	Message string
	Errors  web.FieldErrors
	Result  *runRecord
}

// editEndpoint saves e, the endpoint c with changed non-secret fields, for pages and API
// alike. It is validated first; a change that affects delivery is proved by a test before
// Dataverse is updated: a new message format with the stored key, a new path or URL only with
// the key given again in in (a stored key never goes to a new address). Dataverse is updated
// with an audited intent and outcome.
func (s *Server) editEndpoint(r *http.Request, id auth.Identity, c catalogEntry, e endpoint.ServiceEndpoint, in endpoint.CredentialInput) (*editRefusal, error) {
	ctx := r.Context()
	old := c.Endpoint
	if errs := problemsToErrors(e.ValidateFor(endpoint.ForUpdate)); errs != nil {
		return &editRefusal{Status: http.StatusUnprocessableEntity, Errors: errs}, nil
	}
	moved := endpoint.Moved(old, e)
	if endpoint.DeliveryChanged(old, e) {
		var (
			withSecret endpoint.ServiceEndpoint
			emulator   bool
		)
		if moved {
			// A stored secret is only ever sent to the destination it was proven with: a new
			// path or URL is proved, and saved, with the key entered again.
			if in.Empty() {
				msg := "You changed where “" + old.Name + "” sends. Enter its key again: a stored key is only ever sent to the address it was proven with."
				return &editRefusal{Status: http.StatusUnprocessableEntity, Message: msg, Errors: web.FieldErrors{secretField(e): {msg}}}, nil
			}
			var errs web.FieldErrors
			if withSecret, emulator, errs = pastedCredential(e, in); errs != nil {
				return &editRefusal{Status: http.StatusUnprocessableEntity, Message: "The key could not be used; nothing was saved.", Errors: errs}, nil
			}
			e = withSecret
		} else {
			var stored bool
			var err error
			withSecret, emulator, stored, err = s.withStoredSecret(ctx, catalogEntry{Env: c.Env, Endpoint: e})
			if err != nil {
				return nil, err
			}
			if !stored {
				return &editRefusal{Status: http.StatusConflict, Message: "This change affects delivery, and the portal keeps no key to prove it works. Re-key the endpoint first, then edit it."}, nil
			}
		}
		if err := s.allowTest(id, c.Env.ID+"/"+e.ID); err != nil {
			return nil, err
		}
		rec, err := s.proveAndRecord(ctx, id, c.Env.ID, withSecret, emulator)
		if err != nil {
			return nil, err
		}
		if !rec.Passed {
			return &editRefusal{Status: http.StatusUnprocessableEntity, Message: "The changed endpoint did not pass the test, so nothing was saved.", Result: &rec}, nil
		}
	}
	if err := s.updateAudited(r, id, c, e, "endpoint.edit", "Dataverse did not save the changes"); err != nil {
		return nil, err
	}
	if moved {
		return nil, s.keepSecret(r, c.Env.ID, e)
	}
	return nil, nil
}
