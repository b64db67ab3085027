package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServeRefusesToStartWithoutConfiguration(t *testing.T) {
	for _, s := range serveSettings {
		t.Setenv(s.env, "")
	}
	var stdout, stderr bytes.Buffer
	code := dispatch(context.Background(), []string{"serve"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, s := range serveSettings {
		if s.required && !strings.Contains(stderr.String(), s.env+" is not set") {
			t.Errorf("message does not name %s:\n%s", s.env, stderr.String())
		}
		if !s.required && strings.Contains(stderr.String(), s.env) {
			t.Errorf("message complains about optional %s", s.env)
		}
	}
	if !strings.Contains(stderr.String(), "Example: PORTAL_BASE_URL=https://") {
		t.Errorf("no example value:\n%s", stderr.String())
	}
}

func TestServeConfigProblems(t *testing.T) {
	lookup := serveLookup
	cfg, problems := loadServeConfig(lookup(nil))
	if len(problems) != 0 {
		t.Fatalf("good config refused: %v", problems)
	}
	if cfg.Listen != ":8080" || cfg.ShutdownTimeout != 30*time.Second || len(cfg.SessionKey) != 32 {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	for _, c := range []struct{ env, value, want string }{
		{"PORTAL_BASE_URL", "http://portal.contoso.com", "must start with https://"},
		{"PORTAL_BASE_URL", "portal.contoso.com", "not an absolute URL"},
		{"PORTAL_SECRET_KEY", "c2hvcnQ=", "want 32 (AES-256)"},
		{"PORTAL_SECRET_KEY", "not base64!", "not valid standard base64"},
		{"PORTAL_SESSION_KEY", "c2hvcnQ=", "needs at least 32"},
		{"PORTAL_DATABASE_URL", "mysql://x", "postgres:// URL or a SQLite file path"},
		{"PORTAL_CONFIG", "/no/such/file.json", "does not exist"},
		{"PORTAL_LOG_LEVEL", "loud", "debug, info, warn or error"},
		{"PORTAL_LISTEN", "8080", "host:port"},
		{"PORTAL_METRICS_LISTEN", "9090", "host:port"},
		{"PORTAL_METRICS_LISTEN", "0.0.0.0:8080", "an address of their own"},
		{"PORTAL_SHUTDOWN_TIMEOUT", "soon", "positive duration"},
	} {
		_, problems := loadServeConfig(lookup(map[string]string{c.env: c.value}))
		if len(problems) != 1 || !strings.Contains(problems[0], c.env) || !strings.Contains(problems[0], c.want) || !strings.Contains(problems[0], "Example:") {
			t.Errorf("%s=%q: problems %q, want one mentioning %q", c.env, c.value, problems, c.want)
		}
		if strings.Contains(strings.Join(problems, " "), "not base64!") {
			t.Errorf("a secret value was echoed: %q", problems)
		}
	}
}

// TestREADMEListsEverySetting keeps the README's configuration reference in step with the code.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range serveSettings {
		if !strings.Contains(string(readme), "| `"+s.env+"` |") {
			t.Errorf("README's configuration reference lacks %s", s.env)
		}
	}
	for _, m := range regexp.MustCompile("`(PORTAL_[A-Z_]+)`").FindAllStringSubmatch(string(readme), -1) {
		found := false
		for _, s := range serveSettings {
			found = found || s.env == m[1]
		}
		if _, cli := cliVariables[m[1]]; cli {
			found = true // read by the CLI commands, not serve
		}
		if !found && !strings.HasPrefix(m[1], "PORTAL_TEST_") {
			t.Errorf("README documents %s, which serve does not read", m[1])
		}
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		var stdout, stderr bytes.Buffer
		if code := dispatch(context.Background(), []string{name, "--help"}, &stdout, &stderr); code != 0 {
			t.Errorf("%s --help: exit %d", name, code)
		}
		if !strings.Contains(stderr.String()+stdout.String(), "Usage: portal "+name) {
			t.Errorf("%s --help printed no usage: %q", name, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := dispatch(context.Background(), []string{"nonsense"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

// syncBuffer lets a test read what a running command has printed so far.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDev runs `portal dev` in-process on a free port and returns its base URL.
func startDev(t *testing.T, extra ...string) (string, *syncBuffer) { // returns the base URL and what dev printed
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	args := append([]string{"dev", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, extra...)
	go func() { done <- dispatch(ctx, args, stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("dev exited %d: %s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop after its context ended")
		}
	})
	urlRE := regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+)/`)
	for i := 0; i < 600; i++ {
		// The banner ends with "Press Ctrl+C": wait for all of it, so callers read what dev
		// prints after its address (connection strings, pipeline lines) however loaded the
		// machine is.
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil && strings.Contains(stdout.String(), "Press Ctrl+C to stop.") {
			return m[1], stdout
		}
		select {
		case code := <-done:
			t.Fatalf("dev exited %d before printing its URL: %s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("dev printed no URL: %s", stdout.String())
	return "", nil
}

func TestDevServesLayoutAndHealth(t *testing.T) {
	base, _ := startDev(t)
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Service Endpoint Portal") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("layout page missing: %d %s", resp.StatusCode, body[:min(len(body), 200)])
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- serveUntilDone(ctx, newHTTPServer(h, testLogger(&logs)), ln, 10*time.Second, testLogger(&logs))
	}()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		got <- line
	}()
	<-started
	cancel()
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("serveUntilDone: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
}
