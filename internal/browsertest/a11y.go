package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Checks that axe-core does not make: reflow (WCAG 1.4.10), keyboard access to scrolling boxes
// (2.1.1) and the contrast of focus outlines against what is behind them (1.4.11).

// describeJS names an element for failure messages: tag, id, classes and label.
const describeJS = `function describe(el) {
	let s = el.tagName.toLowerCase();
	if (el.id) s += "#" + el.id;
	if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
	const label = el.getAttribute("aria-label") || (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 40);
	return label ? s + " (" + label + ")" : s;
}`

// Reflow is how wide the current page is against its viewport.
type Reflow struct {
	ScrollWidth int `json:"scrollWidth"`
	// Width is the layout viewport's: with mobile emulation window.innerWidth grows with a page
	// that is too wide (the browser zooms out to show it all), the layout viewport does not.
	Width       int      `json:"width"`
	Overflowing []string `json:"overflowing"` // the widest elements past the right edge
}

// MeasureReflow measures whether the page scrolls sideways.
func MeasureReflow(ctx context.Context) (Reflow, error) {
	js := `(() => {` + describeJS + `
	const w = Math.min(window.innerWidth, document.documentElement.clientWidth);
	const past = [...document.querySelectorAll("body *")].map(el => {
			const r = el.getBoundingClientRect();
			const spills = getComputedStyle(el).overflowX === "visible"; // text can run out of the box
			return [el, Math.max(r.right, spills ? r.left + el.scrollWidth : 0) + window.scrollX];
		})
		.filter(([el, right]) => right > w + 0.5).sort((a, b) => b[1] - a[1]).slice(0, 5)
		.map(([el, right]) => describe(el) + " ends at " + Math.round(right) + " px");
	return JSON.stringify({scrollWidth: document.documentElement.scrollWidth, width: w, overflowing: past});
})()`
	var r Reflow
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		return r, fmt.Errorf("measure reflow: %w", err)
	}
	return r, json.Unmarshal([]byte(out), &r)
}

// CheckReflow fails t when the current page is wider than its viewport: at 320 CSS pixels
// (400 % zoom of 1280) nothing may need scrolling in two directions.
func CheckReflow(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	r, err := MeasureReflow(ctx)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	if r.ScrollWidth > r.Width {
		t.Errorf("%s scrolls sideways: %d px wide in a %d px viewport; past the edge: %s",
			page, r.ScrollWidth, r.Width, strings.Join(r.Overflowing, "; "))
	}
}

// ScrollBox is an element whose content is wider than it is, so it scrolls sideways.
type ScrollBox struct {
	Element  string `json:"element"`
	Role     string `json:"role"`
	TabIndex int    `json:"tabIndex"`
	Name     string `json:"name"`
}

// ScrollBoxes lists the elements of the current page that scroll sideways.
func ScrollBoxes(ctx context.Context) ([]ScrollBox, error) {
	js := `(() => {` + describeJS + `
	const name = el => (el.getAttribute("aria-label") || (el.getAttribute("aria-labelledby") || "").split(/\s+/)
		.map(id => document.getElementById(id)).filter(Boolean).map(l => l.textContent.trim()).join(" ")).trim();
	return JSON.stringify([...document.querySelectorAll("body *")].filter(el => {
		const o = getComputedStyle(el).overflowX;
		return (o === "auto" || o === "scroll") && el.scrollWidth > el.clientWidth + 1;
	}).map(el => ({element: describe(el), role: el.getAttribute("role") || "", tabIndex: el.tabIndex, name: name(el)})));
})()`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		return nil, fmt.Errorf("find scroll boxes: %w", err)
	}
	var boxes []ScrollBox
	return boxes, json.Unmarshal([]byte(out), &boxes)
}

// CheckScrollBoxes fails t for every box of the current page that scrolls sideways but cannot
// be reached with the keyboard (tabindex 0) or is not a region with a name. It returns how many
// boxes scroll.
func CheckScrollBoxes(t testing.TB, ctx context.Context, page string) int {
	t.Helper()
	boxes, err := ScrollBoxes(ctx)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	for _, b := range boxes {
		if b.TabIndex < 0 || b.Role != "region" || b.Name == "" {
			t.Errorf("%s: %s scrolls sideways but is not a focusable, named region (tabindex %d, role %q, name %q)",
				page, b.Element, b.TabIndex, b.Role, b.Name)
		}
	}
	return len(boxes)
}

// FocusIndicator is what a keyboard user sees on one focused element: its outline and the
// backgrounds the outline is drawn on.
type FocusIndicator struct {
	Element     string
	Style       string
	Width       float64
	Colour      Colour
	Backgrounds []Colour
}

// MinContrast is the outline's lowest contrast against the backgrounds around it.
func (f FocusIndicator) MinContrast() float64 {
	least := 21.0
	for _, bg := range f.Backgrounds {
		least = min(least, ContrastRatio(f.Colour, bg))
	}
	return least
}

// focusedJS reports the focused element's outline and, for a point in the middle of the
// outline's stroke on each side, the background colours painted there from the top down to the
// first opaque one.
const focusedJS = `(() => {` + describeJS + `
	const el = document.activeElement;
	if (!el || el === document.body || el === document.documentElement) return "null";
	const cs = getComputedStyle(el), r = el.getBoundingClientRect();
	const width = parseFloat(cs.outlineWidth) || 0, d = (parseFloat(cs.outlineOffset) || 0) + width / 2;
	const points = [[r.left - d, r.top + r.height / 2], [r.right + d, r.top + r.height / 2],
		[r.left + r.width / 2, r.top - d], [r.left + r.width / 2, r.bottom + d]];
	const backgrounds = [];
	for (const [x, y] of points) {
		if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) continue;
		const layers = [];
		for (const under of document.elementsFromPoint(x, y)) {
			if (under === el || el.contains(under)) continue;
			const bg = getComputedStyle(under).backgroundColor;
			layers.push(bg);
			const parts = bg.match(/[\d.]+/g) || [];
			if (parts.length < 4 || +parts[3] >= 1) break; // opaque: nothing below shows through
		}
		backgrounds.push(layers);
	}
	return JSON.stringify({element: describe(el), key: el.outerHTML.slice(0, 200) + "@" + Math.round(r.left + scrollX) + "," + Math.round(r.top + scrollY),
		style: cs.outlineStyle, width: width, colour: cs.outlineColor, backgrounds: backgrounds});
})()`

// FocusIndicators presses Tab from wherever focus is now until focus comes back to an element
// it has visited, leaves the page, or max presses, and describes the indicator of each element
// focused on the way.
func FocusIndicators(ctx context.Context, max int) ([]FocusIndicator, error) {
	var found []FocusIndicator
	seen := map[string]bool{}
	for range max {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return found, fmt.Errorf("press Tab: %w", err)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](focusedJS))
		if err != nil {
			return found, fmt.Errorf("read the focused element: %w", err)
		}
		if out == "null" {
			break
		}
		var raw struct {
			Element, Key, Style, Colour string
			Width                       float64
			Backgrounds                 [][]string
		}
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			return found, err
		}
		if seen[raw.Key] {
			break
		}
		seen[raw.Key] = true
		f := FocusIndicator{Element: raw.Element, Style: raw.Style, Width: raw.Width}
		if f.Colour, err = ParseColour(raw.Colour); err != nil {
			return found, fmt.Errorf("%s: outline %w", raw.Element, err)
		}
		for _, layers := range raw.Backgrounds {
			bg := Colour{R: 255, G: 255, B: 255, A: 1} // the canvas, when nothing paints there
			for i := len(layers) - 1; i >= 0; i-- {
				c, err := ParseColour(layers[i])
				if err != nil {
					return found, fmt.Errorf("%s: background %w", raw.Element, err)
				}
				bg = c.Over(bg)
			}
			f.Backgrounds = append(f.Backgrounds, bg)
		}
		found = append(found, f)
	}
	return found, nil
}

// CheckFocusIndicators tabs through the current page from where focus is and fails t for
// every element focused without a visible outline, or with an outline under 3:1 against a
// background it is drawn on (WCAG 1.4.11). It returns how many elements it checked.
func CheckFocusIndicators(t testing.TB, ctx context.Context, page string) int {
	t.Helper()
	found, err := FocusIndicators(ctx, 200)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	for _, f := range found {
		switch {
		case f.Style == "none" || f.Width < 1:
			t.Errorf("%s: %s shows no focus outline (outline %s %.0fpx)", page, f.Element, f.Style, f.Width)
		case f.MinContrast() < 3:
			var against []string
			for _, bg := range f.Backgrounds {
				against = append(against, fmt.Sprintf("%.2f:1 on %s", ContrastRatio(f.Colour, bg), bg))
			}
			t.Errorf("%s: the focus outline of %s (%s) is too faint: %s", page, f.Element, f.Colour, strings.Join(against, ", "))
		}
	}
	if len(found) == 0 {
		t.Errorf("%s: Tab focused nothing", page)
	}
	return len(found)
}
