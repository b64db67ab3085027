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

	// The JSON API: bearer tokens only (no session, no cookies, no cross-origin check, no
	// CORS). Every route here is in the OpenAPI document (apiOperations; a test keeps them
	// in step).
	m.Get(APIPrefix+"/openapi.json", s.handle(s.apiOpenAPI))
	m.Route(APIPrefix, func(m chi.Router) {
		m.Use(s.requireBearer)
		if s.Pages == nil {
			return
		}
		m.Get("/endpoints", s.handle(s.apiEndpointList))
		m.Post("/endpoints", s.handle(s.apiEndpointCreate))
		m.Get("/endpoints/{env}/{id}", s.handle(s.apiEndpointGet))
		m.Patch("/endpoints/{env}/{id}", s.handle(s.apiEndpointUpdate))
		m.Delete("/endpoints/{env}/{id}", s.handle(s.apiEndpointDelete))
		m.Post("/endpoints/{env}/{id}/test", s.handle(s.apiEndpointTest))
		m.Post("/endpoints/{env}/{id}/set-key", s.handle(s.apiEndpointSetKey))
		m.Get("/endpoints/{env}/{id}/validations", s.handle(s.apiEndpointHistory))
		m.Get("/endpoints/{env}/{id}/steps", s.handle(s.apiStepList))
		m.Post("/endpoints/{env}/{id}/steps", s.handle(s.apiStepCreate))
		m.Get("/endpoints/{env}/{id}/steps/{step}", s.handle(s.apiStepGet))
		m.Put("/endpoints/{env}/{id}/steps/{step}", s.handle(s.apiStepUpdate))
		m.Post("/endpoints/{env}/{id}/steps/{step}/state", s.handle(s.apiStepState))
		m.Delete("/endpoints/{env}/{id}/steps/{step}", s.handle(s.apiStepDelete))
		m.Post("/plan", s.handle(s.apiPlan))
		m.Post("/apply", s.handle(s.apiApply))
		m.Get("/audit", s.handle(s.apiAudit))
	})

	// Everything else needs a signed-in person with a portal role.
	m.Group(func(m chi.Router) {
		m.Use(s.requireSignIn)
		m.Get("/", s.handle(s.home))
		m.Get("/status", s.handle(s.readinessDetails))
		if s.Pages == nil {
			return // without the pages' dependencies only the start page and sign-in are served
		}
		m.Get("/endpoints", s.handle(s.endpointList))
		m.Post("/endpoints/refresh", s.handle(s.endpointRefresh))
		m.Get("/endpoints/new", s.handle(s.newEndpointForm))
		m.Post("/endpoints/new", s.handle(s.newEndpointCreate))
		m.Get("/drafts/{draft}/where", s.handle(s.draftWhereForm))
		m.Post("/drafts/{draft}/where", s.handle(s.draftWhereSubmit))
		m.Get("/drafts/{draft}/connection", s.handle(s.draftConnectionForm))
		m.Post("/drafts/{draft}/connection", s.handle(s.draftConnectionSubmit))
		m.Get("/drafts/{draft}/details", s.handle(s.draftDetailsForm))
		m.Post("/drafts/{draft}/details", s.handle(s.draftDetailsSubmit))
		m.Get("/drafts/{draft}/validate", s.handle(s.draftValidateForm))
		m.Post("/drafts/{draft}/validate", s.handle(s.draftValidateSubmit))
		m.Get("/drafts/{draft}/review", s.handle(s.draftReviewForm))
		m.Post("/drafts/{draft}/review", s.handle(s.draftReviewSubmit))
		m.Get("/endpoints/{env}/{id}", s.handle(s.endpointShow))
		m.Get("/endpoints/{env}/{id}/test", s.handle(s.endpointTestForm))
		m.Post("/endpoints/{env}/{id}/test", s.handle(s.endpointTestSend))
		m.Post("/endpoints/{env}/{id}/check", s.handle(s.endpointCheck))
		m.Get("/endpoints/{env}/{id}/rekey", s.handle(s.endpointRekeyForm))
		m.Post("/endpoints/{env}/{id}/rekey", s.handle(s.endpointRekeySubmit))
		m.Get("/endpoints/{env}/{id}/edit", s.handle(s.endpointEditForm))
		m.Post("/endpoints/{env}/{id}/edit", s.handle(s.endpointEditSubmit))
		m.Get("/endpoints/{env}/{id}/delete", s.handle(s.endpointDeleteForm))
		m.Post("/endpoints/{env}/{id}/delete", s.handle(s.endpointDeleteSubmit))
		m.Get("/endpoints/{env}/{id}/steps/new", s.handle(s.stepNewForm))
		m.Post("/endpoints/{env}/{id}/steps/new", s.handle(s.stepNewSubmit))
		m.Get("/endpoints/{env}/{id}/steps/{step}", s.handle(s.stepShow))
		m.Get("/endpoints/{env}/{id}/steps/{step}/edit", s.handle(s.stepEditForm))
		m.Post("/endpoints/{env}/{id}/steps/{step}/edit", s.handle(s.stepEditSubmit))
		m.Post("/endpoints/{env}/{id}/steps/{step}/state", s.handle(s.stepStateSubmit))
		m.Get("/endpoints/{env}/{id}/steps/{step}/delete", s.handle(s.stepDeleteForm))
		m.Post("/endpoints/{env}/{id}/steps/{step}/delete", s.handle(s.stepDeleteSubmit))
		m.Post("/endpoints/{env}/{id}/steps/{step}/sample", s.handle(s.stepSampleSend))
		m.Get("/audit", s.handle(s.auditLog))
		m.Get("/notifications", s.handle(s.notificationsPage))
		// Across environments: adopt, set key, copy, plan and apply a file.
		m.Get("/endpoints/adopt", s.handle(s.endpointAdoptForm))
		m.Post("/endpoints/adopt", s.handle(s.endpointAdoptSubmit))
		m.Get("/endpoints/{env}/{id}/setkey", s.handle(s.endpointSetKeyForm))
		m.Post("/endpoints/{env}/{id}/setkey", s.handle(s.endpointSetKeySubmit))
		m.Get("/endpoints/{env}/{id}/copy", s.handle(s.endpointCopyForm))
		m.Post("/endpoints/{env}/{id}/copy", s.handle(s.endpointCopySubmit))
		m.Get("/environments/plan", s.handle(s.environmentPlanForm))
		m.Post("/environments/plan", s.handle(s.environmentPlanSubmit))
		m.Post("/environments/apply", s.handle(s.environmentApplySubmit))
		m.Get("/environments/export", s.handle(s.environmentExport))
	})
}
