package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/catalog"
)

// TestEveryAPIRouteIsDocumented walks the router: every route under /api/v1 is an operation
// of the OpenAPI document, and every operation is routed.
func TestEveryAPIRouteIsDocumented(t *testing.T) {
	s, _ := newTestServer(t, Config{Pages: &Pages{Catalog: catalog.New(catalog.Options{})}})
	var routed []string
	err := chi.Walk(s.mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, APIPrefix+"/") && route != APIPrefix+"/openapi.json" {
			routed = append(routed, method+" "+strings.TrimSuffix(route, "/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := OpenAPIDocument()
	var documented []string
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(routed)
	slices.Sort(documented)
	if len(routed) < 15 || !slices.Equal(routed, documented) {
		t.Fatalf("routed and documented operations differ:\nrouted:     %q\ndocumented: %q", routed, documented)
	}
}

// TestDocumentedRequestExamplesAreWhatHandlersRead decodes every documented request example
// the way the handlers do (unknown fields refused) into the type the handler reads.
func TestDocumentedRequestExamplesAreWhatHandlersRead(t *testing.T) {
	for _, op := range apiOperations {
		if op.Request == nil {
			continue
		}
		b, _ := json.Marshal(op.Request)
		req, _ := http.NewRequest(op.Method, "/", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		v := reflect.New(reflect.TypeOf(op.Request))
		if err := decodeJSON(req, v.Interface()); err != nil {
			t.Errorf("%s: its example does not decode: %v", op.ID, err)
		}
	}
}

// TestAPIErrorsAreProblemDetailsWithoutCookies checks the API's edges without a token: a
// problem detail, no cookie, no CORS, no session middleware (a session cookie does not sign
// in), and unknown API paths answer problems too.
func TestAPIErrorsAreProblemDetailsWithoutCookies(t *testing.T) {
	s, _ := newTestServer(t, Config{Pages: &Pages{Catalog: catalog.New(catalog.Options{})}})
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", APIPrefix + "/endpoints", http.StatusServiceUnavailable}, // no verifier configured
		{"POST", APIPrefix + "/plan", http.StatusServiceUnavailable},
		{"GET", APIPrefix + "/nothing-here", http.StatusServiceUnavailable},
		{"GET", "/api/nothing-here", http.StatusNotFound},
	} {
		resp := do(t, s, c.method, c.path, nil) // do sends an Admin's session cookie
		var p api.Problem
		_ = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != api.ProblemContentType || p.Status != c.status || p.Title == "" {
			t.Errorf("%s %s: %d %q %+v", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), p)
		}
		if resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s %s: cookie or CORS header set", c.method, c.path)
		}
	}
	resp := do(t, s, "GET", APIPrefix+"/openapi.json", nil)
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %d %v", resp.StatusCode, err)
	}
}
