package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// Error is an error a handler wants shown to the person with a given status. Title and
// Message are for people: they say what happened and what to do next. Err, if set, is logged
// for 5xx and never shown.
type Error struct {
	Status  int
	Title   string
	Message string
	Err     error
	// RetryAfter, when set, is sent as Retry-After (a 503 the person can simply retry).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return http.StatusText(e.Status) + ": " + e.Err.Error()
	}
	return http.StatusText(e.Status) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// handlerFunc is the shape of every action: it writes a response or returns an error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc to http.HandlerFunc, sending its error through renderError.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	}
}

// toError maps any error to the Error shown for it. This is the one place where error kinds
// become statuses.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var de *dataverse.Error
	if errors.As(err, &de) {
		return dataverseError("Dataverse could not do that", err).(*Error)
	}
	if store.Unavailable(err) {
		return &Error{Status: http.StatusServiceUnavailable, Title: "Temporarily unavailable", RetryAfter: 5 * time.Second,
			Message: "The portal's database is not answering. Try again in a few seconds; nothing you saved is lost.", Err: err}
	}
	if status, ok := storeStatus(err); ok {
		return &Error{Status: status, Err: err}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Err: err}
}

// storeStatus maps the store's sentinel errors to statuses; handlers that know better (the
// wizard's save) word them themselves, and everything else lands here.
func storeStatus(err error) (int, bool) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrDraftSaving),
		errors.Is(err, store.ErrDraftSaved), errors.Is(err, store.ErrClaimLost):
		return http.StatusConflict, true
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, true
	}
	return 0, false
}

// defaultText gives each status a title and a message that says what to do.
func defaultText(status int) (title, message string) {
	switch status {
	case http.StatusBadRequest:
		return "The request could not be understood", "Go back, check what you entered and try again."
	case http.StatusUnauthorized:
		return "Please sign in", "Your session has ended or you are not signed in. Sign in and try again."
	case http.StatusForbidden:
		return "You cannot do this", "Your roles do not allow this action. Ask your portal administrator for the role you need."
	case http.StatusNotFound:
		return "Page not found", "The address may be mistyped, or the page has moved or been deleted. Check the address, or start from the endpoints list."
	case http.StatusTooManyRequests:
		return "Too many requests", "Wait a little and try again."
	case http.StatusConflict:
		return "Changed in the meantime", "Someone (maybe you, in another window) changed this since you opened the page. Reload the page and try again."
	case http.StatusMethodNotAllowed:
		return "That action is not available here", "This address does not accept that kind of request. Use the buttons and links on the page instead of typing the address."
	case http.StatusRequestEntityTooLarge:
		return "Too much data", "What you sent is larger than the portal accepts. Shorten it and try again."
	case http.StatusServiceUnavailable:
		return "Temporarily unavailable", "A service the portal depends on is not answering. Try again in a minute."
	}
	return "Something went wrong", "The portal could not finish your request. Try again; if it keeps happening, tell your administrator and quote the request id below."
}

// renderError writes err as an error page (or plain text for non-HTML clients), logging
// server errors with the request id. A request whose client went away gets nothing.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	if isAPI(r) {
		s.writeProblem(w, r, err)
		return
	}
	e := toError(err)
	if e.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed",
			slog.String("request_id", RequestID(r.Context())),
			slog.Int("status", e.Status),
			slog.String("error", errString(e.Err)))
	}
	title, msg := defaultText(e.Status)
	if e.Title != "" {
		title = e.Title
	}
	if e.Message != "" {
		msg = e.Message
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Round(time.Second)/time.Second)))
	}
	info := web.ErrorInfo{Status: e.Status, Title: title, Message: msg, RequestID: RequestID(r.Context())}
	s.render(w, r, e.Status, web.ErrorPage(s.page(w, r, title, ""), info))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
