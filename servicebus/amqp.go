package servicebus

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/contoso/sbportal/endpoint"
)

// dialRecord remembers how the SDK's one dial went. The SDKs turn dial errors into their own
// *Error without unwrapping (a *net.DNSError becomes "connlost"), so the probe keeps the
// original to say exactly what failed.
type dialRecord struct {
	mu      sync.Mutex
	dialErr error
	opened  bool
}

func (d *dialRecord) set(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.dialErr = err
	} else {
		d.opened = true
	}
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

// dialNamespace opens the transport for the SDK: through the guard (so the policy is enforced
// at dial time, after DNS), then TLS with the namespace's host name unless the target is a
// development emulator. It is handed to the SDKs as their NewWebSocketConn hook, the one
// place both let a caller supply the net.Conn; the SDK then speaks plain AMQP over it.
func (p *Prober) dialNamespace(ctx context.Context, tgt namespaceTarget, rec *dialRecord) (net.Conn, error) {
	conn, err := p.guard.dial(ctx, tgt.Host, tgt.DialPort, tgt.Rule)
	if err != nil {
		rec.set(err)
		return nil, err
	}
	if !tgt.Emulator {
		tc := tls.Client(conn, p.tlsConfig(tgt.Host))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			rec.set(err)
			return nil, err
		}
		conn = tc
	}
	rec.set(nil)
	return conn, nil
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
	res := p.sendServiceBus(ctx, req, pr)
	res.Warnings = append(res.Warnings, p.warnings(req, pr.cred)...)
	return res
}

func (p *Prober) sendServiceBus(ctx context.Context, req Request, pr prepared) Result {
	rec := &dialRecord{}
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
	ttl := TestMessageTimeToLive
	subject := ValidationSubject
	msg := &azservicebus.Message{
		MessageID:             &m.ID,
		ContentType:           &m.ContentType,
		Subject:               &subject,
		Body:                  m.Body,
		ApplicationProperties: m.Properties,
		TimeToLive:            &ttl,
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
	return Result{Passed: true, MessageID: m.ID,
		Proved: pr.cred.Who() + " can send to " + pr.t.String() + ": test message " + m.ID + " was accepted (it expires unread after " + ttl.String() + ")."}
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
	res := p.sendEventHub(ctx, req, pr)
	res.Warnings = append(res.Warnings, p.warnings(req, pr.cred)...)
	return res
}

func (p *Prober) sendEventHub(ctx context.Context, req Request, pr prepared) Result {
	rec := &dialRecord{}
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
	ev := &azeventhubs.EventData{Body: m.Body, ContentType: &m.ContentType, MessageID: &m.ID, Properties: m.Properties}
	if err := batch.AddEventData(ev, nil); err != nil {
		return p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
	}
	if err := producer.SendEventDataBatch(ctx, batch, nil); err != nil {
		return p.amqpFailure(ctx, err, rec, pr.cred, pr.t, pr.resource)
	}
	return Result{Passed: true, MessageID: m.ID,
		Proved: pr.cred.Who() + " can send to " + pr.t.String() + ": test event " + m.ID + " was accepted (it stays for the hub's retention period; consumers can skip it by " + ValidationProperty + ")."}
}
