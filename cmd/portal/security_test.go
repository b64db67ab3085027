package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/store"
)

// TestOtherTeamsEndpointIsNotFound: someone who may not see an endpoint gets the answer an
// unknown id gets (404, same words), which names neither the endpoint nor its team.
func TestOtherTeamsEndpointIsNotFound(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	rita := w.formsFor(t, "integration-registrar")
	draft := rita.validatedDraft("Integration only")
	resp := rita.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
	page := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(page, "/endpoints/contoso-dev/") {
		t.Fatalf("save: %d %q", resp.StatusCode, page)
	}
	fiona, _ := w.signIn(t, "finance-registrar")
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := fiona.Get(w.front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		main := string(b)
		if i := strings.Index(main, "<main"); i >= 0 {
			main = main[i:]
		}
		if i := strings.Index(main, "request id"); i >= 0 {
			main = main[:i] // the request id differs per answer
		}
		return resp.StatusCode, main
	}
	unknownCode, unknownBody := get("/endpoints/contoso-dev/6f1e2a4c-0000-4000-8000-00000000abcd")
	for _, path := range []string{page, page + "/edit", page + "/test", page + "/rekey", page + "/delete"} {
		code, body := get(path)
		if code != http.StatusNotFound || code != unknownCode || body != unknownBody {
			t.Fatalf("%s answered %d, an unknown id %d; bodies differ: %v", path, code, unknownCode, body != unknownBody)
		}
		if strings.Contains(body, "Integration only") || strings.Contains(body, "Integration") {
			t.Fatalf("%s names the endpoint or its team", path)
		}
	}
}

// TestReadinessDetailsAreForAdmins: /readyz tells anyone only the verdict; the checks (the
// environments, the database) are shown to signed-in Admins at /status.
func TestReadinessDetailsAreForAdmins(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	body := func(c *http.Client, path string) (int, string) {
		t.Helper()
		resp, err := c.Get(w.front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, b := body(http.DefaultClient, "/readyz"); code != http.StatusOK || b != "{\"status\":\"ready\"}\n" {
		t.Fatalf("public /readyz: %d %q", code, b)
	}
	viewer, _ := w.signIn(t, "integration-viewer")
	if code, _ := body(viewer, "/status"); code != http.StatusForbidden {
		t.Fatalf("a viewer's /status answered %d", code)
	}
	admin, _ := w.signIn(t, "admin")
	if code, b := body(admin, "/status"); code != http.StatusOK || !strings.Contains(b, `"name":"database"`) || !strings.Contains(b, `"name":"dataverse contoso-dev"`) {
		t.Fatalf("an admin's /status: %d %s", code, b)
	}
}

// TestStoredKeyStaysWithItsAddress: changing where an endpoint sends needs the key entered
// again; the stored key is not sent to the new address, and nothing changes. Every test is an
// audit entry.
func TestStoredKeyStaysWithItsAddress(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	rita := w.formsFor(t, "integration-registrar")
	draft := rita.validatedDraft("Moving queue")
	resp := rita.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
	page := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	id := page[strings.LastIndex(page, "/")+1:]
	runs := func() int {
		h, err := st.ValidationHistory(w.ctx, "contoso-dev", id, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(h)
	}
	before := runs()
	edit := url.Values{"name": {"Moving queue"}, "messageformat": {"2"}, "userclaim": {"1"}, "path": {"somewhere-else"}}
	resp, err := rita.forms.PostForm(w.front.URL+page+"/edit", edit)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "Enter its key again") {
		t.Fatalf("a move without the key answered %d: %.300s", resp.StatusCode, body)
	}
	if runs() != before {
		t.Fatal("the stored key was used to test the new address")
	}
	env, _ := w.envs.Get("contoso-dev")
	if got, err := env.Client.Endpoint(w.ctx, id); err != nil || got.Path != "dataverse-queue" {
		t.Fatalf("Dataverse's path is %q (%v)", got.Path, err)
	}

	// With the key entered again, the move is proved with that key and saved with it.
	edit.Set("path", "dataverse-topic")
	edit.Set("connectionstring", "Endpoint=sb://"+w.sbAddr+"/;SharedAccessKeyName=SendOnly;SharedAccessKey="+
		"KLA3tnsqs+FQegvFYT7JIfgfj6KV8SK0hfCIb9VD5Uw=;UseDevelopmentEmulator=true")
	resp, err = rita.forms.PostForm(w.front.URL+page+"/edit", edit)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a move with the key answered %d: %.500s", resp.StatusCode, body)
	}
	if got, err := env.Client.Endpoint(w.ctx, id); err != nil || got.Path != "dataverse-topic" || got.SASKeyName != "SendOnly" {
		t.Fatalf("after the move Dataverse holds %q with policy %q (%v)", got.Path, got.SASKeyName, err)
	}
	if runs() != before+1 {
		t.Fatalf("the move was not proved once: %d runs, had %d", runs(), before)
	}

	// A test from the endpoint page is audited, like the wizard's validation was.
	if resp := rita.post(page+"/test", url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("test: %d", resp.StatusCode)
	}
	for _, action := range []string{"endpoint.test", "draft.validate"} {
		audit, err := st.ListAudit(w.ctx, store.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(audit.Entries) == 0 || audit.Entries[0].Outcome != store.AuditSucceeded {
			t.Fatalf("no %s audit entry: %+v", action, audit.Entries)
		}
	}
}

// TestTestLimitsOverHTTP: past the limit a Test answers 429 with Retry-After and when to try
// again, as a page and as the htmx fragment the list row and the endpoint page swap in.
func TestTestLimitsOverHTTP(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	rita := w.formsFor(t, "integration-registrar")
	draft := rita.validatedDraft("Limited queue")
	resp := rita.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
	page := resp.Header.Get("Location")
	w.servers[0].TestLimits = handlers.TestLimits{PerPersonPerMinute: 2, PerEndpointPerMinute: 100}
	for i := range 2 {
		if resp := rita.post(page+"/test", url.Values{}); resp.StatusCode != http.StatusOK {
			t.Fatalf("test %d answered %d", i, resp.StatusCode)
		}
	}
	check := func(htmx bool) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, w.front.URL+page+"/test", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		resp, err := rita.forms.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "Try again in") {
			t.Fatalf("htmx %v: %d Retry-After %q: %.300s", htmx, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		if htmx && strings.Contains(string(b), "<html") {
			t.Fatal("the fragment is a whole page")
		}
	}
	check(false)
	check(true)
}

// TestTestPageKeyErrorWithJavaScript: a key that cannot be used, pasted on the test page with
// JavaScript on, is explained in the page's result region instead of reloading the page (and
// losing the explanation); from a list row the person is sent to the test page.
func TestTestPageKeyErrorWithJavaScript(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	id := seedNamed(t, w, "Registered elsewhere")
	w.refresh(t)
	admin, _ := w.signIn(t, "admin")
	post := func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, w.front.URL+path, strings.NewReader("connectionstring=too-short"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		resp, err := admin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	page := "/endpoints/contoso-dev/" + id + "/test"
	resp, body := post(page)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") != "" || !strings.Contains(body, "The key could not be used") ||
		!strings.Contains(body, "44") || strings.Contains(body, "<html") {
		t.Fatalf("from the test page: %d, HX-Redirect %q: %.300s", resp.StatusCode, resp.Header.Get("HX-Redirect"), body)
	}
	if resp, _ := post(page + "?row=1"); resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != page {
		t.Fatalf("from a list row: %d, HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
}
