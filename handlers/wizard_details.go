package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// draftDetailsForm shows step 3: the registration's fields.
func (s *Server) draftDetailsForm(w http.ResponseWriter, r *http.Request) error {
	_, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	s.renderDetails(w, r, d, nil)
	return nil
}

// draftDetailsSubmit takes step 3's fields and goes on once they are valid (or back).
func (s *Server) draftDetailsSubmit(w http.ResponseWriter, r *http.Request) error {
	_, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	readDetails(r, wizardDetailsFields(d.data.Kind), &d.data.Endpoint)
	if r.PostFormValue("nav") == "back" {
		return s.advance(w, r, &d, web.StepConnection)
	}
	errs := problemsToErrors(d.serviceEndpoint().Validate())
	if errs == nil {
		return s.advance(w, r, &d, web.StepValidate)
	}
	s.renderDetails(w, r, d, errs)
	return nil
}

// renderDetails shows step 3, as a problem to fix when there are errors.
func (s *Server) renderDetails(w http.ResponseWriter, r *http.Request, d wizardDraft, errs web.FieldErrors) {
	form := detailsForm(d.data.Kind, d.serviceEndpoint(), wizardDetailsFields(d.data.Kind))
	if d.data.Kind != endpoint.KindWebhook {
		form.Notes = connectionNotes(d.data)
	}
	s.render(w, r, formStatus(errs), web.WizardDetails(s.page(w, r, "New endpoint: details", web.NavNew), d.wizard(web.StepDetails, errs), form))
}

// detailsFields are the details form's fields, one per column a person types or chooses: its
// name (the Dataverse column's, endpoint.Field*) and how its text is read into the endpoint.
// The inputs are in web/wizard.templ and web/endpoint_actions.templ.
var detailsFields = map[string]func(e *endpoint.ServiceEndpoint, v string){
	endpoint.FieldName:              func(e *endpoint.ServiceEndpoint, v string) { e.Name = v },
	endpoint.FieldDescription:       func(e *endpoint.ServiceEndpoint, v string) { e.Description = v },
	endpoint.FieldPath:              func(e *endpoint.ServiceEndpoint, v string) { e.Path = v },
	endpoint.FieldURL:               func(e *endpoint.ServiceEndpoint, v string) { e.URL = v },
	endpoint.FieldNamespaceAddress:  func(e *endpoint.ServiceEndpoint, v string) { e.NamespaceAddress = v },
	endpoint.FieldSolutionNamespace: func(e *endpoint.ServiceEndpoint, v string) { e.SolutionNamespace = v },
	endpoint.FieldSASKeyName:        func(e *endpoint.ServiceEndpoint, v string) { e.SASKeyName = v },
	endpoint.FieldContract:          choiceField(func(e *endpoint.ServiceEndpoint) *endpoint.Contract { return &e.Contract }),
	endpoint.FieldMessageFormat:     choiceField(func(e *endpoint.ServiceEndpoint) *endpoint.MessageFormat { return &e.MessageFormat }),
	endpoint.FieldUserClaim:         choiceField(func(e *endpoint.ServiceEndpoint) *endpoint.UserClaim { return &e.UserClaim }),
	endpoint.FieldAuthType:          choiceField(func(e *endpoint.ServiceEndpoint) *endpoint.AuthType { return &e.AuthType }),
}

// choiceField reads a choice's number; anything else keeps the endpoint's choice.
func choiceField[T ~int](field func(*endpoint.ServiceEndpoint) *T) func(*endpoint.ServiceEndpoint, string) {
	return func(e *endpoint.ServiceEndpoint, v string) {
		if n, err := strconv.Atoi(v); err == nil {
			*field(e) = T(n)
		}
	}
}

// readDetails reads a posted details form into e: the fields the page offers (and no others,
// whatever else is posted), text trimmed. The wizard's step 3 and the edit page both use it.
func readDetails(r *http.Request, fields []string, e *endpoint.ServiceEndpoint) {
	applyDetails(fields, e, func(name string) (string, bool) { return r.PostFormValue(name), true })
}

// applyDetails sets the fields of e that value gives (by endpoint.Field* name), among those
// offered, the way the details form reads them. The API's changes use it with only the fields
// a request sets.
func applyDetails(fields []string, e *endpoint.ServiceEndpoint, value func(name string) (string, bool)) {
	for _, name := range fields {
		read, ok := detailsFields[name]
		if !ok {
			continue
		}
		if v, given := value(name); given {
			read(e, strings.TrimSpace(v))
		}
	}
}

// commonDetailsFields are the fields both the wizard and the edit page offer.
var commonDetailsFields = []string{endpoint.FieldName, endpoint.FieldDescription, endpoint.FieldMessageFormat, endpoint.FieldUserClaim}

// wizardDetailsFields are step 3's fields: for Service Bus also where the endpoint is and how
// it authenticates, pre-filled from the connection string; a webhook's address and
// authentication are step 2's.
func wizardDetailsFields(kind endpoint.Kind) []string {
	if kind == endpoint.KindWebhook {
		return commonDetailsFields
	}
	return append(slices.Clip(commonDetailsFields), endpoint.FieldContract, endpoint.FieldAuthType, endpoint.FieldPath,
		endpoint.FieldNamespaceAddress, endpoint.FieldSolutionNamespace, endpoint.FieldSASKeyName)
}

// detailsForm is the details form for e (its secrets say which authentication to offer),
// offering only the combinations that can be valid for this kind of endpoint.
func detailsForm(kind endpoint.Kind, e endpoint.ServiceEndpoint, fields []string) web.DetailsForm {
	form := web.DetailsForm{Kind: kind, Endpoint: e.WithoutSecrets(), Fields: fields}
	if kind == endpoint.KindWebhook {
		form.Contracts = []web.Option{{Value: strconv.Itoa(int(endpoint.ContractWebhook)), Label: endpoint.ContractWebhook.Label(), Selected: true}}
	} else {
		form.Contracts = contractOptions(e.Contract)
	}
	for _, mf := range endpoint.MessageFormats {
		label := mf.Label()
		if mf == endpoint.MessageFormatBinaryXML {
			label += " (not for event hubs or webhooks)"
		}
		if kind == endpoint.KindWebhook && mf != endpoint.MessageFormatJSON {
			continue
		}
		form.MessageFormats = append(form.MessageFormats, web.Option{Value: strconv.Itoa(int(mf)), Label: label, Selected: mf == e.MessageFormat})
	}
	for _, uc := range endpoint.UserClaims {
		form.UserClaims = append(form.UserClaims, web.Option{Value: strconv.Itoa(int(uc)), Label: uc.Label(), Selected: uc == e.UserClaim})
	}
	// Only the authentication the pasted credential supports is offered.
	if e.SASToken.IsSet() {
		form.AuthTypes = []web.Option{{Value: strconv.Itoa(int(endpoint.AuthTypeSASToken)), Label: "SAS token (from the connection string's SharedAccessSignature)", Selected: true}}
	} else {
		form.AuthTypes = []web.Option{{Value: strconv.Itoa(int(endpoint.AuthTypeSASKey)), Label: "SAS key (policy " + e.SASKeyName + ")", Selected: true}}
	}
	return form
}

// contractOptions lists the Service Bus designation types.
func contractOptions(current endpoint.Contract) []web.Option {
	var out []web.Option
	if current == 0 {
		out = append(out, web.Option{Value: "", Label: "Choose…", Selected: true})
	}
	for _, c := range endpoint.RegistrableContracts {
		if c == endpoint.ContractWebhook {
			continue
		}
		out = append(out, web.Option{Value: strconv.Itoa(int(c)), Label: c.Label(), Selected: c == current})
	}
	return out
}
