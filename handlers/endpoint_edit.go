package handlers

import (
	"net/http"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// endpointEdit changes an endpoint's non-secret fields. A change that affects delivery (path,
// URL, message format) is proved by a test with the stored key before Dataverse is updated.
func (p *pages) endpointEdit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := p.loadForAction(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	ctx := r.Context()
	old := c.Endpoint
	e := old
	if r.Method == http.MethodPost {
		e.Name = strings.TrimSpace(r.PostFormValue("name"))
		e.Description = strings.TrimSpace(r.PostFormValue("description"))
		e.MessageFormat = endpoint.MessageFormat(atoiOr(r.PostFormValue("messageformat"), int(e.MessageFormat)))
		e.UserClaim = endpoint.UserClaim(atoiOr(r.PostFormValue("userclaim"), int(e.UserClaim)))
		if e.Contract == endpoint.ContractWebhook {
			e.URL = strings.TrimSpace(r.PostFormValue("url"))
		} else {
			e.Path = strings.TrimSpace(r.PostFormValue("path"))
		}
	}
	d := wizardDraft{data: draftData{Kind: endpoint.KindOf(e), Fields: draftFieldsOf(e)}}
	form := web.EditForm{View: v, Details: detailsForm(d)}
	title := "Edit " + old.Name
	if r.Method != http.MethodPost {
		p.render(w, r, http.StatusOK, web.EditPage(p.page(w, r, title, web.NavEndpoints), form))
		return nil
	}
	if form.Errors = problemsToErrors(e.ValidateFor(endpoint.ForUpdate)); form.Errors != nil {
		p.render(w, r, http.StatusUnprocessableEntity, web.EditPage(p.page(w, r, title, web.NavEndpoints), form))
		return nil
	}
	if e.Path != old.Path || e.URL != old.URL || e.MessageFormat != old.MessageFormat {
		withSecret, emulator, stored, err := p.withStoredSecret(ctx, catalogEntry{Env: c.Env, Endpoint: e})
		if err != nil {
			return err
		}
		if !stored {
			form.Message = "This change affects delivery, and the portal keeps no key to prove it works. Re-key the endpoint first, then edit it."
			p.render(w, r, http.StatusConflict, web.EditPage(p.page(w, r, title, web.NavEndpoints), form))
			return nil
		}
		rec, err := p.proveAndRecord(ctx, id, c.Env.ID, withSecret, emulator)
		if err != nil {
			return err
		}
		if !rec.Passed {
			form.Result = rec.view("")
			form.Message = "The changed endpoint did not pass the test, so nothing was saved."
			p.render(w, r, http.StatusUnprocessableEntity, web.EditPage(p.page(w, r, title, web.NavEndpoints), form))
			return nil
		}
	}
	if err := p.updateAudited(r, id, c, e, "endpoint.edit", "Dataverse did not save the changes"); err != nil {
		return err
	}
	p.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Changes to “" + e.Name + "” were saved."})
	http.Redirect(w, r, web.EndpointURL(c.Env.ID, e.ID), http.StatusSeeOther)
	return nil
}
