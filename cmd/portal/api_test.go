package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/plan"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
)

// pipelineEnv is one block of the variables `portal dev` prints for an application.
type pipelineEnv map[string]string

// devPipelines reads the ready-to-paste lines `portal dev` printed: one block per application.
func devPipelines(t *testing.T, printed *syncBuffer) []pipelineEnv {
	t.Helper()
	var blocks []pipelineEnv
	// dev prints the pipeline lines after its address: wait for them.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		blocks = nil
		for _, m := range regexp.MustCompile(`(?m)^  export ([A-Z_]+)=(\S+)$`).FindAllStringSubmatch(printed.String(), -1) {
			if m[1] == "AZURE_TENANT_ID" {
				blocks = append(blocks, pipelineEnv{})
			}
			if len(blocks) > 0 {
				blocks[len(blocks)-1][m[1]] = m[2]
			}
		}
		if len(blocks) == 2 && blocks[1]["PORTAL_URL"] != "" || time.Now().After(deadline) {
			break
		}
	}
	if len(blocks) != 2 {
		t.Fatalf("portal dev printed %d pipeline blocks, want 2:\n%s", len(blocks), printed.String())
	}
	for _, want := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST", "PORTAL_URL"} {
		if blocks[0][want] == "" {
			t.Fatalf("portal dev printed no %s", want)
		}
	}
	return blocks
}

// buildPortal builds this command's binary, to run the CLI as a process of its own.
func buildPortal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portal")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cli runs the binary with exactly the pipeline's variables (and no inherited AZURE_* or
// PORTAL_*), stdin as given, and returns its output and exit status.
func cli(t *testing.T, bin string, env pipelineEnv, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AZURE_") && !strings.HasPrefix(kv, "PORTAL_") && !strings.HasPrefix(kv, "SSL_CERT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// appToken gets the application's access token with the client credentials grant, over https,
// as any pipeline tool would.
func appToken(t *testing.T, env pipelineEnv) string {
	t.Helper()
	pemBytes, err := os.ReadFile(env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.PostForm(env["AZURE_AUTHORITY_HOST"]+env["AZURE_TENANT_ID"]+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {env["AZURE_CLIENT_ID"]}, "client_secret": {env["AZURE_CLIENT_SECRET"]}, "scope": {env["PORTAL_API_AUDIENCE"] + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// call sends an API request with a token; it returns the status and the body.
func call(t *testing.T, base, token, method, path string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), resp.Header
}

// queueSendString is the queue-scoped send policy's connection string `portal dev` printed.
func queueSendString(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`Endpoint=sb://\S*SharedAccessKeyName=` + sbemulator.DefaultQueueSendPolicy + `;\S*`).FindString(out)
	if m == "" {
		t.Fatalf("no QueueSend connection string in:\n%s", out)
	}
	return m
}

// TestCLIAgainstPortalDev runs the CLI as a process of its own against a real `portal dev`,
// signed in through DefaultAzureCredential with exactly the lines dev prints: it lists, tests,
// sets a key (a wrong key is proved wrong: exit 3), lists steps, plans and applies a file (its
// key from the pipeline's environment; twice changes nothing), deletes; a Viewer application
// reads and tests but cannot change anything.
func TestCLIAgainstPortalDev(t *testing.T) {
	base, out := startDev(t)
	apps := devPipelines(t, out)
	pipeline, viewer := apps[0], apps[1]
	bin := buildPortal(t)
	good := queueSendString(t, out.String())

	// Register an endpoint over the API (the CLI has no create: pipelines use apply).
	token := appToken(t, pipeline)
	id := strings.ToLower("7a1d5c2e-0000-4000-8000-00000000c11a")
	status, body, hdr := call(t, base, token, "POST", handlers.APIPrefix+"/endpoints", api.NewEndpoint{Environment: "contoso-dev", Team: "Integration",
		Endpoint: endpoint.ServiceEndpoint{ID: id, Name: "Pipeline orders"}, Credential: api.Credential{ConnectionString: good}})
	if status != http.StatusCreated || hdr.Get("Location") != handlers.APIPrefix+"/endpoints/contoso-dev/"+id {
		t.Fatalf("create: %d %s", status, body)
	}
	// Sent again (a retried pipeline step): no second endpoint.
	if status, body, _ = call(t, base, token, "POST", handlers.APIPrefix+"/endpoints", api.NewEndpoint{Environment: "contoso-dev", Team: "Integration",
		Endpoint: endpoint.ServiceEndpoint{ID: id, Name: "Pipeline orders"}, Credential: api.Credential{ConnectionString: good}}); status >= 500 {
		t.Fatalf("create again: %d %s", status, body)
	}

	stdout, stderr, code := cli(t, bin, pipeline, "", "endpoints", "list")
	if code != 0 || !strings.Contains(stdout, "Pipeline orders") || !strings.Contains(stdout, id) || strings.Count(stdout, "Pipeline orders") != 1 {
		t.Fatalf("endpoints list: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, code = cli(t, bin, pipeline, "", "endpoints", "list", "--output", "json", "--team", "Integration")
	var list api.EndpointList
	if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil || list.Total < 1 {
		t.Fatalf("endpoints list --output json: exit %d\n%s", code, stdout)
	}
	if stdout, stderr, code = cli(t, bin, pipeline, "", "endpoints", "test", "contoso-dev", id); code != 0 || !strings.Contains(stdout, "passed") {
		t.Fatalf("endpoints test: exit %d\n%s\n%s", code, stdout, stderr)
	}

	wrong := regexp.MustCompile(`SharedAccessKey=[^;]+`).ReplaceAllString(good, "SharedAccessKey="+strings.Repeat("A", 43)+"=")
	stdout, stderr, code = cli(t, bin, pipeline, wrong+"\n", "endpoints", "set-key", "contoso-dev", id)
	if code != 3 || !strings.Contains(stderr, "did not pass") {
		t.Fatalf("set-key with a wrong key: exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	secondary := regexp.MustCompile(`SharedAccessKey=[^;]+`).ReplaceAllString(good, "SharedAccessKey="+sbemulator.DefaultQueueSendSecondaryKey)
	env := pipelineEnv{"NEW_QUEUE_KEY": secondary}
	for k, v := range pipeline {
		env[k] = v
	}
	stdout, stderr, code = cli(t, bin, env, "", "endpoints", "set-key", "contoso-dev", id, "--from-env", "NEW_QUEUE_KEY")
	if code != 0 || !strings.Contains(stdout, "now uses it") {
		t.Fatalf("set-key: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, secret := range []string{sbemulator.DefaultQueueSendSecondaryKey, strings.Repeat("A", 43)} {
		if strings.Contains(stdout+stderr, secret) {
			t.Fatal("the CLI printed a key")
		}
	}
	// The history and the audit name the application.
	status, body, _ = call(t, base, token, "GET", handlers.APIPrefix+"/endpoints/contoso-dev/"+id+"/validations", nil)
	if status != 200 || !strings.Contains(string(body), "Release pipeline (application pipeline)") {
		t.Fatalf("validations: %d %s", status, body)
	}

	if stdout, stderr, code = cli(t, bin, pipeline, "", "steps", "list", "contoso-dev", id); code != 0 || !strings.Contains(stdout, "MESSAGE") {
		t.Fatalf("steps list: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// PATCH changes what the edit page may change for this kind: a queue takes a description,
	// and a URL (a webhook's field) is not applied to it.
	desc, hook := "Orders for the warehouse", "https://hooks.contoso.example/x"
	if status, body, _ = call(t, base, token, "PATCH", handlers.APIPrefix+"/endpoints/contoso-dev/"+id, api.EndpointChange{Description: &desc, URL: &hook}); status != 200 {
		t.Fatalf("patch: %d %s", status, body)
	}
	var patched api.Endpoint
	if status, body, _ = call(t, base, token, "GET", handlers.APIPrefix+"/endpoints/contoso-dev/"+id, nil); status != 200 || json.Unmarshal(body, &patched) != nil ||
		patched.Endpoint.Description != desc || patched.Endpoint.URL != "" {
		t.Fatalf("after the patch: %d %s", status, body)
	}

	// Plan and apply a file: the endpoint above under a new name, its key a reference that the
	// pipeline's environment resolves.
	status, body, _ = call(t, base, token, "GET", handlers.APIPrefix+"/endpoints/contoso-dev/"+id, nil)
	var got api.Endpoint
	if status != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("get: %d %s", status, body)
	}
	e := got.Endpoint
	e.ID, e.Name = "", "Applied orders"
	doc := plan.Document{Version: plan.FormatVersion, Endpoints: []plan.Endpoint{plan.EndpointOf(e, "Integration", nil)}}
	data, err := plan.Encode(doc, plan.YAML)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := strings.CutPrefix(doc.Endpoints[0].Secret, "env:")
	if ref == "" || strings.Contains(string(data), "SharedAccessKey") {
		t.Fatalf("the file refers to no secret, or holds one:\n%s", data)
	}
	file := filepath.Join(t.TempDir(), "endpoints.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code = cli(t, bin, pipeline, "", "plan", "-f", file, "--environment", "contoso-dev"); code != 0 || !strings.Contains(stdout, "create") || !strings.Contains(stdout, "Applied orders") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code = cli(t, bin, pipeline, "", "apply", "-f", file, "--environment", "contoso-dev"); code != 1 || !strings.Contains(stderr, ref) {
		t.Fatalf("apply without the key: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	withKey := pipelineEnv{ref: good}
	for k, v := range pipeline {
		withKey[k] = v
	}
	if stdout, stderr, code = cli(t, bin, withKey, "", "apply", "-f", file, "--environment", "contoso-dev"); code != 0 || !strings.Contains(stdout, "[succeeded]") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, _, code = cli(t, bin, pipeline, "", "endpoints", "list", "--output", "json"); code != 0 || strings.Count(stdout, `"Applied orders"`) != 1 {
		t.Fatalf("after apply the list shows %d Applied orders", strings.Count(stdout, `"Applied orders"`))
	}
	if stdout, stderr, code = cli(t, bin, withKey, "", "apply", "-f", file, "--environment", "contoso-dev"); code != 0 || !strings.Contains(stdout, "0 change(s) changed") {
		t.Fatalf("the same file applied twice: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, good) {
		t.Fatal("the CLI printed the key")
	}
	if _, _, code = cli(t, bin, pipeline, "", "endpoints", "get", "contoso-dev"); code != 2 {
		t.Fatalf("endpoints get without an id: exit %d, want 2", code)
	}
	if _, _, code = cli(t, bin, pipeline, "", "endpoints", "set-key", "contoso-dev", id); code != 2 {
		t.Fatalf("set-key without a key on stdin: exit %d, want 2", code)
	}

	// A Viewer application reads and tests, and cannot write.
	if stdout, stderr, code = cli(t, bin, viewer, "", "endpoints", "test", "contoso-dev", id); code != 0 {
		t.Fatalf("viewer test: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code = cli(t, bin, viewer, secondary, "endpoints", "set-key", "contoso-dev", id); code != 1 || !strings.Contains(stderr, "Registrar") {
		t.Fatalf("viewer set-key: exit %d, want 1 (403)\n%s", code, stderr)
	}
	if _, stderr, code = cli(t, bin, viewer, "", "endpoints", "delete", "contoso-dev", id, "--yes"); code != 1 || !strings.Contains(stderr, "(403)") {
		t.Fatalf("viewer delete: exit %d, want 1 (403)\n%s", code, stderr)
	}
	viewerToken := appToken(t, viewer)
	for _, w := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/endpoints", api.NewEndpoint{Environment: "contoso-dev", Team: "Integration", Endpoint: endpoint.ServiceEndpoint{Name: "Viewer's"}, Credential: api.Credential{ConnectionString: good}}},
		{"PATCH", "/endpoints/contoso-dev/" + id, api.EndpointChange{Description: new(string)}},
		{"POST", "/endpoints/contoso-dev/" + id + "/steps", api.StepState{}},
	} {
		if status, body, _ := call(t, base, viewerToken, w.method, handlers.APIPrefix+w.path, w.body); status != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d %s", w.method, w.path, status, body)
		}
	}

	if stdout, stderr, code = cli(t, bin, pipeline, "", "endpoints", "delete", "contoso-dev", id, "--yes"); code != 0 {
		t.Fatalf("delete: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code = cli(t, bin, pipeline, "", "endpoints", "get", "contoso-dev", id); code != 1 || !strings.Contains(stderr, "(404)") {
		t.Fatalf("get after delete: exit %d\n%s", code, stderr)
	}
}
