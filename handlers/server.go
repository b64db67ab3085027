package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/securecookie"

	"github.com/contoso/sbportal/auth"
)

// Config is what the HTTP layer needs from the outside.
type Config struct {
	Logger *slog.Logger
	// HTTPS says the portal is reached over https (its base URL's scheme): it turns on HSTS.
	HTTPS bool
	// DevMode marks pages as served by the local stack.
	DevMode bool
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// FormActionOrigins are origins, besides our own, that forms may post or redirect to
	// (the identity provider's sign-out page), for the Content-Security-Policy.
	FormActionOrigins []string
	// Readiness lists the dependencies /readyz checks.
	Readiness []ReadinessCheck
	// CookieKey signs the portal's own small cookies (flash messages); at least 32 random bytes.
	CookieKey []byte
	// Auth signs people in and finds each request's session. Without it every page that
	// needs sign-in answers 503: the portal never serves them unauthenticated.
	Auth *auth.Authenticator
	// Policy decides who may do what; the zero value is the portal's policy.
	Policy auth.Policy
	// AccessContact is whom people without a role should ask for one, e.g. "the Integration
	// Platform team (integration-platform@contoso.com)"; "" means "your portal administrator".
	AccessContact string
	// Pages are the endpoint pages' dependencies (Dataverse, store, probes); without them only
	// the start page and the sign-in flow are served.
	Pages *Pages
	// Metrics counts every request by route pattern (*metrics.Metrics); nil counts nothing.
	Metrics RequestMetrics
	// Bearer verifies the access tokens of API callers; without it the API answers 503.
	Bearer *auth.BearerVerifier
}

// RequestMetrics is told of every answered request. route is the chi route pattern that
// served it ("" when none matched), never the raw path.
type RequestMetrics interface {
	ObserveRequest(method, route string, status int, d time.Duration)
}

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is 0: forms are small.
const DefaultMaxBodyBytes = 1 << 20

// Server holds the handlers' dependencies: every route's handler is a method of it.
type Server struct {
	cfg   Config
	log   *slog.Logger
	mux   *chi.Mux
	flash *securecookie.SecureCookie
	// Pages are the endpoint pages' dependencies (nil without them: see Config.Pages).
	*Pages
}

// New builds the portal's HTTP handler.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if len(cfg.CookieKey) < 32 {
		return nil, errors.New("handlers: CookieKey must have at least 32 bytes")
	}
	if cfg.Pages != nil && cfg.Pages.Catalog == nil {
		return nil, errors.New("handlers: Pages.Catalog is required: the pages read endpoints from it")
	}
	if cfg.AccessContact == "" {
		cfg.AccessContact = "your portal administrator"
	}
	if cfg.Auth == nil {
		// Fail closed, loudly: every page behind sign-in answers 503 (see errNoAuth).
		cfg.Logger.Error("handlers: no authenticator configured: every page that needs sign-in will answer 503")
	} else if o := cfg.Auth.EndSessionOrigin(); o != "" && !slices.Contains(cfg.FormActionOrigins, o) {
		// The sign-out form continues to the provider's end-session page: the CSP must allow it.
		cfg.FormActionOrigins = append(slices.Clone(cfg.FormActionOrigins), o)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: chi.NewRouter(), flash: newFlashCodec(cfg.CookieKey), Pages: cfg.Pages}
	s.routes()
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }
