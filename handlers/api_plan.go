package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/plan"
)

// apiPlan says what applying the file in the body to ?environment= would change.
func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) error {
	return s.servePlan(w, r, false)
}

// apiApply changes ?environment= to match the file in the body, through the plan engine the
// pages use: everything proved first, then written in order, one audited change set.
func (s *Server) apiApply(w http.ResponseWriter, r *http.Request) error {
	return s.servePlan(w, r, true)
}

func (s *Server) servePlan(w http.ResponseWriter, r *http.Request, apply bool) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	envID := r.URL.Query().Get("environment")
	env, ok := s.Environments.Get(envID)
	if !ok {
		return &Error{Status: http.StatusNotFound, Title: "No such environment",
			Message: "The portal serves no Dataverse environment " + envID + ". Pass ?environment= with one of the configured ids."}
	}
	if !s.cfg.Policy.Can(id, auth.ActionView, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: firstTeam(id, env.Teams)}) {
		return &Error{Status: http.StatusForbidden, Title: "You cannot do this", Message: "None of your teams may use " + env.DisplayName + "."}
	}
	req, err := readPlanRequest(r)
	if err != nil {
		return err
	}
	secrets := func(ref string) (endpoint.Secret, bool) {
		v := req.Secrets[ref]
		return endpoint.NewSecret(v), v != ""
	}
	ctx := r.Context()
	changeSet := ""
	if apply {
		changeSet = "apply-" + RequestID(ctx)
	}
	t, p, problems, err := s.makePlan(ctx, id, env.ID, req.File, secrets, changeSet)
	if err != nil {
		return err
	}
	if !apply {
		// A plan may be made without the secrets' values (a pipeline's review step): it says
		// which ones applying needs instead of refusing.
		problems = slices.DeleteFunc(slices.Clone(problems), func(pr plan.Problem) bool { return pr.MissingSecret != "" })
	}
	if len(problems) > 0 {
		return planProblems(problems)
	}
	out, keys := apiPlanOf(p)
	if !apply {
		for _, pr := range p.Problems {
			if pr.MissingSecret != "" {
				for i := range out.Changes {
					if out.Changes[i].Kind == "endpoint" && out.Changes[i].Name == pr.Endpoint {
						out.Changes[i].Detail = strings.TrimPrefix(out.Changes[i].Detail+"; "+pr.Message, "; ")
					}
				}
			}
		}
		return writeJSON(w, http.StatusOK, out)
	}
	res, err := plan.Apply(ctx, p, secrets, t)
	if errors.Is(err, plan.ErrProblems) {
		return planProblems(p.Problems)
	}
	if err != nil {
		return err
	}
	out.Applied = true
	outcome := map[string]string{}
	for _, o := range res.Done {
		outcome[outcomeKey(o)] = "succeeded"
	}
	for _, o := range res.NotDone {
		outcome[outcomeKey(o)] = "not done"
	}
	var failed *api.Change
	if res.Failed != nil {
		failed = &api.Change{Action: string(res.Failed.Action), Kind: "endpoint", Name: res.Failed.Endpoint, Detail: res.Failed.Detail, Outcome: "failed"}
		if res.Failed.Step != "" {
			failed.Kind, failed.Name = "step", res.Failed.Endpoint+" / "+res.Failed.Step
		}
		outcome[outcomeKey(*res.Failed)] = "failed"
	}
	for i := range out.Changes {
		c := &out.Changes[i]
		if o, ok := outcome[keys[i]]; ok {
			c.Outcome = o
			if o == "failed" && failed != nil {
				c.Detail = failed.Detail
			}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// readPlanRequest reads the body: a PlanRequest (file and secret values) or the file itself.
func readPlanRequest(r *http.Request) (api.PlanRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, plan.MaxDocumentBytes+1<<20))
	if err != nil {
		return api.PlanRequest{}, err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != api.PlanRequestContentType {
		return api.PlanRequest{File: string(body)}, nil
	}
	var req api.PlanRequest
	if err := json.Unmarshal(body, &req); err != nil || strings.TrimSpace(req.File) == "" {
		return req, &api.Problem{Type: api.TypeInvalid, Status: http.StatusBadRequest, Title: "The request could not be read",
			Detail: `A ` + api.PlanRequestContentType + ` body is {"file": "<the file, as written>", "secrets": {"env:NAME": "<value>"}}.`}
	}
	return req, nil
}

// planProblems answers a file the engine cannot apply, each problem under its line and field.
func planProblems(problems []plan.Problem) error {
	p := &api.Problem{Type: api.TypeInvalid, Status: http.StatusUnprocessableEntity, Title: "The file cannot be applied",
		Detail: "Nothing was changed. Fix what errors lists, then plan again.", Errors: map[string][]string{}}
	for _, pr := range problems {
		key := "file"
		if pr.Line > 0 {
			key = "line " + strconv.Itoa(pr.Line)
		}
		if pr.Endpoint != "" {
			key += " (" + pr.Endpoint
			if pr.Field != "" {
				key += "." + pr.Field
			}
			key += ")"
		}
		p.Errors[key] = append(p.Errors[key], pr.Message)
	}
	return p
}

// apiPlanOf lists a plan's changes: every endpoint and step that is created, updated or
// deleted, key changes, and unchanged endpoints as "none"; keys are the engine's names of the
// changes (outcomeKey), to match an apply's outcomes.
func apiPlanOf(p plan.Plan) (api.Plan, []string) {
	out := api.Plan{Environment: p.Environment, Changes: []api.Change{}}
	var keys []string
	for _, c := range p.Endpoints {
		action := string(c.Action)
		if c.Action == plan.Unchanged {
			action = "none"
			if c.SetsKey {
				action = "set-key"
			}
		}
		out.Changes = append(out.Changes, api.Change{Action: action, Kind: "endpoint", Name: c.Name, ID: c.ID, Detail: fieldNames(c.Fields)})
		a := c.Action
		if a == plan.Unchanged && c.SetsKey {
			a = plan.Update // a key alone is applied as an update
		}
		keys = append(keys, outcomeKey(plan.Outcome{Action: a, Endpoint: c.Name}))
		for _, st := range c.Steps {
			if st.Action == plan.Unchanged {
				continue
			}
			out.Changes = append(out.Changes, api.Change{Action: string(st.Action), Kind: "step", Name: c.Name + " / " + st.Name, ID: st.ID, Detail: fieldNames(st.Fields)})
			keys = append(keys, outcomeKey(plan.Outcome{Action: st.Action, Endpoint: c.Name, Step: st.Name}))
		}
	}
	return out, keys
}

// outcomeKey names a change the way both a plan and an apply's outcomes can.
func outcomeKey(o plan.Outcome) string {
	return string(o.Action) + "\x00" + o.Endpoint + "\x00" + o.Step
}

// fieldNames says which fields a change sets, e.g. "path: orders → orders-v2".
func fieldNames(fs []plan.FieldChange) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.Field == "key" {
			parts = append(parts, "key: set")
			continue
		}
		parts = append(parts, f.Field+": "+f.Before+" → "+f.After)
	}
	return strings.Join(parts, "; ")
}

// firstTeam is one of id's teams that env allows ("" when none): planning reads what that
// team may see; the engine asks the policy for every change it makes.
func firstTeam(id auth.Identity, envTeams []string) string {
	for _, t := range id.Teams {
		for _, et := range envTeams {
			if t == et {
				return t
			}
		}
	}
	return ""
}
