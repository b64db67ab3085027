package auth_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/contoso/sbportal/auth"
)

func TestPolicy(t *testing.T) {
	admin := auth.Identity{Name: "admin", Roles: []auth.Role{auth.RoleAdmin}}
	intRegistrar := auth.Identity{Name: "integration registrar", Roles: []auth.Role{auth.RoleRegistrar}, Teams: []string{"Integration"}}
	intViewer := auth.Identity{Name: "integration viewer", Roles: []auth.Role{auth.RoleViewer}, Teams: []string{"Integration"}}
	finRegistrar := auth.Identity{Name: "finance registrar", Roles: []auth.Role{auth.RoleRegistrar}, Teams: []string{"Finance"}}
	noRole := auth.Identity{Name: "no role", Teams: []string{"Integration"}}
	registrarNoTeam := auth.Identity{Name: "registrar without team", Roles: []auth.Role{auth.RoleRegistrar}}

	both := []string{"Integration", "Finance"}
	intEndpoint := auth.Resource{Environment: "prod", EnvironmentTeams: both, OwnerTeam: "Integration"}
	finEndpoint := auth.Resource{Environment: "prod", EnvironmentTeams: both, OwnerTeam: "Finance"}
	unowned := auth.Resource{Environment: "prod", EnvironmentTeams: both}
	// Integration owns an endpoint in an environment it may no longer use.
	intInFinanceOnlyEnv := auth.Resource{Environment: "fin-only", EnvironmentTeams: []string{"Finance"}, OwnerTeam: "Integration"}

	all := []auth.Action{auth.ActionView, auth.ActionTest, auth.ActionRegister, auth.ActionEdit, auth.ActionRekey, auth.ActionDelete, auth.ActionViewAudit}
	seeing := []auth.Action{auth.ActionView, auth.ActionTest}
	changing := []auth.Action{auth.ActionRegister, auth.ActionEdit, auth.ActionRekey, auth.ActionDelete}

	type rule struct {
		who     auth.Identity
		actions []auth.Action
		on      auth.Resource
		allowed bool
	}
	rules := []rule{
		{admin, all, intEndpoint, true},
		{admin, all, unowned, true},
		{admin, all, intInFinanceOnlyEnv, true},

		{intViewer, seeing, intEndpoint, true},
		{intViewer, changing, intEndpoint, false},
		{intViewer, seeing, finEndpoint, false},
		{intViewer, seeing, unowned, false},
		{intViewer, []auth.Action{auth.ActionViewAudit}, intEndpoint, false},

		{intRegistrar, seeing, intEndpoint, true},
		{intRegistrar, changing, intEndpoint, true},
		{intRegistrar, seeing, intInFinanceOnlyEnv, true},
		{intRegistrar, changing, intInFinanceOnlyEnv, false},
		{intRegistrar, all, finEndpoint, false},
		{intRegistrar, all, unowned, false},
		{intRegistrar, []auth.Action{auth.ActionViewAudit}, intEndpoint, false},

		{finRegistrar, changing, finEndpoint, true},
		{finRegistrar, all, intEndpoint, false},

		{noRole, all, intEndpoint, false},
		{noRole, all, unowned, false},
		{registrarNoTeam, all, intEndpoint, false},
		{auth.Identity{}, all, intEndpoint, false},
		{auth.Identity{Roles: []auth.Role{"Superuser"}, Teams: []string{"Integration"}}, all, intEndpoint, false},
	}
	var p auth.Policy
	for _, r := range rules {
		for _, a := range r.actions {
			err := p.Check(r.who, a, r.on)
			if got := err == nil; got != r.allowed || p.Can(r.who, a, r.on) != r.allowed {
				t.Errorf("%s %s on %+v: allowed=%v, want %v (%v)", r.who.Name, a, r.on, got, r.allowed, err)
			}
			var denied *auth.Denied
			if err != nil && (!errors.As(err, &denied) || denied.Reason == "" || denied.Action != a) {
				t.Errorf("%s %s: refusal %v is not a *Denied with a reason", r.who.Name, a, err)
			}
		}
	}
	if p.Can(intRegistrar, "launch-rockets", intEndpoint) {
		t.Error("an unknown action was allowed")
	}
}

func TestRegisterTeams(t *testing.T) {
	var p auth.Policy
	multi := auth.Identity{Roles: []auth.Role{auth.RoleRegistrar}, Teams: []string{"Finance", "Integration", "Ops"}}
	if got := p.RegisterTeams(multi, "prod", []string{"Integration", "Finance"}); !slices.Equal(got, []string{"Finance", "Integration"}) {
		t.Errorf("registrar: %v", got)
	}
	viewer := auth.Identity{Roles: []auth.Role{auth.RoleViewer}, Teams: []string{"Integration"}}
	if got := p.RegisterTeams(viewer, "prod", []string{"Integration"}); len(got) != 0 {
		t.Errorf("viewer: %v", got)
	}
	admin := auth.Identity{Roles: []auth.Role{auth.RoleAdmin}}
	if got := p.RegisterTeams(admin, "prod", []string{"Integration", "Finance"}); !slices.Equal(got, []string{"Integration", "Finance"}) {
		t.Errorf("admin: %v", got)
	}
}
