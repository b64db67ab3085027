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

// endpointEditSubmit changes an endpoint's non-secret fields. A change that affects delivery
// is proved by a test before Dataverse is updated: a new message format with the stored key, a
// new path or URL only with the key entered again (a stored key never goes to a new address).
func (s *Server) endpointEditSubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	ctx := r.Context()
	old := c.Endpoint
	e := old
	readDetails(r, editFields(endpoint.KindOf(old)), &e)
	form := editForm(v, e)
	if form.Errors = problemsToErrors(e.ValidateFor(endpoint.ForUpdate)); form.Errors != nil {
		s.renderEdit(w, r, http.StatusUnprocessableEntity, old.Name, form)
		return nil
	}
	moved := e.Path != old.Path || e.URL != old.URL
	if moved || e.MessageFormat != old.MessageFormat {
		var (
			withSecret endpoint.ServiceEndpoint
			emulator   bool
		)
		if moved {
			// A stored secret is only ever sent to the destination it was proven with: a new
			// path or URL is proved, and saved, with the key entered again.
			in := endpoint.CredentialFromForm(r.PostForm)
			field := secretField(e)
			if in.Empty() {
				msg := "You changed where “" + old.Name + "” sends. Enter its key again: a stored key is only ever sent to the address it was proven with."
				form.Errors = web.FieldErrors{field: {msg}}
				form.Message = msg
				s.renderEdit(w, r, http.StatusUnprocessableEntity, old.Name, form)
				return nil
			}
			var errs web.FieldErrors
			if withSecret, emulator, errs = pastedCredential(e, in); errs != nil {
				form.Errors, form.Message = errs, "The key could not be used; nothing was saved."
				s.renderEdit(w, r, http.StatusUnprocessableEntity, old.Name, form)
				return nil
			}
			e = withSecret
		} else {
			var stored bool
			withSecret, emulator, stored, err = s.withStoredSecret(ctx, catalogEntry{Env: c.Env, Endpoint: e})
			if err != nil {
				return err
			}
			if !stored {
				form.Message = "This change affects delivery, and the portal keeps no key to prove it works. Re-key the endpoint first, then edit it."
				s.renderEdit(w, r, http.StatusConflict, old.Name, form)
				return nil
			}
		}
		if err := s.allowTest(id, c.Env.ID+"/"+e.ID); err != nil {
			return err
		}
		rec, err := s.proveAndRecord(ctx, id, c.Env.ID, withSecret, emulator)
		if err != nil {
			return err
		}
		if !rec.Passed {
			form.Result = rec.view("")
			form.Message = "The changed endpoint did not pass the test, so nothing was saved."
			s.renderEdit(w, r, http.StatusUnprocessableEntity, old.Name, form)
			return nil
		}
	}
	if err := s.updateAudited(r, id, c, e, "endpoint.edit", "Dataverse did not save the changes"); err != nil {
		return err
	}
	if moved {
		if err := s.keepSecret(r, c.Env.ID, e); err != nil {
			return err
		}
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Changes to “" + e.Name + "” were saved."})
	http.Redirect(w, r, web.EndpointURL(c.Env.ID, e.ID), http.StatusSeeOther)
	return nil
}
