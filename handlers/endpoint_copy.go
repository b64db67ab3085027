package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/plan"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// copySecretRef is the reference under which a copy's secret, typed on the page, reaches the
// plan engine.
const copySecretRef = "env:COPY_SECRET"

// copyTargets are the environments, other than the endpoint's own, where its team may register.
func (s *Server) copyTargets(id auth.Identity, c catalogEntry) []*dataverse.Environment {
	var out []*dataverse.Environment
	for _, env := range s.Environments.List() {
		if env.ID != c.Env.ID && c.ViaPortal &&
			s.cfg.Policy.Can(id, auth.ActionRegister, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: c.Owner.Team}) {
			out = append(out, env)
		}
	}
	return out
}

// copyForm is the copy page's form, pre-filled from the endpoint (or with what was posted).
func (s *Server) copyForm(r *http.Request, id auth.Identity, c catalogEntry, v web.EndpointView) web.CopyForm {
	ep := c.Endpoint
	f := web.CopyForm{View: v, Kind: string(endpoint.KindOf(ep)), Name: ep.Name, Namespace: ep.NamespaceAddress, Path: ep.Path,
		Policy: ep.SASKeyName, URL: ep.URL, WithSteps: true}
	if steps, err := s.Catalog.Steps(r.Context(), c.Env.ID, ep.ID); err == nil {
		f.StepCount = len(steps)
	}
	if r.Method == http.MethodPost {
		f.Target, f.Name, f.WithSteps = r.PostFormValue("target"), r.PostFormValue("name"), r.PostFormValue("steps") != ""
		f.Namespace, f.Path, f.Policy, f.URL = r.PostFormValue("namespace"), r.PostFormValue("path"), r.PostFormValue("policy"), r.PostFormValue("url")
	}
	for _, env := range s.copyTargets(id, c) {
		if f.Target == "" {
			f.Target = env.ID
		}
		f.Targets = append(f.Targets, web.Option{Value: env.ID, Label: env.DisplayName, Selected: env.ID == f.Target})
	}
	return f
}

func (s *Server) renderCopy(w http.ResponseWriter, r *http.Request, status int, f web.CopyForm) {
	s.render(w, r, status, web.CopyPage(s.page(w, r, "Copy "+f.View.Name, web.NavEndpoints), f))
}

// endpointCopyForm shows the copy page.
func (s *Server) endpointCopyForm(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionView)
	if err != nil {
		return err
	}
	f := s.copyForm(r, id, c, v)
	if len(f.Targets) == 0 {
		return &Error{Status: http.StatusForbidden, Title: "No environment to copy to",
			Message: "Team " + c.Owner.Team + " may use no other environment, or this endpoint has no owning team yet."}
	}
	s.renderCopy(w, r, http.StatusOK, f)
	return nil
}

// endpointCopySubmit shows the copy side by side, or proves it in the target and creates it
// there (with its steps when asked), through the plan engine: the same validation, proof and
// audit as any other change. Both endpoints then link to each other.
func (s *Server) endpointCopySubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionView)
	if err != nil {
		return err
	}
	in, err := credentialForm(r)
	if err != nil {
		return err
	}
	f := s.copyForm(r, id, c, v)
	if len(f.Targets) == 0 {
		return &Error{Status: http.StatusForbidden, Title: "No environment to copy to", Message: "Team " + c.Owner.Team + " may use no other environment."}
	}
	ctx := r.Context()
	var steps []endpoint.Step
	if f.WithSteps {
		if steps, err = s.Catalog.Steps(ctx, c.Env.ID, c.Endpoint.ID); err != nil {
			f.Message = "The endpoint's steps could not be read: " + dataverseMessage(err) + " Copy it without its steps, or try again."
			s.renderCopy(w, r, http.StatusServiceUnavailable, f)
			return nil
		}
	}
	d := plan.EndpointOf(c.Endpoint, c.Owner.Team, steps)
	d.ID, d.Name, d.Secret = "", strings.TrimSpace(f.Name), copySecretRef
	if endpoint.KindOf(c.Endpoint) == endpoint.KindWebhook {
		d.URL = strings.TrimSpace(f.URL)
	} else {
		d.Namespace, d.Path, d.Policy = strings.TrimSpace(f.Namespace), strings.TrimSpace(f.Path), strings.TrimSpace(f.Policy)
	}
	for i := range d.Steps {
		d.Steps[i].ID = "" // new records in the target
	}
	secret := endpoint.NewSecret(strings.TrimSpace(in.ConnectionString.Reveal() + in.WebhookKey.Reveal() + in.PairLines.Reveal()))
	secrets := func(ref string) (endpoint.Secret, bool) { return secret, ref == copySecretRef && secret.IsSet() }
	t, err := s.PlanTarget(id, f.Target, RequestID(ctx))
	if err != nil {
		return err
	}
	p, err := plan.Make(ctx, plan.Document{Version: plan.FormatVersion, Endpoints: []plan.Endpoint{d}}, t, secrets, dataverse.NewGUID)
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Title: "Could not read the target environment", Message: err.Error() + " Try again in a minute.", Err: err}
	}
	ch := p.Endpoints[0]
	f.Compare = compareRows(c.Endpoint, ch.After, f.StepCount, len(steps))
	f.Errors = web.FieldErrors{}
	if ch.Action != plan.Create {
		f.Errors["name"] = []string{"The target environment already has an endpoint named “" + d.Name + "”. Choose another name."}
	}
	for _, pr := range p.Problems {
		field := map[string]string{"secret": secretField(c.Endpoint), "namespace": "namespace", "path": "path", "policy": "policy", "url": "url", "name": "name"}[pr.Field]
		if field == "" {
			f.Message = joinSentences(f.Message, pr.Message)
			continue
		}
		if pr.Field == "secret" && r.PostFormValue("nav") != "copy" {
			continue // asked for when copying
		}
		msg := pr.Message
		if pr.MissingSecret != "" {
			msg = "Enter the target's key, a whole connection string or a SAS token: the copy is proved by a test message before it is written."
		}
		f.Errors[field] = append(f.Errors[field], msg)
	}
	if len(f.Errors) > 0 || f.Message != "" || r.PostFormValue("nav") != "copy" {
		status := http.StatusOK
		if len(f.Errors) > 0 || f.Message != "" {
			status = http.StatusUnprocessableEntity
		}
		s.renderCopy(w, r, status, f)
		return nil
	}
	res, err := plan.Apply(ctx, p, secrets, t)
	if err != nil {
		return err
	}
	if res.Failed != nil {
		f.Message = "Nothing was copied: " + res.Failed.String()
		if len(res.Done) > 0 {
			f.Message = "The copy stopped: " + res.Failed.String() + " Done: " + strconv.Itoa(len(res.Done)) + " change(s); submit again to finish."
		}
		s.renderCopy(w, r, http.StatusUnprocessableEntity, f)
		return nil
	}
	if err := s.Store.RecordCopy(ctx, store.EndpointRef{Environment: f.Target, EndpointID: ch.ID},
		store.EndpointRef{Environment: c.Env.ID, EndpointID: c.Endpoint.ID}); err != nil {
		return err
	}
	target, _ := s.Environments.Get(f.Target)
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "“" + d.Name + "” passed its test in " + target.DisplayName + " and was created there, copied from " + c.Env.DisplayName + "."})
	http.Redirect(w, r, web.EndpointURL(f.Target, ch.ID), http.StatusSeeOther)
	return nil
}

func joinSentences(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// compareRows is the side-by-side view of an endpoint and its copy.
func compareRows(src, dst endpoint.ServiceEndpoint, steps, copied int) []web.CompareRow {
	row := func(field, a, b string) web.CompareRow {
		return web.CompareRow{Field: field, Source: a, Copy: b, Differs: a != b}
	}
	rows := []web.CompareRow{row("Name", src.Name, dst.Name), row("Designation type", src.Contract.Label(), dst.Contract.Label())}
	if src.Contract == endpoint.ContractWebhook {
		rows = append(rows, row("URL", src.URL, dst.URL))
	} else {
		rows = append(rows, row("Namespace address", src.NamespaceAddress, dst.NamespaceAddress), row("Path", src.Path, dst.Path),
			row("SAS policy", src.SASKeyName, dst.SASKeyName))
	}
	return append(rows, row("Message format", src.MessageFormat.Label(), dst.MessageFormat.Label()),
		row("User information sent", src.UserClaim.Label(), dst.UserClaim.Label()),
		row("Key", "set", "the key you enter, proved first"),
		row("Steps", strconv.Itoa(steps), strconv.Itoa(copied)))
}
