package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/contoso/sbportal/api"
)

func init() {
	for _, apply := range []bool{false, true} {
		name, summary := "plan", "show what applying a file of endpoints to an environment would change (over a portal's API)"
		if apply {
			name, summary = "apply", "change an environment to match a file of endpoints (over a portal's API)"
		}
		register(command{name: name, summary: summary, run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runPlan(ctx, name, apply, args, stdout, stderr)
		}})
	}
}

func runPlan(ctx context.Context, name string, apply bool, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(name, name+" -f FILE --environment ID [--portal URL] [--output text|json]", stderr)
	var f apiFlags
	f.register(fs)
	file := fs.String("f", "", "the file of endpoints (JSON or YAML)")
	env := fs.String("environment", "", "the id of the Dataverse environment")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *file == "" || *env == "" {
		return fmt.Errorf("%w: both -f FILE and --environment ID are needed", errUsage)
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	call, err := f.connect(stdout)
	if err != nil {
		return err
	}
	ct := "application/json"
	if ext := strings.ToLower(filepath.Ext(*file)); ext == ".yaml" || ext == ".yml" {
		ct = "application/yaml"
	}
	var p api.Plan
	if err := call.do(ctx, http.MethodPost, "/"+name, url.Values{"environment": {*env}}, api.Raw{ContentType: ct, Body: body}, &p); err != nil {
		return problemExit(err)
	}
	if call.json {
		return nil
	}
	verb := "would change"
	if p.Applied {
		verb = "changed"
	}
	fmt.Fprintf(stdout, "%s: %d change(s) %s.\n", p.Environment, len(p.Changes), verb)
	failed := 0
	for _, c := range p.Changes {
		line := fmt.Sprintf("  %-8s %-8s %s", c.Action, c.Kind, c.Name)
		if c.Outcome != "" {
			line += " [" + c.Outcome + "]"
			if c.Outcome == "failed" {
				failed++
			}
		}
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		fmt.Fprintln(stdout, line)
	}
	if failed > 0 {
		return fmt.Errorf("%d change(s) failed", failed)
	}
	return nil
}
