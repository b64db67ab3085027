package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/plan"
	"github.com/contoso/sbportal/web"
)

// planEnvironments are the environment choices of the plan and export forms.
func (s *Server) planEnvironments(selected string) []web.Option {
	var out []web.Option
	for _, env := range s.Environments.List() {
		out = append(out, web.Option{Value: env.ID, Label: env.DisplayName, Selected: env.ID == selected})
	}
	return out
}

// environmentPlanForm offers Export and the upload of a file to plan.
func (s *Server) environmentPlanForm(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	s.renderPlanUpload(w, r, http.StatusOK, id, web.PlanForm{})
	return nil
}

func (s *Server) renderPlanUpload(w http.ResponseWriter, r *http.Request, status int, id auth.Identity, f web.PlanForm) {
	f.Environments = s.planEnvironments(r.FormValue("env"))
	f.Teams = []web.Option{{Value: "", Label: "Every endpoint you may see"}}
	teams := id.Teams
	if id.Has(auth.RoleAdmin) {
		teams = nil
		for _, env := range s.Environments.List() {
			for _, t := range env.Teams {
				if !slices.Contains(teams, t) {
					teams = append(teams, t)
				}
			}
		}
	}
	for _, t := range teams {
		f.Teams = append(f.Teams, web.Option{Value: t, Label: t})
	}
	s.render(w, r, status, web.PlanUploadPage(s.page(w, r, "Plan and apply a file", web.NavEndpoints), f))
}

// environmentExport writes an environment's (or a team's) endpoints and steps as a file
// without secrets.
func (s *Server) environmentExport(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	t, err := s.PlanTarget(id, q.Get("env"), "")
	if err != nil {
		return err
	}
	team := q.Get("team")
	var teams []string
	if team != "" {
		teams = []string{team}
	}
	env := t.env
	doc, err := plan.Export(r.Context(), t, teams, func(c plan.Current) bool {
		return (team == "" || c.Team == team) &&
			s.cfg.Policy.Can(id, auth.ActionView, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: c.Team})
	})
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Title: "Could not export", Message: err.Error() + " Try again in a minute.", Err: err}
	}
	format := plan.Format(cmp.Or(q.Get("format"), "yaml"))
	if format != plan.JSON {
		format = plan.YAML
	}
	body, err := plan.Encode(doc, format)
	if err != nil {
		return err
	}
	name := env.ID
	if team != "" {
		name += "-" + strings.ToLower(team)
	}
	w.Header().Set("Content-Type", map[plan.Format]string{plan.JSON: "application/json", plan.YAML: "application/yaml"}[format]+"; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"-endpoints."+string(format)+`"`)
	_, err = w.Write(body)
	return err
}

// environmentPlanSubmit reads an uploaded file and shows its plan.
func (s *Server) environmentPlanSubmit(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	f := web.PlanForm{Errors: web.FieldErrors{}}
	if err := r.ParseMultipartForm(plan.MaxDocumentBytes); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		f.Errors["file"] = []string{"Choose a file to upload."}
	}
	var data []byte
	if file, _, err := r.FormFile("file"); err == nil {
		data, _ = io.ReadAll(io.LimitReader(file, plan.MaxDocumentBytes+1))
		file.Close()
	} else if len(f.Errors) == 0 {
		f.Errors["file"] = []string{"Choose a file to upload: a YAML or JSON file as Export writes it."}
	}
	if _, ok := s.Environments.Get(r.FormValue("env")); !ok {
		f.Errors["env"] = []string{"Choose the environment to plan against."}
	}
	if len(f.Errors) > 0 {
		s.renderPlanUpload(w, r, http.StatusUnprocessableEntity, id, f)
		return nil
	}
	return s.showPlan(w, r, id, r.FormValue("env"), string(data), nil, "")
}

// secretField is the form field of a secret reference's value.
func secretFormField(ref string) string { return "secret." + strings.TrimPrefix(ref, "env:") }

// formSecrets resolves references from what the person typed on the plan page.
func formSecrets(r *http.Request) plan.Secrets {
	return func(ref string) (endpoint.Secret, bool) {
		v := strings.TrimSpace(r.PostFormValue(secretFormField(ref)))
		return endpoint.NewSecret(v), v != ""
	}
}

// makePlan parses a document and plans it against env for id.
func (s *Server) makePlan(ctx context.Context, id auth.Identity, envID, document string, secrets plan.Secrets, changeSet string) (*PlanTarget, plan.Plan, []plan.Problem, error) {
	t, err := s.PlanTarget(id, envID, changeSet)
	if err != nil {
		return nil, plan.Plan{}, nil, err
	}
	doc, problems := plan.Parse([]byte(document))
	if len(problems) > 0 && doc.Version == 0 && len(doc.Endpoints) == 0 {
		return t, plan.Plan{Environment: envID}, problems, nil
	}
	p, err := plan.Make(ctx, doc, t, secrets, dataverse.NewGUID)
	if err != nil {
		return t, p, nil, &Error{Status: http.StatusServiceUnavailable, Title: "Could not plan", Message: err.Error() + " Try again in a minute.", Err: err}
	}
	return t, p, p.Problems, nil
}

// showPlan renders the plan of document against env; result is set after an apply.
func (s *Server) showPlan(w http.ResponseWriter, r *http.Request, id auth.Identity, envID, document string, result *web.ApplyResultView, message string) error {
	_, p, problems, err := s.makePlan(r.Context(), id, envID, document, formSecrets(r), "")
	if err != nil {
		return err
	}
	v := planView(s, p, problems, document)
	v.Result, v.Message = result, message
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, web.PlanPage(s.page(w, r, "Plan for "+v.EnvironmentName, web.NavEndpoints), v))
	return nil
}

// planView is what the plan page shows of p.
func planView(s *Server, p plan.Plan, problems []plan.Problem, document string) web.PlanView {
	v := web.PlanView{Environment: p.Environment, EnvironmentName: p.Environment, Document: document, Digest: p.Digest(), Changed: p.Changed()}
	if env, ok := s.Environments.Get(p.Environment); ok {
		v.EnvironmentName = env.DisplayName
	}
	for _, pr := range problems {
		v.Problems = append(v.Problems, pr.String())
	}
	counts := p.Counts()
	v.Counts = fmt.Sprintf("%d to create, %d to update, %d to delete, %d unchanged.", counts[plan.Create], counts[plan.Update], counts[plan.Delete], counts[plan.Unchanged])
	for _, c := range p.Endpoints {
		pe := web.PlanEndpoint{Action: string(c.Action), Name: c.Name, Fields: factsOf(c.Fields)}
		if c.Action != plan.Create {
			pe.URL = web.EndpointURL(p.Environment, c.ID)
		}
		if c.Action == plan.Unchanged && c.SetsKey {
			pe.Action = "update"
		}
		for _, st := range c.Steps {
			pe.Steps = append(pe.Steps, web.PlanStep{Action: string(st.Action), Name: st.Name, Fields: factsOf(st.Fields)})
		}
		v.Endpoints = append(v.Endpoints, pe)
	}
	for _, sec := range p.Secrets {
		// The plan says a secret is needed while it is missing; the page says so also once it
		// was typed (after an apply that failed, say), or the person is told it is optional.
		needed := sec.Needed || slices.ContainsFunc(p.Endpoints, func(c plan.EndpointChange) bool { return c.SecretRef == sec.Ref && c.Prove })
		v.Secrets = append(v.Secrets, web.PlanSecret{Ref: sec.Ref, Field: secretFormField(sec.Ref), Needed: needed, Resolved: sec.Resolved})
	}
	return v
}

func factsOf(fs []plan.FieldChange) []web.Fact {
	out := make([]web.Fact, len(fs))
	for i, f := range fs {
		out[i] = web.Fact{Label: f.Field, Value: cmp.Or(f.Before, "(empty)") + " → " + cmp.Or(f.After, "(empty)")}
	}
	return out
}

// environmentApplySubmit plans the file again with the secrets typed and, when the plan is
// still the one shown, applies it as one change set.
func (s *Server) environmentApplySubmit(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Title: "The form could not be read", Message: "Upload the file again.", Err: err}
	}
	envID, document := r.PostFormValue("env"), r.PostFormValue("document")
	if r.PostFormValue("nav") != "apply" {
		return s.showPlan(w, r, id, envID, document, nil, "")
	}
	ctx := r.Context()
	changeSet := "apply-" + RequestID(ctx)
	t, p, problems, err := s.makePlan(ctx, id, envID, document, formSecrets(r), changeSet)
	if err != nil {
		return err
	}
	if len(problems) > 0 || p.Digest() != r.PostFormValue("digest") {
		msg := "The environment changed since the plan was made: review the plan again, then apply. Nothing was changed."
		if len(problems) > 0 {
			msg = "Nothing was changed: fix the problems below first."
		}
		return s.showPlan(w, r, id, envID, document, nil, msg)
	}
	res, err := plan.Apply(ctx, p, formSecrets(r), t)
	if err != nil {
		return err
	}
	view := &web.ApplyResultView{ChangeSet: changeSet}
	for _, o := range res.Done {
		view.Done = append(view.Done, o.String())
	}
	for _, o := range res.NotDone {
		view.NotDone = append(view.NotDone, o.String())
	}
	if res.Failed != nil {
		view.Failed = res.Failed.String()
	}
	s.log.InfoContext(ctx, "applied a file", "environment", envID, "change_set", changeSet, "done", len(res.Done), "failed", res.Failed != nil)
	return s.showPlan(w, r, id, envID, document, view, "")
}
