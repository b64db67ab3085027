package handlers

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/contoso/sbportal/endpoint"
)

// TestSuggestionsFollowTheConnectionString: after the connection string is replaced, step 3's
// suggested name, path and namespace are the new one's, except what the person edited.
func TestSuggestionsFollowTheConnectionString(t *testing.T) {
	key := strings.Repeat("k", 43) + "="
	cs := func(host, entity string) string {
		s := "Endpoint=sb://" + host + ".servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + key
		if entity != "" {
			s += ";EntityPath=" + entity
		}
		return s
	}
	paste := func(d *wizardDraft, connection string) {
		t.Helper()
		r := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{endpoint.FieldConnectionString: {connection}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		if errs := (&Server{}).takeConnectionString(r, d, false); errs != nil {
			t.Fatalf("paste %s: %v", connection, errs)
		}
	}
	want := func(d *wizardDraft, name, ns, solution, path string) {
		t.Helper()
		e := d.data.Endpoint
		if e.Name != name || e.NamespaceAddress != ns || e.SolutionNamespace != solution || e.Path != path {
			t.Errorf("name %q, namespace %q (%q), path %q; want %q, %q (%q), %q", e.Name, e.NamespaceAddress, e.SolutionNamespace, e.Path, name, ns, solution, path)
		}
	}

	d := &wizardDraft{data: newDraftData("Integration", endpoint.KindServiceBus)}
	paste(d, cs("busone", "orders"))
	want(d, "busone orders", "sb://busone.servicebus.windows.net/", "busone", "orders")
	// Replaced without editing step 3: everything follows.
	paste(d, cs("bustwo", "invoices"))
	want(d, "bustwo invoices", "sb://bustwo.servicebus.windows.net/", "bustwo", "invoices")

	// Edited on step 3, then replaced: the edits stay, the rest follows.
	d.data.Endpoint.Name, d.data.Endpoint.SolutionNamespace = "Invoices for payments", "payments"
	paste(d, cs("busthree", "invoices"))
	want(d, "Invoices for payments", "sb://busthree.servicebus.windows.net/", "payments", "invoices")

	// A namespace-wide policy has no EntityPath: the path typed for it stays through a new key,
	// but a policy on another entity brings its own path.
	paste(d, cs("busthree", ""))
	want(d, "Invoices for payments", "sb://busthree.servicebus.windows.net/", "payments", "")
	d.data.Endpoint.Path = "refunds"
	paste(d, cs("busthree", ""))
	want(d, "Invoices for payments", "sb://busthree.servicebus.windows.net/", "payments", "refunds")
	paste(d, cs("busthree", "orders"))
	want(d, "Invoices for payments", "sb://busthree.servicebus.windows.net/", "payments", "orders")
}
