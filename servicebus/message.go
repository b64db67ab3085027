package servicebus

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
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
	ClaimsPrefix = "http://schemas.microsoft.com/xrm/2011/Claims/"
	// TestMessageTimeToLive keeps an unread test message from lingering in an idle queue.
	TestMessageTimeToLive = 5 * time.Minute
	// ScheduleAhead is how far ahead check mode schedules the message it then cancels.
	ScheduleAhead = 365 * 24 * time.Hour
)

// zeroGUID stands for the user and business unit: a validation message acts for nobody.
const zeroGUID = "00000000-0000-0000-0000-000000000000"

// testMessage is one validation message in the endpoint's format.
type testMessage struct {
	ID          string
	ContentType string
	Body        []byte
	Properties  map[string]any // application properties: the claims and the marker
}

func newTestMessage(req Request) testMessage {
	id := uuid.NewString()
	org := req.Organization
	if org == "" {
		org = "sbportal-validation"
	}
	format := req.Endpoint.MessageFormat
	if !format.Valid() {
		format = endpoint.MessageFormatJSON
	}
	m := testMessage{
		ID:          id,
		ContentType: format.ContentType(),
		Properties: map[string]any{
			ValidationProperty:                   true,
			ClaimsPrefix + "Organization":        org,
			ClaimsPrefix + "User":                zeroGUID,
			ClaimsPrefix + "InitiatingUser":      zeroGUID,
			ClaimsPrefix + "EntityLogicalName":   "serviceendpoint",
			ClaimsPrefix + "RequestName":         ValidationRequestName,
			ClaimsPrefix + "InitiatingUserAgent": "sbportal",
		},
	}
	ctx := sampleContext(id, org, req.Endpoint)
	switch format {
	case endpoint.MessageFormatTextXML:
		m.Body = ctx.xml()
	case endpoint.MessageFormatBinaryXML:
		m.Body = nbfxMarker()
	default:
		m.Body = ctx.json()
	}
	return m
}

// remoteExecutionContext is the subset of Dataverse's RemoteExecutionContext a listener
// typically reads, so a listener's parser accepts the test message and can see it is one.
type remoteExecutionContext struct {
	XMLName            xml.Name   `json:"-" xml:"http://schemas.microsoft.com/xrm/2011/Contracts RemoteExecutionContext"`
	BusinessUnitID     string     `json:"BusinessUnitId" xml:"BusinessUnitId"`
	CorrelationID      string     `json:"CorrelationId" xml:"CorrelationId"`
	Depth              int        `json:"Depth" xml:"Depth"`
	InitiatingUserID   string     `json:"InitiatingUserId" xml:"InitiatingUserId"`
	InputParameters    []keyValue `json:"InputParameters" xml:"InputParameters>KeyValuePairOfstringanyType"`
	IsExecutingOffline bool       `json:"IsExecutingOffline" xml:"IsExecutingOffline"`
	MessageName        string     `json:"MessageName" xml:"MessageName"`
	Mode               int        `json:"Mode" xml:"Mode"`
	OperationCreatedOn string     `json:"OperationCreatedOn" xml:"OperationCreatedOn"`
	OrganizationName   string     `json:"OrganizationName" xml:"OrganizationName"`
	OutputParameters   []keyValue `json:"OutputParameters" xml:"OutputParameters>KeyValuePairOfstringanyType"`
	PrimaryEntityName  string     `json:"PrimaryEntityName" xml:"PrimaryEntityName"`
	RequestID          string     `json:"RequestId" xml:"RequestId"`
	SharedVariables    []keyValue `json:"SharedVariables" xml:"SharedVariables>KeyValuePairOfstringanyType"`
	Stage              int        `json:"Stage" xml:"Stage"`
	UserID             string     `json:"UserId" xml:"UserId"`
}

type keyValue struct {
	Key   string `json:"key" xml:"key"`
	Value string `json:"value" xml:"value"`
}

func sampleContext(id, org string, e endpoint.ServiceEndpoint) remoteExecutionContext {
	return remoteExecutionContext{
		BusinessUnitID:     zeroGUID,
		CorrelationID:      id,
		Depth:              1,
		InitiatingUserID:   zeroGUID,
		InputParameters:    []keyValue{},
		MessageName:        ValidationRequestName,
		Mode:               1, // asynchronous, as every Service Bus step
		OperationCreatedOn: time.Now().UTC().Format(time.RFC3339),
		OrganizationName:   org,
		OutputParameters:   []keyValue{},
		PrimaryEntityName:  "serviceendpoint",
		RequestID:          id,
		SharedVariables: []keyValue{
			{Key: ValidationProperty, Value: "true"},
			{Key: "sbportal.endpoint", Value: e.Name},
		},
		Stage:  40,
		UserID: zeroGUID,
	}
}

// json encodes the context. Marshalling strings and ints cannot fail; should it ever, the
// marker body still tells a listener what the message is.
func (c remoteExecutionContext) json() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		return []byte(`{"MessageName":"` + ValidationRequestName + `"}`)
	}
	return b
}

// xml encodes the context as Text XML (invalid characters in the endpoint name become U+FFFD).
func (c remoteExecutionContext) xml() []byte {
	b, err := xml.Marshal(c)
	if err != nil {
		b = []byte(`<RemoteExecutionContext xmlns="http://schemas.microsoft.com/xrm/2011/Contracts"><MessageName>` + ValidationRequestName + `</MessageName></RemoteExecutionContext>`)
	}
	return append([]byte(xml.Header), b...)
}

// nbfxMarker is a tiny .NET Binary XML ([MC-NBFX]) document,
// <SbportalValidation>sbportal validation message: safe to ignore</SbportalValidation>: a
// short element record (0x40) with its name, then a Chars8TextWithEndElement record (0x99).
// Writing Dataverse's full DataContract in binary XML is out of scope; a listener that reads
// .NET Binary will parse this and not find a RemoteExecutionContext, which is the point.
func nbfxMarker() []byte {
	const name, text = "SbportalValidation", ValidationSubject
	b := []byte{0x40, byte(len(name))}
	b = append(b, name...)
	b = append(b, 0x99, byte(len(text)))
	return append(b, text...)
}

// displayURL shows a URL without its query or fragment, which may hold a key.
func displayURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	return raw
}
