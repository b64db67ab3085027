package web

import "github.com/a-h/templ"

// Page is what every page's layout needs to know about the request.
type Page struct {
	Title     string // the page's own title; the product name is appended
	Nav       string // which navigation entry is current: NavEndpoints, NavNew, or ""
	User      *User  // nil when nobody is signed in
	Flashes   []Flash
	RequestID string
	DevMode   bool // shows a "local stack" badge so nobody mistakes dev for production
	HideNew   bool // the person may not register endpoints: no "New endpoint" links
}

// Navigation entries.
const (
	NavHome      = "home"
	NavEndpoints = "endpoints"
	NavNew       = "new"
	// NavNotifications is the local stack's Notifications page.
	NavNotifications = "notifications"
)

// User is the signed-in person as the layout shows them.
type User struct {
	Name       string
	Username   string
	Roles      []string
	Teams      []string
	SignOutURL string // POST target of the sign-out button
}

// FlashKind is the tone of a flash message.
type FlashKind string

// Flash kinds, matching the alert styles.
const (
	FlashSuccess FlashKind = "success"
	FlashInfo    FlashKind = "info"
	FlashWarning FlashKind = "warning"
	FlashError   FlashKind = "error"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    FlashKind
	Message string
}

// ProductName is the name shown in the header and the title bar.
const ProductName = "Service Endpoint Portal"

// Problems a page's title starts with, so the title bar (and the first thing a screen reader
// says when the page loads) tells that something needs attention.
const (
	problemError            = "Error"
	problemValidationFailed = "Validation failed"
)

// withProblem prefixes the page's title with a problem ("Error: Edit Orders"); an empty
// problem leaves the page as it is.
func (p Page) withProblem(problem string) Page {
	switch {
	case problem == "":
	case p.Title == "":
		p.Title = problem
	default:
		p.Title = problem + ": " + p.Title
	}
	return p
}

// withFormProblem titles a form page that came back with summary (see summaryOf) as an error.
func (p Page) withFormProblem(summary string) Page {
	if summary == "" {
		return p
	}
	return p.withProblem(problemError)
}

// problem is what a page showing this result puts in front of its title.
func (r ProbeView) problem() string {
	if r.Ran && !r.Passed {
		return problemValidationFailed
	}
	return ""
}

func (p Page) fullTitle() string {
	if p.Title == "" {
		return ProductName
	}
	return p.Title + " · " + ProductName
}

// navCurrent marks the current navigation entry for assistive technology.
func navCurrent(p Page, entry string) templ.Attributes {
	if p.Nav == entry {
		return templ.Attributes{"aria-current": "page"}
	}
	return nil
}

// ErrorInfo describes an error page.
type ErrorInfo struct {
	Status    int
	Title     string
	Message   string
	RequestID string
}

// htmxConfig keeps htmx inside the Content-Security-Policy: no injected indicator styles, no
// eval, requests to our own origin only.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"429","swap":true,"error":false},` +
	`{"code":"[45]..","swap":false,"error":true}]}`
