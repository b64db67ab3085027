package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
)

// seedEndpoints adds n queue endpoints to a Dataverse stand-in.
func seedEndpoints(t testing.TB, s *dvemulator.Server, n int) {
	t.Helper()
	for i := range n {
		_, err := s.CreateRecord("serviceendpoints", map[string]any{
			"name": fmt.Sprintf("Bulk queue %04d", i), "solutionnamespace": "bulkns",
			"namespaceaddress": "sb://bulkns.servicebus.windows.net/", "path": fmt.Sprintf("q%04d", i),
			"contract": 2, "connectionmode": 1, "userclaim": 1, "messageformat": 2, "namespaceformat": 2,
			"authtype": 2, "saskeyname": "send", "saskey": strings.Repeat("k", 43) + "=",
		})
		if err != nil {
			t.Fatal(err)
		}
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
		t.Fatalf("GET %s = %d: %.300s", u, resp.StatusCode, b)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestListPageWithManyEndpointsAndAnOutage lists 1,000+ endpoints in pages, then shows that
// one environment being down marks it unavailable while the other still lists.
func TestListPageWithManyEndpointsAndAnOutage(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	seedEndpoints(t, w.dv.Environments[0], 1000)
	admin, _ := w.signIn(t, "admin")

	doc := listPage(t, admin, w.front.URL+"/endpoints")
	count := doc.Find("#list-count").Text()
	if !strings.HasPrefix(count, "1006 endpoint(s); page 1 of 21") { // 1,000 seeded + 6 from the dev stack
		t.Fatalf("list count %q", count)
	}
	if n := doc.Find("table tbody tr").Length(); n != 50 {
		t.Fatalf("first page has %d rows, want 50", n)
	}
	doc = listPage(t, admin, w.front.URL+"/endpoints?q=bulk+queue+0999")
	if got := strings.TrimSpace(doc.Find("table tbody tr td a").First().Text()); got != "Bulk queue 0999" {
		t.Fatalf("search found %q", got)
	}
	doc = listPage(t, admin, w.front.URL+"/endpoints?env=contoso-test")
	if strings.Contains(doc.Find("table").Text(), "Bulk queue") {
		t.Fatal("environment filter let other environments through")
	}

	// Contoso Test stops answering: its rows are marked unavailable, Contoso Dev still lists.
	w.dv.Environments[1].InjectFault(dvemulator.Fault{Status: http.StatusServiceUnavailable, Times: 1000})
	doc = listPage(t, admin, w.front.URL+"/endpoints")
	warning := doc.Find(".alert-warning").Text()
	if !strings.Contains(warning, "Contoso Test is unavailable") {
		t.Fatalf("no outage notice: %q", warning)
	}
	if count := doc.Find("#list-count").Text(); !strings.HasPrefix(count, "1004 endpoint(s)") {
		t.Fatalf("during the outage the list counts %q", count)
	}
	w.dv.Environments[1].ClearFaults()

	// A slow environment is cut off too, not waited for.
	w.dv.Environments[1].InjectFault(dvemulator.Fault{Latency: 20 * time.Second, Times: 1000})
	defer w.dv.Environments[1].ClearFaults()
	start := time.Now()
	doc = listPage(t, admin, w.front.URL+"/endpoints")
	if !strings.Contains(doc.Find(".alert-warning").Text(), "did not answer within") {
		t.Fatalf("slow environment not reported (after %v)", time.Since(start))
	}
}

// BenchmarkListPage1000 measures the server time of one list page over 1,006 endpoints in two
// Dataverse stand-ins (each request lists both environments and joins the portal's data).
func BenchmarkListPage1000(b *testing.B) {
	w := newWorld(b)
	w.addPortal(b, filepath.Join(b.TempDir(), "portal.db"))
	seedEndpoints(b, w.dv.Environments[0], 1000)
	admin, _ := w.signIn(b, "admin")
	b.ResetTimer()
	for b.Loop() {
		resp, err := admin.Get(w.front.URL + "/endpoints")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}
