package auth

import (
	"fmt"
	"slices"
)

// Role is one of the portal's roles. People get roles from the provider's roles claim
// (Entra ID app roles), mapped through Config.RoleValues.
type Role string

// The portal's roles, from least to most powerful.
const (
	RoleViewer    Role = "Viewer"
	RoleRegistrar Role = "Registrar"
	RoleAdmin     Role = "Admin"
)

// Action is something a person may try to do with a service endpoint or the portal.
type Action string

// Actions the policy decides on.
const (
	ActionView      Action = "view"     // see an endpoint (lists, details)
	ActionTest      Action = "test"     // send a test message through an endpoint
	ActionRegister  Action = "register" // register a new endpoint for a team in an environment
	ActionEdit      Action = "edit"     // change an endpoint's settings
	ActionRekey     Action = "rekey"    // replace an endpoint's SAS key or token
	ActionDelete    Action = "delete"   // delete an endpoint
	ActionViewAudit Action = "view-audit"
	// ActionAdopt gives an endpoint not registered through the portal an owning team: Admins
	// only (no rule below grants it to anyone else).
	ActionAdopt Action = "adopt"
)

// Resource is what an action applies to: an endpoint (existing, or about to be registered) in a
// Dataverse environment.
type Resource struct {
	// Environment is the Dataverse environment's id in the portal's configuration.
	Environment string
	// EnvironmentTeams are the teams allowed to register endpoints in that environment (from the
	// environments configuration).
	EnvironmentTeams []string
	// OwnerTeam is the team that owns the endpoint, or the team it is being registered for; ""
	// when the endpoint was not registered through the portal (only Admins may touch those).
	OwnerTeam string
}

// Policy decides who may do what. The zero value is ready to use; it holds no configuration
// because every rule is expressed through the Identity's roles and teams and the Resource.
type Policy struct{}

// Denied explains why the policy refused an action, in words a person can act on.
type Denied struct {
	Action Action
	Reason string
}

func (d *Denied) Error() string { return fmt.Sprintf("not allowed to %s: %s", d.Action, d.Reason) }

// Can reports whether id may perform a on r.
func (p Policy) Can(id Identity, a Action, r Resource) bool { return p.Check(id, a, r) == nil }

// Check returns nil when id may perform a on r, or a *Denied saying why not.
//
// The rules:
//   - Admin: everything, including endpoints not registered through the portal and the audit log.
//   - Registrar: what a Viewer may, and registers, edits, re-keys and deletes the endpoints of
//     their teams in environments that allow those teams.
//   - Viewer: sees and test-sends the endpoints of their teams.
//   - Nobody but Admins sees or touches endpoints without an owning team, or reads the audit log.
//   - No role: nothing.
func (p Policy) Check(id Identity, a Action, r Resource) error {
	deny := func(reason string) error { return &Denied{Action: a, Reason: reason} }
	if id.Has(RoleAdmin) {
		return nil
	}
	if !id.Has(RoleViewer) && !id.Has(RoleRegistrar) {
		return deny("you have no role in the portal")
	}
	switch a {
	case ActionViewAudit:
		return deny("only Admins can read the audit log")
	case ActionView, ActionTest:
		if r.OwnerTeam == "" {
			return deny("this endpoint was not registered through the portal; only Admins can see it")
		}
		if !slices.Contains(id.Teams, r.OwnerTeam) {
			return deny(fmt.Sprintf("the endpoint belongs to team %q, which you are not a member of", r.OwnerTeam))
		}
		return nil
	case ActionRegister, ActionEdit, ActionRekey, ActionDelete:
		if !id.Has(RoleRegistrar) {
			return deny("this needs the Registrar role")
		}
		if r.OwnerTeam == "" {
			if a == ActionRegister {
				return deny("choose the team that will own the endpoint")
			}
			return deny("this endpoint was not registered through the portal; only Admins can change it")
		}
		if !slices.Contains(id.Teams, r.OwnerTeam) {
			return deny(fmt.Sprintf("the endpoint belongs to team %q, which you are not a member of", r.OwnerTeam))
		}
		if !slices.Contains(r.EnvironmentTeams, r.OwnerTeam) {
			return deny(fmt.Sprintf("team %q may not use environment %q", r.OwnerTeam, r.Environment))
		}
		return nil
	}
	return deny("unknown action")
}

// RegisterTeams returns the teams id may register endpoints for in an environment that allows
// envTeams, in id's order: the choices for the registration form's team field.
func (p Policy) RegisterTeams(id Identity, environment string, envTeams []string) []string {
	candidates := id.Teams
	if id.Has(RoleAdmin) {
		candidates = envTeams
	}
	var teams []string
	for _, t := range candidates {
		if p.Can(id, ActionRegister, Resource{Environment: environment, EnvironmentTeams: envTeams, OwnerTeam: t}) &&
			!slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	return teams
}
