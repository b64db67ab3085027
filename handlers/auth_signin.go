package handlers

import (
	"net/http"
)

// signIn starts the sign-in flow and sends the browser to the identity provider. The return
// query parameter says where to land afterwards (same-site paths only).
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Auth == nil {
		return errNoAuth
	}
	target, err := s.cfg.Auth.StartSignIn(w, r.URL.Query().Get("return"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}
