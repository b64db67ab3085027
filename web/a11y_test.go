package web

import (
	"bytes"
	"context"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// These check the markup the browser tests of issue 18 depend on, without a browser.

func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestProbeOutcomeIsTheRegionsContentsOnly(t *testing.T) {
	failed := ProbeView{Ran: true, Title: "Missing claim", Detail: "The policy cannot send."}
	page := render(t, ProbeResult(failed))
	if page.Find(`#probe-result[role=status]`).Length() != 1 {
		t.Error("ProbeResult has no status region")
	}
	// Without JavaScript the failure arrives with a new page: an alert.
	if page.Find(`#probe-result .alert-error[role=alert]`).Length() != 1 {
		t.Error("a failure in a full page is not an alert")
	}
	// With htmx it goes into the region already in the page: no second region, no alert.
	swap := render(t, ProbeOutcome(failed))
	if n := swap.Find(`#probe-result, [role=status], [role=alert]`).Length(); n != 0 {
		t.Errorf("ProbeOutcome brings %d live region(s) of its own", n)
	}
	if swap.Find(`.alert-error`).Length() != 1 {
		t.Error("ProbeOutcome does not show the failure")
	}
}

func TestTitlesNameTheProblem(t *testing.T) {
	p := Page{Title: "New endpoint: validate"}
	for _, tc := range []struct {
		page Page
		want string
	}{
		{p, "New endpoint: validate · " + ProductName},
		{p.withProblem(ProbeView{Ran: true}.problem()), "Validation failed: New endpoint: validate · " + ProductName},
		{p.withProblem(ProbeView{Ran: true, Passed: true}.problem()), "New endpoint: validate · " + ProductName},
		{p.withFormProblem(summaryOf("", FieldErrors{"name": {"Enter a name."}})), "Error: New endpoint: validate · " + ProductName},
		{p.withFormProblem(summaryOf("", nil)), "New endpoint: validate · " + ProductName},
		{Page{}.withProblem(problemError), "Error · " + ProductName},
	} {
		if got := tc.page.fullTitle(); got != tc.want {
			t.Errorf("title %q, want %q", got, tc.want)
		}
	}
}

func TestFormErrorsTakeFocus(t *testing.T) {
	w := Wizard{DraftID: "d1", Current: StepWhere, Reached: StepWhere, Errors: FieldErrors{"kind": {"Choose Azure Service Bus or Webhook."}}}
	doc := render(t, WizardWhere(Page{Title: "New endpoint"}, w, WhereForm{}))
	if got := doc.Find("title").Text(); got != "Error: New endpoint · "+ProductName {
		t.Errorf("title %q", got)
	}
	summary := doc.Find(`#error-summary[role=alert][tabindex="-1"][autofocus]`)
	if summary.Length() != 1 {
		t.Fatal("no error summary that takes focus")
	}
	radios := doc.Find(`input[name=kind]`)
	if radios.Length() != 2 {
		t.Fatalf("%d kind radios", radios.Length())
	}
	radios.Each(func(_ int, r *goquery.Selection) {
		if d, _ := r.Attr("aria-describedby"); d != "kind-error" {
			t.Errorf("radio %s is described by %q, want kind-error", r.AttrOr("id", "?"), d)
		}
	})
	if doc.Find("#kind-error").Length() != 1 {
		t.Error("no kind-error")
	}
	if n := render(t, WizardWhere(Page{}, Wizard{Current: StepWhere}, WhereForm{})).Find("#error-summary, [autofocus]").Length(); n != 0 {
		t.Errorf("a form without errors has %d error summaries or autofocus", n)
	}
}

func TestScrollingTablesAreNamedRegions(t *testing.T) {
	v := EndpointView{Name: "Orders", History: []ValidationRow{{By: "Rita"}}, Steps: []StepRow{{Name: "Create"}}, Audit: []AuditRow{{Who: "Rita"}}}
	doc := render(t, EndpointPage(Page{Title: "Orders"}, v))
	boxes := doc.Find(".table-wrap")
	if boxes.Length() != 3 {
		t.Fatalf("%d table boxes, want 3", boxes.Length())
	}
	names := map[string]bool{}
	boxes.Each(func(_ int, b *goquery.Selection) {
		name := b.AttrOr("aria-label", "")
		if b.AttrOr("role", "") != "region" || b.AttrOr("tabindex", "") != "0" || name == "" || names[name] {
			t.Errorf("table box role %q, tabindex %q, name %q: want a focusable region with a name of its own",
				b.AttrOr("role", ""), b.AttrOr("tabindex", ""), name)
		}
		names[name] = true
	})
}

func TestListRowKeepsItsLiveRegion(t *testing.T) {
	r := EndpointRow{Environment: "dev", ID: "e1", Name: "Orders", CanTest: true, LastResult: "passed"}
	row := render(t, EndpointRowHTML(r.LastWhen, r))
	form := row.Find("form[hx-post]")
	region := row.Find(form.AttrOr("hx-target", "?"))
	if region.AttrOr("role", "") != "status" || form.AttrOr("hx-swap", "") != "innerHTML" {
		t.Errorf("the row's Test swaps %q into role %q: want the contents of the status region", form.AttrOr("hx-swap", ""), region.AttrOr("role", ""))
	}
	if _, disables := form.Attr("hx-disabled-elt"); disables {
		t.Error("the row's Test disables its button, which drops focus")
	}
	if n := render(t, RowResult(r.LastWhen, r, ProbeView{Ran: true})).Find("[role=status]").Length(); n != 0 {
		t.Errorf("RowResult brings %d status region(s) of its own", n)
	}
}
