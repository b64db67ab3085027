package handlers

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// notFound answers unknown paths with the error page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return &Error{Status: http.StatusNotFound}
}

// methodNotAllowed answers a known path asked with the wrong method, listing in Allow the
// methods the path does accept.
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if s.mux.Match(chi.NewRouteContext(), m, r.URL.Path) {
			allowed = append(allowed, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	return &Error{Status: http.StatusMethodNotAllowed}
}
