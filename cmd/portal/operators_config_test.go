package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/contoso/sbportal/servicebus"
)

// serveLookup is a complete, valid configuration with over's values on top.
func serveLookup(over map[string]string) func(string) (string, bool) {
	good := map[string]string{
		"PORTAL_BASE_URL": "https://portal.contoso.com", "PORTAL_DATABASE_URL": "postgres://u:p@db:5432/portal",
		"PORTAL_SECRET_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "PORTAL_SESSION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"PORTAL_OIDC_ISSUER": "https://login.microsoftonline.com/t/v2.0", "PORTAL_OIDC_CLIENT_ID": "id",
		"PORTAL_OIDC_CLIENT_SECRET": "secret", "PORTAL_CONFIG": "main_test.go",
	}
	return func(k string) (string, bool) {
		if v, ok := over[k]; ok {
			return v, true
		}
		v, ok := good[k]
		return v, ok
	}
}

func TestOperatorSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCertificate(t, cert, key, "portal")
	cfg, problems := loadServeConfig(serveLookup(map[string]string{
		"PORTAL_OIDC_NAME_CLAIM": "display_name", "PORTAL_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.10.5,::ffff:10.1.2.3/128",
		"PORTAL_TLS_CERT_FILE": cert, "PORTAL_TLS_KEY_FILE": key,
	}))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if cfg.NameClaim != "display_name" || cfg.TLSCertFile != cert || cfg.TLSKeyFile != key || len(cfg.TrustedProxies) != 3 ||
		cfg.TrustedProxies[1].String() != "192.168.10.5/32" {
		t.Fatalf("parsed %+v", cfg)
	}
	cfg, _ = loadServeConfig(serveLookup(nil))
	if cfg.NameClaim != "name" || cfg.TLSCertFile != "" || cfg.TrustedProxies != nil {
		t.Fatalf("defaults %+v", cfg)
	}
	for _, c := range []struct {
		over map[string]string
		want string
	}{
		{map[string]string{"PORTAL_TLS_CERT_FILE": cert}, "go together"},
		{map[string]string{"PORTAL_TLS_KEY_FILE": key}, "go together"},
		{map[string]string{"PORTAL_TLS_CERT_FILE": key, "PORTAL_TLS_KEY_FILE": cert}, "not a PEM certificate and its private key"},
		{map[string]string{"PORTAL_TLS_CERT_FILE": filepath.Join(dir, "none"), "PORTAL_TLS_KEY_FILE": key}, "does not exist"},
		{map[string]string{"PORTAL_TRUSTED_PROXIES": "10.0.0.0/33"}, "neither an address nor a CIDR range"},
		{map[string]string{"PORTAL_OIDC_NAME_CLAIM": "given name"}, "single claim name"},
		{map[string]string{"PORTAL_OIDC_ISSUER": "http://idp.contoso.com/realms/x"}, "https://"},
	} {
		_, problems := loadServeConfig(serveLookup(c.over))
		if len(problems) != 1 || !strings.Contains(problems[0], c.want) || !strings.Contains(problems[0], "Example") {
			t.Errorf("%v: problems %q, want one saying %q with an example", c.over, problems, c.want)
		}
	}
}

// TestProbeSettingNamesMatchTheFile: the probes' refusals name settings of PORTAL_CONFIG; the
// names must be the file's.
func TestProbeSettingNamesMatchTheFile(t *testing.T) {
	typ := reflect.TypeFor[probeConfig]()
	for field, setting := range map[string]string{"ServiceBusSuffixes": servicebus.SettingServiceBusSuffixes, "AllowPrivateServiceBus": servicebus.SettingAllowPrivateServiceBus} {
		f, _ := typ.FieldByName(field)
		if "probes."+f.Tag.Get("json") != setting {
			t.Errorf("%s is %q in the file, but refusals name %q", field, "probes."+f.Tag.Get("json"), setting)
		}
	}
}
