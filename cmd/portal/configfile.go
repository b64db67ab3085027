package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/contoso/sbportal/dataverse"
)

// fileConfig is the structured part of the configuration, in the JSON file named by
// PORTAL_CONFIG. Secrets may stay out of it: each environment's credential can name an
// environment variable (clientSecretEnv) instead.
//
//	{
//	  "environments": [ { "id": "contoso-dev", "displayName": "Contoso Dev",
//	                      "url": "https://contoso-dev.crm.dynamics.com", "teams": ["Integration"],
//	                      "credential": { "kind": "client-secret", "tenantId": "...",
//	                                      "clientId": "...", "clientSecretEnv": "CONTOSO_DEV_SECRET" } } ],
//	  "probes": { "timeout": "15s", "serviceBusSuffixes": ["servicebus.windows.net"] }
//	}
type fileConfig struct {
	Environments []dataverse.EnvironmentConfig `json:"environments"`
	Probes       probeConfig                   `json:"probes"`
}

// probeConfig tunes the test-sends.
type probeConfig struct {
	// Timeout bounds one probe (default 15s).
	Timeout string `json:"timeout"`
	// ServiceBusSuffixes replaces the list of namespace host suffixes probes may dial
	// (default: the public, US Government and China clouds).
	ServiceBusSuffixes []string `json:"serviceBusSuffixes"`
	// AllowPrivateServiceBus lets probes reach namespaces that resolve to private addresses
	// (private endpoints).
	AllowPrivateServiceBus bool `json:"allowPrivateServiceBus"`
}

func (p probeConfig) timeout() time.Duration {
	d, err := time.ParseDuration(p.Timeout)
	if err != nil || d <= 0 {
		return 15 * time.Second
	}
	return d
}

// loadFileConfig reads and checks the file; every problem is reported at once.
func loadFileConfig(path string) (fileConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileConfig{}, fmt.Errorf("read PORTAL_CONFIG %s: %w", path, err)
	}
	var fc fileConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fileConfig{}, fmt.Errorf("PORTAL_CONFIG %s is not valid: %w (see the README's example)", path, err)
	}
	var problems []string
	if len(fc.Environments) == 0 {
		problems = append(problems, `"environments" is empty: list at least one Dataverse environment`)
	}
	seen := map[string]bool{}
	for i, e := range fc.Environments {
		if seen[e.ID] {
			problems = append(problems, fmt.Sprintf("environments[%d]: id %q is used twice", i, e.ID))
		}
		seen[e.ID] = true
		for _, p := range e.Validate() {
			problems = append(problems, fmt.Sprintf("environments[%d] (%s): %s", i, e.ID, p))
		}
	}
	if fc.Probes.Timeout != "" {
		if d, err := time.ParseDuration(fc.Probes.Timeout); err != nil || d <= 0 {
			problems = append(problems, `probes.timeout is not a duration such as "15s"`)
		}
	}
	if len(problems) > 0 {
		return fileConfig{}, fmt.Errorf("PORTAL_CONFIG %s has %d problem(s):\n  - %s", path, len(problems), strings.Join(problems, "\n  - "))
	}
	return fc, nil
}
