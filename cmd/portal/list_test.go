package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
)

// seedEndpoints adds n queue endpoints to a Dataverse stand-in.
func seedEndpoints(t testing.TB, s *dvemulator.Server, n int) {
	t.Helper()
	if err := seedDevEndpoints(s, n); err != nil {
		t.Fatal(err)
	}
}

func listPage(t testing.TB, c *http.Client, u string) *goquery.Document {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d: %s", u, resp.StatusCode, b)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// listQueries counts the collection reads of serviceendpoints a Dataverse stand-in received.
func listQueries(s *dvemulator.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r, "GET serviceendpoints?") {
			n++
		}
	}
	return n
}

// TestListPageWithManyEndpointsAndAnOutage lists 1,000+ endpoints in pages from the catalog
// (no Dataverse query per view), then shows that an environment that stops answering keeps its
// last good list, marked stale with the cause, that throttling is named as such, and that an
// environment that never loaded is reported unavailable while the other still lists.
func TestListPageWithManyEndpointsAndAnOutage(t *testing.T) {
	w := newWorld(t)
	dbPath := filepath.Join(t.TempDir(), "portal.db")
	w.addPortal(t, dbPath)
	seedEndpoints(t, w.dv.Environments[0], 1000)
	w.refresh(t)
	admin, _ := w.signIn(t, "admin")

	before := listQueries(w.dv.Environments[0]) + listQueries(w.dv.Environments[1])
	if before < 2 {
		t.Fatalf("the catalog's loads sent %d list queries; the count cannot be right", before)
	}
	doc := listPage(t, admin, w.front.URL+"/endpoints")
	count := doc.Find("#list-count").Text()
	if !strings.HasPrefix(count, "1008 endpoint(s); page 1 of 21") { // 1,000 seeded + 8 from the dev stack
		t.Fatalf("list count %q", count)
	}
	if n := doc.Find("table tbody tr").Length(); n != 50 {
		t.Fatalf("first page has %d rows, want 50", n)
	}
	if !strings.Contains(doc.Find("#list-freshness").Text(), "Contoso Dev as of") {
		t.Fatalf("no 'as of' note: %q", doc.Find("#list-freshness").Text())
	}
	doc = listPage(t, admin, w.front.URL+"/endpoints?q=bulk+queue+0999")
	if got := strings.TrimSpace(doc.Find("table tbody tr td a").First().Text()); got != "Bulk queue 0999" {
		t.Fatalf("search found %q", got)
	}
	doc = listPage(t, admin, w.front.URL+"/endpoints?env=contoso-test")
	if strings.Contains(doc.Find("table").Text(), "Bulk queue") {
		t.Fatal("environment filter let other environments through")
	}
	// The same list again comes from the kept page, with this request's own id in the footer.
	for range 2 {
		resp, err := admin.Get(w.front.URL + "/endpoints")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		rid := resp.Header.Get("X-Request-Id")
		if rid == "" || !strings.Contains(string(body), `request <span class="mono">`+rid+`</span>`) || strings.Contains(string(body), "feedfacecafebeef") {
			t.Fatalf("the footer does not name request %q", rid)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Fatalf("Content-Length %d for %d bytes", resp.ContentLength, len(body))
		}
	}
	if after := listQueries(w.dv.Environments[0]) + listQueries(w.dv.Environments[1]); after != before {
		t.Fatalf("three list views sent %d list queries to Dataverse, want none", after-before)
	}

	// Contoso Test stops answering: its last good list stays, marked stale with the cause.
	w.dv.Environments[1].InjectFault(dvemulator.Fault{Status: http.StatusServiceUnavailable, Times: 1000})
	w.refresh(t)
	doc = listPage(t, admin, w.front.URL+"/endpoints")
	warning := doc.Find(".alert-warning").Text()
	if !strings.Contains(warning, "Contoso Test could not be refreshed since") || !strings.Contains(warning, "listed as of") {
		t.Fatalf("no stale notice: %q", warning)
	}
	if count := doc.Find("#list-count").Text(); !strings.HasPrefix(count, "1008 endpoint(s)") {
		t.Fatalf("during the outage the list counts %q", count)
	}
	w.dv.Environments[1].ClearFaults()

	// Throttled: Dataverse asks for more patience than the client waits; the page says so and
	// never calls the environment unavailable.
	w.dv.Environments[1].InjectFault(dvemulator.Fault{Status: http.StatusTooManyRequests, RetryAfter: 5 * time.Minute, Times: 1000})
	w.refresh(t)
	doc = listPage(t, admin, w.front.URL+"/endpoints")
	warning = doc.Find(".alert-warning").Text()
	if !strings.Contains(warning, "Dataverse is throttling the portal’s requests to Contoso Test") || strings.Contains(warning, "unavailable") {
		t.Fatalf("throttling notice: %q", warning)
	}
	if count := doc.Find("#list-count").Text(); !strings.HasPrefix(count, "1008 endpoint(s)") {
		t.Fatalf("while throttled the list counts %q", count)
	}
	w.dv.Environments[1].ClearFaults()
	w.refresh(t)
	doc = listPage(t, admin, w.front.URL+"/endpoints")
	if warning := doc.Find(".alert-warning").Text(); warning != "" {
		t.Fatalf("after recovery a warning remains: %q", warning)
	}

	// A portal that starts while Contoso Test is too slow to load lists Contoso Dev and says
	// Contoso Test did not answer, without waiting for it.
	w.dv.Environments[1].InjectFault(dvemulator.Fault{Latency: 20 * time.Second, Times: 1000})
	defer w.dv.Environments[1].ClearFaults()
	_, second := w.addPortal(t, dbPath)
	w.use(second)
	start := time.Now()
	doc = listPage(t, admin, w.front.URL+"/endpoints")
	if !strings.Contains(doc.Find(".alert-warning").Text(), "Contoso Test is unavailable") ||
		!strings.Contains(doc.Find(".alert-warning").Text(), "did not answer within") {
		t.Fatalf("slow environment not reported (after %v): %q", time.Since(start), doc.Find(".alert-warning").Text())
	}
	if count := doc.Find("#list-count").Text(); !strings.HasPrefix(count, "1004 endpoint(s)") {
		t.Fatalf("with Contoso Test not loaded the list counts %q", count)
	}
}

// BenchmarkListPage1000 measures the server time of one list page over 1,008 endpoints in two
// Dataverse stand-ins, read from the catalog: "kept" asks for the same page again (the page
// kept for this viewer), "fresh" makes every address unique so each page is rendered anew.
func BenchmarkListPage1000(b *testing.B) {
	w := newWorld(b)
	w.addPortal(b, filepath.Join(b.TempDir(), "portal.db"))
	seedEndpoints(b, w.dv.Environments[0], 1000)
	w.refresh(b)
	admin, _ := w.signIn(b, "admin")
	for _, fresh := range []bool{false, true} {
		name := "kept"
		if fresh {
			name = "fresh"
		}
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				u := w.front.URL + "/endpoints"
				if fresh {
					i++
					u += "?n=" + strconv.Itoa(i)
				}
				resp, err := admin.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}

// TestRefreshButton: people who may register can ask for a refresh, and then see at once an
// endpoint registered outside the portal; viewers get no button and are refused.
func TestRefreshButton(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	admin, _ := w.signIn(t, "admin")
	viewer, _ := w.signIn(t, "integration-viewer")

	if doc := listPage(t, viewer, w.front.URL+"/endpoints"); doc.Find(`form[action="/endpoints/refresh"]`).Length() != 0 {
		t.Fatal("a viewer is offered Refresh")
	}
	resp, err := viewer.PostForm(w.front.URL+"/endpoints/refresh", url.Values{"return": {"/endpoints"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer's refresh answered %d, want 403", resp.StatusCode)
	}

	doc := listPage(t, admin, w.front.URL+"/endpoints?q=bulk")
	if doc.Find(`form[action="/endpoints/refresh"]`).Length() != 1 {
		t.Fatal("an admin is not offered Refresh")
	}
	seedEndpoints(t, w.dv.Environments[0], 1) // registered with another tool
	if doc := listPage(t, admin, w.front.URL+"/endpoints?q=bulk"); strings.Contains(doc.Find("table").Text(), "Bulk queue 0000") {
		t.Fatal("the catalog queried Dataverse for a page view")
	}
	resp, err = admin.PostForm(w.front.URL+"/endpoints/refresh", url.Values{"return": {"/endpoints?q=bulk"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/endpoints?q=bulk" {
		t.Fatalf("refresh answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	doc = listPage(t, admin, w.front.URL+"/endpoints?q=bulk")
	if !strings.Contains(doc.Find("table").Text(), "Bulk queue 0000") || !strings.Contains(doc.Find(".flashes").Text(), "refreshed") {
		t.Fatalf("after Refresh: %q / %q", doc.Find("table").Text(), doc.Find(".flashes").Text())
	}

	// Only the portal's own pages are a place to come back to.
	resp, err = admin.PostForm(w.front.URL+"/endpoints/refresh", url.Values{"return": {"//evil.example/endpoints"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Location") != "/endpoints" {
		t.Fatalf("refresh returned to %q", resp.Header.Get("Location"))
	}
}
