package dataverse_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
)

func TestExampleEnvironmentsFileIsValid(t *testing.T) {
	b, err := os.ReadFile("example-environments.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Environments []dataverse.EnvironmentConfig `json:"environments"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("example does not match EnvironmentConfig: %v", err)
	}
	if len(f.Environments) < 2 {
		t.Fatalf("%d environments in the example", len(f.Environments))
	}
	for _, e := range f.Environments {
		if p := e.Validate(); len(p) > 0 {
			t.Errorf("example environment %s: %v", e.ID, p)
		}
	}
}

func TestValidateSaysWhatToSet(t *testing.T) {
	cfg := dataverse.EnvironmentConfig{ID: "Dev Env", URL: "http://contoso.crm.dynamics.com/api",
		Credential: dataverse.CredentialConfig{Kind: "client-secret", AuthorityHost: "login.microsoftonline.us"}}
	probs := strings.Join(cfg.Validate(), "\n")
	for _, want := range []string{`"id": "dev"`, `displayName`, `url`, `teams`, `tenantId`, `clientId`, `clientSecretEnv`, `authorityHost`} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems do not mention %s:\n%s", want, probs)
		}
	}
	if p := (dataverse.EnvironmentConfig{Credential: dataverse.CredentialConfig{Kind: "password"}}).Validate(); !strings.Contains(strings.Join(p, "\n"), `"client-secret", "client-certificate"`) {
		t.Errorf("unknown kind: %v", p)
	}
}

func TestConfigSecretNeverPrinted(t *testing.T) {
	cfg := dataverse.EnvironmentConfig{ID: "dev", Credential: dataverse.CredentialConfig{Kind: dataverse.ClientSecretCredential, ClientSecret: "s3cr3t-value"}}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "cfg", cfg, "secret", cfg.Credential.ClientSecret)
	js, _ := json.Marshal(cfg)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Credential.ClientSecret), string(js), logBuf.String()} {
		if strings.Contains(out, "s3cr3t-value") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	var back dataverse.EnvironmentConfig
	if err := json.Unmarshal([]byte(`{"credential":{"clientSecret":"from-file"}}`), &back); err != nil || back.Credential.ClientSecret != "from-file" {
		t.Fatalf("decode: %v %q", err, back.Credential.ClientSecret)
	}
}

func TestNewEnvironmentsReportsEveryProblem(t *testing.T) {
	_, err := dataverse.NewEnvironments([]dataverse.EnvironmentConfig{
		{ID: "a"}, {ID: "b", DisplayName: "B", URL: "https://b.crm.dynamics.com", Teams: []string{"x"},
			Credential: dataverse.CredentialConfig{Kind: dataverse.ClientSecretCredential, TenantID: "t", ClientID: "c", ClientSecretEnv: "NOT_SET_ANYWHERE"}},
	}, dataverse.EnvironmentsOptions{Getenv: func(string) string { return "" }})
	if err == nil {
		t.Fatal("invalid configs accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "environments[0] (a)") || !strings.Contains(msg, "NOT_SET_ANYWHERE is empty") {
		t.Fatalf("error = %v", err)
	}
	if _, err := dataverse.NewEnvironments(nil, dataverse.EnvironmentsOptions{}); err == nil {
		t.Fatal("no environments accepted")
	}
}

// devConfigs configures the dev stack's organizations as the portal's dev command does:
// Contoso Dev for Integration and Finance, Contoso Test for Integration.
func devConfigs(dev *emulator.DevStack) []dataverse.EnvironmentConfig {
	ids := []string{"contoso-dev", "contoso-test"}
	teams := [][]string{{"Integration", "Finance"}, {"Integration"}}
	var cfgs []dataverse.EnvironmentConfig
	for i, org := range dev.Environments {
		cred := credentialConfig(dev.Tokens, emulator.DevApp)
		cred.AuthorityCAFile = dev.CAFile
		cfgs = append(cfgs, dataverse.EnvironmentConfig{ID: ids[i], DisplayName: org.Name(), URL: org.URL(),
			Teams: teams[i], AllowInsecureHTTP: true, Credential: cred})
	}
	return cfgs
}

func TestDevStackEnvironmentsCheckAndPersist(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	dev, err := emulator.StartDev(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// The configs survive a trip through the JSON file format (trust comes from the CA file).
	var cfgs []dataverse.EnvironmentConfig
	js, _ := json.Marshal(devConfigs(dev))
	if err := json.Unmarshal(js, &cfgs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), emulator.DevClientSecret) {
		t.Fatalf("config JSON carries the client secret in clear: %s", js)
	}
	for i := range cfgs {
		cfgs[i].Credential.ClientSecret = dataverse.ConfigSecret(emulator.DevClientSecret)
		if cfgs[i].Credential.AuthorityCAFile == "" {
			t.Fatal("dev config has no CA file")
		}
	}
	envs, err := dataverse.NewEnvironments(cfgs, dataverse.EnvironmentsOptions{CheckTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st := envs.Check(ctx)
	if len(st) != 2 || !st[0].OK || !st[1].OK || st[0].DisplayName != "Contoso Dev" || st[1].DisplayName != "Contoso Test" {
		t.Fatalf("check = %+v", st)
	}
	devEnv, _ := envs.Get("contoso-dev")
	seeded, err := devEnv.Client.ListEndpoints(ctx, dataverse.ListOptions{OrderBy: "name"})
	if err != nil {
		t.Fatal(err)
	}
	if len(seeded) != 4 {
		t.Fatalf("Contoso Dev has %d seeded endpoints, want 4", len(seeded))
	}
	if got := envs.ForTeams([]string{"Finance"}); len(got) != 1 || got[0].ID != "contoso-dev" {
		t.Fatalf("ForTeams(Finance) = %v", got)
	}
	added := queueEndpoint("Added before restart")
	if _, err := devEnv.Client.CreateEndpoint(ctx, added, dataverse.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// One environment down: the other still reports ready.
	dev.Environments[1].Close()
	st = envs.Check(ctx)
	if !st[0].OK || st[1].OK || !strings.Contains(st[1].Problem, "connection refused") {
		t.Fatalf("check with Test down = %+v", st)
	}
	t.Logf("problem: %s", st[1].Problem)
	dev.Close()

	// Restart on the same directory: data kept, not seeded twice.
	dev2, err := emulator.StartDev(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer dev2.Close()
	envs2, err := dataverse.NewEnvironments(devConfigs(dev2), dataverse.EnvironmentsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	devEnv2, _ := envs2.Get("contoso-dev")
	all, err := devEnv2.Client.ListEndpoints(ctx, dataverse.ListOptions{Filter: "name eq 'Added before restart'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || !all[0].IsSASKeySet {
		t.Fatalf("after restart: %+v", all)
	}
	if n := dev2.Environments[0].Count("serviceendpoints"); n != 5 {
		t.Fatalf("after restart Contoso Dev has %d endpoints, want 5", n)
	}
}

func TestClientCertificateCredentialEndToEnd(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "portal-dataverse"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	file := filepath.Join(t.TempDir(), "portal.pem")
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	if err := os.WriteFile(file, pemData, 0o600); err != nil {
		t.Fatal(err)
	}

	const clientID = "c3c3c3c3-0000-4000-8000-0000000000c3"
	tok := issuer(t)
	tok.AddApp(emulator.AppRegistration{ClientID: clientID, Certificate: cert})
	org, err := emulator.Start(emulator.Options{Tokens: tok, Users: []emulator.AppUser{{ClientID: clientID}}})
	if err != nil {
		t.Fatal(err)
	}
	defer org.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, tok.CACertPEM(), 0o600)
	cfg := dataverse.EnvironmentConfig{ID: "cert", DisplayName: "Cert", URL: org.URL(), AllowInsecureHTTP: true, Teams: []string{"platform"},
		Credential: dataverse.CredentialConfig{Kind: dataverse.ClientCertificateCredential, TenantID: tok.TenantID(), ClientID: clientID,
			CertificatePath: file, AuthorityHost: tok.AuthorityHost(), AuthorityCAFile: caFile}}
	envs, err := dataverse.NewEnvironments([]dataverse.EnvironmentConfig{cfg}, dataverse.EnvironmentsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := envs.Check(context.Background())
	if !st[0].OK {
		t.Fatalf("certificate credential: %s", st[0].Problem)
	}

	// A different key under the same client id is refused by the issuer.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherDER, _ := x509.MarshalPKCS8PrivateKey(other)
	otherCertDER, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &other.PublicKey, other)
	os.WriteFile(file, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherCertDER}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherDER})...), 0o600)
	envs2, err := dataverse.NewEnvironments([]dataverse.EnvironmentConfig{cfg}, dataverse.EnvironmentsOptions{CheckTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st = envs2.Check(context.Background())
	if st[0].OK || !strings.Contains(st[0].Problem, "could not get a token") {
		t.Fatalf("wrong certificate: %+v", st[0])
	}
	t.Logf("problem: %s", st[0].Problem)
}

func TestExplain(t *testing.T) {
	cases := []struct {
		err     error
		want    []string
		notWant []string
	}{
		{&dataverse.Error{Kind: dataverse.Throttled, Status: 429, RetryAfter: 90 * time.Second},
			[]string{"Dataverse is throttling", "Try again in 1m30s."}, []string{"unavailable", "Unavailable"}},
		{&dataverse.Error{Kind: dataverse.Throttled, Status: 429, RetryAfter: 1500 * time.Millisecond},
			[]string{"Dataverse is throttling", "Try again in 2s."}, []string{"unavailable"}},
		{&dataverse.Error{Kind: dataverse.Throttled, Status: 429},
			[]string{"Dataverse is throttling", "Wait a minute"}, []string{"unavailable", "Try again in 0s"}},
		{&dataverse.Error{Kind: dataverse.Invalid, Status: 400, Message: "SASKey length should be 44"},
			[]string{"Dataverse rejected the values: SASKey length should be 44. Correct them"}, nil},
		{&dataverse.Error{Kind: dataverse.Forbidden, Status: 403, Code: dataverse.CodeMissingPrivilege,
			Message: "Principal user (Id=x, type=8, roleCount=1, privilegeCount=7) is missing prvCreateServiceEndpoint privilege (Id=y) on OTC=4618"},
			[]string{"application user lacks the prvCreateServiceEndpoint privilege", "security role"}, []string{"roleCount"}},
		{&dataverse.Error{Kind: dataverse.Forbidden, Status: 403, Code: dataverse.CodeNotOrgMember, Message: "The user is not a member of the organization."},
			[]string{"not a member of this Dataverse environment", "application user"}, nil},
		{&dataverse.Error{Kind: dataverse.Forbidden, Status: 403, Message: "no"},
			[]string{"HTTP 403: no", "security role"}, nil},
		{&dataverse.Error{Kind: dataverse.Unauthorized, Err: errors.New(`RESPONSE 401 {"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)},
			[]string{"could not get a token for Dataverse: AADSTS7000215: Invalid client secret provided.", "not its Secret ID", "Retrying will not help"}, []string{"RESPONSE 401"}},
		{&dataverse.Error{Kind: dataverse.Unauthorized, Err: errors.New(`{"error":"invalid_request","error_description":"AADSTS9999: Something new."}`)},
			[]string{"could not get a token for Dataverse: AADSTS9999: Something new.", "tenantId, clientId"}, nil},
		{&dataverse.Error{Kind: dataverse.Unauthorized, Status: 401},
			[]string{"refused the portal's token", "application user"}, nil},
		{&dataverse.Error{Kind: dataverse.NotFound, Status: 404, Code: dataverse.CodeRecordNotFound},
			[]string{"no such record", "deleted outside the portal"}, nil},
		{&dataverse.Error{Kind: dataverse.Conflict, Status: 412, Code: dataverse.CodeDuplicateKey},
			[]string{"already has a record with this id"}, nil},
		{&dataverse.Error{Kind: dataverse.Conflict, Status: 412, Code: dataverse.CodeVersionMismatch},
			[]string{"changed in Dataverse since the portal read it"}, nil},
		{&dataverse.Error{Kind: dataverse.Unavailable, Status: 503, Code: "0x80040216", Message: "The service is temporarily unavailable."},
			[]string{"could not be reached or did not answer usefully (HTTP 503 0x80040216: The service is temporarily unavailable.)", "Try again in a minute"}, nil},
		{&dataverse.Error{Kind: dataverse.Unavailable, Message: "no answer from https://x", Err: errors.New("connection refused")},
			[]string{"(no answer from https://x: connection refused)"}, nil},
		{&dataverse.Error{Kind: dataverse.Unknown, Status: 418, Code: "0x1", Message: "teapot"},
			[]string{"unexpected answer (HTTP 418 0x1: teapot)"}, nil},
		{fmt.Errorf("dataverse: list serviceendpoints: %w", context.DeadlineExceeded),
			[]string{"No answer in time", "Try again"}, nil},
		{errors.New("database is locked"), []string{"database is locked"}, []string{"Dataverse"}},
	}
	for _, c := range cases {
		got := dataverse.Explain(c.err)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("Explain(%v) = %q, want it to contain %q", c.err, got, w)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(got, w) {
				t.Errorf("Explain(%v) = %q, must not contain %q", c.err, got, w)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("Explain(%v) spans lines: %q", c.err, got)
		}
	}
	if got := dataverse.Explain(nil); got != "" {
		t.Errorf("Explain(nil) = %q", got)
	}
}
