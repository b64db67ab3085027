package endpoint

import "strings"

// Solution is a Dataverse solution an endpoint belongs to (a solutioncomponent of type 95).
type Solution struct {
	UniqueName   string `json:"uniqueName"`
	FriendlyName string `json:"friendlyName,omitzero"`
	Managed      bool   `json:"managed,omitzero"`
}

// Label is the solution's friendly name, with its unique name when they differ.
func (s Solution) Label() string {
	if s.FriendlyName == "" || s.FriendlyName == s.UniqueName {
		return s.UniqueName
	}
	return s.FriendlyName + " (" + s.UniqueName + ")"
}

// ReadOnlyReason says why the portal must not change e's settings ("" when it may): an
// endpoint installed by a managed solution (ismanaged) is changed by importing a new version
// of that solution, never in place, or the next import overwrites the change. solutions, when
// known, name the solution. Its key is the exception (see SetKey): no solution carries keys.
func ReadOnlyReason(e ServiceEndpoint, solutions []Solution) string {
	if !e.IsManaged {
		return ""
	}
	var managed []string
	for _, s := range solutions {
		if s.Managed {
			managed = append(managed, s.Label())
		}
	}
	from := "a managed solution"
	if len(managed) > 0 {
		from = "the managed solution " + strings.Join(managed, ", ")
	}
	return "This endpoint was installed by " + from + ". Change it in the solution's source environment and import a new version; " +
		"changes made here would be overwritten by the next import. Only its key can be set here, because solutions never carry keys."
}

// KeyMissing reports whether Dataverse holds no secret for e's authentication type, as after a
// solution import (issaskeyset false): Dataverse cannot send through it until a key is set.
func KeyMissing(e ServiceEndpoint) bool {
	p, ok := e.AuthType.SecretPurpose()
	if !ok {
		return false
	}
	switch p {
	case PurposeSASKey:
		return !e.IsSASKeySet
	case PurposeSASToken:
		return !e.IsSASTokenSet
	case PurposeAuthValue:
		return !e.IsAuthValueSet
	}
	return false
}

// SetKey reads a key for an existing endpoint whose settings stay as they are (the fix for a
// key lost at solution import): a bare key, a whole connection string or a SAS token, parsed
// by ParseCredential. A connection string must be for the endpoint's namespace and, when the
// endpoint names a SAS policy, for that policy: setting a key never changes which policy
// Dataverse signs with (the Tool's "SASKey length should be 44" came from pasting a whole
// connection string where only the key belongs; here both work). Problems are keyed by
// FieldConnectionString (or the webhook fields) and quote no secret.
func SetKey(e ServiceEndpoint, in CredentialInput) (ServiceEndpoint, CredentialFacts, Problems) {
	got, facts, p := ParseCredential(e, in)
	if p != nil {
		return e, facts, p
	}
	if facts.Kept {
		return e, CredentialFacts{}, problem(secretFieldOf(e), "Paste the key to set: the policy's Primary Key, its whole connection string, or a SAS token.")
	}
	if KindOf(e) == KindServiceBus && e.SASKeyName != "" && got.AuthType == AuthTypeSASKey &&
		!strings.EqualFold(got.SASKeyName, e.SASKeyName) {
		return e, CredentialFacts{}, problem(FieldConnectionString, "This connection string is for the policy "+got.SASKeyName+
			", but the endpoint signs with the policy "+e.SASKeyName+". Copy the connection string (or the Primary Key) of "+
			e.SASKeyName+", or re-key the endpoint to change its policy.")
	}
	return got, facts, nil
}

// secretFieldOf is the credential form field e's secret is typed into.
func secretFieldOf(e ServiceEndpoint) string {
	if KindOf(e) == KindWebhook {
		if e.AuthType == AuthTypeWebhookKey {
			return FieldWebhookKey
		}
		return FieldPairs
	}
	return FieldConnectionString
}
