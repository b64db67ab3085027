package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/endpoint"
)

func init() {
	register(command{
		name:    "endpoints",
		summary: "list, show, test, set the key of, or delete endpoints over a portal's API (list|get|test|set-key|delete)",
		run:     runEndpoints,
	})
}

const endpointsUsage = `endpoints list [--env ID] [--team T] [--type N] [--status passed|failed|never] [--search TEXT]
   or: endpoints get ENV ID
   or: endpoints test ENV ID
   or: endpoints set-key ENV ID [--from-env VAR] [--webhook-auth key|header|query]   (the key on standard input unless --from-env)
   or: endpoints delete ENV ID --yes

Talks to the portal at --portal (or PORTAL_URL) with an access token from PORTAL_TOKEN or
DefaultAzureCredential (scope <PORTAL_API_AUDIENCE>/.default).
Exit status: 0 ok, 1 failed, 2 usage, 3 proved wrong (the test message of test or set-key failed).`

func runEndpoints(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("endpoints", endpointsUsage, stderr)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: name a subcommand: list, get, test, set-key or delete", errUsage)
	}
	sub, args := args[0], args[1:]
	var f apiFlags
	f.register(fs)
	switch sub {
	case "list":
		q := url.Values{}
		for _, name := range []struct{ flag, param, help string }{{"env", "env", "only this environment"}, {"team", "team", "only this team's endpoints (- for those not registered through the portal)"},
			{"type", "type", "only this designation type (Dataverse code, e.g. 2 queue, 8 webhook)"}, {"status", "status", "last validation: passed, failed or never"},
			{"search", "q", "text in the name, address or description"}} {
			fs.Func(name.flag, name.help, func(v string) error { q.Set(name.param, v); return nil })
		}
		if _, err := parseArgs(fs, args); err != nil {
			return err
		}
		call, err := f.connect(stdout)
		if err != nil {
			return err
		}
		return listEndpoints(ctx, call, q)
	case "get", "test", "delete", "set-key":
		yes := fs.Bool("yes", false, "delete: confirm the deletion (the endpoint and its steps)")
		fromEnv := fs.String("from-env", "", "set-key: read the key from this environment variable instead of standard input")
		webhookAuth := fs.String("webhook-auth", "", "set-key of a webhook: key (the default), header or query (then name=value lines)")
		pos, err := parseArgs(fs, args, "ENV", "ID")
		if err != nil {
			return err
		}
		call, err := f.connect(stdout)
		if err != nil {
			return err
		}
		path := "/endpoints/" + url.PathEscape(pos[0]) + "/" + url.PathEscape(pos[1])
		switch sub {
		case "get":
			var e api.Endpoint
			if err := call.do(ctx, http.MethodGet, path, nil, nil, &e); err != nil || call.json {
				return err
			}
			printEndpoint(stdout, e)
			return nil
		case "test":
			return runTest(ctx, call, path)
		case "delete":
			if !*yes {
				return fmt.Errorf("%w: deleting removes the endpoint and its steps from Dataverse; add --yes to confirm", errUsage)
			}
			if err := call.do(ctx, http.MethodDelete, path, nil, nil, nil); err != nil {
				return err
			}
			if !call.json {
				fmt.Fprintf(stdout, "Deleted %s in %s.\n", pos[1], pos[0])
			}
			return nil
		}
		secret, err := readSecret(os.Stdin, *fromEnv)
		if err != nil {
			return err
		}
		return setKey(ctx, call, path, secret, *webhookAuth)
	}
	return fmt.Errorf("%w: unknown subcommand %q: list, get, test, set-key or delete", errUsage, sub)
}

func listEndpoints(ctx context.Context, call *apiCall, q url.Values) error {
	q.Set("pageSize", "500")
	var all []api.Endpoint
	var last api.EndpointList
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		var l api.EndpointList
		if _, err := call.client.Do(ctx, http.MethodGet, "/endpoints", q, nil, &l); err != nil {
			return err
		}
		all, last = append(all, l.Items...), l
		if page >= l.Pages {
			break
		}
	}
	last.Items, last.Page, last.Pages = all, 1, 1
	if call.json {
		return printJSON(call.stdout, last)
	}
	tw := tabwriter.NewWriter(call.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tID\tNAME\tTYPE\tTEAM\tLAST VALIDATION")
	for _, e := range all {
		last := "never"
		if e.LastValidation != nil {
			last = e.LastValidation.Result + " " + e.LastValidation.At.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Environment, e.Endpoint.ID, e.Endpoint.Name, e.Endpoint.Contract.Label(), orDash(e.OwnerTeam), last)
	}
	for _, u := range last.Unavailable {
		fmt.Fprintf(tw, "(%s could not be read: %s)\n", u.Environment, u.Problem)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printEndpoint(w io.Writer, e api.Endpoint) {
	ep := e.Endpoint
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("Name", ep.Name)
	row("Id", ep.ID)
	row("Environment", e.EnvironmentName+" ("+e.Environment+")")
	row("Owning team", orDash(e.OwnerTeam))
	row("Designation type", ep.Contract.Label())
	if endpoint.KindOf(ep) == endpoint.KindWebhook {
		row("URL", ep.URL)
	} else {
		row("Namespace", ep.NamespaceAddress)
		row("Path", ep.Path)
		row("SAS key name", ep.SASKeyName)
	}
	row("Authentication", ep.AuthType.Label())
	row("Message format", ep.MessageFormat.Label())
	if e.KeyStored != nil {
		row("Key kept by the portal", map[bool]string{true: "yes", false: "no"}[*e.KeyStored])
	}
	if v := e.LastValidation; v != nil {
		row("Last validation", v.Result+" on "+v.At.UTC().Format("2006-01-02 15:04 UTC")+" by "+v.By+": "+v.Summary)
	}
	_ = tw.Flush()
}

func runTest(ctx context.Context, call *apiCall, path string) error {
	var res api.TestResult
	if err := call.do(ctx, http.MethodPost, path+"/test", nil, nil, &res); err != nil {
		return problemExit(err)
	}
	if !call.json {
		fmt.Fprintln(call.stdout, res.Text())
	}
	if !res.Passed {
		return fmt.Errorf("%w: %s", errProvedWrong, res.Title)
	}
	return nil
}

// readSecret reads a key from the named environment variable, or the first line of standard
// input: never from the command line, where other users and shell histories see it.
func readSecret(stdin io.Reader, fromEnv string) (string, error) {
	if fromEnv != "" {
		v := strings.TrimSpace(os.Getenv(fromEnv))
		if v == "" {
			return "", fmt.Errorf("%w: environment variable %s is empty", errUsage, fromEnv)
		}
		return v, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the key from standard input: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%w: no key on standard input; pipe it in (e.g. from your secret store) or name a variable with --from-env", errUsage)
	}
	return v, nil
}

func setKey(ctx context.Context, call *apiCall, path, secret, webhookAuth string) error {
	var e api.Endpoint
	if _, err := call.client.Do(ctx, http.MethodGet, path, nil, nil, &e); err != nil {
		return err
	}
	var cred api.Credential
	if endpoint.KindOf(e.Endpoint) == endpoint.KindWebhook {
		cred.WebhookAuth = webhookAuth
		switch webhookAuth {
		case "", "key":
			cred.WebhookAuth, cred.WebhookKey = "key", secret
		case "header", "query":
			sc := bufio.NewScanner(strings.NewReader(secret))
			for sc.Scan() {
				name, value, ok := strings.Cut(sc.Text(), "=")
				if !ok {
					return fmt.Errorf("%w: write header or query settings as name=value, one a line", errUsage)
				}
				cred.Settings = append(cred.Settings, api.WebhookSetting{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
			}
		default:
			return fmt.Errorf("%w: --webhook-auth is key, header or query", errUsage)
		}
	} else {
		cred.ConnectionString = secret
	}
	var res api.TestResult
	if err := call.do(ctx, http.MethodPost, path+"/set-key", nil, api.SetKeyRequest{Credential: cred}, &res); err != nil {
		return problemExit(err)
	}
	if !call.json {
		fmt.Fprintf(call.stdout, "The new key passed the test and %s now uses it.\n%s\n", e.Endpoint.Name, res.Text())
	}
	return nil
}

// printJSON prints v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
