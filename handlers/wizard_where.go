package handlers

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// whereChoices lists the environments and teams the person may register for.
func (s *Server) whereChoices(id auth.Identity, env, team string) (envs, teams []web.Option) {
	seen := map[string]bool{}
	for _, e := range s.Environments.List() {
		ts := s.cfg.Policy.RegisterTeams(id, e.ID, e.Teams)
		if len(ts) == 0 {
			continue
		}
		envs = append(envs, web.Option{Value: e.ID, Label: e.DisplayName, Selected: e.ID == env})
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				teams = append(teams, web.Option{Value: t, Label: t, Selected: t == team})
			}
		}
	}
	return envs, teams
}

// checkWhere validates step 1's choices against the policy.
func (s *Server) checkWhere(id auth.Identity, env, team string, kind endpoint.Kind) web.FieldErrors {
	errs := web.FieldErrors{}
	e, ok := s.Environments.Get(env)
	if !ok {
		errs["environment"] = []string{"Choose the Dataverse environment the endpoint belongs to."}
	}
	if team == "" {
		errs["team"] = []string{"Choose the team that will own the endpoint."}
	} else if ok && !slices.Contains(s.cfg.Policy.RegisterTeams(id, e.ID, e.Teams), team) {
		errs["team"] = []string{"You cannot register endpoints for team " + team + " in " + e.DisplayName + ". Choose another team or environment."}
	}
	if !kind.Valid() {
		errs["kind"] = []string{"Choose Azure Service Bus or Webhook."}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// newEndpointForm shows step 1 before any draft exists.
func (s *Server) newEndpointForm(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	envs, teams := s.whereChoices(id, r.URL.Query().Get("environment"), "")
	if len(envs) == 0 {
		return &Error{Status: http.StatusForbidden, Title: "You cannot register endpoints",
			Message: "Registering needs the Registrar role and a team that may use at least one environment. Ask your portal administrator."}
	}
	if len(teams) == 1 {
		teams[0].Selected = true
	}
	drafts, err := s.draftLinks(r, id)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, web.WizardWhere(s.page(w, r, "New endpoint", web.NavNew),
		web.Wizard{Current: web.StepWhere, Reached: web.StepWhere},
		web.WhereForm{Environments: envs, Teams: teams, Kind: endpoint.KindServiceBus, Drafts: drafts}))
	return nil
}

// newEndpointCreate handles step 1's first submission: it creates the draft.
func (s *Server) newEndpointCreate(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	env, team, kind := postedWhere(r)
	if errs := s.checkWhere(id, env, team, kind); errs != nil {
		s.renderWhere(w, r, id, web.Wizard{Current: web.StepWhere, Reached: web.StepWhere, Errors: errs}, env, team, kind)
		return nil
	}
	data := newDraftData(team, kind)
	data.Author = id.Name
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	created, err := s.Store.CreateDraft(r.Context(), store.Draft{Owner: id.Key, Environment: env, Data: b})
	if err != nil {
		return err
	}
	http.Redirect(w, r, web.StepURL(created.ID, web.StepConnection), http.StatusSeeOther)
	return nil
}

// postedWhere is step 1's answers: environment, owning team and kind.
func postedWhere(r *http.Request) (env, team string, kind endpoint.Kind) {
	return r.PostFormValue("environment"), r.PostFormValue("team"), endpoint.Kind(r.PostFormValue("kind"))
}

// renderWhere shows step 1 with these answers, as a problem to fix when wiz has errors.
func (s *Server) renderWhere(w http.ResponseWriter, r *http.Request, id auth.Identity, wiz web.Wizard, env, team string, kind endpoint.Kind) {
	envs, teams := s.whereChoices(id, env, team)
	s.render(w, r, formStatus(wiz.Errors), web.WizardWhere(s.page(w, r, "New endpoint", web.NavNew), wiz,
		web.WhereForm{Environments: envs, Teams: teams, Kind: kind}))
}

// draftWhereForm shows step 1 of an existing draft.
func (s *Server) draftWhereForm(w http.ResponseWriter, r *http.Request) error {
	id, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	s.renderWhere(w, r, id, d.wizard(web.StepWhere, nil), d.Environment, d.data.Team, d.data.Kind)
	return nil
}

// draftWhereSubmit changes step 1 of an existing draft.
func (s *Server) draftWhereSubmit(w http.ResponseWriter, r *http.Request) error {
	id, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	env, team, kind := postedWhere(r)
	if errs := s.checkWhere(id, env, team, kind); errs != nil {
		s.renderWhere(w, r, id, d.wizard(web.StepWhere, errs), env, team, kind)
		return nil
	}
	if kind != d.data.Kind {
		// Another kind needs another connection: forget the old one.
		author := d.data.Author
		d.data, d.Secrets = newDraftData(team, kind), nil
		d.data.Author = author
	}
	d.Environment, d.data.Team = env, team
	return s.advance(w, r, &d, web.StepConnection)
}

// draftLinks lists the person's unfinished registrations, newest first, to continue them.
func (s *Server) draftLinks(r *http.Request, id auth.Identity) ([]web.DraftLink, error) {
	drafts, err := s.Store.ListDrafts(r.Context(), id.Key)
	if err != nil {
		return nil, err
	}
	var links []web.DraftLink
	for _, d := range drafts {
		data, err := decodeDraftData(d.Data)
		if err != nil {
			continue
		}
		name := data.Endpoint.Name
		if name == "" {
			name = "Unnamed " + data.Kind.Label() + " registration"
		}
		envName := d.Environment
		if env, ok := s.Environments.Get(d.Environment); ok {
			envName = env.DisplayName
		}
		step := data.Reached
		if step < web.StepConnection {
			step = web.StepConnection
		}
		links = append(links, web.DraftLink{Name: name, Environment: envName, Updated: web.Ago(s.now(), d.UpdatedAt), URL: web.StepURL(d.ID, step)})
	}
	return links, nil
}
