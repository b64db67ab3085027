package sample

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

const stepID = "8a9b7c6d-1111-4222-8333-944455556666"

var accountColumns = []endpoint.Column{
	{LogicalName: "accountid", Type: "Uniqueidentifier"},
	{LogicalName: "name", Type: "String", ValidForUpdate: true},
	{LogicalName: "revenue", Type: "Money", ValidForUpdate: true},
	{LogicalName: "numberofemployees", Type: "Integer", ValidForUpdate: true},
	{LogicalName: "primarycontactid", Type: "Lookup", ValidForUpdate: true},
	{LogicalName: "industrycode", Type: "Picklist", ValidForUpdate: true},
	{LogicalName: "modifiedon", Type: "DateTime"},
	{LogicalName: "donotemail", Type: "Boolean", ValidForUpdate: true},
}

func updateInput(format endpoint.MessageFormat) Input {
	return Input{
		Endpoint: endpoint.ServiceEndpoint{Name: "orders", Contract: endpoint.ContractQueue, MessageFormat: format, UserClaim: endpoint.UserClaimUserID},
		Step: endpoint.Step{ID: stepID, Name: "account update to orders", Message: "Update", Table: "account",
			Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous,
			FilteringAttributes: []string{"name", "revenue", "primarycontactid", "industrycode", "donotemail"},
			Images:              []endpoint.StepImage{{Type: endpoint.ImagePre, Alias: "before", Attributes: []string{"name", "revenue"}}}},
		Columns:          accountColumns,
		OrganizationID:   "4ef5b371-e89e-e711-8122-000d3aa2331c",
		OrganizationName: "contoso",
		OrganizationURL:  "https://contoso.crm.dynamics.com/",
		UserID:           "75c2dd85-e89e-e711-8122-000d3aa2331c",
		Now:              time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

// documented is the JSON shape of Microsoft's "Use webhooks" example, by its field names.
type documented struct {
	BusinessUnitID   string `json:"BusinessUnitId"`
	CorrelationID    string `json:"CorrelationId"`
	Depth            int
	InitiatingUserID string `json:"InitiatingUserId"`
	InputParameters  []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	IsExecutingOffline bool
	IsolationMode      int
	MessageName        string
	Mode               int
	OperationCreatedOn string
	OperationID        string `json:"OperationId"`
	OrganizationID     string `json:"OrganizationId"`
	OrganizationName   string
	OutputParameters   []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	OwningExtension struct {
		ID          string `json:"Id"`
		LogicalName string
		Name        string
	}
	ParentContext       json.RawMessage
	PostEntityImages    []docImage
	PreEntityImages     []docImage
	PrimaryEntityID     string `json:"PrimaryEntityId"`
	PrimaryEntityName   string
	RequestID           *string `json:"RequestId"`
	SecondaryEntityName string
	SharedVariables     []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	Stage  int
	UserID string `json:"UserId"`
}

type docImage struct {
	Key   string    `json:"key"`
	Value docEntity `json:"value"`
}

type docEntity struct {
	Type       string `json:"__type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	ID          string `json:"Id"`
	LogicalName string
}

func (e docEntity) attr(key string) (any, bool) {
	for _, a := range e.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}

func decodeJSON(t *testing.T, body []byte) documented {
	t.Helper()
	var d documented
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("body is not the documented JSON: %v\n%s", err, body)
	}
	return d
}

func TestJSONMatchesDocumentedShape(t *testing.T) {
	in := updateInput(endpoint.MessageFormatJSON)
	m := Build(in)
	if m.ContentType != "application/json" {
		t.Fatalf("content type %q", m.ContentType)
	}
	d := decodeJSON(t, m.Body)
	if d.MessageName != "Update" || d.PrimaryEntityName != "account" || d.Stage != 40 || d.Mode != 1 || d.Depth != 1 {
		t.Errorf("message, table, stage, mode or depth wrong: %+v", d)
	}
	if d.OwningExtension.ID != stepID || d.OwningExtension.LogicalName != "sdkmessageprocessingstep" || d.OwningExtension.Name != in.Step.Name {
		t.Errorf("OwningExtension = %+v", d.OwningExtension)
	}
	if d.UserID != in.UserID || d.InitiatingUserID != in.UserID || d.OrganizationID != in.OrganizationID || d.OrganizationName != "contoso" {
		t.Errorf("user or organization wrong: %+v", d)
	}
	if string(d.ParentContext) != "null" || d.SecondaryEntityName != "none" || d.RequestID == nil || d.CorrelationID != m.CorrelationID {
		t.Errorf("ParentContext %s, SecondaryEntityName %q, RequestId %v", d.ParentContext, d.SecondaryEntityName, d.RequestID)
	}
	if want := fmt.Sprintf(`"OperationCreatedOn":"\/Date(%d)\/"`, in.Now.UnixMilli()); !bytes.Contains(m.Body, []byte(want)) {
		t.Errorf("date not in .NET's form %s: %s", want, m.Body)
	}
	if len(d.InputParameters) != 1 || d.InputParameters[0].Key != "Target" {
		t.Fatalf("InputParameters = %+v", d.InputParameters)
	}
	var target docEntity
	if err := json.Unmarshal(d.InputParameters[0].Value, &target); err != nil {
		t.Fatal(err)
	}
	if target.Type != "Entity:http://schemas.microsoft.com/xrm/2011/Contracts" || target.LogicalName != "account" || target.ID != d.PrimaryEntityID {
		t.Errorf("Target = %+v", target)
	}
	for _, c := range in.Step.FilteringAttributes {
		if _, ok := target.attr(c); !ok {
			t.Errorf("Target lacks filtering attribute %q", c)
		}
	}
	if v, _ := target.attr("name"); v != "Sample name" {
		t.Errorf("name = %v", v)
	}
	if v, _ := target.attr("accountid"); v != d.PrimaryEntityID {
		t.Errorf("primary key = %v", v)
	}
	typed := map[string]string{"revenue": "Money", "primarycontactid": "EntityReference", "industrycode": "OptionSetValue"}
	for c, typ := range typed {
		v, _ := target.attr(c)
		obj, _ := v.(map[string]any)
		if obj["__type"] != typ+":"+ContractsNamespace {
			t.Errorf("%s = %v, want a %s", c, v, typ)
		}
	}
	if v, _ := target.attr("primarycontactid"); v.(map[string]any)["LogicalName"] != "contact" {
		t.Errorf("lookup target = %v", v)
	}
	if v, _ := target.attr("donotemail"); v != true {
		t.Errorf("boolean = %v", v)
	}
	if len(d.PreEntityImages) != 1 || d.PreEntityImages[0].Key != "before" || len(d.PostEntityImages) != 0 {
		t.Fatalf("images: pre %+v post %+v", d.PreEntityImages, d.PostEntityImages)
	}
	pre := d.PreEntityImages[0].Value
	if pre.Type != "" || pre.LogicalName != "account" || pre.ID != d.PrimaryEntityID || len(pre.Attributes) != 3 {
		t.Errorf("pre image = %+v (images are typed Entity: no __type; its columns plus the key)", pre)
	}
	if len(d.SharedVariables) != 1 || d.SharedVariables[0].Key != SampleProperty || d.SharedVariables[0].Value != true {
		t.Errorf("SharedVariables = %+v", d.SharedVariables)
	}
	if len(d.OutputParameters) != 0 {
		t.Errorf("Update has no output parameters: %+v", d.OutputParameters)
	}
}

func TestMarkers(t *testing.T) {
	m := Build(updateInput(endpoint.MessageFormatJSON))
	if m.Subject != "sbportal sample of step account update to orders: safe to ignore" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.Properties[SampleProperty] != true || m.Headers.Get(SampleProperty) != "true" {
		t.Errorf("marker missing: %v %v", m.Properties, m.Headers)
	}
	want := map[string]any{
		ClaimsPrefix + "Organization":      "contoso.crm.dynamics.com",
		ClaimsPrefix + "EntityLogicalName": "account",
		ClaimsPrefix + "RequestName":       "Update",
		ClaimsPrefix + "User":              "75c2dd85-e89e-e711-8122-000d3aa2331c",
		ClaimsPrefix + "InitiatingUser":    "75c2dd85-e89e-e711-8122-000d3aa2331c",
	}
	for k, v := range want {
		if m.Properties[k] != v {
			t.Errorf("%s = %v, want %v", k, m.Properties[k], v)
		}
	}
	h := m.Headers
	if h.Get("x-ms-dynamics-organization") != "contoso.crm.dynamics.com" || h.Get("x-ms-dynamics-entity-name") != "account" ||
		h.Get("x-ms-dynamics-request-name") != "Update" || h.Get("x-ms-correlation-request-id") != m.CorrelationID ||
		h.Get("x-request-id") != m.Context.RequestID || h.Get("Content-Type") != "application/json" || h.Get("x-ms-dynamics-msg-size-exceeded") != "" {
		t.Errorf("webhook headers: %v", h)
	}
	if m.ID == "" || m.ID == m.CorrelationID || m.Note != "" {
		t.Errorf("id %q correlation %q note %q", m.ID, m.CorrelationID, m.Note)
	}
}

func TestUserClaims(t *testing.T) {
	for _, c := range endpoint.UserClaims {
		in := updateInput(endpoint.MessageFormatJSON)
		in.Endpoint.UserClaim = c
		in.Step.RunAsUserID = "11111111-2222-3333-4444-555555555555"
		m := Build(in)
		user, hasUser := m.Properties[ClaimsPrefix+"User"]
		initiating, hasInitiating := m.Properties[ClaimsPrefix+"InitiatingUser"]
		if c == endpoint.UserClaimNone {
			if hasUser || hasInitiating {
				t.Errorf("%s: user claims sent: %v", c, m.Properties)
			}
		} else if user != in.Step.RunAsUserID || initiating != in.UserID {
			t.Errorf("%s: User %v (want the step's run-as user), InitiatingUser %v", c, user, initiating)
		}
		// The body names the users whatever the claim setting.
		if d := decodeJSON(t, m.Body); d.UserID != in.Step.RunAsUserID || d.InitiatingUserID != in.UserID {
			t.Errorf("%s: body users %q %q", c, d.UserID, d.InitiatingUserID)
		}
	}
}

func TestGlobalMessage(t *testing.T) {
	in := updateInput(endpoint.MessageFormatJSON)
	in.Step = endpoint.Step{ID: stepID, Name: "who am i", Message: "WhoAmI", Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous}
	m := Build(in)
	d := decodeJSON(t, m.Body)
	if d.PrimaryEntityName != "none" || d.PrimaryEntityID != NoGUID || len(d.InputParameters) != 0 || len(d.PreEntityImages) != 0 {
		t.Errorf("global message: %+v", d)
	}
	if m.Properties[ClaimsPrefix+"EntityLogicalName"] != "none" || m.Headers.Get("x-ms-dynamics-entity-name") != "none" {
		t.Errorf("global message table: %v %v", m.Properties, m.Headers)
	}
}

func TestDeleteWithPreImage(t *testing.T) {
	in := updateInput(endpoint.MessageFormatJSON)
	in.Step.Message, in.Step.FilteringAttributes = "Delete", nil
	in.Step.Images = []endpoint.StepImage{{Type: endpoint.ImageBoth, Alias: "gone"}}
	d := decodeJSON(t, Build(in).Body)
	var target struct {
		Type        string `json:"__type"`
		ID          string `json:"Id"`
		LogicalName string
	}
	if len(d.InputParameters) != 1 || json.Unmarshal(d.InputParameters[0].Value, &target) != nil ||
		target.Type != "EntityReference:"+ContractsNamespace || target.ID != d.PrimaryEntityID || target.LogicalName != "account" {
		t.Fatalf("Delete's Target should be an EntityReference: %+v", d.InputParameters)
	}
	if len(d.PreEntityImages) != 1 || d.PreEntityImages[0].Key != "gone" || len(d.PostEntityImages) != 0 {
		t.Fatalf("a Delete has a pre image only: %+v %+v", d.PreEntityImages, d.PostEntityImages)
	}
	// An image of every column gets a handful of the table's columns, plus the key.
	if got := len(d.PreEntityImages[0].Value.Attributes); got != handful+1 {
		t.Errorf("all-columns image has %d columns, want %d", got, handful+1)
	}
}

func TestCreateAndSetStateParameters(t *testing.T) {
	in := updateInput(endpoint.MessageFormatJSON)
	in.Step.Message, in.Step.FilteringAttributes, in.Step.Images = "Create", nil, nil
	d := decodeJSON(t, Build(in).Body)
	if len(d.OutputParameters) != 1 || d.OutputParameters[0].Key != "id" || d.OutputParameters[0].Value != d.PrimaryEntityID {
		t.Errorf("Create's output: %+v", d.OutputParameters)
	}
	in.Step.Message = "SetState"
	d = decodeJSON(t, Build(in).Body)
	var keys []string
	for _, p := range d.InputParameters {
		keys = append(keys, p.Key)
	}
	if strings.Join(keys, ",") != "EntityMoniker,State,Status" {
		t.Errorf("SetState parameters %v", keys)
	}
}

func TestFormats(t *testing.T) {
	cases := []struct {
		contract endpoint.Contract
		format   endpoint.MessageFormat
		want     string
		note     bool
	}{
		{endpoint.ContractQueue, endpoint.MessageFormatTextXML, "application/xml", false},
		{endpoint.ContractQueue, endpoint.MessageFormatBinaryXML, "application/msbin1", false},
		{endpoint.ContractWebhook, endpoint.MessageFormatTextXML, "application/json", false},
		{endpoint.ContractEventHub, endpoint.MessageFormatBinaryXML, "application/json", true},
		{endpoint.ContractTopic, 0, "application/json", true},
	}
	for _, tc := range cases {
		in := updateInput(tc.format)
		in.Endpoint.Contract = tc.contract
		m := Build(in)
		if m.ContentType != tc.want || (m.Note != "") != tc.note {
			t.Errorf("%s %s: content type %q note %q", tc.contract, tc.format, m.ContentType, m.Note)
		}
	}
}

// xmlContext reads the Text XML by namespace, as a DataContract reader does.
type xmlContext struct {
	XMLName         xml.Name  `xml:"http://schemas.microsoft.com/xrm/2011/Contracts RemoteExecutionContext"`
	MessageName     string    `xml:"http://schemas.microsoft.com/xrm/2011/Contracts MessageName"`
	Stage           int       `xml:"http://schemas.microsoft.com/xrm/2011/Contracts Stage"`
	InputParameters []xmlPair `xml:"http://schemas.microsoft.com/xrm/2011/Contracts InputParameters>KeyValuePairOfstringanyType"`
	PreEntityImages []xmlPair `xml:"http://schemas.microsoft.com/xrm/2011/Contracts PreEntityImages>KeyValuePairOfstringEntity"`
	ParentContext   struct {
		Nil string `xml:"http://www.w3.org/2001/XMLSchema-instance nil,attr"`
	} `xml:"http://schemas.microsoft.com/xrm/2011/Contracts ParentContext"`
	OwningExtension struct {
		ID string `xml:"http://schemas.microsoft.com/xrm/2011/Contracts Id"`
	} `xml:"http://schemas.microsoft.com/xrm/2011/Contracts OwningExtension"`
}

type xmlPair struct {
	Key   string `xml:"http://schemas.datacontract.org/2004/07/System.Collections.Generic key"`
	Value struct {
		Type        string    `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
		LogicalName string    `xml:"http://schemas.microsoft.com/xrm/2011/Contracts LogicalName"`
		Attributes  []xmlPair `xml:"http://schemas.microsoft.com/xrm/2011/Contracts Attributes>KeyValuePairOfstringanyType"`
		Text        string    `xml:",chardata"`
	} `xml:"http://schemas.datacontract.org/2004/07/System.Collections.Generic value"`
}

func TestXMLHasDataContractNamespaces(t *testing.T) {
	m := Build(updateInput(endpoint.MessageFormatTextXML))
	var c xmlContext
	if err := xml.Unmarshal(m.Body, &c); err != nil {
		t.Fatalf("XML: %v\n%s", err, m.Body)
	}
	if c.MessageName != "Update" || c.Stage != 40 || c.ParentContext.Nil != "true" || c.OwningExtension.ID != stepID {
		t.Errorf("context by namespace: %+v", c)
	}
	if len(c.InputParameters) != 1 || c.InputParameters[0].Key != "Target" || c.InputParameters[0].Value.Type != "Entity" ||
		c.InputParameters[0].Value.LogicalName != "account" {
		t.Fatalf("Target: %+v", c.InputParameters)
	}
	// i:type values are QNames: b: is declared as XML Schema's namespace where used.
	types := map[string]string{}
	for _, a := range c.InputParameters[0].Value.Attributes {
		types[a.Key] = a.Value.Type
	}
	if types["name"] != "b:string" || types["revenue"] != "Money" || types["accountid"] != "c:guid" || types["donotemail"] != "b:boolean" {
		t.Errorf("attribute types %v", types)
	}
	if !bytes.Contains(m.Body, []byte(`xmlns:b="`+SchemaNamespace+`"`)) || !bytes.Contains(m.Body, []byte(`xmlns:c="`+SerializationNamespace+`"`)) {
		t.Error("type prefixes not declared")
	}
	if len(c.PreEntityImages) != 1 || c.PreEntityImages[0].Key != "before" || c.PreEntityImages[0].Value.Type != "" {
		t.Errorf("pre image: %+v", c.PreEntityImages)
	}
}

// node is one element of an XML infoset: names as written (prefix and local name), attributes
// (namespace declarations included) and text or children.
type node struct {
	Prefix, Name string
	Attrs        []string // "prefix:name=value"
	Text         string
	Children     []*node
}

// parseText reads Text XML into nodes, keeping prefixes.
func parseText(t *testing.T, body []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []*node
	var root *node
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Prefix: tok.Name.Space, Name: tok.Name.Local}
			for _, a := range tok.Attr {
				n.Attrs = append(n.Attrs, a.Name.Space+":"+a.Name.Local+"="+a.Value)
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
}

// nbfxReader decodes [MC-NBFX] records (those without dictionary strings) into nodes.
type nbfxReader struct {
	t *testing.T
	b []byte
}

func (r *nbfxReader) byte() byte {
	if len(r.b) == 0 {
		r.t.Fatal("NBFX ends early")
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *nbfxReader) take(n int) string {
	if len(r.b) < n {
		r.t.Fatalf("NBFX: %d bytes wanted, %d left", n, len(r.b))
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// str reads a MultiByteInt31 length and that many bytes.
func (r *nbfxReader) str() string {
	n, shift := 0, 0
	for {
		c := r.byte()
		n |= int(c&0x7F) << shift
		if c < 0x80 {
			return r.take(n)
		}
		shift += 7
	}
}

// text reads a text record's value and whether it ends the element.
func (r *nbfxReader) text(rec byte) (string, bool) {
	end := rec&1 == 1
	switch rec &^ 1 {
	case 0x80:
		return "0", end
	case 0x82:
		return "1", end
	case 0x84:
		return "false", end
	case 0x86:
		return "true", end
	case 0x98:
		return r.take(int(r.byte())), end
	case 0x9A:
		return r.take(int(binary.LittleEndian.Uint16([]byte(r.take(2))))), end
	case 0x9C:
		return r.take(int(binary.LittleEndian.Uint32([]byte(r.take(4))))), end
	case 0xA8:
		return "", end
	}
	r.t.Fatalf("NBFX: unexpected text record 0x%02X", rec)
	return "", false
}

// element reads one element record, its attributes and content.
func (r *nbfxReader) element(rec byte) *node {
	n := &node{}
	switch {
	case rec == 0x40:
		n.Name = r.str()
	case rec == 0x41:
		n.Prefix, n.Name = r.str(), r.str()
	case rec >= 0x5E && rec <= 0x77:
		n.Prefix, n.Name = string(rune('a'+rec-0x5E)), r.str()
	default:
		r.t.Fatalf("NBFX: 0x%02X is not an element record", rec)
	}
	for {
		rec := r.byte()
		switch {
		case rec == 0x04:
			name := r.str()
			v, _ := r.text(r.byte())
			n.Attrs = append(n.Attrs, ":"+name+"="+v)
		case rec == 0x05:
			p, name := r.str(), r.str()
			v, _ := r.text(r.byte())
			n.Attrs = append(n.Attrs, p+":"+name+"="+v)
		case rec == 0x08:
			n.Attrs = append(n.Attrs, ":xmlns="+r.str())
		case rec == 0x09:
			p := r.str()
			n.Attrs = append(n.Attrs, "xmlns:"+p+"="+r.str())
		case rec >= 0x26 && rec <= 0x3F:
			p, name := string(rune('a'+rec-0x26)), r.str()
			v, _ := r.text(r.byte())
			n.Attrs = append(n.Attrs, p+":"+name+"="+v)
		case rec == 0x01:
			return n
		case rec >= 0x80:
			v, end := r.text(rec)
			n.Text += v
			if end {
				return n
			}
		default:
			n.Children = append(n.Children, r.element(rec))
		}
	}
}

func TestBinaryXMLDecodesToTheSameInfoset(t *testing.T) {
	for _, msg := range []string{"Update", "Delete", "Create", "WhoAmI"} {
		in := updateInput(endpoint.MessageFormatBinaryXML)
		in.Step.Message = msg
		in.Step.Name = strings.Repeat("long step name ", 20) // over 255 bytes: a Chars16Text record
		if msg == "WhoAmI" {
			in.Step.Table = ""
		}
		m := Build(in)
		if m.ContentType != "application/msbin1" {
			t.Fatalf("content type %q", m.ContentType)
		}
		r := &nbfxReader{t: t, b: m.Body}
		got := r.element(r.byte())
		if len(r.b) != 0 {
			t.Fatalf("%s: %d bytes after the document", msg, len(r.b))
		}
		want := parseText(t, m.Context.XML())
		if !reflect.DeepEqual(got, want) {
			gj, _ := json.MarshalIndent(got, "", " ")
			wj, _ := json.MarshalIndent(want, "", " ")
			t.Fatalf("%s: NBFX decodes to\n%s\nText XML is\n%s", msg, gj, wj)
		}
		if !bytes.Contains(m.Body, []byte{0x9B}) {
			t.Errorf("%s: the long name should use a Chars16TextWithEndElement record", msg)
		}
	}
}

func TestJSONEscapesLikeDotNet(t *testing.T) {
	in := updateInput(endpoint.MessageFormatJSON)
	in.Step.Name = `a "quoted" / slashed <name>`
	m := Build(in)
	if !bytes.Contains(m.Body, []byte(`a \"quoted\" \/ slashed`)) {
		t.Errorf("escaping: %s", m.Body)
	}
	if d := decodeJSON(t, m.Body); d.OwningExtension.Name != in.Step.Name {
		t.Errorf("name round trip: %q", d.OwningExtension.Name)
	}
}
