package servicebus

import (
	"net/http"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/sample"
	"github.com/google/uuid"
)

// The test message is marked so a listener can tell it from Dataverse's own posts and drop it:
// the subject, the ValidationProperty application property, the RequestName claim and the
// body all say it is the portal's validation message.
const (
	// ValidationSubject is the test message's subject (label).
	ValidationSubject = "sbportal validation message: safe to ignore"
	// ValidationProperty is an application property set to true on every test message.
	ValidationProperty = "x-sbportal-validation"
	// ValidationRequestName is the RequestName claim and MessageName of a test message.
	ValidationRequestName = "sbportal.ValidateServiceEndpoint"
	// ClaimsPrefix is where Dataverse puts its claim properties.
	ClaimsPrefix = sample.ClaimsPrefix
	// TestMessageTimeToLive keeps an unread test message from lingering in an idle queue.
	TestMessageTimeToLive = 5 * time.Minute
	// ScheduleAhead is how far ahead check mode schedules the message it then cancels.
	ScheduleAhead = 365 * 24 * time.Hour
)

// SampleTimeToLive keeps a sample readable for a while: a person sends it to try a listener,
// which may be started afterwards, yet an unread sample should not linger for days.
const SampleTimeToLive = time.Hour

// zeroGUID stands for the user and business unit: a validation message acts for nobody.
const zeroGUID = sample.NoGUID

// testMessage is one message a probe sends: the validation message, or a sample a caller built.
type testMessage struct {
	ID            string
	CorrelationID string
	ContentType   string
	Subject       string
	Body          []byte
	Properties    map[string]any // Service Bus application properties: the claims and the marker
	Headers       http.Header    // what Dataverse sets on a webhook POST, and the marker
	TTL           time.Duration
	Marker        string // ValidationProperty or sample.SampleProperty
	Sample        bool
}

// noun names the message in results: "test message" or "sample message" (kind: message, event).
func (m testMessage) noun(kind string) string {
	if m.Sample {
		return "sample " + kind
	}
	return "test " + kind
}

// newTestMessage is the request's sample when it has one, else the validation message in the
// endpoint's format (JSON for webhooks, as Dataverse posts them).
func newTestMessage(req Request) testMessage {
	if s := req.Sample; s != nil {
		return testMessage{
			ID: s.ID, CorrelationID: s.CorrelationID, ContentType: s.ContentType, Subject: s.Subject,
			Body: s.Body, Properties: s.Properties, Headers: s.Headers.Clone(),
			TTL: SampleTimeToLive, Marker: sample.SampleProperty, Sample: true,
		}
	}
	id := uuid.NewString()
	org := organization(req)
	format := req.Endpoint.MessageFormat
	if !format.Valid() || req.Endpoint.Contract == endpoint.ContractWebhook {
		format = endpoint.MessageFormatJSON
	}
	ctx := validationContext(id, org, req.Endpoint)
	props := sample.Claims(endpoint.UserClaimUserID, org, ctx)
	props[ValidationProperty] = true
	header := sample.WebhookHeaders(org, ctx)
	header.Set("Content-Type", "application/json; charset=utf-8")
	header.Set(ValidationProperty, "true")
	return testMessage{
		ID: id, CorrelationID: id, ContentType: format.ContentType(), Subject: ValidationSubject,
		Body: ctx.Encode(format), Properties: props, Headers: header,
		TTL: TestMessageTimeToLive, Marker: ValidationProperty,
	}
}

func organization(req Request) string {
	if req.Organization == "" {
		return "sbportal-validation"
	}
	return req.Organization
}

// validationContext is the RemoteExecutionContext of a validation message: the portal's own
// message name on the serviceendpoint table, acting for nobody, marked in SharedVariables.
func validationContext(id, org string, e endpoint.ServiceEndpoint) sample.RemoteExecutionContext {
	return sample.RemoteExecutionContext{
		BusinessUnitID:      zeroGUID,
		CorrelationID:       id,
		Depth:               1,
		InitiatingUserAgent: "sbportal",
		InitiatingUserID:    zeroGUID,
		IsolationMode:       1,
		MessageName:         ValidationRequestName,
		Mode:                endpoint.ModeAsynchronous, // as every Service Bus step
		OperationCreatedOn:  time.Now(),
		OperationID:         id,
		OrganizationName:    org,
		OwningExtension:     sample.EntityReference{LogicalName: "sdkmessageprocessingstep"},
		PrimaryEntityID:     orNone(e.ID),
		PrimaryEntityName:   "serviceendpoint",
		RequestID:           id,
		SecondaryEntityName: "none",
		SharedVariables: []sample.Parameter{
			{Key: ValidationProperty, Value: true},
			{Key: "sbportal.endpoint", Value: e.Name},
		},
		Stage:  endpoint.StagePostOperation,
		UserID: zeroGUID,
	}
}

func orNone(id string) string {
	if id == "" {
		return zeroGUID
	}
	return id
}
