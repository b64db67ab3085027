package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/contoso/sbportal/static"
	"github.com/contoso/sbportal/web"
)

var testKey = bytes.Repeat([]byte{7}, 32)

func newTestServer(t *testing.T, cfg Config) (*Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	if cfg.CookieKey == nil {
		cfg.CookieKey = testKey
	}
	if cfg.Auth == nil {
		cfg.Auth, _, _ = testAuth(t, "http://example.com")
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

func do(t *testing.T, h http.Handler, method, target string, body io.Reader) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, target, body)
	if s, ok := h.(*Server); ok && s.cfg.Auth != nil {
		req.AddCookie(sessionCookie(t, s.cfg.Auth, testAdmin))
	}
	h.ServeHTTP(rec, req)
	return rec.Result()
}

var nonceRE = regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9_-]+)'`)

func checkSecurityHeaders(t *testing.T, resp *http.Response, https bool) string {
	t.Helper()
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", resp.Request.URL.Path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe code: %q", csp)
	}
	m := nonceRE.FindStringSubmatch(csp)
	if m == nil {
		t.Errorf("%s: CSP has no script nonce: %q", resp.Request.URL.Path, csp)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := h.Get("Referrer-Policy"); got == "" {
		t.Error("no Referrer-Policy")
	}
	if got := h.Get("X-Request-Id"); len(got) != 16 {
		t.Errorf("X-Request-Id = %q", got)
	}
	if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != https {
		t.Errorf("HSTS = %q with https=%v", hsts, https)
	}
	if m == nil {
		return ""
	}
	return m[1]
}

// TestSecurityHeadersEverywhere checks every kind of response carries the headers, and that
// HTML pages run no inline script or style without the request's nonce.
func TestSecurityHeadersEverywhere(t *testing.T) {
	for _, https := range []bool{false, true} {
		s, _ := newTestServer(t, Config{HTTPS: https})
		s.mux.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
		cases := []struct {
			method, path string
			status       int
		}{
			{"GET", "/", 200},
			{"GET", "/healthz", 200},
			{"GET", "/readyz", 200},
			{"GET", "/no/such/page", 404},
			{"POST", "/", 405},
			{"GET", static.URL("app.css"), 200},
			{"GET", "/static/missing.css", 404},
			{"GET", "/boom", 500},
		}
		for _, c := range cases {
			resp := do(t, s, c.method, c.path, nil)
			if resp.StatusCode != c.status {
				t.Errorf("%s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.status)
			}
			resp.Request = httptest.NewRequest(c.method, c.path, nil)
			nonce := checkSecurityHeaders(t, resp, https)
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				checkNoInlineCode(t, c.path, resp.Body, nonce)
			}
		}
	}
}

func checkNoInlineCode(t *testing.T, path string, body io.Reader, nonce string) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(body)
	if err != nil {
		t.Fatal(err)
	}
	doc.Find("script, style").Each(func(_ int, sel *goquery.Selection) {
		src, hasSrc := sel.Attr("src")
		if hasSrc && strings.HasPrefix(src, "/") {
			return
		}
		if got, _ := sel.Attr("nonce"); got != nonce {
			t.Errorf("%s: inline <%s> without the request's nonce", path, goquery.NodeName(sel))
		}
	})
	doc.Find("*").Each(func(_ int, sel *goquery.Selection) {
		for _, a := range sel.Nodes[0].Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: inline %s attribute on <%s> would be blocked by the CSP", path, a.Key, goquery.NodeName(sel))
			}
		}
	})
}

func TestNonceIsFreshPerRequest(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	a := nonceRE.FindStringSubmatch(do(t, s, "GET", "/", nil).Header.Get("Content-Security-Policy"))
	b := nonceRE.FindStringSubmatch(do(t, s, "GET", "/", nil).Header.Get("Content-Security-Policy"))
	if a == nil || b == nil || a[1] == b[1] {
		t.Fatalf("nonces not fresh: %v %v", a, b)
	}
}

func TestPanicShowsRequestID(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	s.mux.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	resp := do(t, s, "GET", "/boom", nil)
	body, _ := io.ReadAll(resp.Body)
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 500 || !strings.Contains(string(body), id) {
		t.Fatalf("status %d, body lacks request id %s", resp.StatusCode, id)
	}
	if strings.Contains(string(body), "kaboom") {
		t.Fatal("panic value leaked into the page")
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), id) {
		t.Fatalf("panic not logged with request id: %s", logs.String())
	}
}

func TestErrorPages(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	resp := do(t, s, "GET", "/no/such/page", nil)
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if got := doc.Find("h1").Text(); got != "Page not found" {
		t.Errorf("404 title %q", got)
	}
	resp = do(t, s, "DELETE", "/healthz", nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" {
		t.Errorf("405: status %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestBodyLimit(t *testing.T) {
	s, _ := newTestServer(t, Config{MaxBodyBytes: 10})
	s.mux.Post("/echo", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.ReadAll(r.Body)
		return err
	}))
	if resp := do(t, s, "POST", "/echo", strings.NewReader("0123456789abc")); resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if resp := do(t, s, "POST", "/echo", strings.NewReader("short")); resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	// A form handler reading PostFormValue used to see an empty form (and answer 422): the
	// limit is a 413 that says it, whatever the handler does.
	s.mux.Post("/form", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if r.PostFormValue("name") == "" {
			return &Error{Status: http.StatusUnprocessableEntity, Message: "Enter a name."}
		}
		return nil
	}))
	req := httptest.NewRequest("POST", "/form", strings.NewReader("name="+strings.Repeat("x", 20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "at most 10 bytes in one form") {
		t.Fatalf("oversize form: %d %.200s", rec.Code, rec.Body.String())
	}
}

func TestReadiness(t *testing.T) {
	ok := func(context.Context) (string, error) { return "fine", nil }
	bad := func(context.Context) (string, error) { return "", errors.New("down") }
	for _, c := range []struct {
		name   string
		checks []ReadinessCheck
		status int
	}{
		{"all ok", []ReadinessCheck{{Name: "db", Critical: true, Check: ok}}, 200},
		{"non-critical down", []ReadinessCheck{{Name: "db", Critical: true, Check: ok}, {Name: "env", Check: bad}}, 200},
		{"critical down", []ReadinessCheck{{Name: "db", Critical: true, Check: bad}, {Name: "env", Check: ok}}, 503},
	} {
		s, _ := newTestServer(t, Config{Readiness: c.checks})
		resp := do(t, s, "GET", "/readyz", nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.status, body)
		}
		// Anyone may ask; only the verdict is told, never the dependencies or their errors.
		if strings.Contains(string(body), "env") || strings.Contains(string(body), "down") || !strings.Contains(string(body), `"status":"`) {
			t.Errorf("%s: the public answer says too much or too little: %s", c.name, body)
		}
	}
}

func TestStaticCaching(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	resp := do(t, s, "GET", static.URL("app.css"), nil)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("hashed asset Cache-Control %q", cc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	etag := resp.Header.Get("ETag")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/static/app.css", nil)
	req.Header.Set("If-None-Match", etag)
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", rec.Code)
	}
	if cc := rec.Header().Get("Cache-Control"); strings.Contains(cc, "immutable") {
		t.Errorf("plain name must revalidate, got %q", cc)
	}
}

func TestFlashShowsOnceAndRejectsForgery(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	s.mux.Post("/act", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "Endpoint saved."})
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/act", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("flash cookie %+v", cookies)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookies[0])
	req.AddCookie(sessionCookie(t, s.cfg.Auth, testAdmin))
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "Endpoint saved.") {
		t.Fatal("flash not shown")
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Fatalf("flash cookie not cleared: %+v", c)
	}
	forged := httptest.NewRequest("GET", "/", nil)
	forged.AddCookie(&http.Cookie{Name: flashCookie, Value: cookies[0].Value[:len(cookies[0].Value)-2] + "xx"})
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, forged)
	if strings.Contains(rec.Body.String(), "Endpoint saved.") {
		t.Fatal("forged flash shown")
	}
}
