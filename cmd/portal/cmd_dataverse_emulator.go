package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
)

func init() {
	register(command{
		name:    "dataverse-emulator",
		summary: "run a local Dataverse Web API stand-in with its own token issuer",
		run:     runDataverseEmulator,
	})
}

func runDataverseEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dataverse-emulator", "dataverse-emulator --listen ADDR [--data FILE] [--token-listen ADDR] [--name NAME] [--seed=false]", stderr)
	listen := fs.String("listen", "127.0.0.1:8091", "`address` of the Web API; the environment URL is http://ADDR")
	data := fs.String("data", "", "SQLite `file` keeping the organization's data across restarts (default: in memory)")
	tokenListen := fs.String("token-listen", "127.0.0.1:0", "`address` of the local token issuer (https, self-signed)")
	name := fs.String("name", "Contoso Dev", "organization display `name`")
	seed := fs.Bool("seed", true, "add sample endpoints and steps when the organization is empty")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	tokens, err := emulator.StartTokenIssuer(emulator.TokenIssuerOptions{Addr: *tokenListen, Apps: []emulator.AppRegistration{emulator.DevApp}})
	if err != nil {
		return err
	}
	defer tokens.Close()
	// The CA file lets other processes (curl, a separately started portal) trust the issuer.
	caDir := os.TempDir()
	if *data != "" {
		caDir = filepath.Dir(*data)
	}
	caFile := filepath.Join(caDir, "sbportal-dataverse-token-issuer-ca.pem")
	if err := os.WriteFile(caFile, tokens.CACertPEM(), 0o600); err != nil {
		return fmt.Errorf("write the token issuer's certificate: %w", err)
	}

	org, err := emulator.Start(emulator.Options{Name: *name, Addr: *listen, Tokens: tokens, DataFile: *data,
		Users: []emulator.AppUser{{ClientID: emulator.DevClientID, FullName: "# Service Endpoint Portal"}}})
	if err != nil {
		return err
	}
	defer org.Close()
	if *seed && org.Count("serviceendpoints") == 0 {
		if err := emulator.SeedContoso(org); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}

	cfg := dataverse.EnvironmentConfig{
		ID: "local", DisplayName: *name, URL: org.URL(), Teams: []string{"platform"}, AllowInsecureHTTP: true,
		Credential: dataverse.CredentialConfig{
			Kind: dataverse.ClientSecretCredential, TenantID: tokens.TenantID(), ClientID: emulator.DevClientID,
			ClientSecretEnv: "DATAVERSE_LOCAL_CLIENT_SECRET", AuthorityHost: tokens.AuthorityHost(), AuthorityCAFile: caFile,
		},
	}
	snippet, _ := json.MarshalIndent(map[string]any{"environments": []dataverse.EnvironmentConfig{cfg}}, "", "  ")
	storage := "in memory (lost on exit)"
	if *data != "" {
		storage = *data
	}
	fmt.Fprintf(stdout, `Dataverse emulator %q
  environment URL  %s
  Web API          %s%s
  data             %s
  token issuer     %s (tenant %s)
  issuer CA        %s
  client id        %s
  client secret    %s   (local development only)

Get a token and call WhoAmI:
  TOKEN=$(curl -s --cacert %s %s \
    -d grant_type=client_credentials -d client_id=%s -d client_secret=%s \
    --data-urlencode scope=%s/.default | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -s -H "Authorization: Bearer $TOKEN" -H "Accept: application/json" %s%sWhoAmI

Inject faults (POST a JSON fault, DELETE to clear), e.g. throttle the next 3 requests:
  curl -X POST %s/_emulator/faults -d '{"status":429,"retryAfter":2000000000,"times":3}'

Configuration for the portal (PORTAL_CONFIG; export DATAVERSE_LOCAL_CLIENT_SECRET=%s):
%s

Press Ctrl+C to stop.
`, *name, org.URL(), org.URL(), emulator.APIPath, storage, tokens.AuthorityHost(), tokens.TenantID(), caFile,
		emulator.DevClientID, emulator.DevClientSecret,
		caFile, tokens.TokenURL(), emulator.DevClientID, url.QueryEscape(emulator.DevClientSecret), org.URL(),
		org.URL(), emulator.APIPath, org.URL(), emulator.DevClientSecret, snippet)
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping")
	return nil
}
