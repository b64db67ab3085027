package dataverse

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Kind classifies a failure by what the caller can do about it. A Kind is itself an error, so
// callers can write errors.Is(err, dataverse.NotFound).
type Kind int

// Kinds of failure.
const (
	// Unknown is a failure that fits no other kind (an unexpected status or answer).
	Unknown Kind = iota
	// NotFound: the record does not exist (404).
	NotFound
	// Forbidden: the application user lacks a privilege or is not a member of the
	// organization (403).
	Forbidden
	// Throttled: Dataverse's service protection limits were hit (429) and the retry budget
	// ran out.
	Throttled
	// Conflict: a concurrency or duplicate-key failure (412, or Dataverse's duplicate key code).
	Conflict
	// Invalid: Dataverse rejected the request's content (400, 413); Message says why.
	Invalid
	// Unavailable: Dataverse or the network did not answer usefully (5xx, connection failures)
	// after the retries allowed.
	Unavailable
	// Unauthorized: no token could be obtained, or Dataverse refused it (401).
	Unauthorized
)

var kindNames = map[Kind]string{
	Unknown:      "unexpected answer",
	NotFound:     "not found",
	Forbidden:    "forbidden",
	Throttled:    "throttled",
	Conflict:     "conflict",
	Invalid:      "invalid request",
	Unavailable:  "unavailable",
	Unauthorized: "unauthorized",
}

// String names the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error makes a Kind usable as an errors.Is target.
func (k Kind) Error() string { return "dataverse: " + k.String() }

// Dataverse error codes the client recognises. Dataverse writes them as 0x-prefixed hex of the
// HRESULT; the same codes appear as negative decimals (-2147220937) in .NET tooling.
const (
	CodeDuplicateKey     = "0x80040237" // Cannot insert duplicate key.
	CodeMissingPrivilege = "0x80040220" // Principal user is missing prv... privilege.
	CodeRecordNotFound   = "0x80040217" // ... With Id = ... Does Not Exist
	CodeNotOrgMember     = "0x80072560" // The user is not a member of the organization.
	CodeVersionMismatch  = "0x80060882" // the row version (ETag) does not match
)

// Error is a failed Dataverse call: what was attempted, the HTTP status, Dataverse's own error
// code and message, and how the failure is classified. It never holds request bodies or
// tokens, so it is safe to log and to show.
type Error struct {
	Kind    Kind
	Op      string // what the portal tried, e.g. "create serviceendpoint 5f0c..."
	Status  int    // HTTP status; 0 when no answer arrived
	Code    string // Dataverse error code, e.g. "0x80040220"; empty when none
	Message string // Dataverse's message (or a description of the transport failure)
	// RetryAfter is the wait Dataverse asked for on the last throttled answer, if any.
	RetryAfter time.Duration
	// Attempts is how many requests were sent.
	Attempts int
	// Err is the underlying transport or credential error, if any.
	Err error
}

// Error reads "dataverse: create serviceendpoint X: forbidden (403 0x80040220): Principal user ...".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dataverse: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Status != 0 || e.Code != "" {
		b.WriteString(" (")
		if e.Status != 0 {
			fmt.Fprintf(&b, "%d", e.Status)
		}
		if e.Code != "" {
			if e.Status != 0 {
				b.WriteString(" ")
			}
			b.WriteString(e.Code)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// cause is the error without its "dataverse: <op>:" prefix.
func (e *Error) cause() string {
	c := *e
	c.Op = ""
	return strings.TrimPrefix(c.Error(), "dataverse: ")
}

// Unwrap returns the underlying transport or credential error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's Kind, so errors.Is(err, dataverse.Forbidden) works.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// IsDuplicateKey reports whether Dataverse answered that a record with this primary key
// already exists.
func (e *Error) IsDuplicateKey() bool {
	return strings.EqualFold(e.Code, CodeDuplicateKey)
}

// wireError is Dataverse's error body: {"error":{"code":"0x...","message":"..."}}.
type wireError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// maxErrorMessage bounds how much of a server message is kept: enough to act on, not a page.
const maxErrorMessage = 1000

// errorFromResponse builds an *Error from a non-success answer whose body has been read.
func errorFromResponse(op string, status int, header http.Header, body []byte) *Error {
	e := &Error{Op: op, Status: status, Kind: kindForStatus(status)}
	var we wireError
	if json.Unmarshal(body, &we) == nil && (we.Error.Code != "" || we.Error.Message != "") {
		e.Code = we.Error.Code
		e.Message = we.Error.Message
	} else if len(body) > 0 && strings.Contains(header.Get("Content-Type"), "text/plain") {
		e.Message = string(body)
	}
	if len(e.Message) > maxErrorMessage {
		e.Message = e.Message[:maxErrorMessage] + "..."
	}
	if e.IsDuplicateKey() {
		e.Kind = Conflict
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(header.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		}
	}
	if status == http.StatusUnauthorized && e.Message == "" {
		e.Message = "Dataverse refused the access token; check that the application user exists in this environment and the token's audience is the environment URL"
	}
	return e
}

func kindForStatus(status int) Kind {
	switch {
	case status == http.StatusNotFound:
		return NotFound
	case status == http.StatusForbidden:
		return Forbidden
	case status == http.StatusUnauthorized:
		return Unauthorized
	case status == http.StatusTooManyRequests:
		return Throttled
	case status == http.StatusPreconditionFailed || status == http.StatusConflict:
		return Conflict
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge:
		return Invalid
	case status >= 500:
		return Unavailable
	}
	return Unknown
}
