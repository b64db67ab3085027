package main

import (
	"strings"
	"testing"
)

func TestAuthSettings(t *testing.T) {
	lookup := serveLookup
	cfg, problems := loadServeConfig(lookup(map[string]string{
		"PORTAL_OIDC_ROLE_VALUES": "Admin=Portal.Admin, Viewer=Portal.Viewer,Viewer=Portal.Reader",
		"PORTAL_TEAMS_BY_GROUP":   "Integration=g1,Finance=g2", "PORTAL_SESSION_IDLE_TIMEOUT": "2h"}))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if cfg.RoleValues["Portal.Reader"] != "Viewer" || cfg.TeamsByGroup["g2"] != "Finance" || cfg.SessionIdle.Hours() != 2 || cfg.SessionMaxAge.Hours() != 24 {
		t.Fatal("bad parse")
	}
	cfg, _ = loadServeConfig(lookup(nil))
	if cfg.RoleValues["Registrar"] != "Registrar" || len(cfg.TeamsByGroup) != 0 {
		t.Fatalf("defaults %+v", cfg.RoleValues)
	}
	for env, val := range map[string]string{
		"PORTAL_OIDC_ROLE_VALUES":     "Owner=x",
		"PORTAL_TEAMS_BY_GROUP":       "Integration",
		"PORTAL_OIDC_ALLOWED_TENANTS": "contoso.com",
		"PORTAL_OIDC_ISSUER":          "https://login.microsoftonline.com/organizations/v2.0",
		"PORTAL_SESSION_MAX_AGE":      "forever",
	} {
		_, problems := loadServeConfig(lookup(map[string]string{env: val}))
		if len(problems) != 1 || !strings.Contains(problems[0], "Example:") {
			t.Errorf("%s=%s: %q", env, val, problems)
		}
	}
}
