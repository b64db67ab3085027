package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestREADMEHealthConfigLoads keeps the README's health and notifications example valid, and
// shows that a webhook URL's value never appears in a configuration problem.
func TestREADMEHealthConfigLoads(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var example string
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(readme, -1) {
		if strings.Contains(string(m[1]), `"notifications"`) {
			example = string(m[1])
		}
	}
	if example == "" {
		t.Fatal("README has no notifications example")
	}
	base := `{"environments":[{"id":"contoso-prod","displayName":"Contoso","url":"https://contoso.crm.dynamics.com","teams":["Integration"],
		"credential":{"kind":"managed-identity"}}],` + strings.TrimPrefix(strings.TrimSpace(example), "{")
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INTEGRATION_WEBHOOK_URL", "http://hooks.example/SECRETPART")
	t.Setenv("PORTAL_SMTP_PASSWORD", "pw")
	_, err = loadFileConfig(path)
	if err == nil || !strings.Contains(err.Error(), "INTEGRATION_WEBHOOK_URL, which must hold") || strings.Contains(err.Error(), "SECRETPART") {
		t.Fatalf("a plain-http webhook URL: %v", err)
	}
	t.Setenv("INTEGRATION_WEBHOOK_URL", "https://contoso.webhook.office.com/webhookb2/SECRETPART")
	fc, err := loadFileConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if o := fc.healthOptions(); o.Interval != 6*time.Hour || o.Concurrency != 4 || o.DeliveryEvery != 15*time.Minute {
		t.Fatalf("health options %+v", o)
	}
	n := fc.notifyOptions(os.Getenv)
	if n.Targets["Integration"].WebhookURL.Reveal() != "https://contoso.webhook.office.com/webhookb2/SECRETPART" ||
		n.SMTP.Password.Reveal() != "pw" || len(n.Targets["Finance"].Email) != 1 {
		t.Fatalf("notify options %+v", n)
	}
}
