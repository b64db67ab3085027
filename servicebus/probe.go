package servicebus

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/sample"
)

// Mode says whether a probe delivers a test message.
type Mode int

const (
	// ModeSend sends one small test message, marked as a validation message, with a short
	// time to live. It is the zero value: it is the only mode that works for every contract.
	ModeSend Mode = iota
	// ModeCheck proves Send without delivering anything: queues and topics get a message
	// scheduled far in the future that is cancelled at once; event hubs get a sender link
	// opened and closed. Relays and webhooks cannot be checked without a request, so a
	// ModeCheck probe of them fails with CauseModeUnsupported.
	ModeCheck
)

// String names the mode for logs and pages.
func (m Mode) String() string {
	if m == ModeCheck {
		return "check without delivering"
	}
	return "send a test message"
}

// Request is what to probe.
type Request struct {
	Endpoint endpoint.ServiceEndpoint
	// Key is the secret the endpoint's auth type uses: the SAS key (SAS key auth), the whole
	// SAS token (SAS token auth) or the webhook authvalue (key, or <settings> XML). When unset
	// the matching secret of Endpoint (SASKey, SASToken or AuthValue) is used.
	Key endpoint.Secret
	// UseDevelopmentEmulator marks a namespace address such as sb://127.0.0.1:5672/ as a local
	// emulator reached over plain AMQP, as UseDevelopmentEmulator=true does in a connection
	// string. Probed only when the Policy allows it.
	UseDevelopmentEmulator bool
	// NamespaceWidePolicy says the SAS key belongs to a namespace-level policy (its connection
	// string had no EntityPath; see endpoint.ConnectionString.NamespaceWide). A key alone
	// cannot tell; tokens tell by their resource.
	NamespaceWidePolicy bool
	// Organization names the Dataverse environment in the test message's claims and webhook
	// headers (e.g. "contoso.crm.dynamics.com"). Optional.
	Organization string
	Mode         Mode
	// Sample, when set, is sent instead of the validation message (ModeSend only): its body,
	// content type, subject, ids and application properties to a queue, topic or event hub
	// (with a time to live of SampleTimeToLive), its headers and JSON body to a webhook, its
	// body to a relay. A check-mode request with a sample fails with CauseModeUnsupported.
	Sample *sample.Message
}

// Cause is why a probe failed, as a stable code that pages, audit entries and metrics can use.
type Cause string

// The causes a probe reports. CauseNone means passed.
const (
	CauseNone               Cause = ""
	CauseInvalidEndpoint    Cause = "invalid-endpoint"     // the endpoint lacks what a probe needs
	CauseModeUnsupported    Cause = "mode-unsupported"     // check mode asked of a relay or webhook
	CauseWrongKey           Cause = "wrong-key"            // signature does not match the policy's keys, or no such policy
	CauseTokenExpired       Cause = "token-expired"        // the SAS token's expiry has passed
	CauseTokenWrongResource Cause = "token-wrong-resource" // the SAS token or policy is for another entity
	CausePolicyNotFound     Cause = "policy-not-found"     // no such policy on the namespace or entity (e.g. another entity's policy)
	CauseMissingSend        Cause = "missing-send"         // the policy lacks the Send claim
	CauseMissingListen      Cause = "missing-listen"       // a two-way relay's policy lacks Listen
	CauseEntityNotFound     Cause = "entity-not-found"     // no such queue, topic, event hub or relay
	CauseLocalAuthDisabled  Cause = "local-auth-disabled"  // SAS is disabled on the namespace
	CauseHostNotAllowed     Cause = "host-not-allowed"     // the SSRF policy refuses the host or its address
	CauseDNS                Cause = "dns"                  // the host name does not resolve
	CauseUnreachable        Cause = "unreachable"          // refused, unreachable, or the connection dropped
	CauseTLS                Cause = "tls"                  // certificate or TLS handshake failure
	CauseTimeout            Cause = "timeout"              // no answer within the probe's timeout
	CauseCancelled          Cause = "cancelled"            // the caller went away
	CauseTooLarge           Cause = "too-large"            // the entity refused the message's size
	CauseEntityFull         Cause = "entity-full"          // the entity is over its quota
	CauseNoListener         Cause = "no-listener"          // a relay accepted the credentials but no listener is connected
	CauseWebhookAuth        Cause = "webhook-auth"         // the webhook answered 401 or 403
	CauseWebhookNotFound    Cause = "webhook-not-found"    // the webhook answered 404
	CauseWebhookRedirect    Cause = "webhook-redirect"     // the webhook answered with a redirect
	CauseWebhookClientError Cause = "webhook-client-error" // another 4xx
	CauseWebhookServerError Cause = "webhook-server-error" // 5xx
	CauseUnexpected         Cause = "unexpected"           // anything else; Summary tells what
)

// WarningCode identifies a warning.
type WarningCode string

// Warnings a probe can add, passed or not.
const (
	WarnNamespaceWidePolicy WarningCode = "namespace-wide-policy"
	WarnManagePolicy        WarningCode = "manage-policy"
	WarnTokenExpiring       WarningCode = "token-expiring"
	WarnTokenExpired        WarningCode = "token-expired"
	WarnListenNotProved     WarningCode = "listen-not-proved"
	WarnScheduledNotCancel  WarningCode = "scheduled-not-cancelled"
)

// Warning is something to fix even when the probe passed.
type Warning struct {
	Code    WarningCode
	Message string
}

// Result is a probe's answer. It never holds a secret.
type Result struct {
	Passed    bool
	Proved    string // what exactly was proved, in plain words (also set when only part was proved)
	MessageID string // the test message's id (webhooks: the correlation id sent)
	Duration  time.Duration
	Cause     Cause  // why it failed; CauseNone when passed
	Summary   string // one line: what went wrong
	Fix       string // what to do, naming the policy, claim, entity or namespace
	Warnings  []Warning
	// Transport is how a Service Bus namespace was reached ("" for relays and webhooks, and
	// when no connection was tried).
	Transport Transport
}

// Resolver looks up host names; *net.Resolver implements it. Tests substitute their own to
// point names at loopback stand-ins or to play DNS rebinding.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Ports are the ports a probe dials on a Service Bus namespace host. Zero values are the
// service's: AMQPS 5671, HTTPS 443. Tests point them at local stand-ins; an emulator address
// (UseDevelopmentEmulator) carries its own port.
type Ports struct {
	AMQPS int
	HTTPS int
}

// Options configure a Prober.
type Options struct {
	Policy  Policy
	Timeout time.Duration // whole probe, DNS to answer; default 15s
	// TLSConfig is cloned for every TLS connection (AMQPS, relays, webhooks); set RootCAs to
	// trust a local stand-in's certificate. nil uses the system roots.
	TLSConfig *tls.Config
	Logger    *slog.Logger // outcome per probe; never secrets. nil discards.
	Resolver  Resolver     // nil uses net.DefaultResolver
	Ports     Ports
	Now       func() time.Time // token expiry warnings; nil uses time.Now
	// Observe, when set, is told of every probe's outcome, for metrics. It runs on the
	// caller's goroutine: keep it quick.
	Observe func(Request, Result)
}

// DefaultTimeout bounds a probe when Options.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Prober runs probes. It is safe for concurrent use and holds no connections between probes.
type Prober struct {
	opts  Options
	log   *slog.Logger
	guard *guard
}

// NewProber returns a Prober with opts' defaults filled in.
func NewProber(opts Options) *Prober {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Ports.AMQPS == 0 {
		opts.Ports.AMQPS = 5671
	}
	if opts.Ports.HTTPS == 0 {
		opts.Ports.HTTPS = 443
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Policy.ServiceBusSuffixes) == 0 {
		opts.Policy.ServiceBusSuffixes = DefaultPolicy().ServiceBusSuffixes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Prober{opts: opts, log: log, guard: &guard{resolver: opts.Resolver}}
}

// Probe proves the endpoint's credentials by a real request, within Options.Timeout and as
// long as ctx lasts. It never panics on bad input: an endpoint that cannot be probed gets a
// failed Result with CauseInvalidEndpoint.
func (p *Prober) Probe(ctx context.Context, req Request) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()

	var res Result
	e := req.Endpoint
	switch {
	case req.Sample != nil && req.Mode == ModeCheck:
		res = failed(CauseModeUnsupported, "A sample message cannot be sent in check mode, which delivers nothing.",
			"Choose \"send a test message\" to send the sample.")
	case e.Contract == endpoint.ContractQueue || e.Contract == endpoint.ContractPersistentQueue || e.Contract == endpoint.ContractTopic:
		res = p.probeQueueOrTopic(ctx, req)
	case e.Contract == endpoint.ContractEventHub:
		res = p.probeEventHub(ctx, req)
	case e.Contract.IsRelay():
		res = p.probeRelay(ctx, req)
	case e.Contract == endpoint.ContractWebhook:
		res = p.probeWebhook(ctx, req)
	default:
		res = invalid("The portal cannot test a "+e.Contract.Label()+" endpoint.",
			"Choose a queue, topic, event hub, relay or webhook.")
	}
	res.Duration = time.Since(start)
	if res.Passed {
		res.Cause, res.Summary, res.Fix = CauseNone, "", ""
	}
	p.log.LogAttrs(context.Background(), slog.LevelInfo, "endpoint probe",
		slog.String("endpoint", e.Name), slog.String("contract", e.Contract.Label()),
		slog.String("mode", req.Mode.String()), slog.Bool("sample", req.Sample != nil), slog.Bool("passed", res.Passed),
		slog.String("cause", string(res.Cause)), slog.String("transport", string(res.Transport)), slog.String("message_id", res.MessageID),
		slog.Duration("duration", res.Duration))
	if p.opts.Observe != nil {
		p.opts.Observe(req, res)
	}
	return res
}

// secretFor picks the secret the endpoint's auth type uses.
func secretFor(req Request) endpoint.Secret {
	if req.Key.IsSet() {
		return req.Key
	}
	switch req.Endpoint.AuthType {
	case endpoint.AuthTypeSASKey:
		return req.Endpoint.SASKey
	case endpoint.AuthTypeSASToken:
		return req.Endpoint.SASToken
	}
	return req.Endpoint.AuthValue
}

func invalid(summary, fix string) Result {
	return Result{Cause: CauseInvalidEndpoint, Summary: summary, Fix: fix}
}

func failed(c Cause, summary, fix string) Result {
	return Result{Cause: c, Summary: summary, Fix: fix}
}

// redact removes every occurrence of the secrets, and anything shaped like a SAS signature,
// from text that came from elsewhere (an SDK error, a server's description) before it is shown.
func redact(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, s, "********")
		}
	}
	for _, marker := range []string{"sig=", "SharedAccessKey=", "SharedAccessSignature=", "code="} {
		for from := 0; ; {
			i := strings.Index(text[from:], marker)
			if i < 0 {
				break
			}
			i += from + len(marker)
			j := i
			for j < len(text) && !strings.ContainsRune("&;, '\"\n", rune(text[j])) {
				j++
			}
			text = text[:i] + "********" + text[j:]
			from = i + len("********")
		}
	}
	return text
}

// errText is err's text with secrets removed and cut to a readable length.
func errText(err error, secrets ...string) string {
	if err == nil {
		return ""
	}
	s := redact(err.Error(), secrets...)
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// contextFailure turns an ended context into the cause: the caller left, or the timeout hit.
func (p *Prober) contextFailure(ctx context.Context, what string, connected bool) (Result, bool) {
	// go-amqp sets the socket deadline from the context's, so a read can time out a moment
	// before the context's own timer fires: a passed deadline counts as the timeout.
	deadline, ok := ctx.Deadline()
	if ctx.Err() == nil && !(ok && !time.Now().Before(deadline)) {
		return Result{}, false
	}
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return failed(CauseCancelled, "The test was cancelled before "+what+" answered.",
			"Run the test again and wait for its answer."), true
	}
	if connected {
		return failed(CauseTimeout, "Connected to "+what+" but got no answer within "+p.opts.Timeout.String()+".",
			"Check that the address is really the service's (not a proxy or another service) and that it is running and healthy; then try again."), true
	}
	return failed(CauseTimeout, "No answer from "+what+" within "+p.opts.Timeout.String()+".",
		"Check that the host is reachable from the portal (firewall, private endpoint, network rules), then try again."), true
}
