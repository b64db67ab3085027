package servicebus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/go-amqp"
)

// target names what a Service Bus probe addresses, for messages.
type target struct {
	Kind      string // "queue", "topic", "event hub", "relay"
	Path      string
	Namespace string // host, e.g. mybus.servicebus.windows.net
}

func (t target) String() string {
	return t.Kind + " '" + t.Path + "' in namespace " + t.Namespace
}

// tlsFailure describes a TLS error in plain words, or "" when err is not one.
func tlsFailure(err error) string {
	var (
		unknownCA   x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidCert x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		alert       tls.AlertError
		recordErr   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &hostErr):
		return "the certificate is not valid for " + hostErr.Host
	case errors.As(err, &unknownCA):
		return "the certificate is signed by an authority the portal does not trust"
	case errors.As(err, &invalidCert):
		if invalidCert.Reason == x509.Expired {
			return "the certificate has expired or is not yet valid"
		}
		return "the certificate is not valid"
	case errors.As(err, &verifyErr):
		return "the certificate could not be verified"
	case errors.As(err, &alert):
		return "the server ended the handshake (" + alert.Error() + ")"
	case errors.As(err, &recordErr):
		return "the server does not speak TLS on that port"
	}
	return ""
}

// authFailure explains a refused SAS credential from the service's status description (as
// Service Bus writes it: "ExpiredToken: ...", "InvalidSignature: ...", "InvalidAudience: ...",
// "LocalAuthDisabled: ...", "Unauthorized access. 'Send' claim(s) are required ..."), refined
// with what the portal knows of the credential.
func (p *Prober) authFailure(desc string, c credential, t target, resourceURI string) Result {
	low := strings.ToLower(desc)
	who, Who := c.who(), c.Who()
	policyPage := "the Azure portal > namespace " + t.Namespace + " > Shared access policies (or the " + t.Kind + "'s own Shared access policies)"
	switch {
	case strings.Contains(low, "localauthdisabled"):
		return failed(CauseLocalAuthDisabled, "SAS authentication is disabled on namespace "+t.Namespace+" (local authentication is off), so no key or token is accepted.",
			"Enable local authentication on the namespace (Azure portal > namespace > Settings > Local Authentication: Enabled), or ask its owner to; Dataverse's Service Bus endpoints need SAS.")
	case strings.Contains(low, "'send' claim"):
		return failed(CauseMissingSend, Who+" is valid but lacks the Send claim on "+t.String()+": the service answered \"Unauthorized access. 'Send' claim(s) are required to perform this operation\".",
			"Give policy '"+c.Policy+"' the Send right (tick Send in "+policyPage+"), or register a policy that has Send. Listen and Manage are not needed.")
	case strings.Contains(low, "'listen' claim"):
		return failed(CauseMissingListen, Who+" lacks the Listen claim on "+t.String()+"; a two-way relay needs Send and Listen.",
			"Tick Listen (and Send) on policy '"+c.Policy+"' in "+policyPage+".")
	}
	now := p.opts.Now()
	if !c.Parsed.Expiry.IsZero() && c.Parsed.Expired(now) || strings.Contains(low, "expiredtoken") || strings.Contains(low, "token is expired") {
		msg := Who + " has expired"
		if !c.Parsed.Expiry.IsZero() {
			msg += " (on " + c.Parsed.Expiry.UTC().Format("2006-01-02 15:04 UTC") + ")"
		}
		return failed(CauseTokenExpired, msg+"; the service refused it with ExpiredToken.",
			"Sign a new token for "+resourceURI+" with policy '"+c.Policy+"', or use SAS key authentication so Dataverse signs fresh tokens itself.")
	}
	if c.Token.IsSet() && !c.Parsed.Covers(resourceURI) || strings.Contains(low, "invalidaudience") {
		have := c.Parsed.Resource
		if have == "" {
			have = "another resource"
		}
		return failed(CauseTokenWrongResource, Who+" was signed for "+have+", which does not cover "+t.String()+".",
			"Sign a token for "+resourceURI+" (or for the namespace) with a policy that has Send.")
	}
	if strings.Contains(low, "no shared access policy named") {
		return failed(CausePolicyNotFound, "No policy named '"+c.Policy+"' exists on namespace "+t.Namespace+" or on "+t.Kind+" '"+t.Path+"': a policy of another "+t.Kind+" works only there.",
			"Check the policy name, or use a policy of "+t.Kind+" '"+t.Path+"' or of the namespace ("+policyPage+").")
	}
	if c.Token.IsSet() {
		return failed(CauseWrongKey, Who+" was refused: its signature does not match the current keys of policy '"+c.Policy+"' for "+t.String()+".",
			"The key may have been regenerated since the token was signed: sign a new token with the policy's current key, and check that the policy exists on the namespace or on this "+t.Kind+".")
	}
	return failed(CauseWrongKey, "The key does not match "+who+" for "+t.String()+".",
		"Copy the Primary Key of policy '"+c.Policy+"' again (it may have been regenerated) from "+policyPage+", and check the policy name: a policy of another "+t.Kind+" works only there.")
}

// amqpFailure classifies an error from azservicebus or azeventhubs. Their *Error types do not
// unwrap, so besides errors.As the service's conditions and descriptions are read from the
// text (they are part of the wire contract and stable).
func (p *Prober) amqpFailure(ctx context.Context, err error, d *dialRecord, c credential, t target, resourceURI string) Result {
	if dialErr := d.err(); dialErr != nil {
		return p.dialFailure(ctx, dialErr, "namespace "+t.Namespace)
	}
	if r, ok := p.contextFailure(ctx, "namespace "+t.Namespace, d.connected()); ok {
		return r
	}
	text := err.Error()
	low := strings.ToLower(text)
	var amqpErr *amqp.Error
	var sbErr *azservicebus.Error
	var ehErr *azeventhubs.Error
	code := ""
	switch {
	case errors.As(err, &sbErr):
		code = string(sbErr.Code)
	case errors.As(err, &ehErr):
		code = string(ehErr.Code)
	}
	switch {
	case errors.Is(err, azservicebus.ErrMessageTooLarge), errors.Is(err, azeventhubs.ErrEventDataTooLarge),
		errors.As(err, &amqpErr) && amqpErr.Condition == amqp.ErrCondMessageSizeExceeded,
		strings.Contains(low, "message-size-exceeded"):
		return failed(CauseTooLarge, "The "+t.String()+" refused the message as too large.",
			"Dataverse posts up to about 256 KB (more with images): use a Premium namespace (1 MB or more), or send less (fewer images, no parent context).")
	case strings.Contains(low, "localauthdisabled"), strings.Contains(low, "'send' claim"), strings.Contains(low, "'listen' claim"),
		code == "unauthorized", strings.Contains(low, "status code 401"), strings.Contains(low, "unauthorized-access"):
		return p.authFailure(text, c, t, resourceURI)
	case code == "notfound", strings.Contains(low, "status code 404"), strings.Contains(low, "amqp:not-found"), strings.Contains(low, "could not be found"):
		return failed(CauseEntityNotFound, "There is no "+t.Kind+" '"+t.Path+"' in namespace "+t.Namespace+".",
			"Check the "+t.Kind+" name for typos (copy it from the namespace's page in the Azure portal), or create "+t.Kind+" '"+t.Path+"' in namespace "+t.Namespace+".")
	case strings.Contains(low, "resource-limit-exceeded"), strings.Contains(low, "quota"):
		return failed(CauseEntityFull, "The "+t.String()+" is full and refuses new messages.",
			"Something must read (or purge) the "+t.Kind+"'s messages, or its maximum size must grow, before Dataverse can post.")
	case errors.Is(err, io.EOF), code == "connlost", strings.Contains(low, "connection closed"), strings.Contains(low, "connection reset"):
		return failed(CauseUnreachable, "The connection to namespace "+t.Namespace+" was closed before it answered.",
			"Check that the address is the namespace's and that nothing (a proxy or firewall) cuts AMQP connections on port 5671; then try again.")
	}
	return failed(CauseUnexpected, "The "+t.String()+" answered with an error the portal does not recognise: "+errText(err, c.secrets()...)+".",
		"Try again; if it persists, check the namespace in the Azure portal and the portal's logs.")
}
