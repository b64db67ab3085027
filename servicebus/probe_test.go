package servicebus

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/servicebus/emulator"
)

func TestInvalidEndpoints(t *testing.T) {
	base := sbEndpoint("127.0.0.1:5672", endpoint.ContractQueue, "orders", "SendOnly", emulator.DefaultSendPrimaryKey)
	mod := func(f func(e *endpoint.ServiceEndpoint)) endpoint.ServiceEndpoint {
		e := base
		f(&e)
		return e
	}
	cases := []struct {
		name string
		e    endpoint.ServiceEndpoint
	}{
		{"no path", mod(func(e *endpoint.ServiceEndpoint) { e.Path = "" })},
		{"system path", mod(func(e *endpoint.ServiceEndpoint) { e.Path = "orders/$management" })},
		{"path with a query", mod(func(e *endpoint.ServiceEndpoint) { e.Path = "orders?x=1" })},
		{"no policy name", mod(func(e *endpoint.ServiceEndpoint) { e.SASKeyName = "" })},
		{"no key", mod(func(e *endpoint.ServiceEndpoint) { e.SASKey = endpoint.Secret{} })},
		{"connection string as key", mod(func(e *endpoint.ServiceEndpoint) {
			e.SASKey = endpoint.NewSecret("Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=" + emulator.DefaultSendPrimaryKey)
		})},
		{"policy name with ;", mod(func(e *endpoint.ServiceEndpoint) { e.SASKeyName = "a;UseDevelopmentEmulator=true" })},
		{"token that is not one", mod(func(e *endpoint.ServiceEndpoint) {
			e.AuthType, e.SASKey, e.SASToken = endpoint.AuthTypeSASToken, endpoint.Secret{}, endpoint.NewSecret("sr=abc")
		})},
		{"webhook auth on a queue", mod(func(e *endpoint.ServiceEndpoint) { e.AuthType = endpoint.AuthTypeWebhookKey })},
		{"event grid", mod(func(e *endpoint.ServiceEndpoint) { e.Contract = endpoint.ContractEventGrid })},
		{"no contract", mod(func(e *endpoint.ServiceEndpoint) { e.Contract = 0 })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := devProber().Probe(context.Background(), emulatorRequest(tc.e, ModeSend))
			wantCause(t, r, CauseInvalidEndpoint)
			assertNoSecret(t, r, emulator.DefaultSendPrimaryKey)
		})
	}
}

func TestRedact(t *testing.T) {
	in := "failed: SharedAccessSignature sr=x&sig=abc%2Bdef&se=1&skn=p; key SECRETKEY; url https://h/api?code=fn-key&x=1"
	out := redact(in, "SECRETKEY")
	for _, leak := range []string{"abc%2Bdef", "SECRETKEY", "fn-key"} {
		if strings.Contains(out, leak) {
			t.Errorf("redact left %q in %q", leak, out)
		}
	}
	if !strings.Contains(out, "skn=p") || !strings.Contains(out, "x=1") {
		t.Errorf("redact removed too much: %q", out)
	}
}

// TestConcurrentProbesShareAProber runs probes of several kinds at once through one Prober
// (run with -race), and checks each got its own answer and the log holds no secret.
func TestConcurrentProbesShareAProber(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	var logs syncBuffer
	p := NewProber(Options{Policy: DevelopmentPolicy(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	good := emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, siblingQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend)
	listen := emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, siblingQueue, emulator.DefaultListenPolicy, emulator.DefaultListenPrimaryKey), ModeSend)
	hub := emulatorRequest(sbEndpoint(addr, endpoint.ContractEventHub, emulator.DefaultEventHub, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeCheck)

	const n = 8
	var wg sync.WaitGroup
	ids := make(chan string, 3*n)
	for range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			r := p.Probe(context.Background(), good)
			if !r.Passed {
				t.Errorf("good probe failed: %s", r.Summary)
			}
			ids <- r.MessageID
		}()
		go func() {
			defer wg.Done()
			if r := p.Probe(context.Background(), listen); r.Cause != CauseMissingSend {
				t.Errorf("listen-only probe: %q %s", r.Cause, r.Summary)
			}
		}()
		go func() {
			defer wg.Done()
			if r := p.Probe(context.Background(), hub); !r.Passed {
				t.Errorf("event hub check failed: %s", r.Summary)
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if id == "" || seen[id] {
			t.Errorf("message id %q empty or repeated", id)
		}
		seen[id] = true
	}
	if got := len(peek(t, manageClient(t, addr), siblingQueue, "", "")); got != n {
		t.Errorf("queue holds %d messages, want %d", got, n)
	}
	text := logs.String()
	if strings.Count(text, `"msg":"endpoint probe"`) != 3*n {
		t.Errorf("want one log line per probe, got:\n%s", text)
	}
	for _, s := range []string{emulator.DefaultSendPrimaryKey, emulator.DefaultListenPrimaryKey} {
		if strings.Contains(text, s) {
			t.Fatal("a key reached the log")
		}
	}
}

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
