package api

import (
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// Endpoint is a service endpoint with what the portal knows about it. Its record is the
// domain's one shape (choices as their Dataverse codes; secrets only as whether they are set).
type Endpoint struct {
	Environment     string `json:"environment"`
	EnvironmentName string `json:"environmentName"`
	// OwnerTeam is the team that owns it; "" when it was not registered through the portal.
	OwnerTeam string `json:"ownerTeam,omitempty"`
	// RegisteredBy is who registered it through the portal.
	RegisteredBy string `json:"registeredBy,omitempty"`
	// KeyStored says the portal keeps its secret (encrypted), so it can be tested without one;
	// reported when one endpoint is read (not in lists).
	KeyStored      *bool                    `json:"keyStored,omitempty"`
	LastValidation *ValidationRun           `json:"lastValidation,omitempty"`
	Endpoint       endpoint.ServiceEndpoint `json:"endpoint"`
}

// EndpointList is one page of the endpoints a caller may see.
type EndpointList struct {
	Items []Endpoint `json:"items"`
	Total int        `json:"total"`
	Page  int        `json:"page"`
	Pages int        `json:"pages"`
	// Unavailable names the environments whose endpoints could not be read (none listed).
	Unavailable []EnvironmentProblem `json:"unavailable,omitempty"`
	// Freshness says, per environment, as of when the list is.
	Freshness []Freshness `json:"freshness,omitempty"`
}

// EnvironmentProblem is an environment that could not be read, and why.
type EnvironmentProblem struct {
	Environment string `json:"environment"`
	Problem     string `json:"problem"`
}

// Freshness is as of when an environment's endpoints are known.
type Freshness struct {
	Environment string    `json:"environment"`
	AsOf        time.Time `json:"asOf"`
	// Problem says why refreshing has failed since StaleSince ("" while it succeeds).
	Problem    string     `json:"problem,omitempty"`
	StaleSince *time.Time `json:"staleSince,omitempty"`
}

// Credential is a secret for an endpoint, as a request carries it: a Service Bus connection
// string (or a bare key or SAS token when the endpoint names its namespace and policy), or a
// webhook's key or header/query settings. It is turned into the domain's input at once and
// never logged.
type Credential struct {
	ConnectionString string           `json:"connectionString,omitempty"`
	WebhookAuth      string           `json:"webhookAuth,omitempty"` // key, header or query
	WebhookKey       string           `json:"webhookKey,omitempty"`
	Settings         []WebhookSetting `json:"settings,omitempty"`
}

// WebhookSetting is one header or query string setting of a webhook.
type WebhookSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Input is the domain's form of the credential (its secrets as endpoint.Secret).
func (c Credential) Input() endpoint.CredentialInput {
	in := endpoint.CredentialInput{ConnectionString: endpoint.NewSecret(c.ConnectionString),
		WebhookAuth: endpoint.WebhookAuth(c.WebhookAuth), WebhookKey: endpoint.NewSecret(c.WebhookKey)}
	for _, s := range c.Settings {
		in.Pairs = append(in.Pairs, endpoint.WebhookSetting{Name: s.Name, Value: endpoint.NewSecret(s.Value)})
	}
	return in
}

// LogValue keeps a credential out of logs.
func (c Credential) LogValue() slog.Value { return slog.StringValue("********") }

// String keeps a credential out of formatted output.
func (c Credential) String() string { return "********" }

// NewEndpoint registers an endpoint: where, for which team, what, and its secret. It is
// proved by a test message before it is saved, like the wizard's.
type NewEndpoint struct {
	Environment string `json:"environment"`
	Team        string `json:"team"`
	// Endpoint holds the details (name, description, message format, user information, and
	// for a webhook its url; for Service Bus the contract, path, ... when the connection string
	// does not say them). Secrets are never read from it: they come in Credential.
	Endpoint   endpoint.ServiceEndpoint `json:"endpoint"`
	Credential Credential               `json:"credential"`
}

// EndpointChange changes an endpoint's details: name, description, messageFormat,
// userClaim, and path (Service Bus) or url (webhook). A change of where it sends needs
// Credential again; a change of the message format is proved with the stored key.
type EndpointChange struct {
	Name          *string     `json:"name,omitempty"`
	Description   *string     `json:"description,omitempty"`
	MessageFormat *int        `json:"messageFormat,omitempty"`
	UserClaim     *int        `json:"userClaim,omitempty"`
	Path          *string     `json:"path,omitempty"`
	URL           *string     `json:"url,omitempty"`
	Credential    *Credential `json:"credential,omitempty"`
}

// TestRequest runs a test message; Credential is used once (never stored) and is needed when
// the portal keeps no key for the endpoint.
type TestRequest struct {
	Credential *Credential `json:"credential,omitempty"`
}

// SetKeyRequest gives an endpoint a new secret: proved by a test, then written to Dataverse
// and kept (encrypted) for later tests.
type SetKeyRequest struct {
	Credential Credential `json:"credential"`
}

// TestResult is the outcome of a test message.
type TestResult struct {
	Passed bool   `json:"passed"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
	// Cause is the failure's machine-readable cause (e.g. "wrong-key"); Fix says what to do.
	Cause     string    `json:"cause,omitempty"`
	Fix       string    `json:"fix,omitempty"`
	MessageID string    `json:"messageId,omitempty"`
	Duration  string    `json:"duration,omitempty"`
	Warnings  []string  `json:"warnings,omitempty"`
	At        time.Time `json:"at"`
}

// Text is the result in a few lines for people.
func (r TestResult) Text() string {
	lines := []string{r.Title}
	if r.Detail != "" {
		lines[0] += ": " + r.Detail
	}
	if r.Fix != "" {
		lines = append(lines, "Fix: "+r.Fix)
	}
	for _, w := range r.Warnings {
		lines = append(lines, "Warning: "+w)
	}
	return strings.Join(lines, "\n")
}

// ValidationRun is one test in an endpoint's validation history.
type ValidationRun struct {
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Result   string    `json:"result"` // passed or failed
	Cause    string    `json:"cause,omitempty"`
	Summary  string    `json:"summary"`
	Warnings []string  `json:"warnings,omitempty"`
}

// ValidationHistory is an endpoint's latest validation runs, newest first.
type ValidationHistory struct {
	Items []ValidationRun `json:"items"`
}

// AuditEntry is one entry of the audit trail.
type AuditEntry struct {
	ID           int64           `json:"id"`
	At           time.Time       `json:"at"`
	Actor        string          `json:"actor"`
	ActorKey     string          `json:"actorKey"`
	Action       string          `json:"action"`
	Environment  string          `json:"environment,omitempty"`
	EndpointID   string          `json:"endpointId,omitempty"`
	EndpointName string          `json:"endpointName,omitempty"`
	Outcome      string          `json:"outcome"`
	Detail       string          `json:"detail,omitempty"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
	RequestID    string          `json:"requestId,omitempty"`
}

// AuditPage is a page of the audit trail, newest first; Next continues it.
type AuditPage struct {
	Items []AuditEntry `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// StepList is an endpoint's steps.
type StepList struct {
	Items []endpoint.Step `json:"items"`
}

// StepState enables or disables a step.
type StepState struct {
	State string `json:"state"` // enabled or disabled
}

// Plan is what applying a file of endpoints to an environment changes (or changed).
type Plan struct {
	Environment string   `json:"environment"`
	Applied     bool     `json:"applied"`
	Changes     []Change `json:"changes"`
}

// Change is one change of a plan.
type Change struct {
	Action  string `json:"action"` // create, update, delete, set-key, none
	Kind    string `json:"kind"`   // endpoint or step
	Name    string `json:"name"`
	ID      string `json:"id,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Outcome string `json:"outcome,omitempty"` // after apply: succeeded or failed
}

// PlanRequestContentType marks a plan or apply body that carries, besides the file, the values
// of the secrets the file refers to (PlanRequest). A body of another type is the file itself.
const PlanRequestContentType = "application/vnd.sbportal.plan+json"

// PlanRequest is a file of endpoints (JSON or YAML, as written) with the values of the secret
// references it makes, resolved where the file is applied (a pipeline's environment): for
// "secret: env:ORDERS_SAS_KEY" the key "env:ORDERS_SAS_KEY". Values travel only in this body.
type PlanRequest struct {
	File    string            `json:"file"`
	Secrets map[string]string `json:"secrets,omitempty"`
}
