package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// withStoredSecret fills the endpoint's write-only secret from the portal's encrypted copy.
// ok is false when the portal keeps none.
func (s *Server) withStoredSecret(ctx context.Context, c catalogEntry) (e endpoint.ServiceEndpoint, emulator bool, ok bool, err error) {
	e = c.Endpoint
	for _, purpose := range endpoint.SecretPurposes {
		s, err := s.Store.GetSecret(ctx, store.SecretRef{Environment: c.Env.ID, EndpointID: e.ID, Purpose: purpose})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return e, false, false, err
		}
		ok = true
		e.SetSecret(purpose, s)
	}
	return e, endpoint.IsEmulatorAddress(e.NamespaceAddress), ok, nil
}

// credentialForm reads the credential fields of a posted form (see endpoint.CredentialFromForm).
func credentialForm(r *http.Request) (endpoint.CredentialInput, error) {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return endpoint.CredentialInput{}, err
		}
		return endpoint.CredentialInput{}, &Error{Status: http.StatusBadRequest, Title: "The form could not be read",
			Message: "Reload the page and paste the key again.", Err: err}
	}
	return endpoint.CredentialFromForm(r.PostForm), nil
}

// pastedCredential reads a pasted connection string, key, token or webhook credentials into e
// (for a test with a key used once, or a re-key), with the same rules and messages as the
// wizard. emulator says the probe may use plain AMQP to a local emulator.
func pastedCredential(e endpoint.ServiceEndpoint, in endpoint.CredentialInput) (_ endpoint.ServiceEndpoint, emulator bool, _ web.FieldErrors) {
	got, facts, problems := endpoint.ParseCredential(e, in)
	if problems != nil {
		errs := web.FieldErrors{}
		for _, pr := range problems {
			field := pr.Field
			if field != endpoint.FieldConnectionString && field != endpoint.FieldWebhookKey && field != endpoint.FieldPairs {
				// These pages have no other credential field (such as the webhook auth choice).
				field = secretField(e)
			}
			errs[field] = append(errs[field], pr.Message)
		}
		return e, false, errs
	}
	return got, facts.Emulator || endpoint.IsEmulatorAddress(got.NamespaceAddress), nil
}
