package servicebus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/contoso/sbportal/endpoint"
)

// Transport says how a probe reached a Service Bus namespace.
type Transport string

// Transports.
const (
	// TransportAMQP is AMQP over TLS on port 5671 (plain AMQP to a development emulator).
	TransportAMQP Transport = "amqp"
	// TransportWebSockets is AMQP over WebSockets on port 443, which the probe falls back to
	// when port 5671 cannot be reached (corporate networks often block it).
	TransportWebSockets Transport = "amqp-websockets"
)

// Where Service Bus accepts AMQP over WebSockets (on the https port), and the subprotocol.
const (
	webSocketPath        = "/$servicebus/websocket"
	webSocketSubprotocol = "AMQPWSB10"
)

// dialRecord remembers how the SDK's dial went. The SDKs turn dial errors into their own
// *Error without unwrapping (a *net.DNSError becomes "connlost"), so the probe keeps the
// original to say exactly what failed, and which transport it used.
type dialRecord struct {
	mu        sync.Mutex
	dialErr   error
	opened    bool
	transport Transport
	port      int
	// blocked is why AMQP's port could not be reached when the probe fell back to WebSockets.
	blocked     error
	blockedPort int
}

func (d *dialRecord) set(t Transport, port int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.transport, d.port = t, port
	if err != nil {
		d.dialErr = err
	} else {
		d.opened = true
	}
}

func (d *dialRecord) fellBack(port int, why error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.blocked, d.blockedPort = why, port
}

func (d *dialRecord) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dialErr
}

func (d *dialRecord) connected() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.opened
}

// annotate says in the result how the namespace was reached: the transport, its port, and
// why the probe fell back to WebSockets.
func (d *dialRecord) annotate(r Result) Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.transport == "" {
		return r
	}
	r.Transport = d.transport
	how := " Connected over AMQP on port " + strconv.Itoa(d.port) + "."
	if d.transport == TransportWebSockets {
		how = " Connected over AMQP over WebSockets on port " + strconv.Itoa(d.port) + ", because port " +
			strconv.Itoa(d.blockedPort) + " (AMQP) could not be reached: " + blockedReason(d.blocked) + "."
	}
	switch {
	case r.Passed:
		r.Proved += how
	case d.opened:
		r.Summary += how
	case d.transport == TransportWebSockets:
		r.Summary = "Port " + strconv.Itoa(d.blockedPort) + " (AMQP) could not be reached (" + blockedReason(d.blocked) +
			"), so the portal tried AMQP over WebSockets on port " + strconv.Itoa(d.port) + ": " + r.Summary
	}
	return r
}

// blockedReason says in a few words why a port could not be reached.
func blockedReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "the network cannot reach it"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer"
	}
	return "the connection was cut"
}

// portBlocked reports a dial failure that another port may not have: refused, unreachable,
// no answer, or cut during the handshake. A name that does not resolve, an address the policy
// refuses or a certificate that is not trusted would fail the same way on any port.
func portBlocked(err error) bool {
	var (
		refused *hostRefusedError
		dnsErr  *net.DNSError
		ne      net.Error
	)
	switch {
	case errors.As(err, &refused), errors.As(err, &dnsErr), tlsFailure(err) != "":
		return false
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, io.EOF), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return errors.As(err, &ne) && ne.Timeout()
}

// amqpConnectShare is the part of the probe's remaining time port 5671 gets before the probe
// falls back to WebSockets on 443; a firewall that drops packets answers nothing at all.
const (
	amqpConnectShare   = 3
	amqpConnectTimeout = 5 * time.Second
)

// dialNamespace opens the transport for the SDK: through the guard (so the policy is enforced
// at dial time, after DNS), then TLS with the namespace's host name unless the target is a
// development emulator. When port 5671 cannot be reached it falls back to AMQP over WebSockets
// on the https port, as the SDKs do with their WebSocket option. It is handed to the SDKs as
// their NewWebSocketConn hook, the one place both let a caller supply the net.Conn; the SDK
// then speaks plain AMQP over it.
func (p *Prober) dialNamespace(ctx context.Context, tgt namespaceTarget, rec *dialRecord) (net.Conn, error) {
	if tgt.Emulator {
		conn, err := p.guard.dial(ctx, tgt.Host, tgt.DialPort, tgt.Rule)
		rec.set(TransportAMQP, tgt.DialPort, err)
		return conn, err
	}
	wait := amqpConnectTimeout
	if deadline, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(deadline)/amqpConnectShare)
	}
	actx, cancel := context.WithTimeout(ctx, wait)
	conn, err := p.dialTLS(actx, tgt.Host, tgt.DialPort, tgt.Rule)
	cancel()
	if err == nil || ctx.Err() != nil || !portBlocked(err) {
		rec.set(TransportAMQP, tgt.DialPort, err)
		return conn, err
	}
	rec.fellBack(tgt.DialPort, err)
	conn, err = p.dialWebSocket(ctx, tgt)
	rec.set(TransportWebSockets, p.opts.Ports.HTTPS, err)
	return conn, err
}

// dialTLS connects to host:port through the guard and completes a TLS handshake for host.
func (p *Prober) dialTLS(ctx context.Context, host string, port int, rule dialRule) (net.Conn, error) {
	conn, err := p.guard.dial(ctx, host, port, rule)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(conn, p.tlsConfig(host))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// dialWebSocket opens AMQP over WebSockets: wss://<namespace>/$servicebus/websocket on the
// https port with the subprotocol AMQPWSB10, dialled through the guard like every probe
// connection. The returned connection carries AMQP frames as binary messages.
func (p *Prober) dialWebSocket(ctx context.Context, tgt namespaceTarget) (net.Conn, error) {
	transport := &http.Transport{
		Proxy: nil, // a proxy would dial on our behalf, past the guard
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return p.dialTLS(ctx, tgt.Host, p.opts.Ports.HTTPS, tgt.Rule)
		},
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer transport.CloseIdleConnections()
	ws, resp, err := websocket.Dial(ctx, "wss://"+tgt.Host+webSocketPath, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Subprotocols: []string{webSocketSubprotocol},
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("the namespace did not accept AMQP over WebSockets (HTTP %d)", resp.StatusCode)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	if ws.Subprotocol() != webSocketSubprotocol {
		ws.Close(websocket.StatusProtocolError, "AMQPWSB10 expected")
		return nil, fmt.Errorf("the namespace answered the WebSocket without the %s subprotocol", webSocketSubprotocol)
	}
	// The connection outlives the call that opened it: the SDK closes it with the client.
	return websocket.NetConn(context.WithoutCancel(ctx), ws, websocket.MessageBinary), nil
}

// prepared is a Service Bus probe's checked inputs.
type prepared struct {
	tgt      namespaceTarget
	path     string
	cred     credential
	t        target
	connStr  string // the SDK's connection string; holds the secret, never shown
	resource string // the SAS resource URI for the entity
}

// prepare checks a queue, topic or event hub request and builds the connection string the SDK
// takes: Endpoint plus SharedAccessKeyName/SharedAccessKey, or SharedAccessSignature.
func (p *Prober) prepare(req Request) (prepared, *Result) {
	e := req.Endpoint
	tgt, err := p.checkNamespaceAddress(e.NamespaceAddress, req.UseDevelopmentEmulator, "sb")
	if err != nil {
		r := p.dialFailure(context.Background(), err, "namespace")
		return prepared{}, &r
	}
	path, bad := checkPath(e)
	if bad != nil {
		return prepared{}, bad
	}
	cred, bad := serviceBusCredential(req)
	if bad != nil {
		return prepared{}, bad
	}
	host := tgt.Host
	if tgt.Emulator {
		host = net.JoinHostPort(tgt.Host, strconv.Itoa(tgt.DialPort))
	}
	cs := "Endpoint=sb://" + host + "/;"
	if cred.AuthType == endpoint.AuthTypeSASToken {
		cs += "SharedAccessSignature=" + cred.Token.Reveal()
	} else {
		cs += "SharedAccessKeyName=" + cred.Policy + ";SharedAccessKey=" + cred.Key.Reveal()
	}
	if tgt.Emulator {
		cs += ";UseDevelopmentEmulator=true"
	}
	return prepared{
		tgt: tgt, path: path, cred: cred, connStr: cs,
		t:        target{Kind: entityWord(e.Contract), Path: path, Namespace: host},
		resource: "https://" + host + "/" + path,
	}, nil
}

// closeTimeout bounds closing SDK clients after a probe, also when its context has ended.
const closeTimeout = 2 * time.Second

func noRetries() azservicebus.RetryOptions { return azservicebus.RetryOptions{MaxRetries: -1} }

// probeQueueOrTopic sends the test message (or schedules and cancels it) with azservicebus.
func (p *Prober) probeQueueOrTopic(ctx context.Context, req Request) Result {
	pr, bad := p.prepare(req)
	if bad != nil {
		return *bad
	}
	rec := &dialRecord{}
	res := rec.annotate(p.sendServiceBus(ctx, req, pr, rec))
	res.Warnings = append(res.Warnings, p.warnings(req, pr.cred)...)
	return res
}

func (p *Prober) sendServiceBus(ctx context.Context, req Request, pr prepared, rec *dialRecord) Result {
	client, err := azservicebus.NewClientFromConnectionString(pr.connStr, &azservicebus.ClientOptions{
		ApplicationID: "sbportal-probe",
		RetryOptions:  noRetries(),
		NewWebSocketConn: func(ctx context.Context, _ azservicebus.NewWebSocketConnArgs) (net.Conn, error) {
			return p.dialNamespace(ctx, pr.tgt, rec)
		},
	})
	if err != nil {
		return invalid("The namespace address or credentials cannot be used: "+errText(err, pr.cred.secrets()...)+".",
			"Check the namespace address, the policy name and the key or token.")
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = client.Close(cctx)
	}()
	sender, err := client.NewSender(pr.path, nil)
	if err != nil {
		return invalid("The "+pr.t.Kind+" name cannot be used: "+errText(err)+".", "Check the "+pr.t.Kind+" name.")
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = sender.Close(cctx)
	}()

	m := newTestMessage(req)
	msg := &azservicebus.Message{
		MessageID:             &m.ID,
		CorrelationID:         &m.CorrelationID,
		ContentType:           &m.ContentType,
		Subject:               &m.Subject,
		Body:                  m.Body,
		ApplicationProperties: m.Properties,
		TimeToLive:            &m.TTL,
	}
	if req.Mode == ModeCheck {
		at := time.Now().Add(ScheduleAhead).UTC()
		seqs, err := sender.ScheduleMessages(ctx, []*azservicebus.Message{msg}, at, nil)
		if err != nil {
			return p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
		}
		res := Result{Passed: true, MessageID: m.ID,
			Proved: pr.cred.Who() + " can send to " + pr.t.String() + ": a test message was scheduled for " + at.Format("2006-01-02") + " and cancelled, so nothing was delivered."}
		if err := sender.CancelScheduledMessages(ctx, seqs, nil); err != nil {
			res.Proved = pr.cred.Who() + " can send to " + pr.t.String() + ": a test message was scheduled."
			res.Warnings = append(res.Warnings, Warning{WarnScheduledNotCancel,
				"The scheduled test message (sequence number " + seqNumbers(seqs) + ") could not be cancelled: " + errText(err, pr.cred.secrets()...) +
					". It will be delivered on " + at.Format("2006-01-02") + " unless cancelled; listeners can recognise it by " + ValidationProperty + "."})
		}
		return res
	}
	if err := sender.SendMessage(ctx, msg, nil); err != nil {
		return p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
	}
	if m.Sample {
		return Result{Passed: true, MessageID: m.ID,
			Proved: "Sent a sample message " + m.ID + " (" + m.ContentType + ") to " + pr.t.String() + " with " + pr.cred.who() +
				"; it expires unread after " + m.TTL.String() + " and is marked " + m.Marker + "."}
	}
	return Result{Passed: true, MessageID: m.ID,
		Proved: pr.cred.Who() + " can send to " + pr.t.String() + ": test message " + m.ID + " was accepted (it expires unread after " + m.TTL.String() + ")."}
}

func seqNumbers(seqs []int64) string {
	s := ""
	for i, n := range seqs {
		if i > 0 {
			s += ", "
		}
		s += strconv.FormatInt(n, 10)
	}
	return s
}

// probeEventHub sends the test event with azeventhubs, or in check mode opens the sender link
// only: the service attaches a sender to an event hub only for a token with Send, so an
// accepted link proves the credentials without an event (it does not prove that an event of
// Dataverse's size fits).
func (p *Prober) probeEventHub(ctx context.Context, req Request) Result {
	pr, bad := p.prepare(req)
	if bad != nil {
		return *bad
	}
	rec := &dialRecord{}
	res := rec.annotate(p.sendEventHub(ctx, req, pr, rec))
	res.Warnings = append(res.Warnings, p.warnings(req, pr.cred)...)
	return res
}

func (p *Prober) sendEventHub(ctx context.Context, req Request, pr prepared, rec *dialRecord) Result {
	producer, err := azeventhubs.NewProducerClientFromConnectionString(pr.connStr, pr.path, &azeventhubs.ProducerClientOptions{
		ApplicationID: "sbportal-probe",
		RetryOptions:  azeventhubs.RetryOptions{MaxRetries: -1},
		NewWebSocketConn: func(ctx context.Context, _ azeventhubs.WebSocketConnParams) (net.Conn, error) {
			return p.dialNamespace(ctx, pr.tgt, rec)
		},
	})
	if err != nil {
		return invalid("The namespace address or credentials cannot be used: "+errText(err, pr.cred.secrets()...)+".",
			"Check the namespace address, the policy name and the key or token.")
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = producer.Close(cctx)
	}()
	batch, err := producer.NewEventDataBatch(ctx, nil)
	if err != nil {
		return p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
	}
	if req.Mode == ModeCheck {
		return Result{Passed: true,
			Proved: pr.cred.Who() + " can send to " + pr.t.String() + ": the service accepted the token and opened a sender link, which it grants only with the Send right. No event was sent."}
	}
	m := newTestMessage(req)
	ev := &azeventhubs.EventData{Body: m.Body, ContentType: &m.ContentType, MessageID: &m.ID, CorrelationID: m.CorrelationID, Properties: m.Properties}
	if err := batch.AddEventData(ev, nil); err != nil {
		return p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
	}
	if err := producer.SendEventDataBatch(ctx, batch, nil); err != nil {
		return p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
	}
	if m.Sample {
		return Result{Passed: true, MessageID: m.ID,
			Proved: "Sent a sample event " + m.ID + " (" + m.ContentType + ") to " + pr.t.String() + " with " + pr.cred.who() +
				"; it stays for the hub's retention period and is marked " + m.Marker + "."}
	}
	return Result{Passed: true, MessageID: m.ID,
		Proved: pr.cred.Who() + " can send to " + pr.t.String() + ": test event " + m.ID + " was accepted (it stays for the hub's retention period; consumers can skip it by " + ValidationProperty + ")."}
}
