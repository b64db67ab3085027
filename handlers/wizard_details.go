package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// draftDetails shows or handles step 3: the registration's fields.
func (p *pages) draftDetails(w http.ResponseWriter, r *http.Request) error {
	_, d, err := p.loadDraft(r)
	if err != nil {
		return err
	}
	var errs web.FieldErrors
	if r.Method == http.MethodPost {
		readDetails(r, &d.data)
		if r.PostFormValue("nav") == "back" {
			return p.advance(w, r, &d, web.StepConnection)
		}
		if errs = problemsToErrors(d.serviceEndpoint().Validate()); errs == nil {
			return p.advance(w, r, &d, web.StepValidate)
		}
	}
	status := http.StatusOK
	if errs != nil {
		status = http.StatusUnprocessableEntity
	}
	p.render(w, r, status, web.WizardDetails(p.page(w, r, "New endpoint: details", web.NavNew), d.wizard(web.StepDetails, errs), detailsForm(d)))
	return nil
}

// readDetails copies step 3's fields from the form into the draft.
func readDetails(r *http.Request, d *draftData) {
	f := &d.Fields
	f.Name = strings.TrimSpace(r.PostFormValue("name"))
	f.Description = strings.TrimSpace(r.PostFormValue("description"))
	f.MessageFormat = atoiOr(r.PostFormValue("messageformat"), f.MessageFormat)
	f.UserClaim = atoiOr(r.PostFormValue("userclaim"), f.UserClaim)
	if d.Kind == endpoint.KindWebhook {
		return
	}
	f.Contract = atoiOr(r.PostFormValue("contract"), f.Contract)
	f.AuthType = atoiOr(r.PostFormValue("authtype"), f.AuthType)
	f.Path = strings.TrimSpace(r.PostFormValue("path"))
	f.NamespaceAddress = strings.TrimSpace(r.PostFormValue("namespaceaddress"))
	f.SolutionNamespace = strings.TrimSpace(r.PostFormValue("solutionnamespace"))
	f.SASKeyName = strings.TrimSpace(r.PostFormValue("saskeyname"))
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// detailsForm offers only the combinations that can be valid for this draft.
func detailsForm(d wizardDraft) web.DetailsForm {
	f := d.data.Fields
	form := web.DetailsForm{Kind: d.data.Kind, Name: f.Name, Description: f.Description, Path: f.Path,
		NamespaceAddress: f.NamespaceAddress, SolutionNamespace: f.SolutionNamespace, SASKeyName: f.SASKeyName, URL: f.URL}
	if d.data.Kind == endpoint.KindWebhook {
		form.Contracts = []web.Option{{Value: strconv.Itoa(int(endpoint.ContractWebhook)), Label: endpoint.ContractWebhook.Label(), Selected: true}}
	} else {
		form.Contracts = contractOptions(endpoint.Contract(f.Contract))
		form.Notes = connectionNotes(d.data)
	}
	for _, mf := range endpoint.MessageFormats {
		label := mf.Label()
		if mf == endpoint.MessageFormatBinaryXML {
			label += " (not for event hubs or webhooks)"
		}
		if d.data.Kind == endpoint.KindWebhook && mf != endpoint.MessageFormatJSON {
			continue
		}
		form.MessageFormats = append(form.MessageFormats, web.Option{Value: strconv.Itoa(int(mf)), Label: label, Selected: int(mf) == f.MessageFormat})
	}
	for _, uc := range endpoint.UserClaims {
		form.UserClaims = append(form.UserClaims, web.Option{Value: strconv.Itoa(int(uc)), Label: uc.Label(), Selected: int(uc) == f.UserClaim})
	}
	// Only the authentication the pasted credential supports is offered.
	if d.Secrets[endpoint.PurposeSASToken].IsSet() {
		form.AuthTypes = []web.Option{{Value: strconv.Itoa(int(endpoint.AuthTypeSASToken)), Label: "SAS token (from the connection string's SharedAccessSignature)", Selected: true}}
	} else {
		form.AuthTypes = []web.Option{{Value: strconv.Itoa(int(endpoint.AuthTypeSASKey)), Label: "SAS key (policy " + f.SASKeyName + ")", Selected: true}}
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
