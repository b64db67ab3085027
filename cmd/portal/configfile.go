package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/handlers"
)

// fileConfig is the structured part of the configuration, in the JSON file named by
// PORTAL_CONFIG. Secrets may stay out of it: each environment's credential can name an
// environment variable (clientSecretEnv) instead.
//
//	{
//	  "environments": [ { "id": "contoso-dev", "displayName": "Contoso Dev",
//	                      "url": "https://contoso-dev.crm.dynamics.com", "teams": ["Integration"],
//	                      "credential": { "kind": "client-secret", "tenantId": "...",
//	                                      "clientId": "...", "clientSecretEnv": "CONTOSO_DEV_SECRET" },
//	                      "refresh": "60s" } ],
//	  "probes": { "timeout": "15s", "serviceBusSuffixes": ["servicebus.windows.net"] },
//	  "catalog": { "refresh": "60s", "fullRefresh": "10m" }
//	}
type fileConfig struct {
	Environments []environmentConfig `json:"environments"`
	Probes       probeConfig         `json:"probes"`
	Catalog      catalogConfig       `json:"catalog"`
	Limits       limitsConfig        `json:"limits"`
	// Health and Notifications: see confighealth.go.
	Health        healthConfig        `json:"health"`
	Notifications notificationsConfig `json:"notifications"`
}

// environmentConfig is a Dataverse environment and how often the portal re-reads its
// endpoints.
type environmentConfig struct {
	dataverse.EnvironmentConfig
	// Refresh overrides catalog.refresh for this environment, e.g. "30s".
	Refresh string `json:"refresh,omitempty"`
}

// limitsConfig bounds how often people may test endpoints (each test sends a real message).
type limitsConfig struct {
	// TestsPerPersonPerMinute: tests and validations one person may run a minute (default 10).
	TestsPerPersonPerMinute int `json:"testsPerPersonPerMinute,omitempty"`
	// TestsPerEndpointPerMinute: tests of one endpoint or draft a minute, by anyone (default 6).
	TestsPerEndpointPerMinute int `json:"testsPerEndpointPerMinute,omitempty"`
}

// testLimits are the handlers' limits from the file (zero: the defaults).
func (fc fileConfig) testLimits() handlers.TestLimits {
	return handlers.TestLimits{PerPersonPerMinute: fc.Limits.TestsPerPersonPerMinute, PerEndpointPerMinute: fc.Limits.TestsPerEndpointPerMinute}
}

// catalogConfig tunes the catalog, the in-memory copy of every environment's endpoints.
type catalogConfig struct {
	// Refresh is how often each environment's endpoints are re-read (default 60s): one list
	// query per environment per interval, whatever the number of people viewing.
	Refresh string `json:"refresh,omitempty"`
	// FullRefresh is how often a refresh reads every endpoint rather than those modified since
	// the last one, to notice deletions made outside the portal (default 10m).
	FullRefresh string `json:"fullRefresh,omitempty"`
}

// dataverseEnvironments are the environments as the Dataverse client takes them.
func (fc fileConfig) dataverseEnvironments() []dataverse.EnvironmentConfig {
	out := make([]dataverse.EnvironmentConfig, len(fc.Environments))
	for i, e := range fc.Environments {
		out[i] = e.EnvironmentConfig
	}
	return out
}

// catalogOptions are the catalog's intervals from the file (zero fields take the catalog's
// defaults); loadFileConfig has checked every duration.
func (fc fileConfig) catalogOptions() catalog.Options {
	o := catalog.Options{RefreshByEnv: map[string]time.Duration{}}
	o.Refresh, _ = time.ParseDuration(fc.Catalog.Refresh)
	o.FullEvery, _ = time.ParseDuration(fc.Catalog.FullRefresh)
	for _, e := range fc.Environments {
		if d, err := time.ParseDuration(e.Refresh); err == nil {
			o.RefreshByEnv[e.ID] = d
		}
	}
	return o
}

// checkInterval says what is wrong with an interval setting, if anything: it must be a
// duration of at least min.
func checkInterval(name, v string, min time.Duration) []string {
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		return []string{fmt.Sprintf("%s is %q: write a duration of at least %s, such as \"60s\" or \"5m\"", name, v, min)}
	}
	return nil
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
		problems = append(problems, checkInterval(fmt.Sprintf("environments[%d] (%s): refresh", i, e.ID), e.Refresh, time.Second)...)
	}
	if fc.Probes.Timeout != "" {
		if d, err := time.ParseDuration(fc.Probes.Timeout); err != nil || d <= 0 {
			problems = append(problems, `probes.timeout is not a duration such as "15s"`)
		}
	}
	problems = append(problems, checkInterval("catalog.refresh", fc.Catalog.Refresh, time.Second)...)
	for name, n := range map[string]int{"limits.testsPerPersonPerMinute": fc.Limits.TestsPerPersonPerMinute,
		"limits.testsPerEndpointPerMinute": fc.Limits.TestsPerEndpointPerMinute} {
		if n < 0 || n > 600 {
			problems = append(problems, fmt.Sprintf("%s is %d: write a number from 1 to 600, or leave it out for the default", name, n))
		}
	}
	problems = append(problems, checkInterval("catalog.fullRefresh", fc.Catalog.FullRefresh, time.Minute)...)
	problems = append(problems, checkHealthConfig(fc)...)
	if len(problems) > 0 {
		return fileConfig{}, fmt.Errorf("PORTAL_CONFIG %s has %d problem(s):\n  - %s", path, len(problems), strings.Join(problems, "\n  - "))
	}
	return fc, nil
}
