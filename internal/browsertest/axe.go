package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

//go:embed axe.min.js
var axeSource string

// Violation is one accessibility rule axe-core found broken on a page.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  int    `json:"nodes"`
	Target string `json:"target"`
}

// Audit runs axe-core on the current page, injected through DevTools so the page's
// Content-Security-Policy does not stop it, and returns every violation.
func Audit(ctx context.Context) ([]Violation, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
		target: v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("axe-core result: %w", err)
	}
	return vs, nil
}

// CheckAccessibility audits the current page and fails t for every serious or critical
// violation. It returns all violations found.
func CheckAccessibility(t testing.TB, ctx context.Context, page string) []Violation {
	t.Helper()
	vs, err := Audit(ctx)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	t.Logf("axe-core on %s: %d violation(s) of any impact", page, len(vs))
	var bad []string
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, fmt.Sprintf("%s (%s, %d element(s), e.g. %s): %s", v.ID, v.Impact, v.Nodes, v.Target, v.Help))
		}
	}
	if len(bad) > 0 {
		t.Errorf("accessibility problems on %s:\n  %s", page, strings.Join(bad, "\n  "))
	}
	return vs
}
