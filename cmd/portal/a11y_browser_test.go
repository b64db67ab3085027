package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/contoso/sbportal/internal/browsertest"
)

// TestA11yInBrowser checks, at 1280 and 390 px wide (and the list and an error page at 640 and
// 320 px, 200 % and 400 % zoom of 1280), what the WCAG 2.2 AA audit of issue 18 found wrong:
// results announced through live regions that stay in the page (1), focus that stays on the
// button pressed (2), pages that reflow (3, 4), scrolling tables reachable by keyboard (5),
// focus outlines of at least 3:1 (6), a radio group's error on each radio (7), and form errors
// that take focus and name themselves in the title (8). Axe runs on each page as well.
func TestA11yInBrowser(t *testing.T) {
	base, printed := startDev(t)
	cs := devConnectionStrings(t, printed.String())
	browser := browsertest.New(t)
	for _, width := range []int{1280, 390} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browsertest.WithTimeout(t, browser, 6*time.Minute)
			a := a11yRun{t: t, ctx: ctx, base: base, width: width}
			a.viewport(width)
			a.wizardAndEndpoint(cs, fmt.Sprintf("A11y queue %d", width))
			a.seededEndpointAndAuditLog()
		})
	}
}

// a11yRun is one pass of TestA11yInBrowser at one viewport width.
type a11yRun struct {
	t     *testing.T
	ctx   context.Context
	base  string
	width int
}

func (a a11yRun) viewport(width int) {
	a.t.Helper()
	if width <= 400 {
		run(a.t, a.ctx, "viewport", chromedp.EmulateViewport(int64(width), 844, chromedp.EmulateMobile))
	} else {
		run(a.t, a.ctx, "viewport", chromedp.EmulateViewport(int64(width), 900))
	}
}

// page checks what every page must pass: axe, reflow at this width (and at 200 % and 400 %
// zoom when zoom is set), and focus outlines along the whole tab order from the top.
func (a a11yRun) page(page string, zoom bool) {
	a.t.Helper()
	name := fmt.Sprintf("%s at %d px", page, a.width)
	for _, v := range browsertest.CheckAccessibility(a.t, a.ctx, name) {
		a.t.Logf("axe-core on %s: %s (%s): %s", name, v.ID, v.Impact, v.Target)
	}
	browsertest.CheckReflow(a.t, a.ctx, name)
	if zoom && a.width > 640 {
		for _, w := range []int{640, 320} { // 200 % and 400 % zoom of 1280 CSS pixels
			a.viewport(w)
			browsertest.CheckReflow(a.t, a.ctx, fmt.Sprintf("%s at %d px (%d %% zoom)", page, w, 1280*100/w))
		}
		a.viewport(a.width)
	}
	if a.width <= 400 {
		browsertest.Screenshot(a.t, a.ctx, name)
	}
	// Walk the tab order from the top of the page: focusing <body> moves the starting point there.
	a.eval(`document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute("tabindex"); window.scrollTo(0, 0); true`)
	a.t.Logf("%s: %d focus outlines checked", name, browsertest.CheckFocusIndicators(a.t, a.ctx, name))
}

func (a a11yRun) eval(js string) string {
	a.t.Helper()
	out, err := chromedp.Run(a.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		browsertest.Screenshot(a.t, a.ctx, "failed-eval")
		a.t.Fatalf("%s: %v", js, err)
	}
	return fmt.Sprint(out)
}

// waitFor polls a JavaScript condition until it holds: autofocus, for one, happens a moment
// after load.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	bounded := browsertest.WithTimeout(t, ctx, 20*time.Second)
	for {
		ok, err := chromedp.Run(bounded, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		select {
		case <-bounded.Done():
			browsertest.Screenshot(t, ctx, "failed-wait")
			t.Fatalf("%s: never true (%s): %v", what, js, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// errorTakesFocus checks a page that came back from the server with a problem: focus is on its
// error summary and the title starts with "Error: " (item 8).
func (a a11yRun) errorTakesFocus(page string) {
	a.t.Helper()
	waitFor(a.t, a.ctx, page+": focus on the error summary", `document.activeElement && document.activeElement.id === "error-summary"`)
	if title := a.eval(`document.title`); !strings.HasPrefix(title, "Error: ") {
		a.t.Errorf("%s: the title %q does not start with the error", page, title)
	}
}

// liveResult is a result region and the button whose press fills it, before and after.
type liveResult struct {
	Kept, Focused, Disabled bool
	Role, Text, Active      string
	AriaDisabled            string // "none" when the attribute is absent
	Alerts                  int
	Busy                    []struct {
		AriaDisabled string
		Disabled     bool
		Focused      bool
	}
}

// pressForResult presses button with the keyboard and waits until done is shown. It checks the
// live region (region) is the node that was there before, still a status region, with new
// text (item 1), and that focus stayed on the button throughout, which was marked
// aria-disabled rather than disabled while the request ran (item 2). Pressed twice at once,
// the button sends one request.
func (a a11yRun) pressForResult(what, region, button, done string) {
	a.t.Helper()
	q := strconv.Quote
	arm := `(() => {
		const region = document.querySelector(` + q(region) + `), button = document.querySelector(` + q(button) + `);
		window.a11yRegion = region;
		region.replaceChildren();
		window.a11yBusy = [];
		if (!window.a11yListening) {
			window.a11yListening = true;
			document.addEventListener("htmx:beforeSend", () => {
				const b = document.querySelector(` + q(button) + `);
				window.a11yBusy.push({AriaDisabled: b.getAttribute("aria-disabled") ?? "none", Disabled: b.disabled, Focused: document.activeElement === b});
			});
		}
		button.focus();
		return true;
	})()`
	read := `(() => {
		const region = window.a11yRegion, button = document.querySelector(` + q(button) + `), el = document.activeElement;
		return JSON.stringify({Kept: document.querySelector(` + q(region) + `) === region, Role: region.getAttribute("role") || "", Text: region.textContent.trim(),
			Focused: el === button, Active: el ? el.tagName + "#" + el.id + "." + el.className : "none",
			AriaDisabled: button.getAttribute("aria-disabled") ?? "none", Disabled: button.disabled,
			Alerts: region.querySelectorAll("[role=alert]").length, Busy: window.a11yBusy});
	})()`
	check := func(how string) {
		var got liveResult
		if err := json.Unmarshal([]byte(a.eval(read)), &got); err != nil {
			a.t.Fatal(err)
		}
		if !got.Kept || got.Role != "status" || got.Text == "" {
			a.t.Errorf("%s (%s): the result did not arrive in the status region present before: kept %v, role %q, text %q", what, how, got.Kept, got.Role, got.Text)
		}
		if got.Alerts != 0 {
			a.t.Errorf("%s (%s): %d alert(s) inside the status region would be announced twice", what, how, got.Alerts)
		}
		if !got.Focused {
			a.t.Errorf("%s (%s): focus moved to %s", what, how, got.Active)
		}
		if got.Disabled || got.AriaDisabled != "none" {
			a.t.Errorf("%s (%s): the button stays unavailable after the result (disabled %v, aria-disabled %s)", what, how, got.Disabled, got.AriaDisabled)
		}
		if len(got.Busy) != 1 {
			a.t.Fatalf("%s (%s): %d requests sent, want 1", what, how, len(got.Busy))
		}
		if b := got.Busy[0]; b.Disabled || b.AriaDisabled != "true" || !b.Focused {
			a.t.Errorf("%s (%s): while the request ran the button was disabled %v, aria-disabled %s, focused %v; want aria-disabled and focused",
				what, how, b.Disabled, b.AriaDisabled, b.Focused)
		}
	}
	ctx := browsertest.WithTimeout(a.t, a.ctx, time.Minute)
	a.eval(arm)
	run(a.t, ctx, what, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(done)))
	check("Enter")
	a.eval(arm)
	run(a.t, ctx, what+" twice", chromedp.Evaluate[chromedp.Void](`(b => { b.click(); b.click(); })(document.querySelector(`+q(button)+`))`),
		chromedp.WaitVisible(chromedp.CSS(done)))
	check("pressed twice")
}

// wizardAndEndpoint registers an endpoint through the wizard, meeting a radio group error
// and a connection string error on the way, then tests it on its page and in the list, and
// edits it with an error.
func (a a11yRun) wizardAndEndpoint(cs map[string]string, name string) {
	t, ctx := a.t, a.ctx
	signInAs(t, ctx, a.base, "integration-registrar", "/endpoints/new")

	// Item 7: without a kind, the radio group's error describes each radio.
	run(t, ctx, "step 1 without a kind", setValue("#environment", "contoso-dev"), setValue("#team", "Integration"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("input[name=kind]").forEach(r => r.checked = false)`))
	next(t, ctx, "#kind-error")
	radios := a.eval(`JSON.stringify([...document.querySelectorAll("input[name=kind]")].map(r => (r.getAttribute("aria-describedby") || "").split(/\s+/).includes("kind-error")))`)
	if radios != "[true,true]" {
		t.Errorf("the kind radios' aria-describedby name kind-error: %s", radios)
	}
	if got := text(t, ctx, "#kind-error"); !strings.Contains(got, "Choose") {
		t.Errorf("kind error says %q", got)
	}
	a.errorTakesFocus("step 1 without a kind")
	a.page("wizard step 1 with an error", false)

	// Item 4 and 8: a long example in a connection string error wraps; the error takes focus.
	run(t, ctx, "choose a kind", chromedp.Evaluate[chromedp.Void](`document.getElementById("kind-servicebus").checked = true`))
	next(t, ctx, "#connectionstring")
	run(t, ctx, "paste a broken connection string", setValue("#connectionstring", "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName"))
	next(t, ctx, "#connectionstring-error")
	a.errorTakesFocus("step 2 with a broken connection string")
	a.page("wizard step 2 with an error", true)

	run(t, ctx, "paste the connection string", setValue("#connectionstring", cs["QueueSend"]))
	next(t, ctx, "#name")
	run(t, ctx, "fill the details", setValue("#name", name), setValue("#contract", "2"))
	next(t, ctx, `button[value=run]`)
	a.page("wizard step 4", false)

	// Items 1 and 2 in the wizard.
	a.pressForResult("run validation", "#probe-result", `button[value=run]`, "#probe-result .alert-success")
	if title := a.eval(`document.title`); strings.Contains(title, "failed") {
		t.Errorf("a passing validation titles the page %q", title)
	}
	next(t, ctx, `button[value=save]:not([disabled])`)
	a.page("wizard step 5", false)
	run(t, ctx, "save", chromedp.Click(chromedp.CSS(`button[value=save]`)), chromedp.WaitVisible(chromedp.CSS(".flashes .alert-success")))
	endpointURL, _ := chromedp.Run(ctx, chromedp.Location())

	// Items 1 and 2 on the endpoint page; item 5 for its history and audit tables.
	a.pressForResult("send a test message", "#probe-result", `form button.btn-primary`, "#probe-result .alert-success")
	run(t, ctx, "reload the endpoint page", chromedp.Navigate(endpointURL), chromedp.WaitVisible(chromedp.CSS("#history-title")))
	a.scrollBoxes("endpoint page", 2)
	a.page("endpoint page", false)

	// Item 8 on the edit page.
	run(t, ctx, "edit without a name", chromedp.Navigate(endpointURL+"/edit"), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("name").value = ""`), chromedp.Click(chromedp.CSS(`form button.btn-primary`)), chromedp.WaitVisible(chromedp.CSS("#name-error")))
	a.errorTakesFocus("edit without a name")
	a.page("edit page with an error", false)

	// Items 1 and 2 for a list row's Test; item 3 for the list, at every width.
	run(t, ctx, "list", chromedp.Navigate(a.base+"/endpoints?q="+url.QueryEscape(name)), chromedp.WaitVisible(chromedp.CSS("table tbody tr form button")))
	a.pressForResult("test from the list", "table tbody tr [role=status]", "table tbody tr form button", "table tbody tr .badge")
	run(t, ctx, "reload the list", chromedp.Navigate(a.base+"/endpoints"), chromedp.WaitVisible(chromedp.CSS("table tbody tr")))
	a.scrollBoxes("endpoint list", 1)
	// The user menu's sign-out button sits on white inside the dark header: check it too.
	a.eval(`document.querySelector(".user-menu").open = true; true`)
	a.page("endpoint list", true)
}

// seededEndpointAndAuditLog checks, as an Admin, the steps table of a seeded endpoint and the
// audit log (item 5), and the Admin's pages otherwise.
func (a a11yRun) seededEndpointAndAuditLog() {
	t, ctx := a.t, a.ctx
	signInAs(t, ctx, a.base, "admin", "/endpoints?q=Orders+queue+%28payments%29&env=contoso-dev")
	run(t, ctx, "seeded endpoint", chromedp.WaitVisible(chromedp.CSS(`table tbody tr td a`)), chromedp.Click(chromedp.CSS(`table tbody tr td a`)),
		chromedp.WaitVisible(chromedp.CSS("#steps-title")))
	a.scrollBoxes("seeded endpoint page", 1)
	a.page("seeded endpoint page", false)
	run(t, ctx, "audit log", chromedp.Navigate(a.base+"/audit"), chromedp.WaitVisible(chromedp.CSS("main table")))
	a.scrollBoxes("audit log", 1)
	a.page("audit log", true)
	run(t, ctx, "notifications", chromedp.Navigate(a.base+"/notifications"), chromedp.WaitVisible(chromedp.CSS("#notifications-title")))
	a.page("notifications", false)
}

// scrollBoxes checks that every box that scrolls sideways is a focusable, named region (item
// 5). At phone width at least want boxes must scroll, and the first scrolls with the arrow keys
// once Tab reaches it.
func (a a11yRun) scrollBoxes(page string, want int) {
	a.t.Helper()
	n := browsertest.CheckScrollBoxes(a.t, a.ctx, fmt.Sprintf("%s at %d px", page, a.width))
	a.t.Logf("%s at %d px: %d table(s) scroll sideways", page, a.width, n)
	if a.width > 400 {
		return
	}
	if n < want {
		a.t.Fatalf("%s at %d px: %d table(s) scroll sideways, want at least %d (the check would prove nothing)", page, a.width, n, want)
	}
	a.eval(`(() => {
		const box = [...document.querySelectorAll(".table-wrap")].find(el => el.scrollWidth > el.clientWidth + 1);
		box.setAttribute("data-a11y-scrolls", "");
		document.activeElement && document.activeElement.blur();
		window.scrollTo(0, 0);
		return true;
	})()`)
	tabTo(a.t, a.ctx, "[data-a11y-scrolls]")
	for range 4 {
		run(a.t, a.ctx, "arrow right", chromedp.KeyEvent(kb.ArrowRight))
	}
	// Keyboard scrolling is animated: wait for it.
	waitFor(a.t, a.ctx, page+": the arrow keys scroll the focused table", `document.querySelector("[data-a11y-scrolls]").scrollLeft > 0`)
}

// TestA11yFocusColourInStylesheet checks the focus outline's colour against every background of
// the stylesheet an outline can be drawn on (item 6), including those no browser test shows.
func TestA11yFocusColourInStylesheet(t *testing.T) {
	css, err := os.ReadFile("../../static/files/app.css")
	if err != nil {
		t.Fatal(err)
	}
	variable := func(name string) string {
		m := regexp.MustCompile(`--` + name + `:\s*(#[0-9a-fA-F]{3,6})`).FindSubmatch(css)
		if m == nil {
			t.Fatalf("app.css defines no --%s", name)
		}
		return string(m[1])
	}
	rule := func(selector string) string {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(selector) + `\s*\{[^}]*background:\s*(#[0-9a-fA-F]{3,6})`).FindSubmatch(css)
		if m == nil {
			t.Fatalf("app.css gives %s no background", selector)
		}
		return string(m[1])
	}
	// Where focusable things sit: the page, cards and menus, alerts, the completed wizard steps
	// (links), table headers, hovered buttons and code blocks take --focus; the dark header
	// --focus-on-dark (its translucent pills are composited, and checked, in TestA11yInBrowser).
	backgrounds := map[string]string{} // where → its background
	for _, v := range []string{"--bg", "--surface", "--accent-soft", "--ok-soft", "--warn-soft", "--err-soft"} {
		backgrounds[v] = variable(strings.TrimPrefix(v, "--"))
	}
	for _, sel := range []string{"th", "pre", ".wizard-step", ".btn:hover, button:hover"} {
		backgrounds[sel] = rule(sel)
	}
	for where, hex := range backgrounds {
		checkFocusColour(t, variable("focus"), where, hex)
	}
	checkFocusColour(t, variable("focus-on-dark"), ".site-header", rule(".site-header"))
}

func checkFocusColour(t *testing.T, focusHex, where, hex string) {
	t.Helper()
	focus, err := browsertest.ParseColour(focusHex)
	if err != nil {
		t.Fatal(err)
	}
	bg, err := browsertest.ParseColour(hex)
	if err != nil {
		t.Fatal(err)
	}
	if r := browsertest.ContrastRatio(focus, bg); r < 3 {
		t.Errorf("the focus outline %s is %.2f:1 on %s (%s), want at least 3:1", focus, r, where, hex)
	}
}
