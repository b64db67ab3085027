package handlers

import (
	"log/slog"
	"net/http"
)

// signIn starts the sign-in flow and sends the browser to the identity provider. The return
// query parameter says where to land afterwards (same-site paths only).
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Auth == nil {
		return errNoAuth
	}
	if hint, ok := s.cfg.Auth.SignOutNotCompleted(w, r); ok {
		s.log.WarnContext(r.Context(), "sign-out did not complete at the identity provider: "+hint,
			slog.String("request_id", RequestID(r.Context())))
	}
	target, err := s.cfg.Auth.StartSignIn(w, r.URL.Query().Get("return"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}
