package plan

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/endpoint"
)

// fromEndpoint is e as a document endpoint (no secret: a reference named after it).
func fromEndpoint(e endpoint.ServiceEndpoint, team string, steps []endpoint.Step) Endpoint {
	d := Endpoint{ID: strings.ToLower(e.ID), Name: e.Name, Team: team, Type: e.Contract.Label(), Description: e.Description,
		MessageFormat: e.MessageFormat.Label(), UserInformation: e.UserClaim.Label()}
	if e.AuthType != 0 {
		d.Auth = e.AuthType.Label()
	}
	if e.Contract == endpoint.ContractWebhook {
		d.URL = e.URL
	} else {
		d.Namespace, d.Path, d.Policy = e.NamespaceAddress, e.Path, e.SASKeyName
	}
	if _, ok := e.AuthType.SecretPurpose(); ok {
		d.Secret = SecretRefFor(e)
	}
	for _, st := range steps {
		d.Steps = append(d.Steps, fromStep(st))
	}
	slices.SortFunc(d.Steps, func(a, b Step) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return d
}

var notName = regexp.MustCompile(`[^A-Z0-9]+`)

// SecretRefFor is the reference Export writes for e's secret: env: and the endpoint's name in
// capitals with what the secret is, e.g. env:ORDERS_QUEUE_PAYMENTS_SAS_KEY.
func SecretRefFor(e endpoint.ServiceEndpoint) string {
	name := strings.Trim(notName.ReplaceAllString(strings.ToUpper(e.Name), "_"), "_")
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		name = "ENDPOINT_" + name
	}
	what := "SECRET"
	switch e.AuthType {
	case endpoint.AuthTypeSASKey:
		what = "SAS_KEY"
	case endpoint.AuthTypeSASToken:
		what = "SAS_TOKEN"
	case endpoint.AuthTypeWebhookKey:
		what = "WEBHOOK_KEY"
	case endpoint.AuthTypeHTTPHeader, endpoint.AuthTypeHTTPQueryString:
		what = "WEBHOOK_SETTINGS"
	}
	return "env:" + name + "_" + what
}

func fromStep(st endpoint.Step) Step {
	d := Step{ID: strings.ToLower(st.ID), Name: st.Name, Description: st.Description, Message: st.Message, Table: st.Table,
		Stage: st.Stage.Label(), Mode: st.Mode.Label(), Rank: st.Rank, FilteringAttributes: st.FilteringAttributes,
		RunAs: strings.ToLower(st.RunAsUserID), AsyncAutoDelete: st.AsyncAutoDelete, Disabled: st.State == endpoint.StepDisabled}
	for _, im := range st.Images {
		d.Images = append(d.Images, Image{Type: imageTypeWord(im.Type), Alias: im.Alias, Attributes: im.Attributes, MessageProperty: im.MessageProperty})
	}
	return d
}

func imageTypeWord(t endpoint.ImageType) string {
	switch t {
	case endpoint.ImagePre:
		return "pre"
	case endpoint.ImagePost:
		return "post"
	}
	return "both"
}

// toEndpoint applies a document endpoint's fields to base (the record it updates, or a new
// one) and returns the result without a secret, with the problems found reading its choices.
func toEndpoint(d Endpoint, base endpoint.ServiceEndpoint) (endpoint.ServiceEndpoint, []Problem) {
	var out []Problem
	bad := func(field, msg string) {
		out = append(out, Problem{Line: d.lineOf(field), Endpoint: d.Name, Field: field, Message: msg})
	}
	e := base
	e.Name, e.Description = strings.TrimSpace(d.Name), d.Description
	choice := func(field, value string, parse func(string) bool, choices string) {
		if value != "" && !parse(value) {
			bad(field, "Unknown value “"+value+"”. Write one of: "+choices+".")
		}
	}
	if d.Type == "" {
		bad("type", "Write the designation type, e.g. type: Queue.")
	}
	choice("type", d.Type, func(s string) bool { c, ok := endpoint.ParseContract(s); e.Contract = c; return ok }, labels(endpoint.RegistrableContracts))
	choice("messageFormat", d.MessageFormat, func(s string) bool { f, ok := endpoint.ParseMessageFormat(s); e.MessageFormat = f; return ok }, labels(endpoint.MessageFormats))
	choice("userInformation", d.UserInformation, func(s string) bool { u, ok := endpoint.ParseUserClaim(s); e.UserClaim = u; return ok }, labels(endpoint.UserClaims))
	choice("auth", d.Auth, func(s string) bool { a, ok := endpoint.ParseAuthType(s); e.AuthType = a; return ok }, labels(endpoint.AuthTypes))
	if e.Contract == endpoint.ContractWebhook {
		e.URL = d.URL
		e.NamespaceAddress, e.SolutionNamespace, e.Path, e.SASKeyName = "", "", "", ""
	} else {
		e.URL = ""
		e.NamespaceAddress, e.Path, e.SASKeyName = d.Namespace, d.Path, d.Policy
		if host := hostOf(d.Namespace); host != "" {
			e.SolutionNamespace = endpoint.NamespaceName(host)
		}
	}
	if e.Contract.IsServiceBus() && e.AuthType != endpoint.AuthTypeSASKey {
		e.SASKeyName = ""
	}
	return e.WithDefaults(), out
}

func hostOf(address string) string {
	_, rest, ok := strings.Cut(address, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

func labels[T interface{ Label() string }](all []T) string {
	ls := make([]string, len(all))
	for i, c := range all {
		ls[i] = c.Label()
	}
	return strings.Join(ls, ", ")
}

// toStep reads a document step for the endpoint epID, bound to the message Dataverse offers.
func toStep(d Step, ep Endpoint, epID string, msgs []endpoint.Message) (endpoint.Step, []Problem) {
	var out []Problem
	bad := func(field, msg string) {
		out = append(out, Problem{Line: d.line, Endpoint: ep.Name, Field: "steps." + field, Message: "Step “" + d.Name + "”: " + msg})
	}
	st := endpoint.Step{ID: d.ID, EndpointID: epID, Name: strings.TrimSpace(d.Name), Description: d.Description, Message: d.Message,
		Table: d.Table, Rank: d.Rank, FilteringAttributes: d.FilteringAttributes, RunAsUserID: d.RunAs, AsyncAutoDelete: d.AsyncAutoDelete}
	if d.Disabled {
		st.State = endpoint.StepDisabled
	}
	found := false
	for _, s := range endpoint.Stages {
		if strings.EqualFold(s.Label(), d.Stage) || d.Stage == strconv.Itoa(int(s)) {
			st.Stage, found = s, true
		}
	}
	if !found {
		bad("stage", "Write the stage as Pre-validation, Pre-operation or Post-operation.")
	}
	switch strings.ToLower(d.Mode) {
	case "asynchronous", "async", "1":
		st.Mode = endpoint.ModeAsynchronous
	case "synchronous", "sync", "0":
		st.Mode = endpoint.ModeSynchronous
	default:
		bad("mode", "Write the mode as Asynchronous or Synchronous.")
	}
	for _, im := range d.Images {
		t, ok := map[string]endpoint.ImageType{"pre": endpoint.ImagePre, "post": endpoint.ImagePost, "both": endpoint.ImageBoth}[strings.ToLower(im.Type)]
		if !ok {
			bad("images", "Write an image's type as pre, post or both.")
		}
		st.Images = append(st.Images, endpoint.StepImage{Type: t, Alias: im.Alias, Name: im.Alias, Attributes: im.Attributes, MessageProperty: im.MessageProperty})
	}
	if m := endpoint.FindMessage(msgs, st.Message); m != nil {
		st = st.Bind(m)
	}
	return st, out
}

// EndpointOf is e as a document endpoint owned by team, with its steps: what Export writes for
// it, for a caller that builds a document of its own (Copy to environment).
func EndpointOf(e endpoint.ServiceEndpoint, team string, steps []endpoint.Step) Endpoint {
	return fromEndpoint(e, team, steps)
}
