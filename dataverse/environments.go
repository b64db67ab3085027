package dataverse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// EnvironmentConfig describes one Dataverse environment the portal serves. The portal's
// configuration file (PORTAL_CONFIG, JSON) holds a list of them under "environments"; see
// example-environments.json beside this file.
//
// Fields (JSON names):
//
//	id                  short slug used in the portal's URLs, e.g. "dev" (lower-case letters,
//	                    digits and dashes)
//	displayName         what people see, e.g. "Contoso Dev"
//	url                 the environment URL, e.g. "https://contoso-dev.crm4.dynamics.com"
//	solutionUniqueName  optional: unmanaged solution that new endpoints are added to
//	teams               teams allowed to use the environment, e.g. ["payments", "platform"]
//	allowInsecureHTTP   local emulators only: accept an http:// url (tokens travel in clear)
//	credential          how the portal authenticates to the environment:
//	  kind              "client-secret" | "client-certificate" | "managed-identity" |
//	                    "workload-identity"
//	  tenantId          Entra tenant (GUID or domain) of the app registration
//	  clientId          application (client) id of the app registration; the environment
//	                    needs an application user for it with a role granting
//	                    prv{Create,Read,Write,Delete}ServiceEndpoint. For managed identity:
//	                    the user-assigned identity's client id (empty: system-assigned)
//	  clientSecret      client-secret only; prefer clientSecretEnv
//	  clientSecretEnv   name of the environment variable holding the client secret
//	  certificatePath   client-certificate: PEM or PKCS#12 file with certificate and key
//	  certificatePasswordEnv  environment variable holding the certificate's password, if any
//	  tokenFilePath     workload-identity: federated token file (default
//	                    $AZURE_FEDERATED_TOKEN_FILE)
//	  authorityHost     Entra authority for sovereign clouds, e.g.
//	                    "https://login.microsoftonline.us/" (default public cloud)
//	  authorityCAFile   local token issuers only: PEM file of a CA to trust for the authority
type EnvironmentConfig struct {
	ID                 string           `json:"id"`
	DisplayName        string           `json:"displayName"`
	URL                string           `json:"url"`
	SolutionUniqueName string           `json:"solutionUniqueName,omitempty"`
	Teams              []string         `json:"teams"`
	AllowInsecureHTTP  bool             `json:"allowInsecureHTTP,omitempty"`
	Credential         CredentialConfig `json:"credential"`
}

// CredentialKind names how the portal obtains tokens for an environment.
type CredentialKind string

// Credential kinds.
const (
	ClientSecretCredential      CredentialKind = "client-secret"
	ClientCertificateCredential CredentialKind = "client-certificate"
	ManagedIdentityCredential   CredentialKind = "managed-identity"
	WorkloadIdentityCredential  CredentialKind = "workload-identity"
)

// CredentialConfig are an environment's credential settings; see EnvironmentConfig.
type CredentialConfig struct {
	Kind                   CredentialKind `json:"kind"`
	TenantID               string         `json:"tenantId,omitempty"`
	ClientID               string         `json:"clientId,omitempty"`
	ClientSecret           ConfigSecret   `json:"clientSecret,omitempty"`
	ClientSecretEnv        string         `json:"clientSecretEnv,omitempty"`
	CertificatePath        string         `json:"certificatePath,omitempty"`
	CertificatePasswordEnv string         `json:"certificatePasswordEnv,omitempty"`
	TokenFilePath          string         `json:"tokenFilePath,omitempty"`
	AuthorityHost          string         `json:"authorityHost,omitempty"`
	AuthorityCAFile        string         `json:"authorityCAFile,omitempty"`
	// AuthorityCAs trusts these CAs for the authority (in-process local token issuers, e.g.
	// portal dev); not part of the file format.
	AuthorityCAs *x509.CertPool `json:"-"`
}

// ConfigSecret is a secret read from the configuration file. It decodes from a JSON string
// and prints as a mask, so a logged or re-encoded configuration shows no plaintext.
type ConfigSecret string

// String returns a mask (empty when unset).
func (s ConfigSecret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// GoString returns a mask.
func (s ConfigSecret) GoString() string { return `dataverse.ConfigSecret("` + s.String() + `")` }

// MarshalText writes a mask.
func (s ConfigSecret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue makes slog print a mask.
func (s ConfigSecret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Validate lists what is wrong with c, each problem saying what to set (nil when none).
func (c EnvironmentConfig) Validate() []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	if !slugRE.MatchString(c.ID) {
		add(`id %q: set a short slug of lower-case letters, digits and dashes, e.g. "id": "dev"`, c.ID)
	}
	if strings.TrimSpace(c.DisplayName) == "" {
		add(`displayName is empty: set the name people see, e.g. "displayName": "Contoso Dev"`)
	}
	if _, err := ParseEnvironmentURL(c.URL, c.AllowInsecureHTTP); err != nil {
		add(`url: %s (e.g. "url": "https://contoso-dev.crm4.dynamics.com")`, strings.TrimPrefix(err.Error(), "dataverse: "))
	}
	if len(c.Teams) == 0 {
		add(`teams is empty: list the teams allowed to use this environment, e.g. "teams": ["payments"]`)
	}
	for _, t := range c.Teams {
		if strings.TrimSpace(t) == "" {
			add(`teams contains an empty name: remove it or write the team's name`)
		}
	}
	cr := c.Credential
	needTenantClient := func() {
		if cr.TenantID == "" {
			add(`credential.tenantId is empty: set the Entra tenant id of the app registration, e.g. "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"`)
		}
		if cr.ClientID == "" {
			add(`credential.clientId is empty: set the application (client) id of the app registration, e.g. "clientId": "00000000-0000-0000-0000-000000000000"`)
		}
	}
	switch cr.Kind {
	case ClientSecretCredential:
		needTenantClient()
		if cr.ClientSecret == "" && cr.ClientSecretEnv == "" {
			add(`credential: kind "client-secret" needs the secret: set "clientSecretEnv": "DATAVERSE_DEV_CLIENT_SECRET" and put the secret in that environment variable`)
		}
		if cr.ClientSecret != "" && cr.ClientSecretEnv != "" {
			add(`credential: set either clientSecret or clientSecretEnv, not both`)
		}
	case ClientCertificateCredential:
		needTenantClient()
		if cr.CertificatePath == "" {
			add(`credential: kind "client-certificate" needs "certificatePath": "/etc/portal/dataverse-dev.pem" (PEM or PKCS#12 with the private key)`)
		}
	case ManagedIdentityCredential:
		// clientId optional (user-assigned identity); nothing else needed.
	case WorkloadIdentityCredential:
		// tenantId, clientId and the token file may come from AZURE_* variables set by the
		// workload identity webhook.
	case "":
		add(`credential.kind is empty: set one of "client-secret", "client-certificate", "managed-identity", "workload-identity"`)
	default:
		add(`credential.kind %q is unknown: use one of "client-secret", "client-certificate", "managed-identity", "workload-identity"`, cr.Kind)
	}
	if cr.AuthorityHost != "" {
		if u, err := url.Parse(cr.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" {
			add(`credential.authorityHost %q: set an https URL, e.g. "authorityHost": "https://login.microsoftonline.us/"`, cr.AuthorityHost)
		}
	}
	return p
}

// publicAuthorities are Entra's own authority hosts, where instance discovery works.
var publicAuthorities = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoftonline.us":         true,
	"login.chinacloudapi.cn":           true,
	"login.partner.microsoftonline.cn": true,
}

// IsPublicAuthority reports whether an authority host URL is one of Entra ID's own, where
// azidentity's instance discovery works; a private or local authority needs it disabled.
func IsPublicAuthority(authorityHost string) bool {
	u, err := url.Parse(authorityHost)
	return err == nil && publicAuthorities[strings.ToLower(u.Hostname())]
}

// NewCredential builds the azidentity credential c describes. getenv reads environment
// variables (nil means os.Getenv).
func (c CredentialConfig) NewCredential(getenv func(string) string) (azcore.TokenCredential, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	co := azcore.ClientOptions{}
	disableDiscovery := false
	if c.AuthorityHost != "" {
		host := strings.TrimSuffix(c.AuthorityHost, "/") + "/"
		co.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: host}
		if !IsPublicAuthority(host) {
			// A private or local authority has no Entra instance metadata to discover.
			disableDiscovery = true
		}
	}
	if c.AuthorityCAFile != "" || c.AuthorityCAs != nil {
		pool := c.AuthorityCAs
		if c.AuthorityCAFile != "" {
			pem, err := os.ReadFile(c.AuthorityCAFile)
			if err != nil {
				return nil, fmt.Errorf("read authorityCAFile: %w", err)
			}
			if pool == nil {
				pool = x509.NewCertPool()
			} else {
				pool = pool.Clone()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("authorityCAFile %s holds no PEM certificate", c.AuthorityCAFile)
			}
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		co.Transport = &http.Client{Transport: t, Timeout: 30 * time.Second}
	}
	switch c.Kind {
	case ClientSecretCredential:
		secret := string(c.ClientSecret)
		if c.ClientSecretEnv != "" {
			secret = getenv(c.ClientSecretEnv)
			if secret == "" {
				return nil, fmt.Errorf("environment variable %s is empty: set it to the client secret of app registration %s", c.ClientSecretEnv, c.ClientID)
			}
		}
		return azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	case ClientCertificateCredential:
		data, err := os.ReadFile(c.CertificatePath)
		if err != nil {
			return nil, fmt.Errorf("read certificatePath: %w", err)
		}
		var password []byte
		if c.CertificatePasswordEnv != "" {
			password = []byte(getenv(c.CertificatePasswordEnv))
		}
		certs, key, err := azidentity.ParseCertificates(data, password)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w (it must hold the certificate and its private key, PEM or PKCS#12)", c.CertificatePath, err)
		}
		return azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	case ManagedIdentityCredential:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if c.ClientID != "" {
			o.ID = azidentity.ClientID(c.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case WorkloadIdentityCredential:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, ClientID: c.ClientID, TenantID: c.TenantID, TokenFilePath: c.TokenFilePath,
			DisableInstanceDiscovery: disableDiscovery})
	}
	return nil, fmt.Errorf("credential kind %q is unknown", c.Kind)
}

// Environment is one configured environment with its client.
type Environment struct {
	ID                 string
	DisplayName        string
	URL                string
	SolutionUniqueName string
	Teams              []string
	Client             *Client
}

// AllowsTeam reports whether members of team may use the environment (names compare
// case-insensitively).
func (e *Environment) AllowsTeam(team string) bool {
	for _, t := range e.Teams {
		if strings.EqualFold(t, team) {
			return true
		}
	}
	return false
}

// Environments are the environments the portal serves, in configuration order.
type Environments struct {
	list         []*Environment
	byID         map[string]*Environment
	checkTimeout time.Duration
}

// EnvironmentsOptions tune NewEnvironments; the zero value is production.
type EnvironmentsOptions struct {
	Getenv       func(string) string // nil: os.Getenv
	HTTPClient   *http.Client        // for the Web API calls; nil: default
	Retry        RetryPolicy
	CheckTimeout time.Duration // per environment in Check; default 5s
	// Observe, when set, is told of every Web API request of every environment, with the
	// environment's id (see Options.Observe).
	Observe func(envID string, a Attempt)
}

// NewEnvironments validates the configs and builds one Client per environment. Every problem
// of every environment is reported at once.
func NewEnvironments(cfgs []EnvironmentConfig, opts EnvironmentsOptions) (*Environments, error) {
	envs := &Environments{byID: map[string]*Environment{}, checkTimeout: opts.CheckTimeout}
	if envs.checkTimeout <= 0 {
		envs.checkTimeout = 5 * time.Second
	}
	var errs []error
	if len(cfgs) == 0 {
		return nil, errors.New(`no Dataverse environments configured: add at least one under "environments" (see dataverse/example-environments.json)`)
	}
	for i, cfg := range cfgs {
		name := fmt.Sprintf("environments[%d] (%s)", i, cfg.ID)
		if probs := cfg.Validate(); len(probs) > 0 {
			for _, pr := range probs {
				errs = append(errs, fmt.Errorf("%s: %s", name, pr))
			}
			continue
		}
		if _, dup := envs.byID[cfg.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: id %q is used twice: give each environment its own id", name, cfg.ID))
			continue
		}
		cred, err := cfg.Credential.NewCredential(opts.Getenv)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: credential: %w", name, err))
			continue
		}
		copts := Options{Credential: cred, HTTPClient: opts.HTTPClient, AllowHTTP: cfg.AllowInsecureHTTP, Retry: opts.Retry}
		if opts.Observe != nil {
			copts.Observe = func(a Attempt) { opts.Observe(cfg.ID, a) }
		}
		client, err := New(cfg.URL, copts)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		e := &Environment{ID: cfg.ID, DisplayName: cfg.DisplayName, URL: client.URL(),
			SolutionUniqueName: cfg.SolutionUniqueName, Teams: append([]string(nil), cfg.Teams...), Client: client}
		envs.list = append(envs.list, e)
		envs.byID[e.ID] = e
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return envs, nil
}

// List returns every environment in configuration order.
func (e *Environments) List() []*Environment { return append([]*Environment(nil), e.list...) }

// Get returns the environment with this id.
func (e *Environments) Get(id string) (*Environment, bool) {
	env, ok := e.byID[id]
	return env, ok
}

// ForTeams returns the environments any of teams may use.
func (e *Environments) ForTeams(teams []string) []*Environment {
	var out []*Environment
	for _, env := range e.list {
		for _, t := range teams {
			if env.AllowsTeam(t) {
				out = append(out, env)
				break
			}
		}
	}
	return out
}

// EnvironmentStatus is one environment's readiness: WhoAmI answered, or why not.
type EnvironmentStatus struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	URL         string `json:"url"`
	OK          bool   `json:"ok"`
	Problem     string `json:"problem,omitempty"`
	// Cause classifies the problem (see Cause); empty when OK or not a Dataverse failure.
	Cause  Cause         `json:"cause,omitempty"`
	UserID string        `json:"userId,omitempty"`
	Took   time.Duration `json:"-"`
	// TookMillis is Took for JSON (readiness pages).
	TookMillis int64 `json:"tookMs"`
}

// Check calls WhoAmI on every environment in parallel, each bounded by the check timeout, and
// reports each one's state in configuration order. One environment down does not affect the
// others' answers.
func (e *Environments) Check(ctx context.Context) []EnvironmentStatus {
	out := make([]EnvironmentStatus, len(e.list))
	var wg sync.WaitGroup
	for i, env := range e.list {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, e.checkTimeout)
			defer cancel()
			start := time.Now()
			st := EnvironmentStatus{ID: env.ID, DisplayName: env.DisplayName, URL: env.URL}
			who, err := env.Client.WhoAmI(cctx)
			st.Took = time.Since(start)
			st.TookMillis = st.Took.Milliseconds()
			var de *Error
			switch {
			case errors.As(err, &de):
				st.Problem, st.Cause = describeProblem(err, e.checkTimeout), de.Cause()
			case errors.Is(err, context.DeadlineExceeded):
				st.Problem, st.Cause = describeProblem(err, e.checkTimeout), CauseTimeout
			case err != nil:
				st.Problem, st.Cause = describeProblem(err, e.checkTimeout), CauseUnknown
			default:
				st.OK, st.UserID = true, who.UserID
			}
			out[i] = st
		})
	}
	wg.Wait()
	return out
}

// describeProblem turns a WhoAmI failure into one line a person can act on.
func describeProblem(err error, timeout time.Duration) string {
	var de *Error
	if errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &de) {
		return fmt.Sprintf("No answer within %s (%s). Try again in a minute.", timeout, oneLine(err))
	}
	return Explain(err)
}

// verify interfaces used by NewCredential at compile time.
var _ policy.Transporter = (*http.Client)(nil)
