package servicebus

import (
	"strconv"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// credential is a Service Bus endpoint's SAS authentication, understood well enough to name
// it in messages and to explain a refusal.
type credential struct {
	AuthType endpoint.AuthType
	Policy   string // the policy's name: saskeyname, or the token's skn
	Key      endpoint.Secret
	Token    endpoint.Secret
	Parsed   endpoint.SASToken // when AuthType is SAS token
}

// serviceBusCredential reads the SAS key or token the request carries. The error result says
// what is missing; it never quotes the secret.
func serviceBusCredential(req Request) (credential, *Result) {
	e := req.Endpoint
	secret := secretFor(req)
	switch e.AuthType {
	case endpoint.AuthTypeSASKey:
		c := credential{AuthType: e.AuthType, Policy: strings.TrimSpace(e.SASKeyName), Key: secret}
		switch {
		case c.Policy == "":
			r := invalid("The SAS policy name is missing.", "Enter the policy's name (SharedAccessKeyName in its connection string).")
			return c, &r
		case !secret.IsSet():
			r := invalid("The SAS key is missing.", "Enter the Primary Key of policy '"+c.Policy+"' (Azure portal > the namespace or entity > Shared access policies).")
			return c, &r
		case strings.ContainsAny(secret.Reveal(), ";\r\n") || strings.TrimSpace(secret.Reveal()) != secret.Reveal():
			r := invalid("The SAS key contains spaces, line breaks or ';', so it is not a key on its own.",
				"Copy only the Primary Key of policy '"+c.Policy+"': 44 characters ending with '='.")
			return c, &r
		case strings.ContainsAny(c.Policy, ";="):
			r := invalid("The SAS policy name contains ';' or '='.", "Enter the policy's name alone, as SharedAccessKeyName shows it.")
			return c, &r
		}
		return c, nil
	case endpoint.AuthTypeSASToken:
		// Pasted tokens often carry a line break at the end; the service wants the token alone.
		secret = endpoint.NewSecret(strings.TrimSpace(secret.Reveal()))
		c := credential{AuthType: e.AuthType, Token: secret}
		if !secret.IsSet() {
			r := invalid("The SAS token is missing.", "Paste the whole token, starting with \"SharedAccessSignature sr=\".")
			return c, &r
		}
		t, err := endpoint.ParseSASToken(secret.Reveal())
		if err != nil {
			r := invalid("The SAS token cannot be read: "+err.Error()+".", "Paste the whole token, starting with \"SharedAccessSignature sr=\".")
			return c, &r
		}
		if strings.ContainsAny(secret.Reveal(), ";\r\n") {
			r := invalid("The SAS token contains ';' or a line break.", "Paste the token alone, not the connection string around it.")
			return c, &r
		}
		c.Parsed, c.Policy = t, t.KeyName
		return c, nil
	}
	r := invalid("A "+entityWord(e.Contract)+" authenticates with a SAS key or a SAS token, not "+e.AuthType.Label()+".",
		"Choose SAS key or SAS token authentication.")
	return credential{}, &r
}

// who names the credential in sentences: "policy 'SendOnly'" or "the SAS token (policy 'SendOnly')".
func (c credential) who() string {
	if c.AuthType == endpoint.AuthTypeSASToken {
		if c.Policy != "" {
			return "the SAS token (policy '" + c.Policy + "')"
		}
		return "the SAS token"
	}
	return "policy '" + c.Policy + "'"
}

// Who with a capital letter, to start a sentence.
func (c credential) Who() string {
	w := c.who()
	return strings.ToUpper(w[:1]) + w[1:]
}

// relayToken is the token an HTTPS relay request carries: the given one, or one signed with
// the key for the relay's https:// resource.
func (c credential) relayToken(resource string, now time.Time) endpoint.Secret {
	if c.AuthType == endpoint.AuthTypeSASToken {
		return c.Token
	}
	return endpoint.SignSAS(resource, c.Policy, c.Key, now.Add(TestMessageTimeToLive))
}

// secrets lists the plaintexts to scrub from any text shown.
func (c credential) secrets() []string {
	return []string{c.Key.Reveal(), c.Token.Reveal()}
}

// entityWord names what an endpoint's path holds.
func entityWord(c endpoint.Contract) string {
	switch c {
	case endpoint.ContractQueue, endpoint.ContractPersistentQueue:
		return "queue"
	case endpoint.ContractTopic:
		return "topic"
	case endpoint.ContractEventHub:
		return "event hub"
	case endpoint.ContractWebhook:
		return "webhook"
	}
	return "relay"
}

// checkPath checks the entity path a probe will address.
func checkPath(e endpoint.ServiceEndpoint) (string, *Result) {
	path := strings.Trim(strings.TrimSpace(e.Path), "/")
	kind := entityWord(e.Contract)
	switch {
	case path == "":
		r := invalid("The "+kind+" name (path) is missing.", "Enter the "+kind+" name, as EntityPath in its connection string.")
		return "", &r
	case strings.ContainsAny(path, " ?#\\;\r\n\t%"):
		r := invalid("The "+kind+" name contains spaces or one of ? # \\ ; %.", "Copy the "+kind+" name from the Azure portal.")
		return "", &r
	case strings.Contains(path, "$") || strings.Contains(path, ".."):
		r := invalid("The "+kind+" name cannot contain '$' or '..'.", "Enter the "+kind+"'s own name, not a system path.")
		return "", &r
	}
	return path, nil
}

// warnings are what the credential itself says, whether or not the probe passed.
func (p *Prober) warnings(req Request, c credential) []Warning {
	var out []Warning
	manage := strings.EqualFold(c.Policy, "RootManageSharedAccessKey")
	namespaceWide := manage || req.NamespaceWidePolicy
	if c.AuthType == endpoint.AuthTypeSASToken {
		if _, path := splitResource(c.Parsed.Resource); path == "" {
			namespaceWide = true // the token's resource is the namespace itself
		}
	}
	if manage {
		out = append(out, Warning{WarnManagePolicy, "Policy '" + c.Policy + "' is the namespace's Manage policy: whoever holds it can read every message and change or delete every entity. " +
			"Create a policy with Send only on the " + entityWord(req.Endpoint.Contract) + " and register that instead."})
	} else if strings.Contains(strings.ToLower(c.Policy), "manage") {
		out = append(out, Warning{WarnManagePolicy, "Policy '" + c.Policy + "' looks like a Manage policy. A registration needs Send only (a two-way relay Send and Listen): use a policy with no more rights than that."})
	}
	if namespaceWide {
		out = append(out, Warning{WarnNamespaceWidePolicy, "Policy '" + c.Policy + "' belongs to the whole namespace, so it reaches every queue, topic and event hub in it. " +
			"Create a Send policy on the " + entityWord(req.Endpoint.Contract) + " itself (its Shared access policies page) and register that instead."})
	}
	if c.AuthType == endpoint.AuthTypeSASToken {
		now := p.opts.Now()
		exp := c.Parsed.Expiry.UTC().Format("2006-01-02 15:04 UTC")
		switch {
		case c.Parsed.Expired(now):
			out = append(out, Warning{WarnTokenExpired, "The SAS token expired on " + exp + "; Dataverse's posts will fail. Sign a new token, or use SAS key authentication so Dataverse signs its own."})
		case c.Parsed.ExpiresWithin(now, 30*24*time.Hour):
			in := "in less than a day"
			if days := int(c.Parsed.Expiry.Sub(now).Hours() / 24); days > 0 {
				in = "in " + plural(days, "day")
			}
			out = append(out, Warning{WarnTokenExpiring, "The SAS token expires on " + exp + " (" + in + "); Dataverse cannot renew it and its posts will then fail. " +
				"Plan to sign a new token before then, or use SAS key authentication."})
		}
	}
	return out
}

// splitResource splits a token's resource URI into its host and its path without slashes
// around it, both lower case.
func splitResource(r string) (host, path string) {
	r = strings.ToLower(r)
	if i := strings.Index(r, "://"); i >= 0 {
		r = r[i+3:]
	}
	host, path, _ = strings.Cut(r, "/")
	return host, strings.Trim(path, "/")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
