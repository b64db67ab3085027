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
func (p *pages) whereChoices(id auth.Identity, env, team string) (envs, teams []web.Option) {
	seen := map[string]bool{}
	for _, e := range p.Environments.List() {
		ts := p.cfg.Policy.RegisterTeams(id, e.ID, e.Teams)
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
func (p *pages) checkWhere(id auth.Identity, env, team string, kind endpoint.Kind) web.FieldErrors {
	errs := web.FieldErrors{}
	e, ok := p.Environments.Get(env)
	if !ok {
		errs["environment"] = []string{"Choose the Dataverse environment the endpoint belongs to."}
	}
	if team == "" {
		errs["team"] = []string{"Choose the team that will own the endpoint."}
	} else if ok && !slices.Contains(p.cfg.Policy.RegisterTeams(id, e.ID, e.Teams), team) {
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
func (p *pages) newEndpointForm(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	envs, teams := p.whereChoices(id, r.URL.Query().Get("environment"), "")
	if len(envs) == 0 {
		return &Error{Status: http.StatusForbidden, Title: "You cannot register endpoints",
			Message: "Registering needs the Registrar role and a team that may use at least one environment. Ask your portal administrator."}
	}
	if len(teams) == 1 {
		teams[0].Selected = true
	}
	drafts, err := p.draftLinks(r, id)
	if err != nil {
		return err
	}
	p.render(w, r, http.StatusOK, web.WizardWhere(p.page(w, r, "New endpoint", web.NavNew),
		web.Wizard{Current: web.StepWhere, Reached: web.StepWhere},
		web.WhereForm{Environments: envs, Teams: teams, Kind: endpoint.KindServiceBus, Drafts: drafts}))
	return nil
}

// newEndpointCreate handles step 1's first submission: it creates the draft.
func (p *pages) newEndpointCreate(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	env, team, kind := r.PostFormValue("environment"), r.PostFormValue("team"), endpoint.Kind(r.PostFormValue("kind"))
	if errs := p.checkWhere(id, env, team, kind); errs != nil {
		envs, teams := p.whereChoices(id, env, team)
		p.render(w, r, http.StatusUnprocessableEntity, web.WizardWhere(p.page(w, r, "New endpoint", web.NavNew),
			web.Wizard{Current: web.StepWhere, Reached: web.StepWhere, Errors: errs},
			web.WhereForm{Environments: envs, Teams: teams, Kind: kind}))
		return nil
	}
	d := wizardDraft{data: draftData{Team: team, Kind: kind, Reached: web.StepConnection}}
	b, err := json.Marshal(d.data)
	if err != nil {
		return err
	}
	created, err := p.Store.CreateDraft(r.Context(), store.Draft{Owner: id.Key, Environment: env, Data: b})
	if err != nil {
		return err
	}
	http.Redirect(w, r, web.StepURL(created.ID, web.StepConnection), http.StatusSeeOther)
	return nil
}

// draftWhere shows or changes step 1 of an existing draft.
func (p *pages) draftWhere(w http.ResponseWriter, r *http.Request) error {
	id, d, err := p.loadDraft(r)
	if err != nil {
		return err
	}
	env, team, kind := d.Environment, d.data.Team, d.data.Kind
	var errs web.FieldErrors
	if r.Method == http.MethodPost {
		env, team, kind = r.PostFormValue("environment"), r.PostFormValue("team"), endpoint.Kind(r.PostFormValue("kind"))
		if errs = p.checkWhere(id, env, team, kind); errs == nil {
			if kind != d.data.Kind {
				// Another kind needs another connection: forget the old one.
				d.data = draftData{Reached: web.StepConnection}
				d.Secrets = nil
			}
			d.Environment, d.data.Team, d.data.Kind = env, team, kind
			return p.advance(w, r, &d, web.StepConnection)
		}
	}
	envs, teams := p.whereChoices(id, env, team)
	status := http.StatusOK
	if errs != nil {
		status = http.StatusUnprocessableEntity
	}
	p.render(w, r, status, web.WizardWhere(p.page(w, r, "New endpoint", web.NavNew), d.wizard(web.StepWhere, errs),
		web.WhereForm{Environments: envs, Teams: teams, Kind: kind}))
	return nil
}

// draftLinks lists the person's unfinished registrations, newest first, to continue them.
func (p *pages) draftLinks(r *http.Request, id auth.Identity) ([]web.DraftLink, error) {
	drafts, err := p.Store.ListDrafts(r.Context(), id.Key)
	if err != nil {
		return nil, err
	}
	var links []web.DraftLink
	for _, d := range drafts {
		var data draftData
		if err := json.Unmarshal(d.Data, &data); err != nil {
			continue
		}
		name := data.Fields.Name
		if name == "" {
			name = "Unnamed " + data.Kind.Label() + " registration"
		}
		envName := d.Environment
		if env, ok := p.Environments.Get(d.Environment); ok {
			envName = env.DisplayName
		}
		step := data.Reached
		if step < web.StepConnection {
			step = web.StepConnection
		}
		links = append(links, web.DraftLink{Name: name, Environment: envName, Updated: web.Ago(p.now(), d.UpdatedAt), URL: web.StepURL(d.ID, step)})
	}
	return links, nil
}
