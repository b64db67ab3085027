package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestREADMEConfigFileExampleLoads keeps the README's PORTAL_CONFIG example valid.
func TestREADMEConfigFileExampleLoads(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no JSON example")
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, m[1], 0o600); err != nil {
		t.Fatal(err)
	}
	fc, err := loadFileConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Environments) != 1 || fc.Environments[0].ID != "contoso-prod" || fc.Probes.timeout() != 15*time.Second {
		t.Fatalf("loaded %+v", fc)
	}
	if l := fc.testLimits(); l.PerPersonPerMinute != 20 || l.PerEndpointPerMinute != 6 {
		t.Fatalf("test limits %+v", l)
	}
	o := fc.catalogOptions()
	if o.Refresh != time.Minute || o.FullEvery != 10*time.Minute || o.RefreshByEnv["contoso-prod"] != time.Minute {
		t.Fatalf("catalog options %+v", o)
	}
}

func TestConfigFileProblems(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"environments": []}`, `"environments" is empty`},
		{`{"environmnets": []}`, `unknown field "environmnets"`},
		{`{"environments": [{"id": "a"}]}`, `environments[0] (a):`},
		{`{"environments": [{"id":"x","displayName":"X","url":"https://x.crm.dynamics.com","teams":["t"],"credential":{"kind":"managed-identity"}}], "probes": {"timeout": "soon"}}`, `probes.timeout`},
		{`{"environments": [{"id":"x","displayName":"X","url":"https://x.crm.dynamics.com","teams":["t"],"credential":{"kind":"managed-identity"},"refresh":"5ms"}]}`, `environments[0] (x): refresh is "5ms": write a duration of at least 1s`},
		{`{"environments": [{"id":"x","displayName":"X","url":"https://x.crm.dynamics.com","teams":["t"],"credential":{"kind":"managed-identity"}}], "catalog": {"refresh": "often"}}`, `catalog.refresh is "often"`},
		{`{"environments": [{"id":"x","displayName":"X","url":"https://x.crm.dynamics.com","teams":["t"],"credential":{"kind":"managed-identity"}}], "limits": {"testsPerPersonPerMinute": -1}}`, `limits.testsPerPersonPerMinute is -1: write a number from 1 to 600`},
		{`{"environments": [{"id":"x","displayName":"X","url":"https://x.crm.dynamics.com","teams":["t"],"credential":{"kind":"managed-identity"}}], "catalog": {"fullRefresh": "30s"}}`, `catalog.fullRefresh is "30s": write a duration of at least 1m0s`},
	} {
		path := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(path, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadFileConfig(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.body, err, c.want)
		}
	}
}
