package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// endpointTestForm asks for a key to test an endpoint whose key the portal does not keep.
func (s *Server) endpointTestForm(w http.ResponseWriter, r *http.Request) error {
	_, c, v, err := s.loadForAction(r, auth.ActionTest)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, web.TestWithKeyPage(s.page(w, r, "Test "+c.Endpoint.Name, web.NavEndpoints), web.TestForm{View: v, Kind: endpoint.KindOf(c.Endpoint)}))
	return nil
}

// endpointTestSend runs a test-send: with the stored secret, or with one pasted for this test
// only (never stored). From a list row (htmx) it answers with the row's result cell.
func (s *Server) endpointTestSend(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionTest)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in, err := credentialForm(r)
	if err != nil {
		return err
	}
	e, emulator, errs, err := s.testCredential(ctx, c, in)
	if err != nil {
		return err
	}
	if errs != nil && isHTMX(r) && r.URL.Query().Get("row") != "" {
		// From a list row: the key has to be pasted on the test page.
		w.Header().Set("HX-Redirect", web.EndpointURL(c.Env.ID, c.Endpoint.ID)+"/test")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if errs != nil && isHTMX(r) {
		// From the test page itself: say why in its result region, keeping what was typed.
		s.render(w, r, http.StatusOK, web.ProbeOutcome(web.ProbeView{Ran: true, Title: "The key could not be used",
			Detail: strings.Join(errs.Messages(), " ")}))
		return nil
	}
	if errs != nil {
		v, verr := s.endpointView(ctx, id, c, false)
		if verr != nil {
			return verr
		}
		s.render(w, r, http.StatusUnprocessableEntity, web.TestWithKeyPage(s.page(w, r, "Test "+c.Endpoint.Name, web.NavEndpoints),
			web.TestForm{View: v, Kind: endpoint.KindOf(c.Endpoint), Errors: errs}))
		return nil
	}
	if refused, err := s.refuseTest(w, r, id, c.Env.ID+"/"+c.Endpoint.ID); refused {
		return err
	}
	rec, err := s.proveAndRecord(ctx, id, c.Env.ID, e, emulator)
	if err != nil {
		return err
	}
	view := rec.view("")
	if isHTMX(r) {
		if r.URL.Query().Get("row") != "" {
			row := s.row(id, &catalogEntry{Env: c.Env, Endpoint: c.Endpoint, Owner: c.Owner, ViaPortal: c.ViaPortal,
				HasLastRun: true, LastRun: store.ValidationRun{Result: resultOf(rec), Summary: rec.Title, StartedAt: rec.At}})
			s.render(w, r, http.StatusOK, web.RowResult(s.now(), row, view))
			return nil
		}
		s.render(w, r, http.StatusOK, web.ProbeOutcome(view))
		return nil
	}
	v, err := s.endpointView(ctx, id, c, true)
	if err != nil {
		return err
	}
	v.Result = view
	s.render(w, r, http.StatusOK, web.EndpointPage(s.page(w, r, c.Endpoint.Name, web.NavEndpoints), v))
	return nil
}

// testCredential is what a test of a saved endpoint sends with, for pages and API alike: the
// credential given for this test only (never stored), else the portal's stored copy; errs when
// neither can be used (nothing given and none stored, or what was given cannot be read).
func (s *Server) testCredential(ctx context.Context, c catalogEntry, in endpoint.CredentialInput) (e endpoint.ServiceEndpoint, emulator bool, errs web.FieldErrors, err error) {
	e, emulator, stored, err := s.withStoredSecret(ctx, c)
	if err != nil || (in.Empty() && stored) {
		return e, emulator, nil, err
	}
	e, emulator, errs = pastedCredential(c.Endpoint, in)
	return e, emulator, errs, nil
}

func resultOf(rec runRecord) store.ValidationResult {
	if rec.Passed {
		return store.ValidationPassed
	}
	return store.ValidationFailed
}
