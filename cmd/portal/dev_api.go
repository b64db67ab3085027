package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
)

// devAPIAudience is the local portal API's identifier (an Entra ID Application ID URI).
const devAPIAudience = "api://service-endpoint-portal"

// devTeamsByRole gives applications their teams through app roles, as PORTAL_TEAMS_BY_ROLE
// does in production.
var devTeamsByRole = map[string]string{"Team.Integration": "Integration", "Team.Finance": "Finance"}

// devPipeline is what `portal dev` offers pipelines: applications that get access tokens with
// the client credentials grant, from the local identity provider's https address (azidentity,
// through MSAL, takes only https authorities), whose self-signed certificate is in certFile.
type devPipeline struct {
	apps     []devidp.App
	ln       net.Listener // https, serving the identity provider
	base     string
	certFile string
	pool     *x509.CertPool
}

// newDevPipeline listens on a free loopback port with the local certificate kept in dataDir and
// loads (or makes) the applications' secrets there, so they stay the same across restarts.
func newDevPipeline(dataDir string) (*devPipeline, error) {
	certFile, keyFile := filepath.Join(dataDir, "idp-tls-cert.pem"), filepath.Join(dataDir, "idp-tls-key.pem")
	cert, err := loadOrCreateLocalCertificate(certFile, keyFile, "127.0.0.1")
	if err != nil {
		return nil, fmt.Errorf("local identity provider certificate: %w", err)
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	p := &devPipeline{certFile: certFile, pool: pool}
	for _, a := range []devidp.App{
		{ID: "pipeline", Name: "Release pipeline", Roles: []string{"Registrar", "Team.Integration"}},
		{ID: "pipeline-viewer", Name: "Status dashboard", Roles: []string{"Viewer", "Team.Integration"}},
	} {
		secret, err := loadOrCreateKey(filepath.Join(dataDir, "app-"+a.ID+".key"))
		if err != nil {
			return nil, err
		}
		a.Secret = base64.RawURLEncoding.EncodeToString(secret)
		p.apps = append(p.apps, a)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the local identity provider (https): %w", err)
	}
	p.ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
	p.base = "https://" + ln.Addr().String()
	return p, nil
}

// verifier checks the API's access tokens as production does, against the provider's https
// issuer.
func (p *devPipeline) verifier(ctx context.Context, idp *devidp.Provider) (*auth.BearerVerifier, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	return auth.NewBearerVerifier(ctx, auth.BearerConfig{Issuer: idp.SecureIssuer(), Audience: devAPIAudience,
		AllowedTenants: []string{devidp.TenantID}, TeamsByGroup: devTeams, TeamsByRole: devTeamsByRole,
		HTTPClient: &http.Client{Transport: t, Timeout: 10 * time.Second}})
}

// printLines prints, for each application, the variables that make `portal endpoints list`
// (and any DefaultAzureCredential) sign in as it.
func (p *devPipeline) printLines(w io.Writer, portalURL string) {
	fmt.Fprintf(w, "\nPipelines: the API is at %s/api/v1 (OpenAPI: %s/api/v1/openapi.json). To use the CLI as the\n", portalURL, portalURL)
	fmt.Fprintf(w, "application \"pipeline\" (Registrar of team Integration), paste these lines in a shell:\n\n")
	for i, a := range p.apps {
		if i == 1 {
			fmt.Fprintf(w, "\nor, as %q (Viewer of team Integration: reads and tests, cannot change anything):\n\n", a.ID)
		}
		for _, kv := range [][2]string{
			{"AZURE_TENANT_ID", devidp.TenantID}, {"AZURE_CLIENT_ID", a.ID}, {"AZURE_CLIENT_SECRET", a.Secret},
			{"AZURE_AUTHORITY_HOST", p.base + "/"}, {"PORTAL_URL", portalURL}, {"PORTAL_API_AUDIENCE", devAPIAudience},
			// The local identity provider's certificate is self-signed: trust it.
			{"SSL_CERT_FILE", p.certFile},
		} {
			fmt.Fprintf(w, "  export %s=%s\n", kv[0], kv[1])
		}
	}
	fmt.Fprintf(w, "\nthen: portal endpoints list\n")
}
