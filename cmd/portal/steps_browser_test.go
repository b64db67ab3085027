package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/contoso/sbportal/internal/browsertest"
	"github.com/contoso/sbportal/servicebus/emulator"
)

// TestStepsInBrowser registers a queue endpoint, then on it a step with filtering attributes
// and a pre-image, sends the step's sample and finds it in the queue with the shape Dataverse
// gives its messages, then disables (by keyboard only), enables and deletes the step, in
// headless Chromium against the real `portal dev` stack. Axe runs on every step page.
func TestStepsInBrowser(t *testing.T) {
	base, printed := startDev(t)
	cs := devConnectionStrings(t, printed.String())
	browser := browsertest.New(t)
	ctx := browsertest.WithTimeout(t, browser, 4*time.Minute)
	run(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))

	const name = "Account changes from the browser test"
	signInAs(t, ctx, base, "integration-registrar", "/endpoints/new")
	endpointURL := registerInBrowser(t, ctx, base, cs["QueueSend"], name)

	// A new endpoint has no steps: its page says so and offers to add one.
	if got := text(t, ctx, "section[aria-labelledby=steps-title] .alert"); !strings.Contains(got, "No steps") {
		t.Errorf("the new endpoint's steps section says %q", got)
	}
	run(t, ctx, "add a step now", chromedp.Click(chromedp.CSS(`section[aria-labelledby=steps-title] .alert a`)), chromedp.WaitVisible(chromedp.CSS("#message")))
	browsertest.CheckAccessibility(t, ctx, "add step form")

	// Choosing the message offers its tables; choosing the table offers its columns.
	choose := func(id, value, wait string) {
		t.Helper()
		sub, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		// A person cannot type before htmx has wired up the form it just swapped in; wait the same.
		waitFor(t, sub, "htmx ready on #"+id, `(el => !!el && !!el["htmx-internal-data"] && !document.querySelector(".htmx-request, .htmx-settling, .htmx-swapping"))(document.getElementById(`+strconv.Quote(id)+`))`)
		if err := chromedp.Do(sub,
			chromedp.Evaluate[chromedp.Void](`(el => { el.value = `+strconv.Quote(value)+`; el.dispatchEvent(new Event("change", {bubbles: true})); })(document.getElementById(`+strconv.Quote(id)+`))`),
			chromedp.WaitReady(chromedp.CSS(wait))); err != nil {
			browsertest.Screenshot(t, ctx, "failed-choose-"+id)
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("step-form").outerHTML.slice(0, 3000)`))
			t.Fatalf("choose %s %s: %v\n%s", id, value, err, html)
		}
	}
	choose("message", "Update", `#table-options option[value=account]`)
	choose("table", "account", `#filteringattributes-list input[value=telephone1]`)
	if got := value(t, ctx, "#name"); got != name+": Update of account" {
		t.Errorf("the suggested name is %q", got)
	}
	if got := text(t, ctx, "#mode-0 + label, label[for=mode-0]"); !strings.Contains(got, "Synchronous") {
		t.Errorf("the synchronous mode's label is %q", got)
	}
	if disabled := evalBool(t, ctx, `document.getElementById("mode-0").disabled`); !disabled {
		t.Error("a queue endpoint offers synchronous steps")
	}
	// Search narrows the columns.
	run(t, ctx, "search columns", chromedp.Click(chromedp.CSS("#filteringattributes-search")), chromedp.SendKeys(chromedp.CSS("#filteringattributes-search"), "phone"))
	if n := evalInt(t, ctx, `[...document.querySelectorAll("#filteringattributes-list [data-search]")].filter(r => !r.hidden).length`); n == 0 || n > 5 {
		t.Errorf("searching the columns for phone leaves %d visible", n)
	}
	run(t, ctx, "pick filtering attributes and a pre-image",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("filteringattributes-telephone1").checked = true;
			document.getElementById("filteringattributes-name").checked = true;
			document.getElementById("preimage").checked = true;
			document.getElementById("preimage.all").checked = false;
			document.getElementById("preimage.attributes-name").checked = true;
			document.getElementById("preimage.attributes-telephone1").checked = true;`),
		chromedp.Click(chromedp.CSS(`#step-form button.btn-primary`)), chromedp.WaitVisible(chromedp.CSS(".flashes .alert-success, #error-summary")))
	if problem, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#error-summary, .field-error")].map(e => e.textContent).join(" | ")`)); problem != "" {
		t.Fatalf("adding the step was refused: %s", problem)
	}
	stepURL, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(stepURL, endpointURL+"/steps/") {
		t.Fatalf("after adding the step the browser is at %s", stepURL)
	}
	page := text(t, ctx, "main")
	for _, want := range []string{"Update", "account", "Post-operation", "Asynchronous", "name, telephone1", "PreImage", "Enabled"} {
		if !strings.Contains(page, want) {
			t.Errorf("the step page does not show %q:\n%s", want, page)
		}
	}
	browsertest.CheckAccessibility(t, ctx, "step page")
	browsertest.Screenshot(t, ctx, "step-page")

	// The sample reaches the queue, shaped like Dataverse's message for this step.
	run(t, ctx, "send a sample", chromedp.Click(chromedp.CSS(`form[action$="/sample"] button`)), chromedp.WaitVisible(chromedp.CSS("#probe-result .alert-success")))
	checkSampleInQueue(t, cs["RootManageSharedAccessKey"], name)

	// Keyboard only: Tab to Disable and press Enter.
	tabTo(t, ctx, `form[action$="/state"] button`)
	run(t, ctx, "disable by keyboard", chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the Enable button", `(b => !!b && b.textContent.trim() === "Enable")(document.querySelector('form[action$="/state"] button'))`)
	if got := text(t, ctx, ".flashes"); !strings.Contains(got, "disabled") {
		t.Errorf("after Disable the flash says %q", got)
	}
	if got := text(t, ctx, `form[action$="/state"] button`); got != "Enable" {
		t.Errorf("a disabled step offers %q", got)
	}
	run(t, ctx, "enable", chromedp.Click(chromedp.CSS(`form[action$="/state"] button`)))
	waitFor(t, ctx, "the Disable button", `(b => !!b && b.textContent.trim() === "Disable")(document.querySelector('form[action$="/state"] button'))`)
	if got := text(t, ctx, `form[action$="/state"] button`); got != "Disable" {
		t.Errorf("an enabled step offers %q", got)
	}

	// The endpoint page lists it; the delete confirmation of the endpoint names it.
	run(t, ctx, "endpoint page", chromedp.Navigate(endpointURL), chromedp.WaitVisible(chromedp.CSS("#steps-title")))
	if got := text(t, ctx, "section[aria-labelledby=steps-title] table"); !strings.Contains(got, name+": Update of account") {
		t.Errorf("the endpoint's steps table shows %q", got)
	}
	run(t, ctx, "endpoint delete page", chromedp.Navigate(endpointURL+"/delete"), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	if got := text(t, ctx, "main"); !strings.Contains(got, name+": Update of account") {
		t.Errorf("the endpoint's delete confirmation does not name its step:\n%s", got)
	}

	// On a phone-sized screen (320 px, as at 400 % zoom) the step pages reflow and stay accessible.
	run(t, ctx, "narrow viewport", chromedp.EmulateViewport(320, 800))
	for _, page := range []string{stepURL, stepURL + "/edit"} {
		run(t, ctx, "open "+page+" at 320 px", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		browsertest.CheckReflow(t, ctx, page+" at 320 px")
		browsertest.CheckAccessibility(t, ctx, page+" at 320 px")
	}
	run(t, ctx, "wide viewport", chromedp.EmulateViewport(1280, 900))

	// Delete the step.
	run(t, ctx, "step delete page", chromedp.Navigate(stepURL+"/delete"), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	browsertest.CheckAccessibility(t, ctx, "step delete page")
	run(t, ctx, "delete the step", setValue("#confirm", name+": Update of account"),
		chromedp.Click(chromedp.CSS(`button.btn-danger`)), chromedp.WaitVisible(chromedp.CSS(".flashes .alert-success")))
	if got, _ := chromedp.Run(ctx, chromedp.Location()); got != endpointURL {
		t.Errorf("after deleting the step the browser is at %s", got)
	}
	if got := text(t, ctx, "section[aria-labelledby=steps-title]"); !strings.Contains(got, "No steps") {
		t.Errorf("after deleting its only step the endpoint page says %q", got)
	}
}

// checkSampleInQueue receives from the dev stack's queue until it finds the portal's sample,
// and checks it carries what Dataverse sends for an Update of account with a pre-image.
func checkSampleInQueue(t *testing.T, manage, endpointName string) {
	t.Helper()
	client, err := azservicebus.NewClientFromConnectionString(manage, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	rcv, err := client.NewReceiverForQueue(emulator.DefaultQueue, &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		msgs, err := rcv.ReceiveMessages(ctx, 10, nil)
		if err != nil {
			t.Fatalf("no sample in the queue: %v", err)
		}
		for _, m := range msgs {
			if m.ApplicationProperties["x-sbportal-sample"] != true {
				continue
			}
			if m.ContentType == nil || *m.ContentType != "application/json" {
				t.Errorf("the sample's content type is %v", m.ContentType)
			}
			var body struct {
				MessageName, PrimaryEntityName string
				Stage, Mode                    int
				PreEntityImages                []struct {
					Key   string `json:"key"`
					Value struct{ LogicalName string }
				}
				InputParameters []struct {
					Key string `json:"key"`
				}
			}
			if err := json.Unmarshal(m.Body, &body); err != nil {
				t.Fatalf("the sample's body is not JSON: %v\n%s", err, m.Body)
			}
			if body.MessageName != "Update" || body.PrimaryEntityName != "account" || body.Stage != 40 || body.Mode != 1 {
				t.Errorf("the sample says %s of %s, stage %d, mode %d", body.MessageName, body.PrimaryEntityName, body.Stage, body.Mode)
			}
			if len(body.PreEntityImages) != 1 || body.PreEntityImages[0].Key != "PreImage" || body.PreEntityImages[0].Value.LogicalName != "account" {
				t.Errorf("the sample's pre-images: %+v", body.PreEntityImages)
			}
			if len(body.InputParameters) == 0 || body.InputParameters[0].Key != "Target" {
				t.Errorf("the sample's input parameters: %+v", body.InputParameters)
			}
			for _, claim := range []string{"Organization", "EntityLogicalName", "RequestName"} {
				if m.ApplicationProperties["http://schemas.microsoft.com/xrm/2011/Claims/"+claim] == nil {
					t.Errorf("the sample lacks the %s claim: %v", claim, m.ApplicationProperties)
				}
			}
			if m.Subject == nil || !strings.Contains(*m.Subject, "sample") {
				t.Errorf("the sample's subject is %v", m.Subject)
			}
			return
		}
	}
}

func value(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return v
}

func evalBool(t *testing.T, ctx context.Context, js string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func evalInt(t *testing.T, ctx context.Context, js string) int {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
