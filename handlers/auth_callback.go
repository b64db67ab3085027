package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/web"
)

// authCallback is where the identity provider sends the browser back: it completes the
// sign-in and lands on the page the person asked for.
func (s *Server) authCallback(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Auth == nil {
		return errNoAuth
	}
	sess, returnTo, err := s.cfg.Auth.FinishSignIn(w, r)
	rid := slog.String("request_id", RequestID(r.Context()))
	var failed *auth.SignInError
	var overage *auth.GroupsOverageError
	switch {
	case errors.As(err, &overage):
		s.log.InfoContext(r.Context(), "sign-in refused: groups overage", rid)
		s.render(w, r, http.StatusForbidden, web.GroupsOverage(s.page(w, r, "Teams unknown", ""), overage.Username, s.cfg.AccessContact))
		return nil
	case errors.As(err, &failed):
		s.log.WarnContext(r.Context(), "sign-in failed", rid, slog.String("cause", failed.Err.Error()))
		s.render(w, r, http.StatusUnauthorized, web.SignInFailed(s.page(w, r, "Sign-in did not complete", ""), failed.Message, s.cfg.Auth.SignInURL("/")))
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(r.Context(), "signed in", rid, slog.String("user", sess.UserKey),
		slog.Any("roles", sess.Roles), slog.Any("teams", sess.Teams))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusFound)
	return nil
}
