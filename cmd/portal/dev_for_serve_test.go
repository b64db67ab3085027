package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
)

// TestDevForServeWritesAWorkingServeConfiguration: `portal dev --for-serve` (the README's
// way to try production mode) writes a serve.env that `portal serve` accepts as it is, whose
// identity provider answers over https with the certificate it names, and whose Dataverse
// environments answer with the credentials it configures.
func TestDevForServeWritesAWorkingServeConfiguration(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "serve")
	runUntilPrinted(t, regexp.MustCompile(`Press Ctrl\+C`), "dev", "--for-serve", dir, "--serve-listen", "127.0.0.1:18443")

	f, err := os.Open(filepath.Join(dir, forServeEnv))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	f.Close()
	cfg, problems := loadServeConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if len(problems) > 0 {
		t.Fatalf("serve refuses the written configuration: %q", problems)
	}
	if cfg.BaseURL.String() != "https://127.0.0.1:18443" || cfg.TLSCertFile == "" || cfg.Listen != "127.0.0.1:18443" {
		t.Fatalf("configuration %+v", cfg)
	}

	pem, err := os.ReadFile(env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(cfg.OIDCIssuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("the identity provider does not answer over https with the written certificate: %v", err)
	}
	var doc struct {
		Issuer     string `json:"issuer"`
		EndSession string `json:"end_session_endpoint"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc.Issuer != cfg.OIDCIssuer || doc.EndSession == "" {
		t.Fatalf("discovery %+v", doc)
	}

	fc, err := loadFileConfig(cfg.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := dataverse.NewEnvironments(fc.dataverseEnvironments(), dataverse.EnvironmentsOptions{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range envs.Check(context.Background()) {
		if !st.OK {
			t.Errorf("environment %s: %s", st.ID, st.Problem)
		}
	}
}
