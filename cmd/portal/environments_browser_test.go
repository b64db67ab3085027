package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/internal/browsertest"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
)

// actionTimeout bounds each browser action of these tests: a page that hangs fails the test
// at once, with a screenshot, rather than at the end of the whole test's time.
const actionTimeout = 30 * time.Second

// act performs browser steps within actionTimeout and fails the test, with a screenshot, when
// one fails or hangs.
func act(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	bounded, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(bounded, steps...); err != nil {
		browsertest.Screenshot(t, ctx, "failed-"+what)
		t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks button and waits for the page it loads to show wait. The current page is
// marked first, so what it already shows does not count.
func submit(t *testing.T, ctx context.Context, what, button, wait string) {
	t.Helper()
	submitBy(t, ctx, what, chromedp.Click(chromedp.CSS(button)), wait)
}

// submitBy is submit with another way to submit, such as a key press.
func submitBy(t *testing.T, ctx context.Context, what string, press chromedp.Action[chromedp.Void], wait string) {
	t.Helper()
	act(t, ctx, what, chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`), press)
	waitFor(t, ctx, what, `!document.body.dataset.stale && !!document.querySelector(`+strconv.Quote(wait)+`)`)
}

// shown is the visible text of the first element matching css; a missing element fails the
// test within actionTimeout, with a screenshot.
func shown(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	bounded, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	s, err := browsertest.Text(bounded, css)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-text")
		t.Fatal(err)
	}
	return s
}

// shownValue is the value of the first form field matching css, as shown reads text.
func shownValue(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	bounded, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(bounded, chromedp.Value(chromedp.CSS(css)))
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-value")
		t.Fatalf("read %s: %v", css, err)
	}
	return v
}

// pageProblems is the text of the current page's error summary, field errors and failure alerts.
func pageProblems(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#error-summary, .field-error, main .alert-error")].map(e => e.textContent.trim().replace(/\s+/g, " ")).join(" | ")`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEnvironmentsInBrowserAdoptAndSetKey starts the local stack after a solution import has
// brought an endpoint into Contoso Test without its key. An Admin finds it among the endpoints
// not registered through the portal and adopts it, with the seeded "Account changes topic", for
// team Integration. The team's Registrar then finds both with the Needs a key filter and, by
// keyboard only, sets the imported endpoint's key: a wrong key fails its test and changes
// nothing, the right connection string is proved and set. Axe runs on the adopt and set key
// pages.
func TestEnvironmentsInBrowserAdoptAndSetKey(t *testing.T) {
	const name = "Imported orders queue"
	dataDir := t.TempDir()
	queueSend := importedWithoutKey(t, dataDir, name)
	base, _ := startDev(t, "--data", dataDir)

	b := browsertest.New(t)
	ctx := browsertest.WithTimeout(t, b, 2*time.Minute)
	act(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))

	// An Admin reads Dataverse again, then filters the list to what has no owning team.
	signInAs(t, ctx, base, "admin", "/endpoints")
	act(t, ctx, "filter: not registered through the portal", setValue("#team", "-"), setValue("#env", "contoso-test"))
	submit(t, ctx, "filter: not registered through the portal", `form[role=search] button[type=submit]`, "table tbody tr")
	if got := shown(t, ctx, "table tbody"); !strings.Contains(got, name) || !strings.Contains(got, "Account changes topic") || !strings.Contains(got, "not registered through the portal") {
		t.Fatalf("the endpoints of Contoso Test not registered through the portal: %q", got)
	}

	// Adopt: filter to Contoso Test, keep two of its endpoints selected, assign team Integration.
	submit(t, ctx, "open adopt", `a[href="/endpoints/adopt"]`, "#env")
	browsertest.CheckAccessibility(t, ctx, "adopt page")
	act(t, ctx, "adopt filter", setValue("#env", "contoso-test"))
	submit(t, ctx, "adopt filter", `form[role=search] button[type=submit]`, `input[name=endpoint]`)
	offered := shown(t, ctx, `form[action="/endpoints/adopt"][method=post] fieldset`)
	for _, want := range []string{name, "Account changes topic", "Partner events (managed)"} {
		if !strings.Contains(offered, want) {
			t.Errorf("the adopt page filtered to Contoso Test does not offer %q: %q", want, offered)
		}
	}
	if strings.Contains(offered, "Contoso Dev") {
		t.Errorf("the adopt page filtered to Contoso Test offers endpoints of Contoso Dev: %q", offered)
	}
	// Keep only the two endpoints to adopt, by clicking the others' check boxes off.
	unchecked := evalInt(t, ctx, `(() => { let n = 0; for (const box of document.querySelectorAll("input[name=endpoint]")) {
		const label = document.querySelector('label[for="' + CSS.escape(box.id) + '"]').textContent;
		if (box.checked && !label.includes(`+strconv.Quote(name)+`) && !label.includes("Account changes topic")) { box.click(); n++; } }
		return n; })()`)
	if unchecked == 0 {
		t.Fatal("the adopt page offered only the two endpoints to adopt: the test would not show selecting some")
	}
	// Without a team the page says what is missing, and still passes axe.
	submit(t, ctx, "assign without a team", `form[action="/endpoints/adopt"][method=post] button.btn-primary`, "#error-summary")
	if got := pageProblems(t, ctx); !strings.Contains(got, "Choose the team") {
		t.Errorf("assigning without a team says %q", got)
	}
	if n := evalInt(t, ctx, `document.querySelectorAll("input[name=endpoint]:checked").length`); n != 2 {
		t.Errorf("after the error %d endpoints are still selected, want the 2 chosen", n)
	}
	browsertest.CheckAccessibility(t, ctx, "adopt page with its error")
	act(t, ctx, "choose the team", setValue("#team", "Integration"))
	submit(t, ctx, "assign team", `form[action="/endpoints/adopt"][method=post] button.btn-primary`, ".flashes .alert-success")
	if got := shown(t, ctx, ".flashes"); !strings.Contains(got, "Team Integration now owns 2 more endpoint(s)") {
		t.Errorf("after Assign team the flash says %q", got)
	}
	browsertest.Screenshot(t, ctx, "adopted")

	// The team's Registrar now sees them; the Needs a key filter finds both.
	signInAs(t, ctx, base, "integration-registrar", "/endpoints")
	act(t, ctx, "list", chromedp.WaitVisible(chromedp.CSS("table tbody tr")))
	list := shown(t, ctx, "table tbody")
	if !strings.Contains(list, name) || !strings.Contains(list, "Account changes topic") {
		t.Fatalf("the Registrar's list does not show the adopted endpoints: %q", list)
	}
	if strings.Contains(list, "Partner events (managed)") {
		t.Errorf("the Registrar sees an endpoint that was not adopted: %q", list)
	}
	needsKey := func() string {
		t.Helper()
		act(t, ctx, "filter: needs a key", chromedp.Navigate(base+"/endpoints"), chromedp.WaitVisible(chromedp.CSS("#status")), setValue("#status", "needs-key"))
		submit(t, ctx, "filter: needs a key", `form[role=search] button[type=submit]`, "main .empty-state, table tbody tr")
		return shown(t, ctx, "main")
	}
	if got := needsKey(); !strings.Contains(got, name) || !strings.Contains(got, "Account changes topic") || !strings.Contains(got, "Key not set") {
		t.Fatalf("the Needs a key filter shows %q", got)
	}

	// The seeded topic's key comes from its own namespace only: another's connection string is
	// refused before any test, naming the endpoint's namespace.
	topic, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("table tbody a")].find(a => a.textContent.trim() === "Account changes topic").getAttribute("href")`))
	submit(t, ctx, "open the topic", `table tbody a[href="`+topic+`"]`, "h1")
	act(t, ctx, "open the topic's set key", chromedp.Click(chromedp.CSS(`.page-head a[href$="/setkey"]`)), chromedp.WaitVisible(chromedp.CSS("#connectionstring")))
	act(t, ctx, "another namespace's connection string", setValue("#connectionstring", queueSend),
		chromedp.Click(chromedp.CSS(`form button.btn-primary`)), chromedp.WaitVisible(chromedp.CSS("#error-summary")))
	if got := pageProblems(t, ctx); !strings.Contains(got, "the endpoint uses sb://contoso-integration-test.servicebus.windows.net/") {
		t.Errorf("another namespace's connection string is refused with %q, which does not name the endpoint's namespace", got)
	}

	// Keyboard only: the list's filter, the endpoint, its Set key page and the form.
	act(t, ctx, "list filtered", chromedp.Navigate(base+"/endpoints?status=needs-key"), chromedp.WaitVisible(chromedp.CSS("table tbody tr")))
	tabTo(t, ctx, `table tbody a[href^="/endpoints/contoso-test/"]:not(.btn)`)
	for {
		if got := evalBool(t, ctx, `document.activeElement.textContent.trim() === `+strconv.Quote(name)); got {
			break
		}
		act(t, ctx, "tab to the endpoint", chromedp.KeyEvent(kb.Tab))
		if !evalBool(t, ctx, `!!document.activeElement.closest("table")`) {
			t.Fatalf("Tab went past the list without reaching %q", name)
		}
	}
	act(t, ctx, "keyboard: open the endpoint", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`.page-head a[href$="/setkey"]`)))
	endpointURL, _ := chromedp.Run(ctx, chromedp.Location())
	if got := shown(t, ctx, "main"); !strings.Contains(got, "Key not set — typical after a solution import") {
		t.Errorf("the endpoint page does not flag the missing key:\n%s", got)
	}
	tabTo(t, ctx, `.page-head a[href$="/setkey"]`)
	act(t, ctx, "keyboard: set key", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#connectionstring")))
	browsertest.CheckAccessibility(t, ctx, "set key page")
	browsertest.Screenshot(t, ctx, "set-key")

	// A wrong key (well formed, of the right policy) fails its test: a clear message, nothing set.
	tabTo(t, ctx, "#connectionstring")
	act(t, ctx, "keyboard: paste a wrong key", chromedp.KeyEvent(wrongKey(queueSend)))
	tabTo(t, ctx, `form button.btn-primary`)
	act(t, ctx, "keyboard: submit the wrong key", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#probe-result .alert-error")))
	if got := pageProblems(t, ctx); !strings.Contains(got, "did not pass the test, so it was not set") {
		t.Errorf("a wrong key is refused with %q", got)
	}
	if got := strings.ToLower(shown(t, ctx, "#probe-result")); !strings.Contains(got, "key") {
		t.Errorf("the failed test of a wrong key says %q", got)
	}
	browsertest.CheckAccessibility(t, ctx, "set key page with its error")
	browsertest.Screenshot(t, ctx, "set-key-wrong")
	act(t, ctx, "endpoint after the wrong key", chromedp.Navigate(endpointURL), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := shown(t, ctx, "main"); !strings.Contains(got, "Key not set") {
		t.Errorf("after a wrong key the endpoint no longer says its key is not set:\n%s", got)
	}

	// The right connection string: proved, set, and the flag is gone.
	act(t, ctx, "set key again", chromedp.Navigate(endpointURL+"/setkey"), chromedp.WaitVisible(chromedp.CSS("#connectionstring")))
	tabTo(t, ctx, "#connectionstring")
	act(t, ctx, "keyboard: paste the connection string", chromedp.KeyEvent(queueSend))
	tabTo(t, ctx, `form button.btn-primary`)
	act(t, ctx, "keyboard: submit the right key", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(".flashes .alert-success, #error-summary")))
	if got := pageProblems(t, ctx); got != "" {
		t.Fatalf("the right connection string was refused: %s", got)
	}
	if got := shown(t, ctx, ".flashes"); !strings.Contains(got, "passed the test and is now set") {
		t.Errorf("after Set key the flash says %q", got)
	}
	if got := shown(t, ctx, "main"); strings.Contains(got, "Key not set") {
		t.Errorf("the endpoint still says its key is not set:\n%s", got)
	}
	if got := needsKey(); strings.Contains(got, name) || !strings.Contains(got, "Account changes topic") {
		t.Errorf("after Set key the Needs a key filter shows %q", got)
	}
}

// TestEnvironmentsInBrowserPlanAndCopy registers an endpoint in Contoso Dev through the wizard,
// exports team Integration's endpoints there (the file holds no key), plans the file for
// Contoso Test and applies it (a wrong key writes nothing and names the endpoint; the right key
// creates it; the same file again has nothing to change), then copies the endpoint to Contoso
// Test from its page, side by side, and finds both linked. Axe runs on the plan and copy pages.
func TestEnvironmentsInBrowserPlanAndCopy(t *testing.T) {
	base, printed := startDev(t)
	cs := devConnectionStrings(t, printed.String())
	b := browsertest.New(t)
	ctx := browsertest.WithTimeout(t, b, 2*time.Minute)
	act(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))

	const name = "Orders to promote"
	signInAs(t, ctx, base, "integration-registrar", "/endpoints/new")
	sourceURL := registerInBrowser(t, ctx, base, cs["QueueSend"], name)

	// Export Contoso Dev for team Integration: the download holds a reference, not the key.
	act(t, ctx, "plan page", chromedp.Navigate(base+"/environments/plan"), chromedp.WaitVisible(chromedp.CSS("#file")))
	browsertest.CheckAccessibility(t, ctx, "plan and apply page")
	file := download(t, ctx, "export", func() {
		act(t, ctx, "export", setValue(`form[action="/environments/export"] #env`, "contoso-dev"), setValue(`form[action="/environments/export"] #team`, "Integration"),
			chromedp.Click(chromedp.CSS(`#format-yaml`)), chromedp.Click(chromedp.CSS(`form[action="/environments/export"] button`)))
	})
	export, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`SharedAccessKey=([^;]+)`).FindStringSubmatch(cs["QueueSend"])[1]
	if strings.Contains(string(export), key) {
		t.Fatal("the exported file holds the key")
	}
	if !strings.Contains(string(export), "name: "+name) || !strings.Contains(string(export), "secret: env:ORDERS_TO_PROMOTE_SAS_KEY") {
		t.Fatalf("the exported file does not describe the endpoint with a secret reference:\n%s", export)
	}

	// Upload it for Contoso Test: the plan creates the endpoint and asks for its secret.
	upload := func(what string) {
		t.Helper()
		act(t, ctx, what, chromedp.Navigate(base+"/environments/plan"), chromedp.WaitVisible(chromedp.CSS("#file")),
			setValue(`form[action="/environments/plan"] #env`, "contoso-test"), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
			chromedp.Click(chromedp.CSS(`form[action="/environments/plan"] button.btn-primary`)), chromedp.WaitVisible(chromedp.CSS("#changes-title")))
	}
	upload("plan for Contoso Test")
	if got := shown(t, ctx, ".page-head"); !strings.Contains(got, "Plan for Contoso Test") || !strings.Contains(got, "1 to create, 0 to update, 0 to delete") {
		t.Errorf("the plan's heading says %q", got)
	}
	if got := shown(t, ctx, "section[aria-labelledby=changes-title] tbody"); !strings.Contains(got, "create") || !strings.Contains(got, name) {
		t.Errorf("the plan's changes: %q", got)
	}
	if got := pageProblems(t, ctx); !strings.Contains(got, "Supply the value of env:ORDERS_TO_PROMOTE_SAS_KEY") {
		t.Errorf("the plan does not ask for the secret: %q", got)
	}
	browsertest.CheckAccessibility(t, ctx, "plan page")
	browsertest.Screenshot(t, ctx, "plan")

	apply := func(what, secret string) string {
		t.Helper()
		act(t, ctx, what, setValue(`input[name="secret.ORDERS_TO_PROMOTE_SAS_KEY"]`, secret),
			chromedp.Click(chromedp.CSS(`form[action="/environments/apply"] button[value=apply]`)), chromedp.WaitVisible(chromedp.CSS("#apply-result .alert")))
		return shown(t, ctx, "#apply-result")
	}
	// A wrong key: nothing is written, and the result names the endpoint.
	if got := apply("apply with a wrong key", wrongKey(cs["QueueSend"])); !strings.Contains(got, "The apply stopped") || !strings.Contains(got, name) || !strings.Contains(got, "Nothing was written") {
		t.Errorf("applying with a wrong key says %q", got)
	}
	if got := shown(t, ctx, `form[action="/environments/apply"] fieldset`); !strings.Contains(got, "Needed") || strings.Contains(got, "Optional") {
		t.Errorf("after a failed apply the secret the create needs is described as %q", got)
	}
	browsertest.CheckAccessibility(t, ctx, "plan page after a failed apply")
	browsertest.Screenshot(t, ctx, "apply-wrong-key")
	act(t, ctx, "Contoso Test after the failed apply", chromedp.Navigate(base+"/endpoints?env=contoso-test&q=promote"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := shown(t, ctx, "main"); strings.Contains(got, name) {
		t.Fatalf("a failed apply created the endpoint: %q", got)
	}
	// The right key: applied.
	upload("plan again")
	if got := shown(t, ctx, ".page-head"); !strings.Contains(got, "1 to create") {
		t.Errorf("after the failed apply the plan says %q", got)
	}
	if got := apply("apply", cs["QueueSend"]); !strings.Contains(got, "was applied") || !strings.Contains(got, "create endpoint “"+name+"”") {
		t.Errorf("applying with the right key says %q", got)
	}
	browsertest.Screenshot(t, ctx, "applied")
	// The same file again: nothing to change.
	upload("plan after the apply")
	if got := shown(t, ctx, ".page-head"); !strings.Contains(got, "0 to create, 0 to update, 0 to delete, 1 unchanged") {
		t.Errorf("the same file planned again says %q", got)
	}
	if n := evalInt(t, ctx, `document.querySelectorAll("tbody .badge-create, tbody .badge-update, tbody .badge-delete").length`); n != 0 {
		t.Errorf("the same file planned again shows %d changes", n)
	}
	act(t, ctx, "applied endpoint", chromedp.Navigate(base+"/endpoints?env=contoso-test&q=promote"), chromedp.WaitVisible(chromedp.CSS("table tbody tr")))
	if got := shown(t, ctx, "table tbody"); !strings.Contains(got, name) || !strings.Contains(got, "Integration") {
		t.Errorf("Contoso Test lists after the apply: %q", got)
	}

	// Copy to environment from the endpoint's page: side by side, then proved in the target.
	const copyName = name + " (copy)"
	act(t, ctx, "source endpoint", chromedp.Navigate(sourceURL), chromedp.WaitVisible(chromedp.CSS(`.page-head a[href$="/copy"]`)),
		chromedp.Click(chromedp.CSS(`.page-head a[href$="/copy"]`)), chromedp.WaitVisible(chromedp.CSS("#target")))
	if got := shownValue(t, ctx, "#target"); got != "contoso-test" {
		t.Errorf("the copy page offers target %q", got)
	}
	if got := shownValue(t, ctx, "#path"); got != "dataverse-queue" {
		t.Errorf("the copy page pre-fills the path %q", got)
	}
	browsertest.CheckAccessibility(t, ctx, "copy page")
	act(t, ctx, "side by side", setValue("#name", copyName), chromedp.Click(chromedp.CSS(`button[value=compare]`)), chromedp.WaitVisible(chromedp.CSS("#compare-title")))
	if got := shown(t, ctx, "section[aria-labelledby=compare-title] table"); !strings.Contains(got, "Contoso Dev") || !strings.Contains(got, copyName) || !strings.Contains(got, "dataverse-queue") {
		t.Errorf("the side-by-side view shows %q", got)
	}
	if got := shown(t, ctx, "section[aria-labelledby=compare-title] table td strong"); got != copyName {
		t.Errorf("the side-by-side view marks %q as differing, want the name", got)
	}
	browsertest.CheckAccessibility(t, ctx, "copy page side by side")
	browsertest.Screenshot(t, ctx, "copy-side-by-side")
	act(t, ctx, "prove and copy", setValue("#connectionstring", cs["QueueSend"]), chromedp.Click(chromedp.CSS(`button[value=copy]`)),
		chromedp.WaitVisible(chromedp.CSS(".flashes .alert-success, #error-summary")))
	if got := pageProblems(t, ctx); got != "" {
		t.Fatalf("the copy was refused: %s", got)
	}
	copyURL, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(copyURL, base+"/endpoints/contoso-test/") || shown(t, ctx, "h1") != copyName {
		t.Fatalf("after the copy the browser is at %s", copyURL)
	}
	if got := shown(t, ctx, ".flashes"); !strings.Contains(got, "passed its test in Contoso Test") {
		t.Errorf("after the copy the flash says %q", got)
	}
	browsertest.Screenshot(t, ctx, "copy")
	// Each links to the other.
	link := func(page, label, href string) {
		t.Helper()
		if got := shown(t, ctx, "section[aria-labelledby=env-title]"); !strings.Contains(got, label) {
			t.Errorf("the %s shows %q, want %q", page, got, label)
		}
		if n := evalInt(t, ctx, `document.querySelectorAll('section[aria-labelledby=env-title] a[href="`+strings.TrimPrefix(href, base)+`"]').length`); n != 1 {
			t.Errorf("the %s has %d links to %s", page, n, href)
		}
	}
	link("copy's page", "Copied from Contoso Dev", sourceURL)
	act(t, ctx, "source after the copy", chromedp.Navigate(sourceURL), chromedp.WaitVisible(chromedp.CSS("h1")))
	link("source's page", "Copy in Contoso Test", copyURL)
	submit(t, ctx, "follow the link to the copy", `section[aria-labelledby=env-title] a`, "h1")
	if got := shown(t, ctx, "h1"); got != copyName {
		t.Errorf("the source's copy link leads to %q", got)
	}
}

// download runs start, which makes the browser download a file, and returns the file's path.
func download(t *testing.T, ctx context.Context, what string, start func()) string {
	t.Helper()
	dir := t.TempDir()
	act(t, ctx, "allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
		return err
	}))
	bounded, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	progress := chromedp.Events(bounded, browser.DownloadProgress)
	start()
	for ev, err := range progress {
		if err != nil {
			browsertest.Screenshot(t, ctx, "failed-"+what)
			t.Fatalf("%s: no download: %v", what, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			return filepath.Join(dir, ev.GUID)
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("%s: the download was cancelled", what)
		}
	}
	t.Fatalf("%s: no download", what)
	return ""
}

// registerInBrowser registers a queue endpoint of team Integration in Contoso Dev through the
// wizard, validated and saved, and returns its page's address.
func registerInBrowser(t *testing.T, ctx context.Context, base, connectionString, name string) string {
	t.Helper()
	wizardToValidate(t, ctx, base, "contoso-dev", "Integration", connectionString, name, "", false)
	run(t, ctx, "validate", chromedp.Click(chromedp.CSS(`button[value=run]`)), chromedp.WaitVisible(chromedp.CSS("#probe-result .alert-success")))
	next(t, ctx, `button[value=save]:not([disabled])`)
	run(t, ctx, "save", chromedp.Click(chromedp.CSS(`button[value=save]`)), chromedp.WaitVisible(chromedp.CSS(".flashes .alert-success")))
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// importedWithoutKey prepares dataDir for `portal dev` as a solution import leaves Contoso Test:
// the endpoint name arrives without its key (issaskeyset false), as environments_test.go's
// importedQueue plays it. It points at a Service Bus stand-in of the test's own (the dev stack's
// address is known only once it runs), whose QueueSend connection string is returned: the
// endpoint's right key.
func importedWithoutKey(t *testing.T, dataDir, name string) string {
	t.Helper()
	sb, addr := startServiceBus(t)
	var queueSend string
	for _, cs := range sb.ConnectionStrings(addr) {
		if cs.Policy == sbemulator.DefaultQueueSendPolicy {
			queueSend = cs.Value
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dv, err := dvemulator.StartDev(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dv.Close()
	if _, err := dv.Environments[1].ImportSolution(dvemulator.Solution{UniqueName: "OrdersIntegration", FriendlyName: "Orders Integration"}, map[string]any{
		"serviceendpointid": dataverse.NewGUID(), "name": name, "description": "Imported with the Orders Integration solution.",
		"solutionnamespace": "127.0.0.1", "namespaceaddress": "sb://" + addr + "/", "path": sbemulator.DefaultQueue,
		"contract": 2, "connectionmode": 1, "userclaim": 1, "messageformat": 2, "namespaceformat": 2, "authtype": 2,
		"saskeyname": sbemulator.DefaultQueueSendPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	return queueSend
}
