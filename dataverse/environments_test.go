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

func TestDevStackEnvironmentsCheckAndPersist(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	dev, err := emulator.StartDev(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// The configs survive a trip through the JSON file format (trust comes from the CA file).
	var cfgs []dataverse.EnvironmentConfig
	js, _ := json.Marshal(dev.Configs)
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
	envs2, err := dataverse.NewEnvironments(dev2.Configs, dataverse.EnvironmentsOptions{})
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
		err  error
		want string
	}{
		{&dataverse.Error{Kind: dataverse.Throttled, Status: 429, RetryAfter: 90 * time.Second}, "try again in 1m30s"},
		{&dataverse.Error{Kind: dataverse.Invalid, Status: 400, Message: "SASKey length should be 44"}, "SASKey length should be 44"},
		{&dataverse.Error{Kind: dataverse.Forbidden, Status: 403, Message: "missing prvCreateServiceEndpoint"}, "security role"},
		{&dataverse.Error{Kind: dataverse.Unauthorized, Err: errors.New(`RESPONSE 401 {"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)}, "could not get a token: AADSTS7000215: Invalid client secret provided."},
	}
	for _, c := range cases {
		if got := dataverse.Explain(c.err); !strings.Contains(got, c.want) {
			t.Errorf("Explain(%v) = %q, want it to contain %q", c.err, got, c.want)
		}
	}
}
