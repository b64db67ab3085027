package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestDraftsSurviveARestartAndBelongToTheirAuthor starts a registration, "restarts" the portal
// (a new instance on the same SQLite file), continues the draft there, and shows that another
// person cannot open it.
func TestDraftsSurviveARestartAndBelongToTheirAuthor(t *testing.T) {
	w := newWorld(t)
	dsn := filepath.Join(t.TempDir(), "portal.db")
	w.addPortal(t, dsn)
	rita, _ := w.signIn(t, "integration-registrar")
	resp, err := rita.PostForm(w.front.URL+"/endpoints/new", url.Values{"environment": {"contoso-dev"}, "team": {"Integration"}, "kind": {"servicebus"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/connection") {
		t.Fatalf("create draft: %d %q", resp.StatusCode, loc)
	}
	resp, err = rita.PostForm(w.front.URL+loc, url.Values{"connectionstring": {w.queueSend}, "nav": {"next"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	_, restarted := w.addPortal(t, dsn)
	w.use(restarted)
	details := strings.TrimSuffix(loc, "connection") + "details"
	doc := listPage(t, rita, w.front.URL+details)
	if name, _ := doc.Find("#name").Attr("value"); !strings.Contains(name, "dataverse-queue") {
		t.Fatalf("after the restart the draft's suggested name is %q", name)
	}
	if path, _ := doc.Find("#path").Attr("value"); path != "dataverse-queue" {
		t.Fatalf("after the restart the draft's path is %q", path)
	}

	fiona, _ := w.signIn(t, "finance-registrar")
	resp, err = fiona.Get(w.front.URL + details)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another person opened the draft: %d", resp.StatusCode)
	}
}
