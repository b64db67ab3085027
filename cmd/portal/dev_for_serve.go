package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/metrics"
)

// Files `portal dev --for-serve DIR` writes into DIR.
const (
	forServeEnv    = "serve.env"   // the PORTAL_* variables (and SSL_CERT_FILE) for `portal serve`
	forServeConfig = "config.json" // PORTAL_CONFIG: the local Dataverse environments
	forServeCert   = "tls-cert.pem"
	forServeKey    = "tls-key.pem"
)

// forServeClientID is the portal's client id with the local identity provider.
const forServeClientID = "service-endpoint-portal"

// runProvidersForServe runs what `portal serve` needs around it on loopback, as production
// would have it: the local identity provider over https (a self-signed certificate, which the
// portal serves too), the Dataverse stand-ins behind their https token issuer, and the Service
// Bus stand-in. It writes dir/serve.env with a complete production configuration pointing at
// them, so trying production mode (TLS, sign-in, sign-out) takes no proxy and no hand-written
// configuration. It runs until ctx ends.
func runProvidersForServe(ctx context.Context, dir, serveListen string, stdout io.Writer, log *slog.Logger) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	host, port, err := net.SplitHostPort(serveListen)
	if err != nil {
		return fmt.Errorf("%w: --serve-listen %q is not host:port", errUsage, serveListen)
	}
	base := "https://" + net.JoinHostPort(host, port)
	certFile, keyFile := filepath.Join(dir, forServeCert), filepath.Join(dir, forServeKey)
	cert, err := loadOrCreateLocalCertificate(certFile, keyFile, host)
	if err != nil {
		return err
	}

	stack, err := startDevStack(ctx, dir, metrics.New(), log) // counted but not served: serve has its own
	if err != nil {
		return err
	}
	defer stack.close()

	secret, err := loadOrCreateKey(filepath.Join(dir, "serve-oidc-client.key"))
	if err != nil {
		return err
	}
	client := devidp.Client{ID: forServeClientID, Secret: base64.RawURLEncoding.EncodeToString(secret), Name: "Service Endpoint Portal",
		RedirectURIs: []string{base + auth.CallbackPath}, PostLogoutRedirectURIs: []string{base + auth.SignedOutPath}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the local identity provider: %w", err)
	}
	idp, err := devidp.New("https://"+ln.Addr().String(), devidp.Options{Clients: []devidp.Client{client}})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: idp, ReadHeaderTimeout: readHeaderTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer srv.Close()

	env, err := writeServeFiles(dir, base, serveListen, idp.Issuer(), client.Secret, stack.dv)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nLocal providers for 'portal serve' are running.\n\n")
	fmt.Fprintf(stdout, "  identity provider  %s (client %s)\n", idp.Issuer(), client.ID)
	stack.printInfo(stdout)
	fmt.Fprintf(stdout, "\n'portal serve' refuses test-sends to this Service Bus, as production does: it never dials loopback addresses or the development emulator.\n")
	fmt.Fprintf(stdout, "\nIn another terminal, from this folder:\n\n  set -a; . %s; set +a\n  go run ./cmd/portal serve\n\n", env)
	fmt.Fprintf(stdout, "then open %s/ (the certificate is self-signed: %s) and sign in as one of:\n", base, certFile)
	for _, p := range idp.Personas() {
		fmt.Fprintf(stdout, "  %-22s %-16s %s\n", p.ID, p.Name, p.Description)
	}
	fmt.Fprintf(stdout, "\nPress Ctrl+C to stop.\n")
	<-ctx.Done()
	return nil
}

// writeServeFiles writes PORTAL_CONFIG and serve.env for a portal at base and returns the
// env file's path. The keys are kept in dir, so restarts keep sessions and stored secrets.
func writeServeFiles(dir, base, listen, issuer, clientSecret string, dv *dvemulator.DevStack) (string, error) {
	cfgs := devEnvironmentConfigs(dv)
	for i := range cfgs {
		cfgs[i].Credential.ClientSecret, cfgs[i].Credential.AuthorityCAs = "", nil
		cfgs[i].Credential.ClientSecretEnv = "DATAVERSE_LOCAL_CLIENT_SECRET"
	}
	configJSON, err := json.MarshalIndent(map[string]any{"environments": cfgs, "catalog": map[string]string{"refresh": "15s"}}, "", "  ")
	if err != nil {
		return "", err
	}
	configFile := filepath.Join(dir, forServeConfig)
	if err := os.WriteFile(configFile, append(configJSON, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", configFile, err)
	}
	secretKey, err := loadOrCreateKey(filepath.Join(dir, "serve-secret.key"))
	if err != nil {
		return "", err
	}
	sessionKey, err := loadOrCreateKey(filepath.Join(dir, "serve-session.key"))
	if err != nil {
		return "", err
	}
	var teams []string
	for group, team := range devTeams {
		teams = append(teams, team+"="+group)
	}
	sort.Strings(teams)
	vars := [][2]string{
		{"PORTAL_BASE_URL", base},
		{"PORTAL_LISTEN", listen},
		{"PORTAL_TLS_CERT_FILE", filepath.Join(dir, forServeCert)},
		{"PORTAL_TLS_KEY_FILE", filepath.Join(dir, forServeKey)},
		{"PORTAL_DATABASE_URL", filepath.Join(dir, "serve.db")},
		{"PORTAL_SECRET_KEY", base64.StdEncoding.EncodeToString(secretKey)},
		{"PORTAL_SESSION_KEY", base64.StdEncoding.EncodeToString(sessionKey)},
		{"PORTAL_OIDC_ISSUER", issuer},
		{"PORTAL_OIDC_CLIENT_ID", forServeClientID},
		{"PORTAL_OIDC_CLIENT_SECRET", clientSecret},
		{"PORTAL_OIDC_ALLOWED_TENANTS", devidp.TenantID},
		{"PORTAL_TEAMS_BY_GROUP", strings.Join(teams, ",")},
		{"PORTAL_CONFIG", configFile},
		// The local identity provider's certificate is self-signed: trust it (and only it).
		{"SSL_CERT_FILE", filepath.Join(dir, forServeCert)},
		{"DATAVERSE_LOCAL_CLIENT_SECRET", dvemulator.DevClientSecret},
	}
	var b strings.Builder
	b.WriteString("# Written by 'portal dev --for-serve': production settings pointing at the local providers.\n")
	for _, v := range vars {
		fmt.Fprintf(&b, "%s=%s\n", v[0], v[1])
	}
	file := filepath.Join(dir, forServeEnv)
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", file, err)
	}
	return file, nil
}

// loadOrCreateLocalCertificate returns the certificate in certFile and keyFile, or makes a
// self-signed one for host (and localhost, 127.0.0.1, ::1) valid for 90 days when there is none
// or it expires within a week.
func loadOrCreateLocalCertificate(certFile, keyFile, host string) (tls.Certificate, error) {
	if cert, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && time.Until(cert.Leaf.NotAfter) > 7*24*time.Hour {
		return cert, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Service Endpoint Portal (local)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	} else if ip == nil && host != "localhost" && host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certFile, keyFile)
}
