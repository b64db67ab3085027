package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/web"
)

// adoptForm lists the endpoints without an owning team that match the filter.
func (s *Server) adoptForm(r *http.Request, id auth.Identity) web.AdoptForm {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	f := web.AdoptForm{Search: strings.TrimSpace(q.Get("q")), Environment: q.Get("env")}
	f.Environments = []web.Option{{Value: "", Label: "All environments"}}
	teams := []string{}
	for _, env := range s.Environments.List() {
		f.Environments = append(f.Environments, web.Option{Value: env.ID, Label: env.DisplayName, Selected: env.ID == f.Environment})
		for _, t := range env.Teams {
			if !slices.Contains(teams, t) {
				teams = append(teams, t)
			}
		}
	}
	slices.Sort(teams)
	f.Teams = []web.Option{{Value: "", Label: "Choose a team"}}
	for _, t := range teams {
		f.Teams = append(f.Teams, web.Option{Value: t, Label: t, Selected: t == q.Get("team")})
	}
	chosen := q["endpoint"]
	search := strings.ToLower(f.Search)
	for _, e := range s.visible(r.Context(), id).entries {
		if e.ViaPortal || f.Environment != "" && e.Env.ID != f.Environment || !e.Matches(search) {
			continue
		}
		value := e.Env.ID + "/" + e.Endpoint.ID
		f.Rows = append(f.Rows, web.AdoptRow{Value: value, Name: e.Endpoint.Name, Env: e.Env.DisplayName,
			Target:   strings.TrimSuffix(e.Endpoint.NamespaceAddress, "/") + "/" + e.Endpoint.Path + e.Endpoint.URL,
			Selected: r.Method == http.MethodGet || slices.Contains(chosen, value)})
	}
	return f
}

// endpointAdoptForm shows the endpoints not registered through the portal (Admins).
func (s *Server) endpointAdoptForm(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	if err := s.authorize(r, auth.ActionAdopt, auth.Resource{}); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, web.AdoptPage(s.page(w, r, "Adopt endpoints", web.NavEndpoints), s.adoptForm(r, id)))
	return nil
}

// endpointAdoptSubmit gives the chosen endpoints the chosen team, each change audited.
func (s *Server) endpointAdoptSubmit(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	if err := s.authorize(r, auth.ActionAdopt, auth.Resource{}); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Title: "The form could not be read", Message: "Reload the page and try again.", Err: err}
	}
	f := s.adoptForm(r, id)
	team := r.PostFormValue("team")
	chosen := r.PostForm["endpoint"]
	f.Errors = web.FieldErrors{}
	if team == "" {
		f.Errors["team"] = []string{"Choose the team that will own the endpoints."}
	}
	if len(chosen) == 0 {
		f.Errors["endpoint"] = []string{"Select at least one endpoint."}
	}
	ctx := r.Context()
	for _, v := range chosen {
		envID, epID, _ := strings.Cut(v, "/")
		env, ok := s.Environments.Get(envID)
		if ok && team != "" && !env.AllowsTeam(team) {
			f.Errors["team"] = append(f.Errors["team"], "Team "+team+" may not use "+env.DisplayName+"; choose another team, or leave its endpoints out.")
			break
		}
		if c, _, found := s.Catalog.Get(ctx, envID, epID); !ok || !found || c.ViaPortal {
			f.Errors["endpoint"] = []string{"One of the endpoints was adopted or deleted meanwhile; review the list and try again."}
			break
		}
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, web.AdoptPage(s.page(w, r, "Adopt endpoints", web.NavEndpoints), f))
		return nil
	}
	for _, v := range chosen {
		envID, epID, _ := strings.Cut(v, "/")
		c, _, _ := s.Catalog.Get(ctx, envID, epID)
		t, err := s.PlanTarget(id, envID, RequestID(ctx))
		if err != nil {
			return err
		}
		if err := t.SetTeam(ctx, c.Endpoint, team); err != nil {
			return err
		}
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Team " + team + " now owns " + strconv.Itoa(len(chosen)) + " more endpoint(s)."})
	http.Redirect(w, r, listURL(web.ListQuery{Team: team, Sort: "name"}, 1), http.StatusSeeOther)
	return nil
}
