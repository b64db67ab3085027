package handlers

import (
	"github.com/contoso/sbportal/static"
)

// routes registers every route in one place.
func (s *Server) routes() {
	m := s.mux
	m.Use(requestID, s.accessLog, s.securityHeaders, s.recoverPanics, s.limitBody)
	m.NotFound(s.handle(s.notFound))
	m.MethodNotAllowed(s.handle(s.methodNotAllowed))

	// Open to everyone: probes and static files.
	m.Get("/healthz", s.healthz)
	m.Get("/readyz", s.readyz)
	m.Handle(static.Prefix+"*", static.Handler())

	m.Get("/", s.handle(s.home))
}
