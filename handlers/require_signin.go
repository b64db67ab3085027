package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/web"
)

// requireSignIn lets a request through only with a valid session of a person who holds a
// portal role; the handlers behind it find the person with auth.IdentityFrom. Without a
// session: a page load is redirected to sign-in (coming back afterwards), an htmx request gets
// 401 with HX-Redirect (a redirect would be swapped into the page), anything else 401.
func (s *Server) requireSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Auth == nil {
			s.renderError(w, r, errNoAuth)
			return
		}
		sess, err := s.cfg.Auth.Authenticate(w, r)
		if err != nil {
			if !errors.Is(err, auth.ErrNoSession) {
				s.renderError(w, r, err)
				return
			}
			s.askToSignIn(w, r)
			return
		}
		id := sess.Identity()
		r = r.WithContext(auth.WithIdentity(r.Context(), id))
		if !id.HasAnyRole() {
			s.render(w, r, http.StatusForbidden, web.NoRole(s.page(w, r, "No access yet", ""),
				web.NoRoleInfo{Name: id.Name, Username: id.Username, Teams: id.Teams, Contact: s.cfg.AccessContact}))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errNoAuth answers every sign-in-related request of a server built without an Authenticator.
var errNoAuth = &Error{Status: http.StatusServiceUnavailable, Title: "Sign-in is not configured",
	Message: "This portal server has no sign-in configured, so it cannot show this page. Tell your portal administrator."}

func (s *Server) askToSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", s.cfg.Auth.SignInURL(htmxReturnPath(r)))
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "Your session has ended. Sign in again.", http.StatusUnauthorized)
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, s.cfg.Auth.SignInURL(r.URL.RequestURI()), http.StatusFound)
		return
	}
	// A form sent after the session ended: coming back to it after sign-in would replay
	// nothing, so say what happened instead.
	w.Header().Set("WWW-Authenticate", `OpenIDConnect realm="portal"`)
	if wantsHTML(r) {
		s.render(w, r, http.StatusUnauthorized, web.SignInRequired(s.page(w, r, "Please sign in", ""), s.cfg.Auth.SignInURL("/")))
		return
	}
	http.Error(w, "Not signed in: sign in at "+auth.SignInPath, http.StatusUnauthorized)
}

// wantsHTML reports whether the client takes pages (browsers, and clients that accept anything).
func wantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return accept == "" || strings.Contains(accept, "text/html") || strings.Contains(accept, "*/*")
}

// htmxReturnPath is the page an htmx request came from (HX-Current-URL), when it is ours.
func htmxReturnPath(r *http.Request) string {
	u, err := url.Parse(r.Header.Get("HX-Current-URL"))
	if err != nil || u.Host != r.Host {
		return "/"
	}
	return u.RequestURI()
}

// crossOriginProtection refuses state-changing requests (anything but GET, HEAD, OPTIONS) that
// a browser marks as coming from another site: the portal's CSRF defence.
func (s *Server) crossOriginProtection() func(http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.WarnContext(r.Context(), "cross-origin request refused",
			slog.String("request_id", RequestID(r.Context())), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("origin", r.Header.Get("Origin")))
		s.renderError(w, r, &Error{Status: http.StatusForbidden, Title: "Request refused",
			Message: "This request came from another site, so the portal did not act on it. If you clicked a button in the portal, reload the page and try again."})
	}))
	return cop.Handler
}

// authorize asks the policy whether the signed-in person may do a on res. It returns nil, or a
// 403 *Error whose message says why not and what to do: handlers return it as is.
func (s *Server) authorize(r *http.Request, a auth.Action, res auth.Resource) error {
	id, ok := auth.IdentityFrom(r.Context())
	if !ok {
		return &Error{Status: http.StatusUnauthorized}
	}
	err := s.cfg.Policy.Check(id, a, res)
	var denied *auth.Denied
	if errors.As(err, &denied) {
		return &Error{Status: http.StatusForbidden, Title: "You cannot do this",
			Message: "Not allowed: " + denied.Reason + ". If you need this, ask " + s.cfg.AccessContact + "."}
	}
	return err
}
