package main

import (
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
)

// TestRegisterWebhook registers a webhook with header authentication through the wizard's
// forms: the validation posts to the webhook with the header, and the saved endpoint carries
// the settings. The webhook listens on 127.0.0.1:80 because webhooks may only use ports 80
// and 443.
func TestRegisterWebhook(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:80")
	if err != nil {
		t.Skipf("\n\n*** webhook test SKIPPED: cannot listen on 127.0.0.1:80 (%v); it needs root or CAP_NET_BIND_SERVICE ***\n\n", err)
	}
	var mu sync.Mutex
	var got []http.Header
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})}
	go func() { _ = hook.Serve(ln) }()
	defer hook.Close()

	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	c, _ := w.signIn(t, "integration-registrar")
	post := func(path string, v url.Values) string {
		t.Helper()
		resp, err := c.PostForm(w.front.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			doc, _ := goquery.NewDocumentFromReader(resp.Body)
			t.Fatalf("POST %s = %d: %s", path, resp.StatusCode, doc.Find(".field-error, .alert-error").Text())
		}
		return resp.Header.Get("Location")
	}
	loc := post("/endpoints/new", url.Values{"environment": {"contoso-dev"}, "team": {"Integration"}, "kind": {"webhook"}})
	draft := strings.Split(loc, "/")[2]
	post("/drafts/"+draft+"/connection", url.Values{"url": {"http://127.0.0.1/hook"}, "webhookauth": {"header"},
		"pairname": {"x-api-key", ""}, "pairvalue": {"s3cret-value", ""}, "nav": {"next"}})
	post("/drafts/"+draft+"/details", url.Values{"name": {"Invoices webhook"}, "messageformat": {"2"}, "userclaim": {"1"}, "nav": {"next"}})
	post("/drafts/"+draft+"/validate", url.Values{"nav": {"run"}, "mode": {"send"}})
	mu.Lock()
	if len(got) != 1 || got[0].Get("X-Api-Key") != "s3cret-value" {
		t.Fatalf("the webhook received %d posts, headers %v", len(got), got)
	}
	mu.Unlock()
	loc = post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
	if !strings.HasPrefix(loc, "/endpoints/contoso-dev/") {
		t.Fatalf("save went to %q", loc)
	}
	env, _ := w.envs.Get("contoso-dev")
	eps, err := env.Client.ListEndpoints(w.ctx, dataverse.ListOptions{Filter: "name eq 'Invoices webhook'"})
	if err != nil || len(eps) != 1 {
		t.Fatalf("saved webhooks: %d, %v", len(eps), err)
	}
	e := eps[0]
	if e.Contract != endpoint.ContractWebhook || e.AuthType != endpoint.AuthTypeHTTPHeader || e.URL != "http://127.0.0.1/hook" || !e.IsAuthValueSet {
		t.Fatalf("saved webhook %+v", e)
	}
}
