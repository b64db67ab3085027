package servicebus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/servicebus/emulator"
)

const siblingQueue = "sibling-queue"

// testConfig is the emulator's default configuration plus a sibling queue, so tokens and
// policies of one entity can be tried on another.
func testConfig() emulator.Config {
	cfg := emulator.DefaultConfig()
	ns := &cfg.UserConfig.Namespaces[0]
	ns.Queues = append(ns.Queues, emulator.QueueConfig{Name: siblingQueue})
	return cfg
}

// startEmulator runs an emulator on a loopback port for the test.
func startEmulator(t testing.TB, cfg emulator.Config, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	srv, err := emulator.New(cfg, opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := srv.Start(ln)
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return srv, ln.Addr().String()
}

// sbEndpoint is a queue, topic or event hub endpoint on the emulator at addr with a SAS key.
func sbEndpoint(addr string, contract endpoint.Contract, path, policy, key string) endpoint.ServiceEndpoint {
	return endpoint.ServiceEndpoint{
		Name: "probe test", Contract: contract, NamespaceAddress: "sb://" + addr + "/", SolutionNamespace: "127",
		Path: path, AuthType: endpoint.AuthTypeSASKey, SASKeyName: policy, SASKey: endpoint.NewSecret(key),
		MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone,
	}
}

// tokenEndpoint is the same with SAS token authentication.
func tokenEndpoint(addr string, contract endpoint.Contract, path string, token endpoint.Secret) endpoint.ServiceEndpoint {
	e := sbEndpoint(addr, contract, path, "", "")
	e.AuthType, e.SASKey, e.SASToken = endpoint.AuthTypeSASToken, endpoint.Secret{}, token
	return e
}

func devProber(opts ...func(*Options)) *Prober {
	o := Options{Policy: DevelopmentPolicy(), Timeout: 10 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	return NewProber(o)
}

func emulatorRequest(e endpoint.ServiceEndpoint, mode Mode) Request {
	return Request{Endpoint: e, UseDevelopmentEmulator: true, Mode: mode, Organization: "contoso.crm.dynamics.com"}
}

// manageClient is an SDK client with the manage policy, to look at what a probe left behind.
func manageClient(t testing.TB, addr string) *azservicebus.Client {
	t.Helper()
	cs := "Endpoint=sb://" + addr + ";SharedAccessKeyName=" + emulator.DefaultManagePolicy + ";SharedAccessKey=" + emulator.DefaultManagePrimaryKey + ";UseDevelopmentEmulator=true"
	c, err := azservicebus.NewClientFromConnectionString(cs, &azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// peek returns every message the queue or subscription holds, without taking them.
func peek(t testing.TB, c *azservicebus.Client, queue, topic, sub string) []*azservicebus.ReceivedMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := newReceiver(t, c, queue, topic, sub)
	defer r.Close(ctx)
	msgs, err := r.PeekMessages(ctx, 50, nil)
	if err != nil {
		t.Fatalf("peek: %v", err)
	}
	return msgs
}

// newReceiver receives from the queue, or from the topic's subscription when topic is set.
func newReceiver(t testing.TB, c *azservicebus.Client, queue, topic, sub string) *azservicebus.Receiver {
	t.Helper()
	var r *azservicebus.Receiver
	var err error
	if topic != "" {
		r, err = c.NewReceiverForSubscription(topic, sub, nil)
	} else {
		r, err = c.NewReceiverForQueue(queue, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkMarked(t *testing.T, m *azservicebus.ReceivedMessage, id, contentType string) {
	t.Helper()
	if m.MessageID != id {
		t.Errorf("message id %q, want %q", m.MessageID, id)
	}
	if m.Subject == nil || *m.Subject != ValidationSubject {
		t.Errorf("subject %v, want the validation subject", m.Subject)
	}
	if m.ContentType == nil || *m.ContentType != contentType {
		t.Errorf("content type %v, want %q", m.ContentType, contentType)
	}
	if m.ApplicationProperties[ValidationProperty] != true {
		t.Errorf("marker property missing: %v", m.ApplicationProperties)
	}
	if m.ApplicationProperties[ClaimsPrefix+"Organization"] != "contoso.crm.dynamics.com" ||
		m.ApplicationProperties[ClaimsPrefix+"RequestName"] != ValidationRequestName {
		t.Errorf("claim properties missing: %v", m.ApplicationProperties)
	}
	if m.TimeToLive == nil || *m.TimeToLive != TestMessageTimeToLive {
		t.Errorf("time to live %v, want %v", m.TimeToLive, TestMessageTimeToLive)
	}
}

func TestQueueSendDeliversOneMarkedMessage(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	p := devProber()
	r := p.Probe(context.Background(), emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend))
	wantPass(t, r)
	assertNoSecret(t, r, emulator.DefaultSendPrimaryKey)
	if !strings.Contains(r.Proved, "olicy '"+emulator.DefaultSendPolicy+"'") || !strings.Contains(r.Proved, "queue '"+emulator.DefaultQueue+"'") {
		t.Errorf("Proved does not name the policy and queue: %q", r.Proved)
	}
	msgs := peek(t, manageClient(t, addr), emulator.DefaultQueue, "", "")
	if len(msgs) != 1 {
		t.Fatalf("queue holds %d messages, want exactly the test message", len(msgs))
	}
	checkMarked(t, msgs[0], r.MessageID, "application/json")
	var body map[string]any
	if err := json.Unmarshal(msgs[0].Body, &body); err != nil || body["MessageName"] != ValidationRequestName {
		t.Errorf("body is not a marked RemoteExecutionContext: %v %s", err, msgs[0].Body)
	}
	// The namespace-wide policy is warned about, as the flag says.
	req := emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend)
	req.NamespaceWidePolicy = true
	if r := p.Probe(context.Background(), req); !hasWarning(r, WarnNamespaceWidePolicy) || hasWarning(r, WarnManagePolicy) {
		t.Errorf("warnings %v, want namespace-wide only", r.Warnings)
	}
}

func TestQueueMessageFormats(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	c := manageClient(t, addr)
	for _, f := range []endpoint.MessageFormat{endpoint.MessageFormatTextXML, endpoint.MessageFormatBinaryXML} {
		e := sbEndpoint(addr, endpoint.ContractQueue, siblingQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
		e.MessageFormat = f
		r := devProber().Probe(context.Background(), emulatorRequest(e, ModeSend))
		wantPass(t, r)
		var got *azservicebus.ReceivedMessage
		for _, m := range peek(t, c, siblingQueue, "", "") {
			if m.MessageID == r.MessageID {
				got = m
			}
		}
		if got == nil {
			t.Fatalf("%s: test message not in the queue", f)
		}
		checkMarked(t, got, r.MessageID, f.ContentType())
		switch f {
		case endpoint.MessageFormatTextXML:
			if !strings.HasPrefix(string(got.Body), "<?xml") || !strings.Contains(string(got.Body), "<MessageName>"+ValidationRequestName+"</MessageName>") {
				t.Errorf("XML body: %s", got.Body)
			}
		case endpoint.MessageFormatBinaryXML:
			// A RemoteExecutionContext in [MC-NBFX]: a short element record (0x40) with its
			// name inline, the message name inside.
			if got.Body[0] != 0x40 || !strings.Contains(string(got.Body[:30]), "RemoteExecutionContext") ||
				!strings.Contains(string(got.Body), ValidationRequestName) {
				t.Errorf(".NET binary body: %x", got.Body)
			}
		}
	}
}

func TestQueueCheckModeDeliversNothing(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	r := devProber().Probe(context.Background(), emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultQueueSendPolicy, emulator.DefaultQueueSendPrimaryKey), ModeCheck))
	wantPass(t, r)
	if !strings.Contains(r.Proved, "cancelled") || hasWarning(r, WarnScheduledNotCancel) {
		t.Errorf("check mode should schedule and cancel: %q %v", r.Proved, r.Warnings)
	}
	if msgs := peek(t, manageClient(t, addr), emulator.DefaultQueue, "", ""); len(msgs) != 0 {
		t.Fatalf("check mode left %d messages (scheduled or active) in the queue", len(msgs))
	}
}

func TestTopicBothModes(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	c := manageClient(t, addr)
	e := sbEndpoint(addr, endpoint.ContractTopic, emulator.DefaultTopic, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	wantPass(t, devProber().Probe(context.Background(), emulatorRequest(e, ModeCheck)))
	if msgs := peek(t, c, "", emulator.DefaultTopic, emulator.DefaultSubscription); len(msgs) != 0 {
		t.Fatalf("check mode delivered %d messages to the subscription", len(msgs))
	}
	r := devProber().Probe(context.Background(), emulatorRequest(e, ModeSend))
	wantPass(t, r)
	msgs := peek(t, c, "", emulator.DefaultTopic, emulator.DefaultSubscription)
	if len(msgs) != 1 {
		t.Fatalf("subscription holds %d messages, want 1", len(msgs))
	}
	checkMarked(t, msgs[0], r.MessageID, "application/json")
}

// hubEvents reads every event of the default hub's partitions from the start.
func hubEvents(t *testing.T, addr string) []*azeventhubs.ReceivedEventData {
	t.Helper()
	cs := "Endpoint=sb://" + addr + ";SharedAccessKeyName=" + emulator.DefaultListenPolicy + ";SharedAccessKey=" + emulator.DefaultListenPrimaryKey + ";UseDevelopmentEmulator=true"
	consumer, err := azeventhubs.NewConsumerClientFromConnectionString(cs, emulator.DefaultEventHub, azeventhubs.DefaultConsumerGroup,
		&azeventhubs.ConsumerClientOptions{RetryOptions: azeventhubs.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close(context.Background())
	earliest := true
	var all []*azeventhubs.ReceivedEventData
	for _, pid := range []string{"0", "1"} {
		pc, err := consumer.NewPartitionClient(pid, &azeventhubs.PartitionClientOptions{StartPosition: azeventhubs.StartPosition{Earliest: &earliest}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		evs, err := pc.ReceiveEvents(ctx, 10, nil)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("receive partition %s: %v", pid, err)
		}
		all = append(all, evs...)
		pc.Close(context.Background())
	}
	return all
}

func TestEventHubBothModes(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	e := sbEndpoint(addr, endpoint.ContractEventHub, emulator.DefaultEventHub, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	r := devProber().Probe(context.Background(), emulatorRequest(e, ModeCheck))
	wantPass(t, r)
	if !strings.Contains(r.Proved, "No event was sent") {
		t.Errorf("check mode Proved should say nothing was sent: %q", r.Proved)
	}
	if evs := hubEvents(t, addr); len(evs) != 0 {
		t.Fatalf("check mode sent %d events", len(evs))
	}
	r = devProber().Probe(context.Background(), emulatorRequest(e, ModeSend))
	wantPass(t, r)
	evs := hubEvents(t, addr)
	if len(evs) != 1 {
		t.Fatalf("hub holds %d events, want 1", len(evs))
	}
	if evs[0].MessageID == nil || *evs[0].MessageID != r.MessageID || evs[0].Properties[ValidationProperty] != true {
		t.Errorf("event is not the marked test event: %+v", evs[0])
	}
	// Listen-only is refused for an event hub too.
	e = sbEndpoint(addr, endpoint.ContractEventHub, emulator.DefaultEventHub, emulator.DefaultListenPolicy, emulator.DefaultListenPrimaryKey)
	for _, mode := range []Mode{ModeSend, ModeCheck} {
		wantCause(t, devProber().Probe(context.Background(), emulatorRequest(e, mode)), CauseMissingSend)
	}
}

// TestServiceBusCauses produces every Service Bus cause for real against the emulator.
func TestServiceBusCauses(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	queueRes := "sb://" + addr + "/" + emulator.DefaultQueue
	wrongKey := "WRONGWRONGs+FQegvFYT7JIfgfj6KV8SK0hfCIb9VD5Uw="
	expired := endpoint.SignSAS(queueRes, emulator.DefaultSendPolicy, endpoint.NewSecret(emulator.DefaultSendPrimaryKey), time.Now().Add(-time.Hour))
	sibling := endpoint.SignSAS("sb://"+addr+"/"+siblingQueue, emulator.DefaultSendPolicy, endpoint.NewSecret(emulator.DefaultSendPrimaryKey), time.Now().Add(time.Hour))
	forged := endpoint.SignSAS(queueRes, emulator.DefaultSendPolicy, endpoint.NewSecret(wrongKey), time.Now().Add(time.Hour))

	cases := []struct {
		name    string
		e       endpoint.ServiceEndpoint
		want    Cause
		mention []string // words the summary or fix must contain
	}{
		{"wrong key", sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, wrongKey), CauseWrongKey,
			[]string{"policy '" + emulator.DefaultSendPolicy + "'", emulator.DefaultQueue}},
		{"listen-only policy", sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultListenPolicy, emulator.DefaultListenPrimaryKey), CauseMissingSend,
			[]string{"'Send' claim(s) are required", emulator.DefaultListenPolicy, "queue '" + emulator.DefaultQueue + "'"}},
		{"listen-only policy on a topic", sbEndpoint(addr, endpoint.ContractTopic, emulator.DefaultTopic, emulator.DefaultListenPolicy, emulator.DefaultListenPrimaryKey), CauseMissingSend,
			[]string{emulator.DefaultListenPolicy, "topic '" + emulator.DefaultTopic + "'"}},
		{"expired token", tokenEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, expired), CauseTokenExpired,
			[]string{"expired", emulator.DefaultSendPolicy}},
		{"token for a sibling entity", tokenEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, sibling), CauseTokenWrongResource,
			[]string{siblingQueue, emulator.DefaultQueue}},
		{"token signed with a wrong key", tokenEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, forged), CauseWrongKey,
			[]string{emulator.DefaultSendPolicy}},
		{"entity policy used on another entity", sbEndpoint(addr, endpoint.ContractQueue, siblingQueue, emulator.DefaultQueueSendPolicy, emulator.DefaultQueueSendPrimaryKey), CausePolicyNotFound,
			[]string{emulator.DefaultQueueSendPolicy, siblingQueue}},
		{"unknown queue", sbEndpoint(addr, endpoint.ContractQueue, "no-such-queue", emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), CauseEntityNotFound,
			[]string{"no-such-queue", addr}},
		{"unknown event hub", sbEndpoint(addr, endpoint.ContractEventHub, "no-such-hub", emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), CauseEntityNotFound,
			[]string{"event hub 'no-such-hub'"}},
	}
	for _, tc := range cases {
		for _, mode := range []Mode{ModeSend, ModeCheck} {
			t.Run(tc.name+"/"+mode.String(), func(t *testing.T) {
				r := devProber().Probe(context.Background(), emulatorRequest(tc.e, mode))
				wantCause(t, r, tc.want)
				assertNoSecret(t, r, wrongKey, emulator.DefaultSendPrimaryKey, emulator.DefaultListenPrimaryKey, emulator.DefaultQueueSendPrimaryKey,
					tc.e.SASToken.Reveal())
				text := r.Summary + " " + r.Fix
				for _, w := range tc.mention {
					if !strings.Contains(text, w) {
						t.Errorf("%q missing from %q", w, text)
					}
				}
			})
		}
	}
	if n := len(peek(t, manageClient(t, addr), emulator.DefaultQueue, "", "")); n != 0 {
		t.Fatalf("failed probes left %d messages", n)
	}
}

func TestLocalAuthDisabled(t *testing.T) {
	cfg := testConfig()
	cfg.UserConfig.Namespaces[0].DisableLocalAuth = true
	_, addr := startEmulator(t, cfg, emulator.Options{})
	for _, c := range []endpoint.Contract{endpoint.ContractQueue, endpoint.ContractEventHub} {
		path := emulator.DefaultQueue
		if c == endpoint.ContractEventHub {
			path = emulator.DefaultEventHub
		}
		r := devProber().Probe(context.Background(), emulatorRequest(sbEndpoint(addr, c, path, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend))
		wantCause(t, r, CauseLocalAuthDisabled)
		if !strings.Contains(r.Fix, "Local Authentication") {
			t.Errorf("fix should say where to enable local auth: %q", r.Fix)
		}
	}
}

func TestFullQueue(t *testing.T) {
	cfg := testConfig()
	cfg.UserConfig.Namespaces[0].Queues[0].Properties.MaxMessageCount = 1
	_, addr := startEmulator(t, cfg, emulator.Options{})
	e := sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	wantPass(t, devProber().Probe(context.Background(), emulatorRequest(e, ModeSend)))
	wantCause(t, devProber().Probe(context.Background(), emulatorRequest(e, ModeSend)), CauseEntityFull)
}

// TestOversizeMessage: a probe's own message is small, so the size cause is produced by
// sending an oversize message with the SDK through the probe's dialer and classifying the
// real error the probe would get.
func TestOversizeMessage(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	p := devProber()
	req := emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend)
	pr, bad := p.prepare(req)
	if bad != nil {
		t.Fatal(bad.Summary)
	}
	rec := &dialRecord{}
	client, err := azservicebus.NewClientFromConnectionString(pr.connStr, &azservicebus.ClientOptions{RetryOptions: noRetries(),
		NewWebSocketConn: func(ctx context.Context, _ azservicebus.NewWebSocketConnArgs) (net.Conn, error) {
			return p.dialNamespace(ctx, pr.tgt, rec)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	sender, err := client.NewSender(emulator.DefaultQueue, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = sender.SendMessage(ctx, &azservicebus.Message{Body: make([]byte, 300<<10)}, nil)
	if err == nil {
		t.Fatal("a 300 KB message was accepted by a Standard namespace")
	}
	r := p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
	wantCause(t, r, CauseTooLarge)
}

// TestCloseRightAfterStartLeavesNothingListening: the race behind a flaky probe test (Close
// returning before Serve had taken its listener) is gone: after Close, connecting is refused.
func TestCloseRightAfterStartLeavesNothingListening(t *testing.T) {
	for range 200 {
		srv, err := emulator.New(testConfig(), emulator.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := srv.Start(ln)
		srv.Close()
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Fatal("the emulator still accepted a connection after Close")
		}
		if err := <-done; !errors.Is(err, emulator.ErrServerClosed) {
			t.Fatalf("Serve returned %v", err)
		}
	}
}

func TestEmulatorStoppedIsUnreachable(t *testing.T) {
	srv, addr := startEmulator(t, testConfig(), emulator.Options{})
	srv.Close()
	r := devProber().Probe(context.Background(), emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend))
	wantCause(t, r, CauseUnreachable)
	if !strings.Contains(r.Summary, "refused") {
		t.Errorf("summary should say the connection was refused: %q", r.Summary)
	}
}

// TestSilentServerTimesOut: a TCP listener that accepts and never answers.
func TestSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	p := devProber(func(o *Options) { o.Timeout = 400 * time.Millisecond })
	for _, c := range []endpoint.Contract{endpoint.ContractQueue, endpoint.ContractEventHub} {
		start := time.Now()
		r := p.Probe(context.Background(), emulatorRequest(sbEndpoint(ln.Addr().String(), c, "q", emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend))
		wantCause(t, r, CauseTimeout)
		if !strings.Contains(r.Summary, "Connected") {
			t.Errorf("summary should say the connection was made: %q", r.Summary)
		}
		if r.Duration <= 0 || time.Since(start) < 400*time.Millisecond {
			t.Errorf("the probe returned before its timeout: %v", r.Duration)
		}
	}
}

func TestCancelledProbe(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := devProber().Probe(ctx, emulatorRequest(sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey), ModeSend))
	wantCause(t, r, CauseCancelled)
}

func TestEmulatorNeedsPolicy(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	e := sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	r := NewProber(Options{Policy: DefaultPolicy()}).Probe(context.Background(), emulatorRequest(e, ModeSend))
	wantCause(t, r, CauseHostNotAllowed)
	if n := len(peek(t, manageClient(t, addr), emulator.DefaultQueue, "", "")); n != 0 {
		t.Fatalf("a refused probe delivered %d messages", n)
	}
}

// TestTLSEmulator probes a production-shaped namespace name served by the emulator in TLS
// mode: the name resolves (through the test resolver) to loopback and AMQPS is pointed at the
// emulator's port.
func TestTLSEmulator(t *testing.T) {
	const host = "sbemulatorns.servicebus.windows.net"
	srvTLS, cert, err := emulator.SelfSignedTLS(host)
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startEmulator(t, testConfig(), emulator.Options{TLS: srvTLS})
	_, port, _ := net.SplitHostPort(addr)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	dns := newFakeDNS().set(host, "127.0.0.1")
	portN, _ := strconv.Atoi(port)
	e := sbEndpoint(host, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	e.NamespaceAddress = "sb://" + host + "/"
	req := Request{Endpoint: e, Mode: ModeSend}

	trusted := NewProber(Options{Policy: DevelopmentPolicy(), Resolver: dns, Ports: Ports{AMQPS: portN}, TLSConfig: &tls.Config{RootCAs: pool}})
	wantPass(t, trusted.Probe(context.Background(), req))
	req.Mode = ModeCheck
	wantPass(t, trusted.Probe(context.Background(), req))

	untrusted := NewProber(Options{Policy: DevelopmentPolicy(), Resolver: dns, Ports: Ports{AMQPS: portN}})
	wantCause(t, untrusted.Probe(context.Background(), req), CauseTLS)

	// Production policy: the namespace name is fine, but it resolves to loopback, which is
	// refused at dial time.
	prod := NewProber(Options{Policy: DefaultPolicy(), Resolver: dns, Ports: Ports{AMQPS: portN}, TLSConfig: &tls.Config{RootCAs: pool}})
	r := prod.Probe(context.Background(), req)
	wantCause(t, r, CauseHostNotAllowed)
	if !strings.Contains(r.Summary, "127.0.0.1") {
		t.Errorf("summary should name the refused address: %q", r.Summary)
	}

	nxdomain := NewProber(Options{Policy: DefaultPolicy(), Resolver: newFakeDNS()})
	wantCause(t, nxdomain.Probe(context.Background(), req), CauseDNS)
}

func TestWarnings(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	root := sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultManagePolicy, emulator.DefaultManagePrimaryKey)
	r := devProber().Probe(context.Background(), emulatorRequest(root, ModeCheck))
	wantPass(t, r)
	if !hasWarning(r, WarnManagePolicy) || !hasWarning(r, WarnNamespaceWidePolicy) {
		t.Errorf("RootManageSharedAccessKey should warn Manage and namespace-wide: %v", r.Warnings)
	}

	soon := endpoint.SignSAS("sb://"+addr+"/"+emulator.DefaultQueue, emulator.DefaultQueueSendPolicy, endpoint.NewSecret(emulator.DefaultQueueSendPrimaryKey), time.Now().Add(10*24*time.Hour))
	r = devProber().Probe(context.Background(), emulatorRequest(tokenEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, soon), ModeCheck))
	wantPass(t, r)
	if !hasWarning(r, WarnTokenExpiring) || hasWarning(r, WarnNamespaceWidePolicy) || hasWarning(r, WarnManagePolicy) {
		t.Errorf("entity token expiring in 10 days: warnings %v", r.Warnings)
	}
	assertNoSecret(t, r, soon.Reveal(), emulator.DefaultQueueSendPrimaryKey)

	nsToken := endpoint.SignSAS("sb://"+addr+"/", emulator.DefaultSendPolicy, endpoint.NewSecret(emulator.DefaultSendPrimaryKey), time.Now().Add(90*24*time.Hour))
	r = devProber().Probe(context.Background(), emulatorRequest(tokenEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, nsToken), ModeCheck))
	wantPass(t, r)
	if !hasWarning(r, WarnNamespaceWidePolicy) || hasWarning(r, WarnTokenExpiring) {
		t.Errorf("namespace token valid 90 days: warnings %v", r.Warnings)
	}

	expired := endpoint.SignSAS("sb://"+addr+"/"+emulator.DefaultQueue, emulator.DefaultSendPolicy, endpoint.NewSecret(emulator.DefaultSendPrimaryKey), time.Now().Add(-time.Minute))
	r = devProber().Probe(context.Background(), emulatorRequest(tokenEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, expired), ModeSend))
	if !hasWarning(r, WarnTokenExpired) {
		t.Errorf("expired token: warnings %v", r.Warnings)
	}
}
