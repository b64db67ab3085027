package main

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/store"
)

// setting is one PORTAL_* environment variable of `portal serve`. The list below is the single
// source for validation, the error message on a bad start, and the README's reference table
// (a test keeps them in step).
type setting struct {
	env      string
	required bool
	def      string // default when not set ("" for none)
	example  string
	meaning  string
	// check validates a non-empty value and returns a problem description, or "".
	check func(v string) string
}

var serveSettings = []setting{
	{env: "PORTAL_BASE_URL", required: true, example: "https://portal.contoso.com",
		meaning: "The https address people use to reach the portal (it must start with https://); sign-in redirects, the post-logout redirect URI and secure cookies are derived from it.",
		check:   checkBaseURL},
	{env: "PORTAL_LISTEN", def: ":8080", example: ":8080",
		meaning: "Address the server listens on: plain HTTP behind a TLS-terminating proxy, or https with PORTAL_TLS_CERT_FILE and PORTAL_TLS_KEY_FILE.",
		check:   checkListen},
	{env: "PORTAL_METRICS_LISTEN", example: "127.0.0.1:9090",
		meaning: "Address of a separate plain-HTTP server that serves only Prometheus metrics at /metrics; off when not set. The main address never serves /metrics: keep this one reachable only by your monitoring.",
		check:   checkListen},
	{env: "PORTAL_TLS_CERT_FILE", example: "/etc/portal/tls/tls.crt",
		meaning: "PEM certificate (chain, leaf first) to serve https directly; needs PORTAL_TLS_KEY_FILE. A renewed certificate written over the files is picked up without a restart.",
		check:   checkReadableFile},
	{env: "PORTAL_TLS_KEY_FILE", example: "/etc/portal/tls/tls.key",
		meaning: "PEM private key of PORTAL_TLS_CERT_FILE.",
		check:   checkReadableFile},
	{env: "PORTAL_TRUSTED_PROXIES", example: "10.0.0.0/8,192.168.10.5",
		meaning: "Comma-separated addresses or CIDR ranges of the reverse proxies in front of the portal. Only from these are X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host honoured; the access log and the audit then record the client's address instead of the proxy's.",
		check:   checkTrustedProxies},
	{env: "PORTAL_DATABASE_URL", required: true, example: "postgres://portal:pw@db:5432/portal?sslmode=verify-full or /var/lib/portal/portal.db",
		meaning: "The portal's own database: a PostgreSQL URL (several replicas) or a SQLite file path (one replica).",
		check:   checkDatabaseURL},
	{env: "PORTAL_SECRET_KEY", required: true, example: "base64 of 32 random bytes, e.g. from: openssl rand -base64 32",
		meaning: "Key that encrypts stored secrets (SAS keys, webhook keys) with AES-256-GCM. Several keys may be given as id:key,id:key (newest first) during rotation.",
		check:   checkSecretKeys},
	{env: "PORTAL_SESSION_KEY", required: true, example: "base64 of 32 random bytes, e.g. from: openssl rand -base64 32",
		meaning: "Key that signs the portal's cookies.",
		check:   checkKey32},
	{env: "PORTAL_OIDC_ISSUER", required: true, example: "https://login.microsoftonline.com/<tenant-id>/v2.0",
		meaning: "OpenID Connect issuer, an https URL: your Entra ID tenant (or organizations for multi-tenant), or another provider's issuer.",
		check:   checkHTTPSURL},
	{env: "PORTAL_OIDC_CLIENT_ID", required: true, example: "00000000-0000-0000-0000-000000000000",
		meaning: "Application (client) id of the portal's app registration."},
	{env: "PORTAL_OIDC_CLIENT_SECRET", required: true, example: "the app registration's client secret value",
		meaning: "Client secret of the portal's app registration."},
	{env: "PORTAL_OIDC_ALLOWED_TENANTS", example: "72f988bf-86f1-41af-91ab-2d7cd011db47,0e9d8c7b-6a5f-4e3d-8c1b-a09f8e7d6c52",
		meaning: "Comma-separated Entra ID tenant ids allowed to sign in. Required when the issuer is .../organizations/v2.0 or .../common/v2.0 (multi-tenant); with a single-tenant issuer it is an extra check.",
		check:   checkTenantList},
	{env: "PORTAL_OIDC_ROLES_CLAIM", def: "roles", example: "realm_access.roles",
		meaning: "ID token claim that holds the person's roles (Entra ID app roles: roles). A dotted name reaches into nested claims (Keycloak).",
		check:   checkClaimName},
	{env: "PORTAL_OIDC_NAME_CLAIM", def: "name", example: "display_name",
		meaning: "Claim with the person's display name, shown wherever a person appears. Read from the ID token, else from the provider's userinfo endpoint; without it the name, preferred_username or email claim is used.",
		check:   checkClaimName},
	{env: "PORTAL_OIDC_GROUPS_CLAIM", def: "groups", example: "groups",
		meaning: "ID token claim that holds the person's group ids, used by PORTAL_TEAMS_BY_GROUP.",
		check:   checkClaimName},
	{env: "PORTAL_OIDC_ROLE_VALUES", def: "Admin=Admin,Registrar=Registrar,Viewer=Viewer", example: "Admin=Portal.Admin,Registrar=Portal.Registrar,Viewer=Portal.Viewer",
		meaning: "Which roles-claim values grant the portal's roles, as Role=value pairs (a role may be listed more than once). Roles: Admin, Registrar, Viewer.",
		check:   checkRoleValues},
	{env: "PORTAL_TEAMS_BY_GROUP", example: "Integration=3c1b9a2e-4d5f-4a6b-8c7d-0e1f2a3b4c5d,Finance=9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
		meaning: "Teams from groups, as Team=group-object-id pairs. People in more than 200 groups get a page explaining the groups overage; filter the groups claim to groups assigned to the application.",
		check:   checkTeamMap},
	{env: "PORTAL_TEAMS_BY_ROLE", example: "Integration=Team.Integration,Finance=Team.Finance",
		meaning: "Teams from app roles, as Team=role-value pairs (an alternative to groups that has no overage).",
		check:   checkTeamMap},
	{env: "PORTAL_API_AUDIENCE", example: "api://service-endpoint-portal",
		meaning: "Turns on the JSON API (/api/v1) for pipelines: the identifier access tokens must be issued for (aud), with Entra ID the Application ID URI of the portal's app registration (or its application id when it issues v2.0 access tokens). Tokens come from PORTAL_OIDC_ISSUER (and its allowed tenants); applications get roles and teams through app roles, mapped by PORTAL_OIDC_ROLE_VALUES and PORTAL_TEAMS_BY_ROLE. Not set: the API answers 503."},
	{env: "PORTAL_ACCESS_CONTACT", def: "your portal administrator", example: "the Integration Platform team (platform@contoso.com)",
		meaning: "Whom people without a portal role should ask for one; shown on the no-access page."},
	{env: "PORTAL_SESSION_IDLE_TIMEOUT", def: "8h", example: "8h",
		meaning: "A session unused this long ends (a working day by default).",
		check:   checkDuration},
	{env: "PORTAL_SESSION_MAX_AGE", def: "24h", example: "24h",
		meaning: "A session ends this long after sign-in however active it is; roles and teams are read at sign-in, so removed access stops within this time.",
		check:   checkDuration},
	{env: "PORTAL_CONFIG", required: true, example: "/etc/portal/config.json",
		meaning: "JSON file with the Dataverse environments, team mappings and probe settings.",
		check:   checkReadableFile},
	{env: "PORTAL_LOG_LEVEL", def: "info", example: "info",
		meaning: "Log level: debug, info, warn or error. Logs are JSON on standard error.",
		check:   checkLogLevel},
	{env: "PORTAL_SHUTDOWN_TIMEOUT", def: "30s", example: "30s",
		meaning: "How long a stopping portal lets in-flight requests finish.",
		check:   checkDuration},
}

// serveConfig is the validated configuration of `portal serve`.
type serveConfig struct {
	BaseURL      *url.URL
	Listen       string
	DatabaseURL  string
	SecretKeys   string
	SessionKey   []byte
	OIDCIssuer   string
	OIDCClientID string
	OIDCSecret   string
	// Sign-in details beyond the issuer and client (see the PORTAL_OIDC_*, PORTAL_TEAMS_* and
	// PORTAL_SESSION_* settings).
	AllowedTenants  []string
	NameClaim       string
	RolesClaim      string
	GroupsClaim     string
	RoleValues      map[string]auth.Role
	TeamsByGroup    map[string]string
	TeamsByRole     map[string]string
	APIAudience     string
	AccessContact   string
	SessionIdle     time.Duration
	SessionMaxAge   time.Duration
	ConfigFile      string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	// TLSCertFile and TLSKeyFile, when set, make the portal serve https itself.
	TLSCertFile, TLSKeyFile string
	// TrustedProxies are the reverse proxies whose X-Forwarded-* headers are honoured.
	TrustedProxies []netip.Prefix
	// MetricsListen is the address of the metrics server; "" means no metrics are served.
	MetricsListen string
}

// loadServeConfig reads every setting through lookup and returns the configuration, or every
// problem found (not only the first) with an example value for each.
func loadServeConfig(lookup func(string) (string, bool)) (serveConfig, []string) {
	vals := map[string]string{}
	var problems []string
	for _, s := range serveSettings {
		v, _ := lookup(s.env)
		v = strings.TrimSpace(v)
		if v == "" {
			if s.required {
				problems = append(problems, fmt.Sprintf("%s is not set: %s Example: %s=%s", s.env, s.meaning, s.env, s.example))
				continue
			}
			v = s.def
		}
		if s.check != nil && v != "" {
			if p := s.check(v); p != "" {
				problems = append(problems, fmt.Sprintf("%s %s. Example: %s=%s", s.env, p, s.env, s.example))
				continue
			}
		}
		vals[s.env] = v
	}
	if iss := vals["PORTAL_OIDC_ISSUER"]; isMultiTenantIssuer(iss) && vals["PORTAL_OIDC_ALLOWED_TENANTS"] == "" {
		problems = append(problems, "PORTAL_OIDC_ALLOWED_TENANTS is not set, but PORTAL_OIDC_ISSUER is multi-tenant: list the tenant ids allowed to sign in. Example: PORTAL_OIDC_ALLOWED_TENANTS=72f988bf-86f1-41af-91ab-2d7cd011db47")
	}
	if sameListenAddress(vals["PORTAL_LISTEN"], vals["PORTAL_METRICS_LISTEN"]) {
		problems = append(problems, "PORTAL_METRICS_LISTEN asks for the port of PORTAL_LISTEN: the metrics need an address of their own (another port). Example: PORTAL_METRICS_LISTEN=127.0.0.1:9090")
	}
	problems = append(problems, checkTLSPair(lookup, vals["PORTAL_TLS_CERT_FILE"], vals["PORTAL_TLS_KEY_FILE"])...)
	if len(problems) > 0 {
		return serveConfig{}, problems
	}
	base, _ := url.Parse(vals["PORTAL_BASE_URL"])
	proxies, _ := parseTrustedProxies(vals["PORTAL_TRUSTED_PROXIES"])
	sessionKey, _ := base64.StdEncoding.DecodeString(vals["PORTAL_SESSION_KEY"])
	level, _ := parseLogLevel(vals["PORTAL_LOG_LEVEL"])
	shutdown, _ := time.ParseDuration(vals["PORTAL_SHUTDOWN_TIMEOUT"])
	idle, _ := time.ParseDuration(vals["PORTAL_SESSION_IDLE_TIMEOUT"])
	maxAge, _ := time.ParseDuration(vals["PORTAL_SESSION_MAX_AGE"])
	roleValues, _ := parseRoleValues(vals["PORTAL_OIDC_ROLE_VALUES"])
	teamsByGroup, _ := parseTeamMap(vals["PORTAL_TEAMS_BY_GROUP"])
	teamsByRole, _ := parseTeamMap(vals["PORTAL_TEAMS_BY_ROLE"])
	return serveConfig{
		BaseURL:         base,
		Listen:          vals["PORTAL_LISTEN"],
		MetricsListen:   vals["PORTAL_METRICS_LISTEN"],
		DatabaseURL:     vals["PORTAL_DATABASE_URL"],
		SecretKeys:      vals["PORTAL_SECRET_KEY"],
		SessionKey:      sessionKey,
		OIDCIssuer:      vals["PORTAL_OIDC_ISSUER"],
		OIDCClientID:    vals["PORTAL_OIDC_CLIENT_ID"],
		OIDCSecret:      vals["PORTAL_OIDC_CLIENT_SECRET"],
		AllowedTenants:  splitList(vals["PORTAL_OIDC_ALLOWED_TENANTS"]),
		NameClaim:       vals["PORTAL_OIDC_NAME_CLAIM"],
		RolesClaim:      vals["PORTAL_OIDC_ROLES_CLAIM"],
		GroupsClaim:     vals["PORTAL_OIDC_GROUPS_CLAIM"],
		RoleValues:      roleValues,
		TeamsByGroup:    teamsByGroup,
		TeamsByRole:     teamsByRole,
		APIAudience:     vals["PORTAL_API_AUDIENCE"],
		AccessContact:   vals["PORTAL_ACCESS_CONTACT"],
		SessionIdle:     idle,
		SessionMaxAge:   maxAge,
		ConfigFile:      vals["PORTAL_CONFIG"],
		LogLevel:        level,
		ShutdownTimeout: shutdown,
		TLSCertFile:     vals["PORTAL_TLS_CERT_FILE"],
		TLSKeyFile:      vals["PORTAL_TLS_KEY_FILE"],
		TrustedProxies:  proxies,
	}, nil
}

// checkTLSPair checks that the TLS files are set together and, when both could be read
// (certFile and keyFile), hold a certificate and its key.
func checkTLSPair(lookup func(string) (string, bool), certFile, keyFile string) []string {
	set := func(env string) bool { v, _ := lookup(env); return strings.TrimSpace(v) != "" }
	switch {
	case set("PORTAL_TLS_CERT_FILE") != set("PORTAL_TLS_KEY_FILE"):
		return []string{"PORTAL_TLS_CERT_FILE and PORTAL_TLS_KEY_FILE go together: set both to serve https, or neither behind a TLS-terminating proxy. Example: PORTAL_TLS_CERT_FILE=/etc/portal/tls/tls.crt PORTAL_TLS_KEY_FILE=/etc/portal/tls/tls.key"}
	case certFile == "" || keyFile == "":
		return nil
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return []string{"PORTAL_TLS_CERT_FILE and PORTAL_TLS_KEY_FILE are not a PEM certificate and its private key (" + err.Error() + "). Example: PORTAL_TLS_CERT_FILE=/etc/portal/tls/tls.crt PORTAL_TLS_KEY_FILE=/etc/portal/tls/tls.key"}
	}
	return nil
}

// parseTrustedProxies reads comma-separated CIDR ranges or single addresses.
func parseTrustedProxies(v string) ([]netip.Prefix, string) {
	var out []netip.Prefix
	for _, p := range splitList(v) {
		if a, err := netip.ParseAddr(p); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Sprintf("has %q, which is neither an address nor a CIDR range such as 10.0.0.0/8", p)
		}
		out = append(out, prefix.Masked())
	}
	return out, ""
}

func checkTrustedProxies(v string) string {
	_, problem := parseTrustedProxies(v)
	return problem
}

func checkBaseURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return "is not an absolute URL"
	}
	if u.Scheme != "https" {
		return "must start with https:// (serve TLS with PORTAL_TLS_CERT_FILE and PORTAL_TLS_KEY_FILE, or put a TLS-terminating proxy in front; use 'portal dev' for local work)"
	}
	if u.Path != "" && u.Path != "/" {
		return "must be the site root, without a path"
	}
	return ""
}

func checkHTTPSURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return "must be an absolute https:// URL"
	}
	return ""
}

func checkListen(v string) string {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return "is not host:port (or :port)"
	}
	return ""
}

// sameListenAddress reports whether listening on a and on b would ask for the same port on an
// overlapping address (a wildcard host overlaps every host).
func sameListenAddress(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wildcard(ha) || wildcard(hb)
}

func checkDatabaseURL(v string) string {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		if _, err := url.Parse(v); err != nil {
			return "is not a valid PostgreSQL URL"
		}
		return ""
	}
	if strings.Contains(v, "://") && !strings.HasPrefix(v, "file:") {
		return "must be a postgres:// URL or a SQLite file path"
	}
	return ""
}

func checkKey32(v string) string {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "is not base64"
	}
	if len(b) < 32 {
		return fmt.Sprintf("decodes to %d bytes; it needs at least 32", len(b))
	}
	return ""
}

// checkSecretKeys accepts what the store's keyring accepts: one base64 key, or a
// comma-separated list of id:base64 keys, newest first.
func checkSecretKeys(v string) string {
	if _, err := store.ParseKeyring(v); err != nil {
		return "is not usable: " + err.Error()
	}
	return ""
}

func checkReadableFile(v string) string {
	f, err := os.Open(v)
	if err != nil {
		return "names a file that cannot be read (" + describeFileError(err) + ")"
	}
	f.Close()
	return ""
}

func describeFileError(err error) string {
	switch {
	case os.IsNotExist(err):
		return "it does not exist"
	case os.IsPermission(err):
		return "permission denied"
	}
	return err.Error()
}

func checkLogLevel(v string) string {
	if _, ok := parseLogLevel(v); !ok {
		return "must be debug, info, warn or error"
	}
	return ""
}

func parseLogLevel(v string) (slog.Level, bool) {
	switch strings.ToLower(v) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}

func checkDuration(v string) string {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return "is not a positive duration such as 30s or 2m"
	}
	return ""
}

// isMultiTenantIssuer reports an Entra ID issuer that accepts several tenants.
func isMultiTenantIssuer(iss string) bool {
	return strings.Contains(iss, "/organizations/") || strings.Contains(iss, "/common/")
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var tenantID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func checkTenantList(v string) string {
	for _, t := range splitList(v) {
		if !tenantID.MatchString(t) {
			return fmt.Sprintf("has %q, which is not a tenant id (a GUID, found on the tenant's Overview page in Entra ID)", t)
		}
	}
	return ""
}

func checkClaimName(v string) string {
	if strings.ContainsAny(v, " ,=") {
		return "must be a single claim name"
	}
	return ""
}

// parseRoleValues reads Role=value pairs into a claim value -> role map.
func parseRoleValues(v string) (map[string]auth.Role, string) {
	out := map[string]auth.Role{}
	for _, pair := range splitList(v) {
		role, value, ok := strings.Cut(pair, "=")
		role, value = strings.TrimSpace(role), strings.TrimSpace(value)
		r := auth.Role(role)
		if !ok || value == "" {
			return nil, fmt.Sprintf("has %q, which is not Role=value", pair)
		}
		if r != auth.RoleAdmin && r != auth.RoleRegistrar && r != auth.RoleViewer {
			return nil, fmt.Sprintf("names role %q; the roles are Admin, Registrar and Viewer", role)
		}
		if prev, dup := out[value]; dup && prev != r {
			return nil, fmt.Sprintf("maps value %q to both %s and %s", value, prev, r)
		}
		out[value] = r
	}
	return out, ""
}

func checkRoleValues(v string) string {
	_, problem := parseRoleValues(v)
	return problem
}

// parseTeamMap reads Team=value pairs into a value -> team map.
func parseTeamMap(v string) (map[string]string, string) {
	out := map[string]string{}
	for _, pair := range splitList(v) {
		team, value, ok := strings.Cut(pair, "=")
		team, value = strings.TrimSpace(team), strings.TrimSpace(value)
		if !ok || team == "" || value == "" {
			return nil, fmt.Sprintf("has %q, which is not Team=value", pair)
		}
		if prev, dup := out[value]; dup && prev != team {
			return nil, fmt.Sprintf("maps %q to both %q and %q", value, prev, team)
		}
		out[value] = team
	}
	return out, ""
}

func checkTeamMap(v string) string {
	_, problem := parseTeamMap(v)
	return problem
}
