package servicebus

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/endpoint"
)

// probeRelay POSTs the test message to https://<namespace>/<path> with the SAS token in the
// ServiceBusAuthorization header, as an HTTP relay sender does (there is no Go SDK for Azure
// Relay). 401 means a bad token, 403 a policy without Send, 404 no such relay, 503/504 no
// listener connected.
func (p *Prober) probeRelay(ctx context.Context, req Request) Result {
	e := req.Endpoint
	if req.Mode == ModeCheck {
		return failed(CauseModeUnsupported, "A relay cannot be checked without sending it a request.",
			"Choose \"send a test message\": the relay's listener receives one request marked as the portal's validation ("+ValidationProperty+": true).")
	}
	tgt, err := p.checkNamespaceAddress(e.NamespaceAddress, false, "https")
	if err != nil {
		return p.dialFailure(ctx, err, "relay namespace")
	}
	path, bad := checkPath(e)
	if bad != nil {
		return *bad
	}
	cred, bad := serviceBusCredential(req)
	if bad != nil {
		return *bad
	}
	t := target{Kind: "relay", Path: path, Namespace: tgt.Host}
	resource := "https://" + tgt.Host + "/" + path
	res := p.sendRelay(ctx, req, tgt, cred, t, resource)
	res.Warnings = append(res.Warnings, p.warnings(req, cred)...)
	if res.Passed && e.Contract == endpoint.ContractTwoWay {
		res.Warnings = append(res.Warnings, Warning{WarnListenNotProved,
			"A two-way relay also needs Listen on " + cred.who() + "; an HTTPS test can prove Send only. Check that the policy has Listen too."})
	}
	return res
}

func (p *Prober) sendRelay(ctx context.Context, req Request, tgt namespaceTarget, cred credential, t target, resource string) Result {
	msg := newTestMessage(req)
	token := cred.relayToken(resource, p.opts.Now())
	header := http.Header{}
	header.Set("ServiceBusAuthorization", token.Reveal())
	header.Set("Content-Type", msg.ContentType)
	header.Set("User-Agent", "sbportal-validation/1")
	header.Set(msg.Marker, "true")
	header.Set("x-ms-correlation-request-id", msg.CorrelationID)
	broker, _ := json.Marshal(struct{ MessageId, Label string }{msg.ID, msg.Subject}) // strings always marshal
	header.Set("BrokerProperties", string(broker))
	u := url.URL{Scheme: "https", Host: tgt.Host, Path: "/" + t.Path}

	ans, connected, err := p.postOnce(ctx, u.String(), header, msg.Body, tgt.DialPort, tgt.Rule)
	secrets := append(cred.secrets(), token.Reveal())
	if err != nil {
		if r, ok := p.contextFailure(ctx, "relay namespace "+t.Namespace, connected); ok {
			return r
		}
		r := p.dialFailure(ctx, err, "relay namespace "+t.Namespace)
		r.Summary = redact(r.Summary, secrets...)
		return r
	}
	status := strconv.Itoa(ans.Status) + " " + http.StatusText(ans.Status)
	switch {
	case ans.Status >= 200 && ans.Status < 300:
		return Result{Passed: true, MessageID: msg.ID,
			Proved: cred.Who() + " can send to " + t.String() + ": the relay's listener answered HTTP " + status + " to " + msg.noun("message") + " " + msg.ID + "."}
	case ans.Status == http.StatusUnauthorized:
		return p.authFailure(ans.Body, cred, t, resource)
	case ans.Status == http.StatusForbidden:
		if strings.Contains(strings.ToLower(ans.Body), "'listen' claim") {
			return p.authFailure(ans.Body, cred, t, resource)
		}
		return p.authFailure("Unauthorized access. 'Send' claim(s) are required to perform this operation.", cred, t, resource)
	case ans.Status == http.StatusNotFound:
		return failed(CauseEntityNotFound, "There is no relay '"+t.Path+"' in namespace "+t.Namespace+" (HTTP 404).",
			"Check the relay's name (path), or create the relay in namespace "+t.Namespace+".")
	case ans.Status == http.StatusServiceUnavailable || ans.Status == http.StatusGatewayTimeout:
		r := failed(CauseNoListener, "The relay accepted "+cred.who()+" but no listener is connected to "+t.String()+" (HTTP "+status+").",
			"Start the service that listens on the relay, then test again; Dataverse's posts fail while no listener is connected.")
		r.Proved = cred.Who() + " was accepted for " + t.String() + "; delivery could not be proved without a listener."
		return r
	case ans.Status == http.StatusRequestEntityTooLarge:
		return failed(CauseTooLarge, "The "+t.String()+" refused the message as too large (HTTP 413).",
			"Dataverse posts up to about 256 KB; the relay's listener must accept messages that large.")
	}
	return failed(CauseUnexpected, "The "+t.String()+" answered HTTP "+status+".",
		"Check the relay and its listener in the Azure portal, then try again.")
}
