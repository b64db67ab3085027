package dataverse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
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

// Cause says what failed, finer than Kind and in the terms an operator checks first: the
// certificate, the name, the network, the token, or which answer Dataverse gave.
type Cause string

// Causes of failure.
const (
	CauseTLS          Cause = "tls"          // the certificate is not trusted, or the TLS handshake failed
	CauseDNS          Cause = "dns"          // the host name does not resolve
	CauseRefused      Cause = "refused"      // nothing accepted the connection
	CauseNetwork      Cause = "network"      // the connection broke or the host cannot be reached
	CauseTimeout      Cause = "timeout"      // no answer in time
	CauseToken        Cause = "token"        // Entra ID (or the credential) gave no token
	CauseUnauthorized Cause = "unauthorized" // Dataverse refused the token (401)
	CauseForbidden    Cause = "forbidden"    // Dataverse refused access (403)
	CauseThrottled    Cause = "throttled"    // service protection limits (429)
	CauseServer       Cause = "server"       // Dataverse failed (5xx)
	CauseRequest      Cause = "request"      // another answer about the request (400, 404, 409, 412, ...)
	CauseUnknown      Cause = "unknown"      // an answer that could not be read
)

// Cause classifies the failure; see the Cause constants.
func (e *Error) Cause() Cause {
	switch {
	case e.Kind == Unauthorized && e.Status == 0:
		return CauseToken
	case e.Status == http.StatusUnauthorized:
		return CauseUnauthorized
	case e.Status == http.StatusForbidden:
		return CauseForbidden
	case e.Status == http.StatusTooManyRequests:
		return CauseThrottled
	case e.Status >= 500:
		return CauseServer
	case e.Status != 0:
		return CauseRequest
	case e.Err != nil:
		return transportCause(e.Err)
	}
	return CauseUnknown
}

// transportCause classifies an error of the HTTP transport (no answer arrived).
func transportCause(err error) Cause {
	var (
		dnsErr *net.DNSError
		ne     net.Error
	)
	switch {
	case certificateProblem(err) != "":
		return CauseTLS
	case errors.As(err, &dnsErr):
		return CauseDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return CauseRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return CauseTimeout
	}
	return CauseNetwork
}

// retryCannotHelp reports a transport failure that sending again cannot fix: a certificate the
// portal does not trust, a name that does not exist.
func retryCannotHelp(err error) bool {
	var dnsErr *net.DNSError
	return certificateProblem(err) != "" || errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// certificateProblem describes a TLS failure in plain words, or "" when err is not one.
func certificateProblem(err error) string {
	var (
		unknownCA   x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidCert x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alert       tls.AlertError
	)
	switch {
	case errors.As(err, &hostErr):
		return "its certificate is not valid for " + hostErr.Host
	case errors.As(err, &unknownCA):
		return "its certificate is signed by an authority the portal does not trust"
	case errors.As(err, &invalidCert):
		if invalidCert.Reason == x509.Expired {
			return "its certificate has expired or is not yet valid"
		}
		return "its certificate is not valid"
	case errors.As(err, &verifyErr):
		return "its certificate could not be verified"
	case errors.As(err, &recordErr):
		return "it does not speak TLS on that port"
	case errors.As(err, &alert):
		return "it ended the TLS handshake (" + alert.Error() + ")"
	}
	return ""
}

// aadstsRE finds Entra ID's error code (AADSTS7000222) in a token failure.
var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// AADSTS is Entra ID's error code of a token failure ("AADSTS7000222"), or "".
func (e *Error) AADSTS() string {
	if e.Cause() != CauseToken || e.Err == nil {
		return ""
	}
	return aadstsRE.FindString(e.Err.Error())
}

// aadstsFixes say what to fix for the Entra ID errors an operator meets most, by code.
var aadstsFixes = map[string]string{
	"AADSTS7000222": "The client secret has expired: create a new one in the app registration (Certificates & secrets) and put its Value where the environment's credential reads it (clientSecretEnv).",
	"AADSTS7000215": "The client secret is wrong: use the secret's Value, not its Secret ID, of the app registration that clientId names.",
	"AADSTS700016":  "No application with this clientId exists in the tenant: check clientId and tenantId.",
	"AADSTS90002":   "The tenant does not exist: check tenantId.",
	"AADSTS900023":  "The tenant id is not valid: check tenantId.",
	"AADSTS700027":  "The certificate is not registered on the app registration or has expired: upload the current one under Certificates & secrets.",
	"AADSTS700024":  "The client assertion is outside its validity window: check the clock of the machine running the portal.",
	"AADSTS500011":  "The environment URL is not a resource of this tenant: check the environment URL and that the environment belongs to this tenant.",
	"AADSTS7000112": "The application is disabled: enable its service principal (Enterprise applications).",
	"AADSTS53003":   "A Conditional Access policy blocked the token: exclude the portal's service principal from it or satisfy it.",
}

// LogValue logs the failure as fields a log search can group by (cause, status, code,
// AADSTS code, Retry-After) with Explain's words; it never holds secrets, as Error never does.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("op", e.Op), slog.String("kind", e.Kind.String()), slog.String("cause", string(e.Cause()))}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int("status", e.Status))
	}
	if e.Code != "" {
		attrs = append(attrs, slog.String("code", e.Code))
	}
	if a := e.AADSTS(); a != "" {
		attrs = append(attrs, slog.String("aadsts", a))
	}
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	attrs = append(attrs, slog.Int("attempts", e.Attempts), slog.String("explain", Explain(e)), slog.String("error", oneLine(e)))
	return slog.GroupValue(attrs...)
}

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
	// url is the environment URL when no answer arrived, for the explanation.
	url string
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

// withoutOp is the error without its "dataverse: <op>:" prefix.
func (e *Error) withoutOp() string {
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

// Explain says what a failed call means and what to do about it, in a sentence or two a
// person can act on. It is the one place this wording lives: the portal's pages, audit
// entries, catalog status and readiness checks all use it. It never includes secrets, because
// errors never hold them. Errors that are not Dataverse's are returned as one line.
func Explain(err error) string {
	var de *Error
	if !errors.As(err, &de) {
		switch {
		case err == nil:
			return ""
		case errors.Is(err, context.DeadlineExceeded):
			return "No answer in time (" + oneLine(err) + "). Try again in a minute."
		case errors.Is(err, context.Canceled):
			return "The request was cancelled before it finished (" + oneLine(err) + ")."
		}
		return oneLine(err)
	}
	switch de.Kind {
	case Throttled:
		const s = "Dataverse is throttling the portal's requests (its service protection limits were reached). "
		if de.RetryAfter > 0 {
			wait := (de.RetryAfter + time.Second - 1).Truncate(time.Second)
			return s + "Try again in " + wait.String() + "."
		}
		return s + "Wait a minute and try again."
	case Forbidden:
		if strings.EqualFold(de.Code, CodeNotOrgMember) {
			return "The portal's application user is not a member of this Dataverse environment. An administrator must add the portal's app registration as an application user of the environment, with a security role that has the service endpoint privileges."
		}
		if prv := privilegeRE.FindString(de.Message); prv != "" {
			return "Dataverse refused: the portal's application user lacks the " + prv + " privilege. An administrator must add it to the application user's security role (service endpoints need prvCreate, prvRead, prvWrite and prvDeleteServiceEndpoint)."
		}
		return "Dataverse refused access (" + de.detail() + "). An administrator must give the portal's application user a security role with the service endpoint privileges."
	case Unauthorized:
		if fix, ok := aadstsFixes[de.AADSTS()]; ok {
			return "The portal could not get a token for Dataverse: " + strings.TrimRight(tokenProblem(de.Err), ". ") + ". " + fix + " Retrying will not help."
		}
		if de.Status == 0 {
			return "The portal could not get a token for Dataverse: " + strings.TrimRight(tokenProblem(de.Err), ". ") + ". An administrator should check the environment's credential: tenantId, clientId and the secret or certificate."
		}
		return "Dataverse refused the portal's token (HTTP 401). An administrator should check that the app registration has an application user in this environment and that the environment URL is right."
	case NotFound:
		return "Dataverse has no such record: it may have been deleted outside the portal. Reload the list to see what is there now."
	case Conflict:
		switch {
		case de.IsDuplicateKey():
			return "Dataverse already has a record with this id: an earlier attempt may have saved it. Reload the list before trying again."
		case strings.EqualFold(de.Code, CodeVersionMismatch) || de.Status == http.StatusPreconditionFailed:
			return "The record changed in Dataverse since the portal read it. Reload it, check the changes and save again."
		}
		return "Dataverse reported a conflict (" + de.detail() + "). Reload and try again."
	case Invalid:
		if msg := strings.TrimRight(oneLine(errors.New(de.Message)), ". "); msg != "" {
			return "Dataverse rejected the values: " + msg + ". Correct them and try again."
		}
		return "Dataverse rejected the request as invalid (" + de.detail() + "). Check the values and try again."
	case Unavailable:
		if s := explainTransport(de); s != "" {
			return s
		}
		return "Dataverse could not be reached or did not answer usefully (" + de.detail() + "). Try again in a minute; if it keeps failing, check the environment URL and the environment's health in the Power Platform admin center."
	}
	return "Dataverse gave an unexpected answer (" + de.detail() + "). Try again; if it keeps happening, tell the portal's administrators."
}

// explainTransport says what a failure without an answer means, by its cause ("" for causes
// the generic wording covers).
func explainTransport(e *Error) string {
	where := "Dataverse"
	if e.url != "" {
		where = e.url
	}
	var dnsErr *net.DNSError
	switch e.Cause() {
	case CauseTLS:
		return "The portal does not trust " + where + ": " + certificateProblem(e.Err) + ". Retrying will not help: check the environment URL, and if a proxy inspects TLS on the way, make the portal trust that proxy's certificate authority (for example with SSL_CERT_FILE)."
	case CauseDNS:
		if errors.As(e.Err, &dnsErr) && dnsErr.IsNotFound {
			return "The host name of " + where + " does not exist in DNS. Retrying will not help: check the environment URL in PORTAL_CONFIG."
		}
		return "The host name of " + where + " could not be looked up (" + oneLine(e.Err) + "). Check the DNS servers the portal uses; the portal tries again."
	case CauseRefused:
		return "Nothing accepted the connection to " + where + " (connection refused). Check the environment URL and that firewalls and proxies let the portal connect out on port 443."
	case CauseTimeout:
		return "No answer from " + where + " in time (" + oneLine(e.Err) + "). Check the network path from the portal (firewall, proxy); the portal tries again."
	}
	return ""
}

// privilegeRE finds a privilege name such as prvCreateServiceEndpoint in Dataverse's message.
var privilegeRE = regexp.MustCompile(`\bprv[A-Za-z]+`)

// detail is the error's status, code and message (or transport failure) on one line.
func (e *Error) detail() string {
	var head []string
	if e.Status != 0 {
		head = append(head, "HTTP "+strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		head = append(head, e.Code)
	}
	var msg []string
	if e.Message != "" {
		msg = append(msg, e.Message)
	}
	if e.Err != nil {
		msg = append(msg, e.Err.Error())
	}
	h, m := strings.Join(head, " "), oneLine(errors.New(strings.Join(msg, ": ")))
	switch {
	case h == "":
		return m
	case m == "":
		return h
	}
	return h + ": " + m
}

// tokenProblem picks Entra's error_description out of an azidentity failure (whose text
// repeats the whole HTTP exchange), or falls back to the first line of the error.
func tokenProblem(err error) string {
	if err == nil {
		return "no reason given"
	}
	msg := err.Error()
	const key = `"error_description":`
	if i := strings.Index(msg, key); i >= 0 {
		rest := strings.TrimSpace(msg[i+len(key):])
		var desc string
		if json.NewDecoder(strings.NewReader(rest)).Decode(&desc) == nil && desc != "" {
			return oneLine(errors.New(desc))
		}
	}
	return oneLine(err)
}

func oneLine(err error) string {
	if err == nil {
		return ""
	}
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
