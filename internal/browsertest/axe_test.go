package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAuditFindsProblems shows the accessibility check can fail: a page with an unlabelled
// field and an image without alternative text has serious violations.
func TestAuditFindsProblems(t *testing.T) {
	ctx := WithTimeout(t, New(t), time.Minute)
	page := `data:text/html,<!doctype html><html lang="en"><title>x</title><main><img src="x.png"><form><input type="text" name="q"></form></main></html>`
	if _, err := chromedp.Run(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	vs, err := Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, v := range vs {
		found[v.ID] = v.Impact
	}
	if found["image-alt"] != "critical" || found["label"] != "critical" {
		t.Fatalf("violations %v, want image-alt and label as critical", found)
	}
}
