package handlers

import (
	"net/http"

	"github.com/contoso/sbportal/web"
)

// signOut ends the session and continues to the identity provider's sign-out, which comes back
// to signedOut. It is a POST (guarded against cross-site requests): signing someone out is a
// change of state.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Auth == nil {
		return errNoAuth
	}
	target, err := s.cfg.Auth.SignOut(w, r)
	if err != nil {
		return err
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// signedOut confirms the sign-out. It is public: the session is gone by now.
func (s *Server) signedOut(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Auth == nil {
		return errNoAuth
	}
	s.cfg.Auth.SignedOut(w, r)
	s.render(w, r, http.StatusOK, web.SignedOut(s.page(w, r, "Signed out", ""), s.cfg.Auth.SignInURL("/")))
	return nil
}
