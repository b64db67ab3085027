package main

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
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
		meaning: "The https address people use to reach the portal; sign-in redirects and secure cookies are derived from it.",
		check:   checkBaseURL},
	{env: "PORTAL_LISTEN", def: ":8080", example: ":8080",
		meaning: "Address the HTTP server listens on (TLS is terminated in front of the portal).",
		check:   checkListen},
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
		meaning: "OpenID Connect issuer: your Entra ID tenant (or organizations for multi-tenant).",
		check:   checkHTTPSURL},
	{env: "PORTAL_OIDC_CLIENT_ID", required: true, example: "00000000-0000-0000-0000-000000000000",
		meaning: "Application (client) id of the portal's app registration."},
	{env: "PORTAL_OIDC_CLIENT_SECRET", required: true, example: "the app registration's client secret value",
		meaning: "Client secret of the portal's app registration."},
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
	BaseURL         *url.URL
	Listen          string
	DatabaseURL     string
	SecretKeys      string
	SessionKey      []byte
	OIDCIssuer      string
	OIDCClientID    string
	OIDCSecret      string
	ConfigFile      string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
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
		if s.check != nil {
			if p := s.check(v); p != "" {
				problems = append(problems, fmt.Sprintf("%s %s. Example: %s=%s", s.env, p, s.env, s.example))
				continue
			}
		}
		vals[s.env] = v
	}
	if len(problems) > 0 {
		return serveConfig{}, problems
	}
	base, _ := url.Parse(vals["PORTAL_BASE_URL"])
	sessionKey, _ := base64.StdEncoding.DecodeString(vals["PORTAL_SESSION_KEY"])
	level, _ := parseLogLevel(vals["PORTAL_LOG_LEVEL"])
	shutdown, _ := time.ParseDuration(vals["PORTAL_SHUTDOWN_TIMEOUT"])
	return serveConfig{
		BaseURL:         base,
		Listen:          vals["PORTAL_LISTEN"],
		DatabaseURL:     vals["PORTAL_DATABASE_URL"],
		SecretKeys:      vals["PORTAL_SECRET_KEY"],
		SessionKey:      sessionKey,
		OIDCIssuer:      vals["PORTAL_OIDC_ISSUER"],
		OIDCClientID:    vals["PORTAL_OIDC_CLIENT_ID"],
		OIDCSecret:      vals["PORTAL_OIDC_CLIENT_SECRET"],
		ConfigFile:      vals["PORTAL_CONFIG"],
		LogLevel:        level,
		ShutdownTimeout: shutdown,
	}, nil
}

func checkBaseURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return "is not an absolute URL"
	}
	if u.Scheme != "https" {
		return "must start with https:// (put TLS in front of the portal; use 'portal dev' for local work)"
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

// checkSecretKeys accepts one base64 key or a comma-separated list of id:base64 keys.
func checkSecretKeys(v string) string {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		key := part
		if id, k, ok := strings.Cut(part, ":"); ok {
			if id == "" {
				return "has a key with an empty id before ':'"
			}
			key = k
		}
		b, err := base64.StdEncoding.DecodeString(key)
		if err != nil {
			return "has a key that is not base64"
		}
		if len(b) != 32 {
			return fmt.Sprintf("has a key of %d bytes; AES-256 needs exactly 32", len(b))
		}
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
