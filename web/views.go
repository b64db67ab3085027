package web

import (
	"slices"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// Option is one choice in a select or radio group.
type Option struct {
	Value    string
	Label    string
	Hint     string
	Selected bool
	Disabled bool
}

// FieldErrors maps a form field's name to what is wrong with it.
type FieldErrors map[string][]string

// Has reports whether the field has a problem.
func (f FieldErrors) Has(field string) bool { return len(f[field]) > 0 }

// Messages lists every problem's message, ordered by field name.
func (f FieldErrors) Messages() []string {
	fields := make([]string, 0, len(f))
	for field := range f {
		fields = append(fields, field)
	}
	slices.Sort(fields)
	var out []string
	for _, field := range fields {
		out = append(out, f[field]...)
	}
	return out
}

// WizardStep numbers the registration wizard's steps.
type WizardStep int

// The wizard's steps, in order.
const (
	StepWhere WizardStep = iota + 1
	StepConnection
	StepDetails
	StepValidate
	StepReview
)

// WizardSteps names the steps for the step indicator.
var WizardSteps = []struct {
	Step  WizardStep
	Label string
}{
	{StepWhere, "Where and what"},
	{StepConnection, "Connection"},
	{StepDetails, "Details"},
	{StepValidate, "Validate"},
	{StepReview, "Review and save"},
}

// Wizard is what every wizard step shows around its form.
type Wizard struct {
	DraftID   string // empty on the first step before a draft exists
	Version   int64  // the draft version the form was rendered from
	Current   WizardStep
	Reached   WizardStep // the furthest step the person may jump back to
	Errors    FieldErrors
	FormError string // a problem that belongs to no single field
}

// StepURL is the address of a wizard step of a draft.
func StepURL(draftID string, s WizardStep) string {
	if draftID == "" {
		return "/endpoints/new"
	}
	switch s {
	case StepWhere:
		return "/drafts/" + draftID + "/where"
	case StepConnection:
		return "/drafts/" + draftID + "/connection"
	case StepDetails:
		return "/drafts/" + draftID + "/details"
	case StepValidate:
		return "/drafts/" + draftID + "/validate"
	}
	return "/drafts/" + draftID + "/review"
}

// WhereForm is step 1: environment, owning team, and kind of endpoint.
type WhereForm struct {
	Environments []Option
	Teams        []Option
	Kind         endpoint.Kind
	Drafts       []DraftLink
}

// DraftLink is an unfinished registration the person can continue.
type DraftLink struct {
	Name        string
	Environment string
	Updated     string
	URL         string
}

// ConnectionForm is step 2.
type ConnectionForm struct {
	Kind endpoint.Kind
	// Service Bus: the connection string is never echoed back; HasConnectionString says one
	// is kept in the draft (encrypted) and ConnectionSummary describes it without the key.
	HasConnectionString bool
	ConnectionSummary   []Fact
	Notes               []Note // explanations of what was parsed (e.g. namespace-wide policy)
	// Webhook
	URL           string
	WebhookAuth   endpoint.WebhookAuth // empty: none chosen yet (the form offers the key)
	HasAuthSecret bool
	Pairs         []Pair // header or query names (values are secrets and not echoed)
}

// Pair is a webhook header or query-string setting. Value is only echoed when the form is
// re-shown after an error in the same request.
type Pair struct{ Name, Value string }

// Fact is a label and a value in a definition list.
type Fact struct{ Label, Value string }

// Note is an explanation shown beside a form; Kind is "info" or "warning".
type Note struct{ Kind, Text string }

// DetailsForm is the registration's details: step 3, pre-filled from the connection, and the
// edit page. Endpoint is the registration as entered so far (without its secrets); Fields names
// the inputs this page offers (endpoint.Field*), and only those are read back.
type DetailsForm struct {
	Kind           endpoint.Kind
	Endpoint       endpoint.ServiceEndpoint
	Fields         []string
	Contracts      []Option
	MessageFormats []Option
	UserClaims     []Option
	AuthTypes      []Option
	Notes          []Note
}

// ProbeView is a test-send's result as people read it.
type ProbeView struct {
	Ran       bool
	Passed    bool
	Title     string // "Test message sent" or the cause, in words
	Detail    string // what was proved, or what went wrong
	Fix       string
	MessageID string
	Duration  string
	Warnings  []string
	When      time.Time
	Stale     bool // the values changed after this run: validate again
}

// ValidateForm is step 4.
type ValidateForm struct {
	Modes   []Option // endpoint.ProbeModes
	Result  ProbeView
	Summary []Fact
}

// ReviewForm is step 5.
type ReviewForm struct {
	Summary    []Fact
	Result     ProbeView
	CanSave    bool
	WhyNotSave string
}

// EndpointRow is one line of the endpoints list.
type EndpointRow struct {
	Environment     string
	EnvironmentName string
	ID              string
	Name            string
	Contract        string
	Target          string // namespace and path, or the webhook URL
	MessageFormat   string
	OwnerTeam       string // "" when not registered through the portal
	ViaPortal       bool
	LastResult      string // "passed", "failed" or ""
	LastSummary     string
	LastWhen        time.Time
	CreatedBy       string
	CreatedOn       time.Time
	CanTest         bool
	NeedsKeyToTest  bool
	Health          RowHealth
	KeyMissing      bool // Dataverse holds no key for it (typical after a solution import)
}

// EnvironmentProblem says that one environment could not be listed.
type EnvironmentProblem struct{ Name, Reason string }

// Freshness says how current one environment's listed endpoints are.
type Freshness struct {
	Environment string
	Name        string
	// AsOf is when the list last matched Dataverse.
	AsOf time.Time
	// StaleSince is set when refreshing fails; Reason says why, Throttled that Dataverse asked
	// the portal to slow down, and RetryAt when the portal tries again.
	StaleSince time.Time
	Reason     string
	Throttled  bool
	RetryAt    time.Time
}

// ListQuery is the endpoints list's search, filters, sorting and page.
type ListQuery struct {
	Search      string
	Environment string
	Contract    string
	Team        string
	Status      string
	Health      string // "failing", "deliveries" or ""
	Sort        string
	Page        int
}

// EndpointList is the endpoints list page.
type EndpointList struct {
	Query ListQuery
	Rows  []EndpointRow
	// RowHTML, where set, is Rows[i] already rendered by EndpointRowHTML (reused across
	// requests); an empty string renders the row.
	RowHTML      []string
	Total        int
	Page         int
	Pages        int
	Environments []Option
	Contracts    []Option
	Teams        []Option
	Statuses     []Option
	Healths      []Option
	Sorts        []Option
	Unavailable  []EnvironmentProblem
	Freshness    []Freshness
	// CanRefresh offers the Refresh button (people who may register); ReturnURL is where it
	// comes back to.
	CanRefresh  bool
	ReturnURL   string
	CanRegister bool
	Now         time.Time
	PrevURL     string
	NextURL     string
	CanAdopt    bool // offer Adopt endpoints (Admins)
}

// EndpointView is the endpoint page.
type EndpointView struct {
	Environment     string
	EnvironmentName string
	ID              string
	Name            string
	Fields          []Fact
	KeyStored       bool
	History         []ValidationRow
	Audit           []AuditRow
	Steps           []StepRow
	StepsError      string
	CanTest         bool
	CanEdit         bool
	CanRekey        bool
	CanDelete       bool
	Result          ProbeView
	Health          HealthView
	// KeyMissing: Dataverse holds no key (typical after a solution import); CanSetKey offers
	// Set key. ReadOnly says why the portal does not change this endpoint (managed).
	KeyMissing bool
	CanSetKey  bool
	ReadOnly   string
	Solutions  []string
	CanCopy    bool
	Copies     []CopyLink
}

// CopyLink links an endpoint to the one it was copied from, or to a copy of it.
type CopyLink struct {
	Label, URL string
}

// ValidationRow is one validation run in a history table.
type ValidationRow struct {
	When    time.Time
	By      string
	Passed  bool
	Summary string
}

// AuditRow is one audit entry as a table row.
type AuditRow struct {
	When        time.Time
	Who         string
	Action      string
	Environment string
	Endpoint    string
	EndpointURL string
	Outcome     string
	Detail      string
	Changes     []Fact
}

// AuditLog is the admins' audit page.
type AuditLog struct {
	Rows         []AuditRow
	Actor        string
	Action       string
	Environment  string
	Actions      []Option
	Environments []Option
	NextURL      string
	PrevURL      string
}

// EditForm edits the non-secret fields of a saved endpoint.
type EditForm struct {
	View    EndpointView
	Details DetailsForm
	Errors  FieldErrors
	Message string
	Result  ProbeView
}

// RekeyForm replaces the key of a saved endpoint.
type RekeyForm struct {
	View    EndpointView
	Kind    endpoint.Kind
	Errors  FieldErrors
	Result  ProbeView
	Message string
	// SetKey makes it the Set key page: the endpoint's policy stays as it is.
	SetKey bool
}

// DeleteForm confirms a deletion.
type DeleteForm struct {
	View         EndpointView
	StepCount    int
	StepNames    []string
	StepsKnown   bool
	ConfirmError string
}

// TestForm asks for a key to test an endpoint not registered through the portal.
type TestForm struct {
	View   EndpointView
	Kind   endpoint.Kind
	Errors FieldErrors
	Result ProbeView
}
