package handlers

import (
	"net/http"
	"strings"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// pairRows is how many header or query pairs the webhook form offers without JavaScript.
const pairRows = 4

// draftConnection shows or handles step 2: the connection string, or the webhook address and
// its authentication.
func (p *pages) draftConnection(w http.ResponseWriter, r *http.Request) error {
	_, d, err := p.loadDraft(r)
	if err != nil {
		return err
	}
	form := connectionForm(d)
	var errs web.FieldErrors
	if r.Method == http.MethodPost {
		back := r.PostFormValue("nav") == "back"
		if d.data.Kind == kindWebhook {
			errs = p.takeWebhook(r, &d, &form, back)
		} else {
			errs = p.takeConnectionString(r, &d, back)
		}
		switch {
		case back:
			// Keep whatever was usable, go back without complaining about the rest.
			return p.advance(w, r, &d, web.StepWhere)
		case errs == nil:
			return p.advance(w, r, &d, web.StepDetails)
		}
		form = mergeConnectionForm(connectionForm(d), form)
	}
	status := http.StatusOK
	if errs != nil {
		status = http.StatusUnprocessableEntity
	}
	p.render(w, r, status, web.WizardConnection(p.page(w, r, "New endpoint: connection", web.NavNew), d.wizard(web.StepConnection, errs), form))
	return nil
}

// connectionForm describes what the draft already holds, without revealing any secret.
func connectionForm(d wizardDraft) web.ConnectionForm {
	f := web.ConnectionForm{Kind: d.data.Kind, URL: d.data.Fields.URL, WebhookAuth: d.data.WebhookAuth,
		HasAuthSecret: d.Secrets[store.PurposeAuthValue] != ""}
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
	if d.Fields.Path == "" {
		notes = append(notes, web.Note{Kind: "warning", Text: "The policy has no EntityPath: it can reach every entity in the namespace. " +
			"A policy on the queue, topic or event hub itself, with only the Send right, is safer. You will enter the path on the next step."})
	}
	if strings.EqualFold(d.Fields.SASKeyName, "RootManageSharedAccessKey") {
		notes = append(notes, web.Note{Kind: "warning", Text: "RootManageSharedAccessKey has the Manage right on the whole namespace. " +
			"Anyone who reads this endpoint's key could change or delete your entities. Create a Send-only policy for Dataverse instead."})
	}
	if d.Emulator {
		notes = append(notes, web.Note{Kind: "info", Text: "This connection string is for the local Service Bus emulator (UseDevelopmentEmulator=true)."})
	}
	return notes
}

// takeConnectionString parses a pasted connection string into the draft. An empty box keeps
// the one already there.
func (p *pages) takeConnectionString(r *http.Request, d *wizardDraft, back bool) web.FieldErrors {
	raw := strings.TrimSpace(r.PostFormValue("connectionstring"))
	if raw == "" {
		if d.data.HasConnection || back {
			return nil
		}
		return web.FieldErrors{"connectionstring": {"Paste the connection string of a shared access policy. " +
			"In the Azure portal: the Service Bus namespace, queue, topic or event hub › Shared access policies › the policy › Primary Connection String."}}
	}
	cs, err := endpoint.ParseConnectionString(raw)
	if err != nil {
		msg := err.Error()
		if !endpoint.LooksLikeConnectionString(raw) && len(raw) == endpoint.SASKeyLen {
			msg = "This looks like a key on its own. Paste the whole connection string (it starts with Endpoint=sb://), so the portal also learns the namespace and the policy name."
		}
		return web.FieldErrors{"connectionstring": {msg}}
	}
	sug := cs.Suggest()
	d.data.HasConnection = true
	d.data.Redacted = cs.Redacted()
	d.data.Emulator = cs.Emulator
	d.data.NamespaceWide = cs.NamespaceWide()
	f := &d.data.Fields
	if f.Name == "" {
		f.Name = sug.Name
	}
	f.NamespaceAddress, f.SolutionNamespace, f.SASKeyName = sug.NamespaceAddress, sug.SolutionNamespace, sug.SASKeyName
	f.Path = sug.Path
	f.AuthType = int(sug.AuthType)
	if f.Contract == 0 || !endpoint.Contract(f.Contract).IsServiceBus() {
		f.Contract = int(sug.Contract)
	}
	if f.MessageFormat == 0 {
		f.MessageFormat = int(sug.MessageFormat)
	}
	if f.UserClaim == 0 {
		f.UserClaim = int(sug.UserClaim)
	}
	d.Secrets = map[string]store.Secret{}
	if sug.SASKey.IsSet() {
		d.Secrets[store.PurposeSASKey] = store.Secret(sug.SASKey.Reveal())
	}
	if sug.SASToken.IsSet() {
		d.Secrets[store.PurposeSASToken] = store.Secret(sug.SASToken.Reveal())
	}
	return nil
}

// takeWebhook reads the webhook address and authentication into the draft. Secrets left empty
// keep the ones already stored.
func (p *pages) takeWebhook(r *http.Request, d *wizardDraft, form *web.ConnectionForm, back bool) web.FieldErrors {
	errs := web.FieldErrors{}
	u := strings.TrimSpace(r.PostFormValue("url"))
	auth := r.PostFormValue("webhookauth")
	names := r.PostForm["pairname"]
	values := r.PostForm["pairvalue"]
	form.URL, form.WebhookAuth = u, auth
	form.Pairs = nil
	for i := 0; i < pairRows; i++ {
		var n string
		if i < len(names) {
			n = strings.TrimSpace(names[i])
		}
		form.Pairs = append(form.Pairs, web.Pair{Name: n})
	}

	d.data.Fields.URL = u
	d.data.Fields.Contract = int(endpoint.ContractWebhook)
	if d.data.Fields.MessageFormat == 0 {
		d.data.Fields.MessageFormat = int(endpoint.MessageFormatJSON)
	}
	if d.data.Fields.UserClaim == 0 {
		d.data.Fields.UserClaim = int(endpoint.UserClaimNone)
	}
	if d.data.Fields.Name == "" && u != "" {
		d.data.Fields.Name = suggestWebhookName(u)
	}
	if d.Secrets == nil {
		d.Secrets = map[string]store.Secret{}
	}
	switch auth {
	case "key":
		d.data.Fields.AuthType = int(endpoint.AuthTypeWebhookKey)
		if k := strings.TrimSpace(r.PostFormValue("webhookkey")); k != "" {
			d.Secrets[store.PurposeAuthValue] = store.Secret(k)
		} else if d.data.WebhookAuth != "key" {
			delete(d.Secrets, store.PurposeAuthValue)
		}
		d.data.PairNames = nil
	case "header", "query":
		d.data.Fields.AuthType = int(endpoint.AuthTypeHTTPHeader)
		if auth == "query" {
			d.data.Fields.AuthType = int(endpoint.AuthTypeHTTPQueryString)
		}
		var settings []endpoint.WebhookSetting
		var pairNames []string
		anyValue := false
		for i := range names {
			n := strings.TrimSpace(names[i])
			var v string
			if i < len(values) {
				v = values[i]
			}
			if v != "" {
				anyValue = true
			}
			if n == "" && v == "" {
				continue
			}
			if n == "" {
				errs["pairs"] = append(errs["pairs"], "Every value needs a name.")
				continue
			}
			pairNames = append(pairNames, n)
			settings = append(settings, endpoint.WebhookSetting{Name: n, Value: endpoint.NewSecret(v)})
		}
		if anyValue {
			d.data.PairNames = pairNames
			d.Secrets[store.PurposeAuthValue] = store.Secret(endpoint.FormatWebhookSettings(settings).Reveal())
		} else if len(pairNames) > 0 && d.Secrets[store.PurposeAuthValue] != "" && d.data.WebhookAuth == auth {
			// Names only: keep the stored values.
		} else if !back {
			errs["pairs"] = append(errs["pairs"], "Give at least one name and value.")
		}
	default:
		errs["webhookauth"] = []string{"Choose how the webhook authenticates Dataverse's calls."}
	}
	d.data.WebhookAuth = auth
	if !back {
		if u == "" {
			errs["url"] = []string{"Enter the webhook's address, e.g. https://contoso.azurewebsites.net/api/dataverse."}
		} else {
			probe := endpoint.ServiceEndpoint{Contract: endpoint.ContractWebhook, URL: u, Name: "x",
				MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone, ConnectionMode: endpoint.ConnectionModeNormal}
			if msgs := probe.ValidateFor(endpoint.ForUpdate).For(endpoint.FieldURL); len(msgs) > 0 {
				errs["url"] = msgs
			}
		}
		if auth == "key" && d.Secrets[store.PurposeAuthValue] == "" {
			errs["webhookkey"] = []string{"Enter the webhook key (for Azure Functions: the function key)."}
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
