package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/plan"
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
	req, missing := withSecrets(body, os.Getenv)
	if apply && len(missing) > 0 {
		fmt.Fprintf(stderr, "The file refers to %s, which this environment does not set: the endpoints using %s cannot be proved or written.\n",
			strings.Join(missing, ", "), map[bool]string{true: "it", false: "them"}[len(missing) == 1])
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var p api.Plan
	if err := call.do(ctx, http.MethodPost, "/"+name, url.Values{"environment": {*env}}, api.Raw{ContentType: api.PlanRequestContentType, Body: payload}, &p); err != nil {
		return problemExit(err)
	}
	if call.json {
		return nil
	}
	verb := "would change"
	if p.Applied {
		verb = "changed"
	}
	changes := 0
	for _, c := range p.Changes {
		if c.Action != "none" {
			changes++
		}
	}
	fmt.Fprintf(stdout, "%s: %d change(s) %s.\n", p.Environment, changes, verb)
	failed := 0
	for _, c := range p.Changes {
		line := fmt.Sprintf("  %-8s %-8s %s", c.Action, c.Kind, c.Name)
		if c.Outcome != "" {
			line += " [" + c.Outcome + "]"
			if c.Outcome == "failed" || c.Outcome == "not done" {
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

// withSecrets is the request for a file: the file as written, and the values of the env:NAME
// references it makes, read from this process's environment (a pipeline's secrets), never
// from the command line. missing names the references this environment does not set.
func withSecrets(file []byte, getenv func(string) string) (api.PlanRequest, []string) {
	req := api.PlanRequest{File: string(file), Secrets: map[string]string{}}
	doc, _ := plan.Parse(file) // the portal reports the file's problems, with their lines
	var missing []string
	for _, e := range doc.Endpoints {
		name, ok := strings.CutPrefix(e.Secret, "env:")
		if !ok {
			continue
		}
		if v := getenv(name); v != "" {
			req.Secrets[e.Secret] = v
		} else if !slices.Contains(missing, e.Secret) {
			missing = append(missing, e.Secret)
		}
	}
	return req, missing
}
