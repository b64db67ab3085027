package endpoint

// Kind is the family of endpoint a person registers: it decides which credential the portal
// asks for and which details it offers. Its values are the form values on the wire and in
// stored drafts, so they must not change.
type Kind string

// The kinds of endpoint the portal registers.
const (
	KindServiceBus Kind = "servicebus" // queue, topic, event hub or relay, with a SAS policy
	KindWebhook    Kind = "webhook"    // an HTTPS address with a webhook key or header/query settings
)

// Kinds lists every kind in the order a form offers them.
var Kinds = []Kind{KindServiceBus, KindWebhook}

// KindOf tells the kind of an endpoint: webhooks by their contract, everything else (including
// a registration whose contract is not chosen yet) is Service Bus.
func KindOf(e ServiceEndpoint) Kind {
	if e.Contract == ContractWebhook {
		return KindWebhook
	}
	return KindServiceBus
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return k == KindServiceBus || k == KindWebhook }

// Label is the name people see.
func (k Kind) Label() string {
	switch k {
	case KindServiceBus:
		return "Azure Service Bus"
	case KindWebhook:
		return "Webhook"
	}
	return "Unknown kind of endpoint"
}

// WebhookAuth is how Dataverse authenticates to a webhook, as a form chooses it. Its values
// are the form values on the wire and in stored drafts.
type WebhookAuth string

// The webhook authentications, each matching one Dataverse auth type.
const (
	WebhookAuthKey    WebhookAuth = "key"    // AuthTypeWebhookKey: ?code=<key>
	WebhookAuthHeader WebhookAuth = "header" // AuthTypeHTTPHeader: name/value settings as headers
	WebhookAuthQuery  WebhookAuth = "query"  // AuthTypeHTTPQueryString: name/value settings in the query
)

// WebhookAuths lists every webhook authentication in the order a form offers them.
var WebhookAuths = []WebhookAuth{WebhookAuthKey, WebhookAuthHeader, WebhookAuthQuery}

// WebhookAuthOf is the webhook authentication of a Dataverse auth type; ok is false for the
// types that are not webhook authentication.
func WebhookAuthOf(a AuthType) (w WebhookAuth, ok bool) {
	switch a {
	case AuthTypeWebhookKey:
		return WebhookAuthKey, true
	case AuthTypeHTTPHeader:
		return WebhookAuthHeader, true
	case AuthTypeHTTPQueryString:
		return WebhookAuthQuery, true
	}
	return "", false
}

// AuthType is the Dataverse auth type of w, or 0 when w is not valid.
func (w WebhookAuth) AuthType() AuthType {
	switch w {
	case WebhookAuthKey:
		return AuthTypeWebhookKey
	case WebhookAuthHeader:
		return AuthTypeHTTPHeader
	case WebhookAuthQuery:
		return AuthTypeHTTPQueryString
	}
	return 0
}

// Valid reports whether w is one of WebhookAuths.
func (w WebhookAuth) Valid() bool { return w.AuthType() != 0 }

// Label is the name people see.
func (w WebhookAuth) Label() string {
	switch w {
	case WebhookAuthKey:
		return "Webhook key"
	case WebhookAuthHeader:
		return "HTTP headers"
	case WebhookAuthQuery:
		return "Query string"
	}
	return "Unknown webhook authentication"
}

// ProbeMode says how a validation proves an endpoint works. Its values are the form values on
// the wire and in stored drafts.
type ProbeMode string

// The probe modes people choose from.
const (
	// ProbeSend sends a small test message marked as a portal validation.
	ProbeSend ProbeMode = "send"
	// ProbeCheck schedules a message far in the future and cancels it: it proves the Send right
	// and delivers nothing (queues and topics).
	ProbeCheck ProbeMode = "check"
)

// ProbeModes lists every probe mode in the order a form offers them.
var ProbeModes = []ProbeMode{ProbeSend, ProbeCheck}

// ParseProbeMode reads a form value: "check" is ProbeCheck, anything else the default,
// ProbeSend.
func ParseProbeMode(s string) ProbeMode {
	if ProbeMode(s) == ProbeCheck {
		return ProbeCheck
	}
	return ProbeSend
}

// Valid reports whether m is one of ProbeModes.
func (m ProbeMode) Valid() bool { return m == ProbeSend || m == ProbeCheck }

// Label is the name people see.
func (m ProbeMode) Label() string {
	switch m {
	case ProbeSend:
		return "Send a test message"
	case ProbeCheck:
		return "Check without delivering"
	}
	return "Unknown validation mode"
}

// ScheduledProbe is how scheduled re-validation proves an endpoint of contract c, and what that
// proof is, in words for the endpoint page: queues, topics and event hubs are checked without
// delivering anything (a message scheduled far ahead and cancelled, or a sender link opened and
// closed); relays and webhooks cannot be checked without a request, so the least intrusive proof
// available is the small validation message people's tests send.
func ScheduledProbe(c Contract) (ProbeMode, string) {
	switch {
	case c == ContractWebhook:
		return ProbeSend, "Re-validated by posting the small validation message (marked as a portal validation) to the webhook: a webhook cannot be checked without a request."
	case c.IsRelay():
		return ProbeSend, "Re-validated by sending the small validation message (marked as a portal validation) to the relay: a relay cannot be checked without a request."
	case c == ContractEventHub:
		return ProbeCheck, "Re-validated without delivering: a sender link to the event hub is opened with the key and closed."
	}
	return ProbeCheck, "Re-validated without delivering: a message is scheduled far in the future and cancelled at once."
}
