package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
)

// requireBearer lets an API request through only with a valid access token of a caller who
// holds a portal role; the handlers behind it find the caller with auth.IdentityFrom. It never
// reads or sets a cookie: a browser's session does not reach the API.
func (s *Server) requireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Bearer == nil {
			s.writeProblem(w, r, &api.Problem{Type: api.TypeUnavailable, Status: http.StatusServiceUnavailable, Title: "The API is not configured",
				Detail: "This portal accepts no access tokens: its administrator has not set PORTAL_API_AUDIENCE."})
			return
		}
		scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="portal"`)
			s.writeProblem(w, r, &api.Problem{Type: api.TypeTokenRefused, Status: http.StatusUnauthorized, Title: "Send an access token",
				Detail: "The API takes an access token for the portal's API in the Authorization header (Authorization: Bearer <token>); cookies are not accepted here."})
			return
		}
		id, err := s.cfg.Bearer.Verify(r.Context(), strings.TrimSpace(raw))
		var refused *auth.TokenError
		var noRole *auth.NoRoleError
		switch {
		case errors.As(err, &refused):
			// Why, for the operator; never the token.
			s.log.WarnContext(r.Context(), "access token refused", slog.String("request_id", RequestID(r.Context())),
				slog.String("reason", refused.Err.Error()))
			w.Header().Set("WWW-Authenticate", `Bearer realm="portal", error="invalid_token"`)
			s.writeProblem(w, r, &api.Problem{Type: api.TypeTokenRefused, Status: http.StatusUnauthorized, Title: "The access token was refused",
				Detail: refused.Message})
			return
		case errors.As(err, &noRole):
			s.writeProblem(w, r, &api.Problem{Type: api.TypeForbidden, Status: http.StatusForbidden, Title: "No portal role",
				Detail: noRole.Error() + ". If you need access, ask " + s.cfg.AccessContact + "."})
			return
		case err != nil:
			s.writeProblem(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), id)))
	})
}
