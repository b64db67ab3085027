package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// pairRows is how many header or query pairs the webhook form offers without JavaScript.
const pairRows = 4

// draftConnectionForm shows step 2: the connection string, or the webhook address and its
// authentication.
func (s *Server) draftConnectionForm(w http.ResponseWriter, r *http.Request) error {
	_, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	s.renderConnection(w, r, d, nil, connectionForm(d))
	return nil
}

// draftConnectionSubmit takes step 2's connection and goes on (or back).
func (s *Server) draftConnectionSubmit(w http.ResponseWriter, r *http.Request) error {
	_, d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	form := connectionForm(d)
	back := r.PostFormValue("nav") == "back"
	var errs web.FieldErrors
	if d.data.Kind == endpoint.KindWebhook {
		errs = s.takeWebhook(r, &d, &form, back)
	} else {
		errs = s.takeConnectionString(r, &d, back)
	}
	switch {
	case back:
		// Keep whatever was usable, go back without complaining about the rest.
		return s.advance(w, r, &d, web.StepWhere)
	case errs == nil:
		return s.advance(w, r, &d, web.StepDetails)
	}
	s.renderConnection(w, r, d, errs, mergeConnectionForm(connectionForm(d), form))
	return nil
}

// renderConnection shows step 2, as a problem to fix when there are errors.
func (s *Server) renderConnection(w http.ResponseWriter, r *http.Request, d wizardDraft, errs web.FieldErrors, form web.ConnectionForm) {
	s.render(w, r, formStatus(errs), web.WizardConnection(s.page(w, r, "New endpoint: connection", web.NavNew), d.wizard(web.StepConnection, errs), form))
}

// connectionForm describes what the draft already holds, without revealing any secret.
func connectionForm(d wizardDraft) web.ConnectionForm {
	f := web.ConnectionForm{Kind: d.data.Kind, URL: d.data.Endpoint.URL, WebhookAuth: d.data.WebhookAuth,
		HasAuthSecret: d.Secrets[endpoint.PurposeAuthValue].IsSet()}
	if d.data.HasConnection {
		f.HasConnectionString = true
		f.ConnectionSummary = []web.Fact{{Label: "Connection string", Value: d.data.Redacted}}
		f.Notes = connectionNotes(d.data)
	}
	for i := 0; i < pairRows; i++ {
		var name string
		if i < len(d.data.PairNames) {
			name = d.data.PairNames[i]
		}
		f.Pairs = append(f.Pairs, web.Pair{Name: name})
	}
	return f
}

func mergeConnectionForm(base, typed web.ConnectionForm) web.ConnectionForm {
	base.URL, base.WebhookAuth, base.Pairs = typed.URL, typed.WebhookAuth, typed.Pairs
	return base
}

// connectionNotes explains what the parsed connection string means for the registration.
func connectionNotes(d draftData) []web.Note {
	var notes []web.Note
	if d.Endpoint.Path == "" {
		notes = append(notes, web.Note{Kind: "warning", Text: "The policy has no EntityPath: it can reach every entity in the namespace. " +
			"A policy on the queue, topic or event hub itself, with only the Send right, is safer. You will enter the path on the next step."})
	}
	if strings.EqualFold(d.Endpoint.SASKeyName, "RootManageSharedAccessKey") {
		notes = append(notes, web.Note{Kind: "warning", Text: "RootManageSharedAccessKey has the Manage right on the whole namespace. " +
			"Anyone who reads this endpoint's key could change or delete your entities. Create a Send-only policy for Dataverse instead."})
	}
	if d.Emulator {
		notes = append(notes, web.Note{Kind: "info", Text: "This connection string is for the local Service Bus emulator (UseDevelopmentEmulator=true)."})
	}
	return notes
}

// takeConnectionString parses a pasted connection string into the draft (the namespace, path
// and policy it names, and its key or token). An empty box keeps the one already there.
func (s *Server) takeConnectionString(r *http.Request, d *wizardDraft, back bool) web.FieldErrors {
	in := endpoint.CredentialFromForm(r.PostForm)
	if in.Empty() && (d.data.HasConnection || back) {
		return nil
	}
	// This step chooses the namespace: one pasted earlier does not bind the new connection
	// string, and what it suggested gives way to the new one's suggestions.
	before := d.data.Endpoint
	base := d.serviceEndpoint()
	base.Name, base.NamespaceAddress, base.SolutionNamespace, base.Path, base.SASKeyName = "", "", "", "", ""
	got, facts, problems := endpoint.ParseCredential(base, in)
	if problems != nil {
		return problemsToErrors(problems)
	}
	keepEdits(&got, before, previousSuggestion(d.data), facts)
	d.data.HasConnection, d.data.Redacted = true, facts.Redacted
	d.data.Emulator, d.data.NamespaceWide = facts.Emulator, facts.NamespaceWide
	d.setEndpoint(got)
	return nil
}

// previousSuggestion is what the draft's connection string suggested for step 3 (name,
// namespace, path); nothing when it has none.
func previousSuggestion(d draftData) endpoint.ServiceEndpoint {
	if !d.HasConnection {
		return endpoint.ServiceEndpoint{}
	}
	cs, err := endpoint.ParseConnectionString(d.Redacted)
	if err != nil {
		return endpoint.ServiceEndpoint{}
	}
	return cs.Suggest()
}

// keepEdits puts back into got, the registration as the new connection string suggests it,
// the fields the person edited on step 3 (those that differ from what the previous connection
// string suggested): suggestions follow the connection string, edits stay. The new connection
// string still binds what its policy works for: another namespace host, or its EntityPath.
func keepEdits(got *endpoint.ServiceEndpoint, before, suggested endpoint.ServiceEndpoint, facts endpoint.CredentialFacts) {
	edited := func(now, was string) bool { return now != "" && now != was }
	if edited(before.Name, suggested.Name) {
		got.Name = before.Name
	}
	if edited(before.SolutionNamespace, suggested.SolutionNamespace) {
		got.SolutionNamespace = before.SolutionNamespace
	}
	if edited(before.Path, suggested.Path) && facts.EntityPath == "" {
		got.Path = before.Path
	}
	if before.NamespaceAddress != "" && hostOf(before.NamespaceAddress) == hostOf(got.NamespaceAddress) {
		got.NamespaceAddress = before.NamespaceAddress // the same namespace, as the person wrote it
	}
}

// hostOf is an address's host, lower case ("" when it has none).
func hostOf(address string) string {
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// takeWebhook reads the webhook address and authentication into the draft. Secrets left empty
// keep the ones already stored for the same authentication.
func (s *Server) takeWebhook(r *http.Request, d *wizardDraft, form *web.ConnectionForm, back bool) web.FieldErrors {
	in := endpoint.CredentialFromForm(r.PostForm)
	u := strings.TrimSpace(r.PostFormValue("url"))
	form.URL, form.WebhookAuth = u, in.WebhookAuth
	form.Pairs = nil
	for i := 0; i < pairRows; i++ {
		var n string
		if i < len(in.Pairs) {
			n = strings.TrimSpace(in.Pairs[i].Name)
		}
		form.Pairs = append(form.Pairs, web.Pair{Name: n})
	}

	e := &d.data.Endpoint
	e.URL = u
	e.Contract = endpoint.ContractWebhook
	if e.MessageFormat == 0 {
		e.MessageFormat = endpoint.MessageFormatJSON
	}
	if e.UserClaim == 0 {
		e.UserClaim = endpoint.UserClaimNone
	}
	if e.Name == "" && u != "" {
		e.Name = suggestWebhookName(u)
	}

	got, facts, problems := endpoint.ParseCredential(d.serviceEndpoint(), in)
	if in.WebhookAuth.Valid() {
		d.data.WebhookAuth = in.WebhookAuth
	}
	switch {
	case problems == nil:
		e.AuthType = got.AuthType
		d.data.WebhookAuth, _ = endpoint.WebhookAuthOf(got.AuthType)
		d.data.PairNames = facts.PairNames
		d.Secrets = secretsOf(got)
	case in.WebhookAuth.Valid() && in.WebhookAuth.AuthType() != e.AuthType:
		// Another authentication: the secret kept for the old one does not fit it.
		e.AuthType = in.WebhookAuth.AuthType()
		d.data.PairNames, d.Secrets = nil, nil
	}
	if back {
		return nil
	}
	errs := problemsToErrors(problems)
	if errs == nil {
		errs = web.FieldErrors{}
	}
	if u == "" {
		errs["url"] = []string{"Enter the webhook's address, e.g. https://contoso.azurewebsites.net/api/dataverse."}
	} else {
		probe := endpoint.ServiceEndpoint{Contract: endpoint.ContractWebhook, URL: u, Name: "x",
			MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone, ConnectionMode: endpoint.ConnectionModeNormal}
		if msgs := probe.ValidateFor(endpoint.ForUpdate).For(endpoint.FieldURL); len(msgs) > 0 {
			errs["url"] = msgs
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// suggestWebhookName proposes a name from the webhook's host and path.
func suggestWebhookName(u string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, "/")
	if len(s) > 200 {
		s = s[:200]
	}
	return "Webhook " + s
}
