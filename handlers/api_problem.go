package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/web"
)

// APIPrefix is where the JSON API lives. Requests under it are never served a page: errors
// are problem details, and sessions, cookies and the cross-origin check do not apply.
const APIPrefix = "/api/v1"

// isAPI reports whether r is a request to the JSON API.
func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// problemOf turns any error into the problem detail the API answers with: the same status,
// title and message an error page would show (toError is the one mapping), typed so a caller
// can tell the kinds apart.
func problemOf(err error) *api.Problem {
	var p *api.Problem
	if errors.As(err, &p) {
		return p
	}
	e := toError(err)
	title, msg := defaultText(e.Status)
	if e.Title != "" {
		title = e.Title
	}
	if e.Message != "" {
		msg = e.Message
	}
	return &api.Problem{Type: problemType(e), Title: title, Status: e.Status, Detail: msg}
}

// problemType is the problem type of an error of the given status.
func problemType(e *Error) string {
	var de *dataverse.Error
	if errors.As(e.Err, &de) {
		return api.TypeDataverse
	}
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return api.TypeInvalid
	case http.StatusUnauthorized:
		return api.TypeTokenRefused
	case http.StatusForbidden:
		return api.TypeForbidden
	case http.StatusNotFound:
		return api.TypeNotFound
	case http.StatusConflict:
		return api.TypeConflict
	case http.StatusTooManyRequests:
		return api.TypeTooManyTests
	case http.StatusServiceUnavailable:
		return api.TypeUnavailable
	case http.StatusBadGateway:
		return api.TypeDataverse
	}
	return "about:blank"
}

// writeProblem answers an API request with err as a problem detail (RFC 9457), logging
// server errors with the request id like renderError does.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := *problemOf(err)
	e := toError(err)
	if p.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("request_id", RequestID(r.Context())),
			slog.Int("status", p.Status), slog.String("error", errString(e.Err)))
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Round(time.Second)/time.Second)))
	}
	p.Instance, p.RequestID = r.URL.Path, RequestID(r.Context())
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers an API request with v.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a request's JSON body into v: unknown fields are refused, so a misspelt
// field is an error and not silently ignored.
func decodeJSON(r *http.Request, v any) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return &api.Problem{Type: api.TypeInvalid, Status: http.StatusUnsupportedMediaType, Title: "Send JSON",
			Detail: "The request body must be JSON, with Content-Type: application/json."}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		detail := "The request body is not the JSON this operation takes: " + err.Error() + ". See " + APIPrefix + "/openapi.json."
		if errors.Is(err, io.EOF) {
			detail = "The request body is empty. See " + APIPrefix + "/openapi.json for what this operation takes."
		}
		return &api.Problem{Type: api.TypeInvalid, Status: http.StatusBadRequest, Title: "The request could not be read", Detail: detail}
	}
	return nil
}

// invalid is a 422 problem listing the problems by field, as a form shows them.
func invalid(title string, errs web.FieldErrors) *api.Problem {
	return &api.Problem{Type: api.TypeInvalid, Status: http.StatusUnprocessableEntity, Title: title,
		Detail: strings.Join(errs.Messages(), " "), Errors: errs}
}

// provedWrong is the 422 problem of a test that failed: its cause and fix, as the pages say them.
func provedWrong(title string, rec runRecord) *api.Problem {
	res := testResult(rec)
	return &api.Problem{Type: api.TypeProvedWrong, Status: http.StatusUnprocessableEntity, Title: title,
		Detail: res.Text(), Result: &res}
}

// testResult is a test's outcome as the API shows it.
func testResult(rec runRecord) api.TestResult {
	v := rec.view("")
	return api.TestResult{Passed: rec.Passed, Title: rec.Title, Detail: rec.Detail, Cause: rec.Cause, Fix: rec.Fix,
		MessageID: rec.MessageID, Duration: v.Duration, Warnings: rec.Warnings, At: rec.At}
}
