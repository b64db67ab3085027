package handlers

import (
	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/static"
)

// routes registers every route in one place.
func (s *Server) routes() {
	m := s.mux
	m.Use(requestID, s.accessLog, s.securityHeaders, s.recoverPanics, s.limitBody, s.crossOriginProtection())
	m.NotFound(s.handle(s.notFound))
	m.MethodNotAllowed(s.handle(s.methodNotAllowed))

	// Open to everyone: probes, static files, and the sign-in flow itself. Keep this list in
	// step with publicRoutes in require_signin_test.go.
	m.Get("/healthz", s.healthz)
	m.Get("/readyz", s.readyz)
	m.Handle(static.Prefix+"*", static.Handler())
	m.Get(auth.SignInPath, s.handle(s.signIn))
	m.Get(auth.CallbackPath, s.handle(s.authCallback))
	m.Post(auth.SignOutPath, s.handle(s.signOut))
	m.Get(auth.SignedOutPath, s.handle(s.signedOut))

	// Everything else needs a signed-in person with a portal role.
	m.Group(func(m chi.Router) {
		m.Use(s.requireSignIn)
		m.Get("/", s.handle(s.home))
		if s.cfg.Pages != nil {
			(&pages{Server: s, Pages: s.cfg.Pages}).routes(m)
		}
	})
}
