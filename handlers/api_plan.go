package handlers

import (
	"io"
	"net/http"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
)

// apiPlan says what applying the file in the body to ?environment= would change.
func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) error {
	return s.servePlan(w, r, false)
}

// apiApply changes ?environment= to match the file in the body.
func (s *Server) apiApply(w http.ResponseWriter, r *http.Request) error {
	return s.servePlan(w, r, true)
}

// errNoPlanner answers plan and apply until the plan/apply engine is wired in.
var errNoPlanner = &api.Problem{Type: api.TypeNotImplemented, Status: http.StatusNotImplemented, Title: "Plan and apply are not available yet",
	Detail: "This portal has no plan/apply engine yet, so it cannot compare a file with an environment. Register, change and set keys of endpoints one by one (POST /api/v1/endpoints, PATCH, set-key) meanwhile."}

func (s *Server) servePlan(w http.ResponseWriter, r *http.Request, apply bool) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	if s.cfg.Planner == nil {
		return errNoPlanner
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
	file, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	plan := s.cfg.Planner.Plan
	if apply {
		plan = s.cfg.Planner.Apply
	}
	out, err := plan(r.Context(), id, env.ID, file)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
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
