package api

import (
	"fmt"
	"strings"
)

// ProblemContentType is the media type of problem details (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem types: a URI per kind of failure a caller may act on differently. Others are
// "about:blank" (the status says it all).
const (
	TypeInvalid      = "urn:sbportal:problem:invalid"        // the request's values break the rules (errors says which)
	TypeProvedWrong  = "urn:sbportal:problem:proved-wrong"   // a test or set-key whose test message failed (cause, fix)
	TypeTokenRefused = "urn:sbportal:problem:token-refused"  // the bearer token was refused (401)
	TypeForbidden    = "urn:sbportal:problem:forbidden"      // the policy refused the action (403)
	TypeNotFound     = "urn:sbportal:problem:not-found"      // no such environment, endpoint or step
	TypeConflict     = "urn:sbportal:problem:conflict"       // changed or taken in the meantime
	TypeTooManyTests = "urn:sbportal:problem:too-many-tests" // the test limits (Retry-After)
	TypeDataverse    = "urn:sbportal:problem:dataverse"      // Dataverse refused or did not answer
	TypeUnavailable  = "urn:sbportal:problem:unavailable"    // a dependency is down; retry
)

// Problem is an RFC 9457 problem detail. Title and Detail say what happened and what to do,
// with the same words the pages use.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RequestID is the id to quote to an administrator (X-Request-Id).
	RequestID string `json:"requestId,omitempty"`
	// Errors lists the problems with the request's values, by field.
	Errors map[string][]string `json:"errors,omitempty"`
	// Result is the failed test of a TypeProvedWrong problem, with its cause and fix.
	Result *TestResult `json:"result,omitempty"`
}

func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d)", p.Title, p.Status)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for field, msgs := range p.Errors {
		for _, m := range msgs {
			fmt.Fprintf(&b, "\n  %s: %s", field, m)
		}
	}
	if p.Result != nil {
		b.WriteString("\n" + p.Result.Text())
	}
	if p.RequestID != "" {
		b.WriteString("\n(request id " + p.RequestID + ")")
	}
	return b.String()
}
