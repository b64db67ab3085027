package sample

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/google/uuid"
)

// Marks and names a listener sees.
const (
	// SampleProperty is set to true as an application property, a webhook header and a
	// SharedVariables entry of every sample.
	SampleProperty = "x-sbportal-sample"
	// ClaimsPrefix is where Dataverse puts its claim properties on a Service Bus message.
	ClaimsPrefix = "http://schemas.microsoft.com/xrm/2011/Claims/"
	// UserAgent is the InitiatingUserAgent of a sample.
	UserAgent = "sbportal sample"
)

// Input is what a sample is built from: the endpoint (its format, user claim and contract),
// the step, the primary table's columns (to type attribute values) and who and where it
// pretends to come from. Empty ids are made up; a zero Now is the current time.
type Input struct {
	Endpoint         endpoint.ServiceEndpoint
	Step             endpoint.Step
	Columns          []endpoint.Column
	OrganizationID   string
	OrganizationName string // the environment's unique name, e.g. "contoso"
	OrganizationURL  string // e.g. "https://contoso.crm.dynamics.com"
	UserID           string // systemuserid of the calling user
	UserName         string
	Now              time.Time
}

// Message is a sample ready to send: the body in the endpoint's format and what Dataverse puts
// around it.
type Message struct {
	ID            string // message id
	CorrelationID string // the context's CorrelationId
	ContentType   string
	Subject       string
	Body          []byte
	// Properties are the Service Bus application properties (claims and SampleProperty).
	Properties map[string]any
	// Headers are the webhook POST's headers (without the endpoint's own authentication).
	Headers http.Header
	// Context is the RemoteExecutionContext the body encodes.
	Context RemoteExecutionContext
	// Note says where the sample knowingly differs from what Dataverse would send ("" when it
	// does not).
	Note string
}

// Build makes the sample of in.Step for in.Endpoint.
func Build(in Input) Message {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	ctx := buildContext(in)
	format, note := formatFor(in.Endpoint)
	m := Message{
		ID:            uuid.NewString(),
		CorrelationID: ctx.CorrelationID,
		ContentType:   format.ContentType(),
		Subject:       "sbportal sample of step " + stepName(in.Step) + ": safe to ignore",
		Body:          ctx.Encode(format),
		Context:       ctx,
		Note:          note,
	}
	host := organizationHost(in)
	m.Properties = Claims(in.Endpoint.UserClaim, host, ctx)
	m.Properties[SampleProperty] = true
	m.Headers = WebhookHeaders(host, ctx)
	m.Headers.Set(SampleProperty, "true")
	return m
}

// Encode writes the context in format; an unknown format gets JSON.
func (c *RemoteExecutionContext) Encode(format endpoint.MessageFormat) []byte {
	switch format {
	case endpoint.MessageFormatTextXML:
		return c.XML()
	case endpoint.MessageFormatBinaryXML:
		return c.BinaryXML()
	}
	return c.JSON()
}

// formatFor is the format Dataverse posts to the endpoint in: webhooks always get JSON, an
// event hub JSON or XML only.
func formatFor(e endpoint.ServiceEndpoint) (endpoint.MessageFormat, string) {
	switch {
	case e.Contract == endpoint.ContractWebhook:
		return endpoint.MessageFormatJSON, ""
	case !e.MessageFormat.Valid():
		return endpoint.MessageFormatJSON, "The endpoint has no message format; the sample is JSON."
	case e.Contract == endpoint.ContractEventHub && e.MessageFormat == endpoint.MessageFormatBinaryXML:
		return endpoint.MessageFormatJSON, "An event hub takes JSON or XML, not .NET Binary; the sample is JSON."
	}
	return e.MessageFormat, ""
}

// Claims are the application properties Dataverse sets on a Service Bus message: the
// organization, table and message always, the calling and initiating user's systemuserid when
// the endpoint's "User information sent" is UserId or UserInfo. (Microsoft documents no
// further claim for UserInfo, which the Plug-in Registration Tool offers for on-premises
// organizations only; a sample sends it as UserId.)
func Claims(claim endpoint.UserClaim, organization string, ctx RemoteExecutionContext) map[string]any {
	p := map[string]any{
		ClaimsPrefix + "Organization":      organization,
		ClaimsPrefix + "EntityLogicalName": ctx.PrimaryEntityName,
		ClaimsPrefix + "RequestName":       ctx.MessageName,
	}
	if ctx.InitiatingUserAgent != "" {
		p[ClaimsPrefix+"InitiatingUserAgent"] = ctx.InitiatingUserAgent
	}
	if claim == endpoint.UserClaimUserID || claim == endpoint.UserClaimUserInfo {
		p[ClaimsPrefix+"User"] = orNoGUID(ctx.UserID)
		p[ClaimsPrefix+"InitiatingUser"] = orNoGUID(ctx.InitiatingUserID)
	}
	return p
}

// WebhookHeaders are the headers Dataverse sets on a webhook POST (x-ms-dynamics-msg-size-exceeded
// only comes with a context over 256 KB, which a sample never is).
func WebhookHeaders(organization string, ctx RemoteExecutionContext) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("x-ms-dynamics-organization", organization)
	h.Set("x-ms-dynamics-entity-name", ctx.PrimaryEntityName)
	h.Set("x-ms-dynamics-request-name", ctx.MessageName)
	h.Set("x-ms-correlation-request-id", ctx.CorrelationID)
	if ctx.RequestID != "" {
		h.Set("x-request-id", ctx.RequestID)
	}
	return h
}

// organizationHost is the environment's host name, as the Organization claim and the
// x-ms-dynamics-organization header carry it.
func organizationHost(in Input) string {
	if u, err := url.Parse(in.OrganizationURL); err == nil && u.Host != "" {
		return u.Hostname()
	}
	if in.OrganizationURL != "" {
		return strings.TrimSuffix(in.OrganizationURL, "/")
	}
	if in.OrganizationName != "" {
		return in.OrganizationName
	}
	return "sbportal-sample"
}

func stepName(s endpoint.Step) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Message + " of " + table(s)
}

// table is the step's primary table, "none" for a global message.
func table(s endpoint.Step) string {
	if s.Table == "" {
		return "none"
	}
	return s.Table
}

func buildContext(in Input) RemoteExecutionContext {
	s := in.Step
	user := in.UserID
	if user == "" {
		user = uuid.NewString()
	}
	runAs := user
	if s.RunAsUserID != "" {
		runAs = s.RunAsUserID
	}
	orgName := in.OrganizationName
	if orgName == "" {
		orgName = "sbportal-sample"
	}
	c := RemoteExecutionContext{
		BusinessUnitID:      uuid.NewString(),
		CorrelationID:       uuid.NewString(),
		Depth:               1,
		InitiatingUserAgent: UserAgent,
		InitiatingUserID:    user,
		IsolationMode:       1,
		MessageName:         s.Message,
		Mode:                s.Mode,
		OperationCreatedOn:  in.Now,
		OperationID:         uuid.NewString(),
		OrganizationID:      orNew(in.OrganizationID),
		OrganizationName:    orgName,
		OwningExtension:     EntityReference{ID: orNew(s.ID), LogicalName: "sdkmessageprocessingstep", Name: s.Name},
		PrimaryEntityName:   table(s),
		PrimaryEntityID:     NoGUID,
		RequestID:           uuid.NewString(),
		SecondaryEntityName: "none",
		SharedVariables:     []Parameter{{Key: SampleProperty, Value: true}},
		Stage:               s.Stage,
		UserID:              runAs,
	}
	if s.Table != "" && s.Table != "none" {
		r := newRecord(in)
		c.PrimaryEntityID = r.id
		c.InputParameters, c.OutputParameters = r.parameters()
		for _, im := range s.Images {
			if im.Type.Pre() && s.Message != "Create" {
				c.PreEntityImages = append(c.PreEntityImages, Image{Alias: im.Alias, Entity: r.entity(r.imageColumns(im))})
			}
			if im.Type.Post() && s.Message != "Delete" {
				c.PostEntityImages = append(c.PostEntityImages, Image{Alias: im.Alias, Entity: r.entity(r.imageColumns(im))})
			}
		}
	}
	return c
}

func orNew(id string) string {
	if id == "" {
		return uuid.NewString()
	}
	return id
}
