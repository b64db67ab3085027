package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/dataverse"
)

// The CLI's environment variables (besides azidentity's AZURE_*).
var cliVariables = map[string]string{
	"PORTAL_URL":          "the portal's address, e.g. https://portal.contoso.com (or --portal)",
	"PORTAL_TOKEN":        "an access token to send as it is, instead of asking DefaultAzureCredential",
	"PORTAL_API_AUDIENCE": "the portal API's identifier: tokens are asked for the scope <PORTAL_API_AUDIENCE>/.default",
}

// errProvedWrong marks a test or set-key whose test message failed: exit status 3.
var errProvedWrong = errors.New("proved wrong")

// apiFlags are the flags every CLI command that talks to a portal takes.
type apiFlags struct {
	portal string
	output string
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.portal, "portal", os.Getenv("PORTAL_URL"), "the portal's address (default $PORTAL_URL)")
	fs.StringVar(&f.output, "output", "text", "text (for people) or json (the API's answer, for scripts)")
}

// apiCall is one CLI command's connection to a portal.
type apiCall struct {
	client *api.Client
	json   bool
	stdout io.Writer
}

// connect checks the flags and builds the client. Tokens come from PORTAL_TOKEN, or from
// azidentity's DefaultAzureCredential (environment variables, workload identity, managed
// identity, Azure CLI) for the scope <PORTAL_API_AUDIENCE>/.default.
func (f *apiFlags) connect(stdout io.Writer) (*apiCall, error) {
	if f.output != "text" && f.output != "json" {
		return nil, fmt.Errorf("%w: --output is text or json, not %q", errUsage, f.output)
	}
	if f.portal == "" {
		return nil, fmt.Errorf("%w: say which portal: --portal https://portal.contoso.com, or set PORTAL_URL", errUsage)
	}
	if u, err := url.Parse(f.portal); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: --portal %q is not an http(s) address", errUsage, f.portal)
	}
	token, err := tokenSource()
	if err != nil {
		return nil, err
	}
	return &apiCall{client: &api.Client{BaseURL: f.portal, Token: token}, json: f.output == "json", stdout: stdout}, nil
}

func tokenSource() (func(context.Context) (string, error), error) {
	if t := strings.TrimSpace(os.Getenv("PORTAL_TOKEN")); t != "" {
		return func(context.Context) (string, error) { return t, nil }, nil
	}
	audience := strings.TrimSuffix(os.Getenv("PORTAL_API_AUDIENCE"), "/")
	if audience == "" {
		return nil, fmt.Errorf("%w: set PORTAL_API_AUDIENCE to the portal API's identifier (e.g. api://service-endpoint-portal), or PORTAL_TOKEN to an access token", errUsage)
	}
	opts := &azidentity.DefaultAzureCredentialOptions{}
	if host := os.Getenv("AZURE_AUTHORITY_HOST"); host != "" && !dataverse.IsPublicAuthority(host) {
		// A private or local authority has no Entra instance metadata to discover.
		opts.DisableInstanceDiscovery = true
	}
	cred, err := azidentity.NewDefaultAzureCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("no Azure credential: %w", err)
	}
	return func(ctx context.Context) (string, error) {
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{audience + "/.default"}})
		if err != nil {
			return "", fmt.Errorf("get an access token for %s/.default: %w", audience, err)
		}
		return tok.Token, nil
	}, nil
}

// do calls the API; with --output json it prints the answer (problems too) as it came.
func (c *apiCall) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	data, err := c.client.Do(ctx, method, path, query, body, out)
	if c.json && len(data) > 0 {
		var v any
		if json.Unmarshal(data, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintln(c.stdout, string(b))
		}
	}
	return err
}

// parseArgs parses flags anywhere among the arguments and returns the others, checking their
// number.
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != len(names) {
		return nil, fmt.Errorf("%w: want %s, got %d argument(s)", errUsage, strings.Join(names, " "), len(pos))
	}
	return pos, nil
}

// problemExit turns a refused request into the command's error: a failed proof is
// errProvedWrong (exit 3), anything else a failure (exit 1).
func problemExit(err error) error {
	var p *api.Problem
	if errors.As(err, &p) && p.Type == api.TypeProvedWrong {
		return fmt.Errorf("%w: %v", errProvedWrong, p)
	}
	return err
}
