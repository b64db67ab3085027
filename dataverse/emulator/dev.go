package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The dev application registration: the identity the portal uses against the local
// environments. Its secret is public on purpose; it opens nothing but loopback stand-ins.
const (
	DevClientID     = "0d5e7a8c-5a1e-4c0d-9e2b-00000000a11e"
	DevClientSecret = "local-dev-secret-not-for-production"
)

// DevApp is the dev application registration.
var DevApp = AppRegistration{ClientID: DevClientID, ClientSecret: DevClientSecret, DisplayName: "Service Endpoint Portal (dev)"}

// DevStack is the local Dataverse of `portal dev`: one token issuer and two organizations,
// "Contoso Dev" and "Contoso Test", seeded with realistic endpoints on first start. Each
// organization has DevApp as its application user; a client signs in as DevApp through Tokens
// (tenant Tokens.TenantID(), authority Tokens.AuthorityHost(), trusting Tokens.CertPool() or
// CAFile). Turning that into a client's configuration is the client's business.
type DevStack struct {
	Tokens *TokenIssuer
	// Environments are the organizations: Contoso Dev, then Contoso Test.
	Environments []*Server
	// CAFile is the token issuer's certificate written to the data directory (empty when
	// running in memory), for processes outside this one.
	CAFile string
}

// devOrganization describes one organization of the dev stack.
type devOrganization struct {
	file, name string // file names its data file: dataverse-<file>.db
	seed       func(*Server) error
}

var devOrganizations = []devOrganization{
	{file: "contoso-dev", name: "Contoso Dev", seed: seedContosoDev},
	{file: "contoso-test", name: "Contoso Test", seed: seedContosoTest},
}

// StartDev starts the dev stack. With a dataDir, each organization keeps its rows in a SQLite
// file there (dataverse-<id>.db) across restarts; with "" everything is in memory. The stack
// stops when ctx ends or Close is called.
func StartDev(ctx context.Context, dataDir string) (*DevStack, error) {
	tokens, err := StartTokenIssuer(TokenIssuerOptions{Apps: []AppRegistration{DevApp}})
	if err != nil {
		return nil, err
	}
	d := &DevStack{Tokens: tokens}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			tokens.Close()
			return nil, fmt.Errorf("dataverse emulator: data directory: %w", err)
		}
		d.CAFile = filepath.Join(dataDir, "dataverse-token-issuer-ca.pem")
		if err := os.WriteFile(d.CAFile, tokens.CACertPEM(), 0o600); err != nil {
			tokens.Close()
			return nil, fmt.Errorf("dataverse emulator: write CA file: %w", err)
		}
	}
	for _, env := range devOrganizations {
		file := ""
		if dataDir != "" {
			file = filepath.Join(dataDir, "dataverse-"+env.file+".db")
		}
		srv, err := Start(Options{Name: env.name, Tokens: tokens, DataFile: file,
			Users: []AppUser{{ClientID: DevClientID, FullName: "# Service Endpoint Portal"}}})
		if err != nil {
			d.Close()
			return nil, err
		}
		d.Environments = append(d.Environments, srv)
		if srv.Count(serviceEndpointEntity.set) == 0 {
			if err := env.seed(srv); err != nil {
				d.Close()
				return nil, fmt.Errorf("dataverse emulator: seed %s: %w", env.name, err)
			}
		}
	}
	go func() {
		<-ctx.Done()
		d.Close()
	}()
	return d, nil
}

// Close stops every part of the stack.
func (d *DevStack) Close() error {
	var errs []error
	for _, s := range d.Environments {
		errs = append(errs, s.Close())
	}
	if d.Tokens != nil {
		errs = append(errs, d.Tokens.Close())
	}
	return errors.Join(errs...)
}

// devKey makes a stable, well-formed (44-character) SAS key for seeded data.
func devKey(name string) string {
	sum := sha256.Sum256([]byte("sbportal-dev-key:" + name))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// SeedContoso fills s with the Contoso Dev sample endpoints (used by the standalone
// emulator command too).
func SeedContoso(s *Server) error { return seedContosoDev(s) }

func seedContosoDev(s *Server) error {
	orders, err := s.CreateRecord("serviceendpoints", map[string]any{
		"serviceendpointid": derivedGUID("seed:dev:orders"),
		"name":              "Orders queue (payments)",
		"description":       "New and changed sales orders for the payments service.",
		"solutionnamespace": "contoso-payments-dev",
		"namespaceaddress":  "sb://contoso-payments-dev.servicebus.windows.net/",
		"path":              "orders",
		"contract":          2, "connectionmode": 1, "userclaim": 1, "messageformat": 2,
		"namespaceformat": 2, "authtype": 2,
		"saskeyname": "dataverse-send", "saskey": devKey("dev:orders"),
	})
	if err != nil {
		return err
	}
	accounts, err := s.CreateRecord("serviceendpoints", map[string]any{
		"serviceendpointid": derivedGUID("seed:dev:accounts"),
		"name":              "Account changes topic",
		"description":       "Account create/update events fanned out to CRM subscribers.",
		"solutionnamespace": "contoso-integration-dev",
		"namespaceaddress":  "sb://contoso-integration-dev.servicebus.windows.net/",
		"path":              "account-changes",
		"contract":          5, "connectionmode": 1, "userclaim": 3, "messageformat": 2,
		"namespaceformat": 2, "authtype": 2,
		"saskeyname": "crm-publisher", "saskey": devKey("dev:accounts"),
	})
	if err != nil {
		return err
	}
	if _, err := s.CreateRecord("serviceendpoints", map[string]any{
		"serviceendpointid": derivedGUID("seed:dev:telemetry"),
		"name":              "CRM telemetry event hub",
		"solutionnamespace": "contoso-telemetry-dev",
		"namespaceaddress":  "sb://contoso-telemetry-dev.servicebus.windows.net/",
		"path":              "crm-telemetry",
		"contract":          7, "connectionmode": 1, "userclaim": 1, "messageformat": 2,
		"namespaceformat": 2, "authtype": 3,
		"sastoken": "SharedAccessSignature sr=sb%3a%2f%2fcontoso-telemetry-dev.servicebus.windows.net%2fcrm-telemetry&sig=" +
			"ZGV2LW9ubHktbm90LWEtcmVhbC1zaWduYXR1cmU%3d&se=1893456000&skn=send",
	}); err != nil {
		return err
	}
	if _, err := s.CreateRecord("serviceendpoints", map[string]any{
		"serviceendpointid": derivedGUID("seed:dev:invoices"),
		"name":              "Invoice webhook",
		"description":       "Posts paid invoices to the finance integration.",
		"url":               "https://hooks.contoso.example/dataverse/invoices",
		"contract":          8, "connectionmode": 1, "userclaim": 1, "messageformat": 2, "authtype": 4,
		"authvalue": "dev-webhook-key-0001",
	}); err != nil {
		return err
	}
	if _, err := s.CreateRecord("sdkmessageprocessingsteps", devStep("seed:dev:step:orders", "Orders queue: Create of incident", orders, "Create", "incident", map[string]any{
		"asyncautodelete": true,
	})); err != nil {
		return err
	}
	updateStep := derivedGUID("seed:dev:step:accounts")
	if _, err := s.CreateRecord("sdkmessageprocessingsteps", devStep("seed:dev:step:accounts", "Account changes: Update of account", accounts, "Update", "account", map[string]any{
		"filteringattributes":            "name,telephone1,address1_city",
		"impersonatinguserid@odata.bind": "/systemusers(" + SystemUserID("Rita Integration") + ")",
	})); err != nil {
		return err
	}
	_, err = s.CreateRecord("sdkmessageprocessingstepimages", map[string]any{
		"sdkmessageprocessingstepimageid":       derivedGUID("seed:dev:image:accounts:pre"),
		"name":                                  "PreImage",
		"entityalias":                           "PreImage",
		"imagetype":                             0,
		"messagepropertyname":                   "Target",
		"attributes":                            "name,telephone1,address1_city",
		"sdkmessageprocessingstepid@odata.bind": "/sdkmessageprocessingsteps(" + updateStep + ")",
	})
	return err
}

// devStep is a seeded asynchronous post-operation step of message on table for the endpoint
// epID, with a fixed id derived from seed, plus extra columns.
func devStep(seed, name, epID, message, table string, extra map[string]any) map[string]any {
	m := map[string]any{
		"sdkmessageprocessingstepid": derivedGUID(seed),
		"name":                       name, "stage": 40, "mode": 1, "rank": 1, "supporteddeployment": 0,
		"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + epID + ")",
		"sdkmessageid@odata.bind":                 "/sdkmessages(" + MessageID(message) + ")",
		"sdkmessagefilterid@odata.bind":           "/sdkmessagefilters(" + FilterID(message, table) + ")",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func seedContosoTest(s *Server) error {
	orders, err := s.CreateRecord("serviceendpoints", map[string]any{
		"serviceendpointid": derivedGUID("seed:test:orders"),
		"name":              "Orders queue (payments)",
		"solutionnamespace": "contoso-payments-test",
		"namespaceaddress":  "sb://contoso-payments-test.servicebus.windows.net/",
		"path":              "orders",
		"contract":          2, "connectionmode": 1, "userclaim": 1, "messageformat": 2,
		"namespaceformat": 2, "authtype": 2,
		"saskeyname": "dataverse-send", "saskey": devKey("test:orders"),
	})
	if err != nil {
		return err
	}
	if _, err := s.CreateRecord("serviceendpoints", map[string]any{
		"serviceendpointid": derivedGUID("seed:test:shipments"),
		"name":              "Shipment notifications relay",
		"solutionnamespace": "contoso-logistics-test",
		"namespaceaddress":  "https://contoso-logistics-test.servicebus.windows.net/",
		"path":              "shipments",
		"contract":          1, "connectionmode": 1, "userclaim": 2, "messageformat": 1,
		"namespaceformat": 2, "authtype": 2,
		"saskeyname": "relay-send", "saskey": devKey("test:shipments"),
	}); err != nil {
		return err
	}
	if _, err = s.CreateRecord("sdkmessageprocessingsteps", devStep("seed:test:step:orders", "Orders queue: Create of incident", orders, "Create", "incident", nil)); err != nil {
		return err
	}
	// What a solution import leaves behind: an endpoint without its key (solutions never carry
	// keys) from an unmanaged solution, and one from a managed solution.
	if _, err := s.ImportSolution(Solution{UniqueName: "ContosoIntegration", FriendlyName: "Contoso Integration"}, map[string]any{
		"serviceendpointid": derivedGUID("seed:test:accounts"),
		"name":              "Account changes topic",
		"description":       "Imported with the Contoso Integration solution: its key must be set in this environment.",
		"solutionnamespace": "contoso-integration-test",
		"namespaceaddress":  "sb://contoso-integration-test.servicebus.windows.net/",
		"path":              "account-changes",
		"contract":          5, "connectionmode": 1, "userclaim": 3, "messageformat": 2,
		"namespaceformat": 2, "authtype": 2, "saskeyname": "crm-publisher",
	}); err != nil {
		return err
	}
	_, err = s.ImportSolution(Solution{UniqueName: "PartnerConnector", FriendlyName: "Partner Connector", Managed: true}, map[string]any{
		"serviceendpointid": derivedGUID("seed:test:partner"),
		"name":              "Partner events (managed)",
		"description":       "Installed by the managed Partner Connector solution.",
		"solutionnamespace": "partner-connector",
		"namespaceaddress":  "sb://partner-connector.servicebus.windows.net/",
		"path":              "partner-events",
		"contract":          2, "connectionmode": 1, "userclaim": 1, "messageformat": 2,
		"namespaceformat": 2, "authtype": 2, "saskeyname": "dataverse-send",
	})
	return err
}
