package web

import "github.com/contoso/sbportal/endpoint"

// AdoptForm lists endpoints not registered through the portal, filtered, for an Admin to give
// them an owning team.
type AdoptForm struct {
	Search       string
	Environment  string
	Environments []Option
	Teams        []Option
	Rows         []AdoptRow
	Errors       FieldErrors
	Message      string
}

// AdoptRow is one endpoint offered for adoption.
type AdoptRow struct {
	Value    string // "<env>/<id>"
	Name     string
	Env      string
	Target   string
	Selected bool
}

// PlanForm is the upload page of plan and apply, and the export choices.
type PlanForm struct {
	Environments []Option
	Teams        []Option
	Errors       FieldErrors
	Message      string
}

// PlanView shows a plan: per endpoint and step what would change, field by field, the file's
// problems, the secrets it needs, and the Apply form (the file travels in a hidden field: it
// holds no secret).
type PlanView struct {
	Environment     string
	EnvironmentName string
	Document        string
	Digest          string
	Endpoints       []PlanEndpoint
	Problems        []string
	Secrets         []PlanSecret
	Counts          string
	Changed         bool
	Message         string
	// Result is set after an apply.
	Result *ApplyResultView
}

// PlanEndpoint is one endpoint of a plan.
type PlanEndpoint struct {
	Action string
	Name   string
	URL    string
	Fields []Fact // "field: before → after"
	Steps  []PlanStep
}

// PlanStep is one step of a plan.
type PlanStep struct {
	Action string
	Name   string
	Fields []Fact
}

// PlanSecret is a secret reference a plan uses, with a password input for its value.
type PlanSecret struct {
	Ref      string
	Field    string
	Needed   bool
	Resolved bool
}

// ApplyResultView says what an apply did and did not do.
type ApplyResultView struct {
	ChangeSet string
	Done      []string
	Failed    string
	NotDone   []string
}

// CopyForm copies an endpoint to another environment: the target, the values that differ per
// environment (pre-filled), whether its steps go along, and the side-by-side comparison.
type CopyForm struct {
	View        EndpointView
	Kind        string // "servicebus" or "webhook"
	Targets     []Option
	Target      string
	Name        string
	Namespace   string
	Path        string
	Policy      string
	URL         string
	WithSteps   bool
	StepCount   int
	Compare     []CompareRow
	Errors      FieldErrors
	Message     string
	Result      ProbeView
	TargetReady bool
}

// CompareRow is one line of a side-by-side view: a field, its value here and in the copy.
type CompareRow struct {
	Field, Source, Copy string
	Differs             bool
}

// endpointKind is the kind a CopyForm names.
func endpointKind(k string) endpoint.Kind { return endpoint.Kind(k) }

func rekeyPath(setKey bool) string {
	if setKey {
		return "/setkey"
	}
	return "/rekey"
}
