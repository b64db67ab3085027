package emulator

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The emulator's own description of the tables it serves. It is written from Dataverse's
// documentation, deliberately independent of package endpoint, so that the emulator checks
// the portal instead of agreeing with it by construction.

type colType int

const (
	tString colType = iota
	tChoice
	tInt
	tBool
	tGUID
	tDateTime
	tLookup // read as _<name>_value, written as <nav>@odata.bind
)

type column struct {
	name      string
	typ       colType
	max       int   // strings: maximum length
	choices   []int // choice: accepted values
	required  bool  // on create
	readOnly  bool  // never accepted in a payload
	writeOnly bool  // accepted, stored, never returned (read as null)
}

type lookupBind struct {
	nav       string // navigation property in "<nav>@odata.bind"
	column    string // stored as this read column, e.g. "_eventhandler_value"
	entitySet string // the bind target's entity set
}

type entity struct {
	logicalName string // serviceendpoint
	set         string // serviceendpoints
	key         string // serviceendpointid
	otc         int    // object type code, shown in privilege errors
	columns     map[string]*column
	order       []string // readable column names in output order
	binds       map[string]lookupBind
	navs        map[string]navigation // for $expand
	privilege   string                // e.g. "ServiceEndpoint" for prvCreateServiceEndpoint
}

func newEntity(logical, set string, otc int, priv string, cols []*column, binds []lookupBind) *entity {
	e := &entity{logicalName: logical, set: set, key: logical + "id", otc: otc, privilege: priv,
		columns: map[string]*column{}, binds: map[string]lookupBind{}}
	for _, c := range cols {
		e.columns[c.name] = c
		e.order = append(e.order, c.name)
	}
	for _, b := range binds {
		e.binds[b.nav] = b
	}
	return e
}

var serviceEndpointEntity = newEntity("serviceendpoint", "serviceendpoints", 4618, "ServiceEndpoint", []*column{
	{name: "serviceendpointid", typ: tGUID},
	{name: "name", typ: tString, max: 256, required: true},
	{name: "description", typ: tString, max: 2000},
	{name: "solutionnamespace", typ: tString, max: 160},
	{name: "namespaceaddress", typ: tString, max: 255},
	{name: "path", typ: tString, max: 160},
	{name: "url", typ: tString, max: 2000},
	{name: "contract", typ: tChoice, choices: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, required: true},
	{name: "connectionmode", typ: tChoice, choices: []int{1, 2}, required: true},
	{name: "userclaim", typ: tChoice, choices: []int{1, 2, 3}, required: true},
	{name: "messageformat", typ: tChoice, choices: []int{1, 2, 3}},
	{name: "authtype", typ: tChoice, choices: []int{1, 2, 3, 4, 5, 6, 7, 8}},
	{name: "saskeyname", typ: tString, max: 256},
	{name: "saskey", typ: tString, max: 256, writeOnly: true},
	{name: "sastoken", typ: tString, max: 256, writeOnly: true},
	{name: "authvalue", typ: tString, max: 2048, writeOnly: true},
	{name: "namespaceformat", typ: tChoice, choices: []int{1, 2}},
	{name: "messagecharset", typ: tChoice, choices: []int{0, 1}},
	{name: "schematype", typ: tChoice, choices: []int{1, 2}},
	{name: "usekeyvaultconfiguration", typ: tBool},
	{name: "_keyvaultreferenceid_value", typ: tLookup, readOnly: true},
	{name: "issaskeyset", typ: tBool, readOnly: true},
	{name: "issastokenset", typ: tBool, readOnly: true},
	{name: "isauthvalueset", typ: tBool, readOnly: true},
	{name: "ismanaged", typ: tBool, readOnly: true},
	{name: "createdon", typ: tDateTime, readOnly: true},
	{name: "modifiedon", typ: tDateTime, readOnly: true},
	{name: "_createdby_value", typ: tLookup, readOnly: true},
	{name: "_modifiedby_value", typ: tLookup, readOnly: true},
	{name: "_organizationid_value", typ: tLookup, readOnly: true},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, []lookupBind{{nav: "keyvaultreferenceid", column: "_keyvaultreferenceid_value", entitySet: "keyvaultreferences"}})

var stepEntity = newEntity("sdkmessageprocessingstep", "sdkmessageprocessingsteps", 4608, "SdkMessageProcessingStep", []*column{
	{name: "sdkmessageprocessingstepid", typ: tGUID},
	{name: "name", typ: tString, max: 256, required: true},
	{name: "description", typ: tString, max: 256},
	{name: "stage", typ: tChoice, choices: []int{10, 20, 40}, required: true},
	{name: "mode", typ: tChoice, choices: []int{0, 1}, required: true},
	{name: "rank", typ: tInt},
	{name: "statecode", typ: tChoice, choices: []int{0, 1}},
	{name: "statuscode", typ: tChoice, choices: []int{1, 2}},
	{name: "filteringattributes", typ: tString, max: 100000},
	{name: "supporteddeployment", typ: tChoice, choices: []int{0, 1, 2}},
	{name: "asyncautodelete", typ: tBool},
	{name: "_eventhandler_value", typ: tLookup, readOnly: true},
	{name: "_sdkmessageid_value", typ: tLookup, readOnly: true},
	{name: "_sdkmessagefilterid_value", typ: tLookup, readOnly: true},
	{name: "_impersonatinguserid_value", typ: tLookup, readOnly: true},
	{name: "ismanaged", typ: tBool, readOnly: true},
	{name: "createdon", typ: tDateTime, readOnly: true},
	{name: "modifiedon", typ: tDateTime, readOnly: true},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, []lookupBind{
	{nav: "eventhandler_serviceendpoint", column: "_eventhandler_value", entitySet: "serviceendpoints"},
	{nav: "sdkmessageid", column: "_sdkmessageid_value", entitySet: "sdkmessages"},
	{nav: "sdkmessagefilterid", column: "_sdkmessagefilterid_value", entitySet: "sdkmessagefilters"},
	{nav: "impersonatinguserid", column: "_impersonatinguserid_value", entitySet: "systemusers"},
})

var imageEntity = newEntity("sdkmessageprocessingstepimage", "sdkmessageprocessingstepimages", 4615, "SdkMessageProcessingStepImage", []*column{
	{name: "sdkmessageprocessingstepimageid", typ: tGUID},
	{name: "name", typ: tString, max: 256},
	{name: "description", typ: tString, max: 256},
	{name: "entityalias", typ: tString, max: 256},
	{name: "imagetype", typ: tChoice, choices: []int{0, 1, 2}, required: true},
	{name: "attributes", typ: tString, max: 100000},
	{name: "messagepropertyname", typ: tString, max: 256, required: true},
	{name: "_sdkmessageprocessingstepid_value", typ: tLookup, readOnly: true},
	{name: "ismanaged", typ: tBool, readOnly: true},
	{name: "createdon", typ: tDateTime, readOnly: true},
	{name: "modifiedon", typ: tDateTime, readOnly: true},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, []lookupBind{
	{nav: "sdkmessageprocessingstepid", column: "_sdkmessageprocessingstepid_value", entitySet: "sdkmessageprocessingsteps"},
})

// The tables below are read-only here: the emulator seeds them (see seedMessages).

var messageEntity = newEntity("sdkmessage", "sdkmessages", 4606, "SdkMessage", []*column{
	{name: "sdkmessageid", typ: tGUID},
	{name: "name", typ: tString, max: 256},
	{name: "isprivate", typ: tBool},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, nil)

var filterEntity = newEntity("sdkmessagefilter", "sdkmessagefilters", 4607, "SdkMessage", []*column{
	{name: "sdkmessagefilterid", typ: tGUID},
	{name: "_sdkmessageid_value", typ: tLookup, readOnly: true},
	{name: "primaryobjecttypecode", typ: tString, max: 64},
	{name: "secondaryobjecttypecode", typ: tString, max: 64},
	{name: "iscustomprocessingstepallowed", typ: tBool},
	{name: "isvisible", typ: tBool},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, nil)

var customAPIEntity = newEntity("customapi", "customapis", 10027, "CustomAPI", []*column{
	{name: "customapiid", typ: tGUID},
	{name: "uniquename", typ: tString, max: 128},
	{name: "name", typ: tString, max: 100},
	{name: "bindingtype", typ: tChoice, choices: []int{0, 1, 2}},
	{name: "boundentitylogicalname", typ: tString, max: 100},
	{name: "allowedcustomprocessingsteptype", typ: tChoice, choices: []int{0, 1, 2}},
	{name: "isfunction", typ: tBool},
	{name: "_sdkmessageid_value", typ: tLookup, readOnly: true},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, nil)

var systemUserEntity = newEntity("systemuser", "systemusers", 8, "User", []*column{
	{name: "systemuserid", typ: tGUID},
	{name: "fullname", typ: tString, max: 200},
	{name: "applicationid", typ: tGUID},
	{name: "isdisabled", typ: tBool},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, nil)

// asyncOperationEntity is the system jobs table, read-only through the API: the emulator
// records the jobs of steps whose deliveries failed or wait for a retry (RecordSystemJob, the
// dev control /_emulator/deliveries). statecode 0 Ready, 1 Suspended, 2 Locked, 3 Completed;
// statuscode 0 Waiting for resources, 10 Waiting, 20 In progress, 21 Pausing, 22 Canceling,
// 30 Succeeded, 31 Failed, 32 Canceled.
var asyncOperationEntity = newEntity("asyncoperation", "asyncoperations", 4700, "AsyncOperation", []*column{
	{name: "asyncoperationid", typ: tGUID},
	{name: "name", typ: tString, max: 256},
	{name: "operationtype", typ: tInt},
	{name: "statecode", typ: tChoice, choices: []int{0, 1, 2, 3}},
	{name: "statuscode", typ: tChoice, choices: []int{0, 10, 20, 21, 22, 30, 31, 32}},
	{name: "message", typ: tString, max: 100000},
	{name: "friendlymessage", typ: tString, max: 100000},
	{name: "errorcode", typ: tInt},
	{name: "retrycount", typ: tInt},
	{name: "_owningextensionid_value", typ: tLookup, readOnly: true},
	{name: "createdon", typ: tDateTime, readOnly: true},
	{name: "completedon", typ: tDateTime, readOnly: true},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, nil)

// navigation is a navigation property $expand can follow: single-valued through this
// entity's lookup column, or collection-valued through the target's lookup back to this
// entity's key.
type navigation struct {
	target *entity
	column string // single: this entity's lookup column; collection: the target's lookup column
	many   bool
}

func init() {
	// Set here rather than in the entities' declarations: they refer to each other.
	stepEntity.navs = map[string]navigation{
		"sdkmessageid":                 {target: messageEntity, column: "_sdkmessageid_value"},
		"sdkmessagefilterid":           {target: filterEntity, column: "_sdkmessagefilterid_value"},
		"eventhandler_serviceendpoint": {target: serviceEndpointEntity, column: "_eventhandler_value"},
		"impersonatinguserid":          {target: systemUserEntity, column: "_impersonatinguserid_value"},
		"sdkmessageprocessingstepid_sdkmessageprocessingstepimage": {target: imageEntity, column: "_sdkmessageprocessingstepid_value", many: true},
	}
	imageEntity.navs = map[string]navigation{
		"sdkmessageprocessingstepid": {target: stepEntity, column: "_sdkmessageprocessingstepid_value"},
	}
	filterEntity.navs = map[string]navigation{
		"sdkmessageid": {target: messageEntity, column: "_sdkmessageid_value"},
	}
	messageEntity.navs = map[string]navigation{
		"sdkmessageid_sdkmessagefilter": {target: filterEntity, column: "_sdkmessageid_value", many: true},
	}
}

// record is one row: column name to JSON value (string, float64, bool or nil).
type record map[string]any

// apiError is an answer in Dataverse's error shape.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(code, format string, a ...any) *apiError {
	return &apiError{status: 400, code: code, message: fmt.Sprintf(format, a...)}
}

// Dataverse error codes the emulator answers with.
const (
	codeInvalidArgument  = "0x80040203"
	codeLengthExceeded   = "0x80044331"
	codeOutOfRange       = "0x8004431a"
	codePayload          = "0x80048d19"
	codeQuerySyntax      = "0x80060888"
	codeDuplicateKey     = "0x80040237"
	codeNotFound         = "0x80040217"
	codeVersionMismatch  = "0x80060882"
	codeMissingPrivilege = "0x80040220"
	codeNotMember        = "0x80072560"
	codeThrottled        = "0x80072322"
	codeUnavailable      = "0x80040216"
	codeNoSuchProperty   = "0x8006088a"
)

// decodePayload checks a create/update body against the entity's columns and returns the
// column values it sets (binds resolved to their _x_value columns, key included if given).
func decodePayload(e *entity, body []byte) (record, *apiError) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badRequest(codePayload, "Error identified in Payload provided by the user for Entity :'%s': the body is not a JSON object (%v).", e.set, err)
	}
	out := record{}
	for k, v := range raw {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		if nav, ok := strings.CutSuffix(k, "@odata.bind"); ok {
			b, ok := e.binds[nav]
			if !ok {
				return nil, badRequest(codePayload, "Error identified in Payload provided by the user for Entity :'%s': An undeclared property '%s' which only has property annotations in the payload but no property value was found in the payload.", e.set, nav)
			}
			var ref *string
			if err := json.Unmarshal(v, &ref); err != nil {
				return nil, badRequest(codePayload, "Error identified in Payload provided by the user for Entity :'%s': %s must be a string like \"/%s(<id>)\".", e.set, k, b.entitySet)
			}
			if ref == nil {
				out[b.column] = nil
				continue
			}
			id, ok := parseEntityRef(*ref, b.entitySet)
			if !ok {
				return nil, badRequest(codePayload, "Error identified in Payload provided by the user for Entity :'%s': '%s' is not a valid reference; expected \"/%s(<guid>)\".", e.set, *ref, b.entitySet)
			}
			out[b.column] = id
			continue
		}
		c, ok := e.columns[k]
		if !ok {
			return nil, badRequest(codePayload, "Error identified in Payload provided by the user for Entity :'%s': The property '%s' does not exist on type 'Microsoft.Dynamics.CRM.%s'. Make sure to only use property names that are defined by the type.", e.set, k, e.logicalName)
		}
		if c.readOnly {
			return nil, badRequest(codePayload, "Error identified in Payload provided by the user for Entity :'%s': The property '%s' is read-only and cannot be set.", e.set, k)
		}
		val, err := decodeValue(c, v)
		if err != nil {
			literal := truncate(string(v), 40)
			if c.writeOnly {
				literal = "********" // never echo what may be a secret
			}
			return nil, badRequest(codePayload, "Error identified in Payload provided by the user for Entity :'%s': Cannot convert the literal '%s' to the expected type of property '%s' (%s).", e.set, literal, k, err)
		}
		out[k] = val
	}
	return out, nil
}

func decodeValue(c *column, v json.RawMessage) (any, error) {
	if string(v) == "null" {
		return nil, nil
	}
	switch c.typ {
	case tString:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("Edm.String expected")
		}
		return s, nil
	case tGUID:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("Edm.Guid expected")
		}
		g, ok := parseGUID(s)
		if !ok {
			return nil, fmt.Errorf("Edm.Guid expected")
		}
		return g, nil
	case tChoice, tInt:
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return nil, fmt.Errorf("Edm.Int32 expected")
		}
		i, err := strconv.ParseInt(string(n), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("Edm.Int32 expected")
		}
		return float64(i), nil
	case tBool:
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, fmt.Errorf("Edm.Boolean expected")
		}
		return b, nil
	}
	return nil, fmt.Errorf("not writable")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// parseEntityRef reads "/set(<guid>)" (or an absolute URL ending so).
func parseEntityRef(ref, set string) (string, bool) {
	i := strings.LastIndex(ref, "/"+set+"(")
	if i < 0 {
		if !strings.HasPrefix(ref, set+"(") {
			return "", false
		}
		ref = "/" + ref
		i = 0
	}
	rest := ref[i+len(set)+2:]
	id, ok := strings.CutSuffix(rest, ")")
	if !ok {
		return "", false
	}
	return parseGUID(id)
}

// parseGUID accepts a GUID and returns it lower-case.
func parseGUID(s string) (string, bool) {
	s = strings.ToLower(s)
	if len(s) != 36 {
		return "", false
	}
	for i, r := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r != '-' {
				return "", false
			}
		} else if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return "", false
		}
	}
	return s, true
}

// checkColumns applies the column-level rules (lengths, choice ranges) to the values a
// payload sets, and the required columns to the full record after a create or update.
func checkColumns(e *entity, set, full record) *apiError {
	for _, name := range e.order {
		c := e.columns[name]
		v, ok := set[name]
		if !ok || v == nil {
			continue
		}
		switch c.typ {
		case tString:
			if s := v.(string); len([]rune(s)) > c.max {
				return badRequest(codeLengthExceeded, "A validation error occurred. The length of the '%s' attribute of the '%s' entity exceeded the maximum allowed length of '%d'.", name, e.logicalName, c.max)
			}
		case tChoice:
			n := int(v.(float64))
			if !slices.Contains(c.choices, n) {
				return badRequest(codeOutOfRange, "A validation error occurred. The value %d of '%s' on record of type '%s' is outside the valid range. Accepted Values: %s", n, name, e.logicalName, joinInts(c.choices))
			}
		}
	}
	for _, name := range e.order {
		c := e.columns[name]
		if !c.required {
			continue
		}
		if v := full[name]; v == nil || v == "" {
			return badRequest(codeInvalidArgument, "%s is required: the '%s' column of table '%s' cannot be empty.", name, name, e.logicalName)
		}
	}
	return nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func str(r record, k string) string {
	s, _ := r[k].(string)
	return s
}

func num(r record, k string) int {
	f, _ := r[k].(float64)
	return int(f)
}

// serviceEndpointRules are the rules Dataverse (and its Plug-in Registration Tool) apply to a
// service endpoint, checked on the record as it would be stored.
func serviceEndpointRules(r record, set record) *apiError {
	if k, ok := set["saskey"].(string); ok && len(k) != 44 {
		return badRequest(codeInvalidArgument, "SASKey length should be 44")
	}
	contract := num(r, "contract")
	auth := num(r, "authtype")
	switch contract {
	case 1, 2, 3, 4, 5, 6, 7: // Service Bus: relays, queues, topics, event hubs
		if str(r, "solutionnamespace") == "" {
			return badRequest(codeInvalidArgument, "The solution namespace (solutionnamespace) is required for a Service Bus endpoint: set the namespace name, e.g. 'mybus'.")
		}
		if str(r, "path") == "" {
			return badRequest(codeInvalidArgument, "The path is required for a Service Bus endpoint: set the queue, topic, event hub or relay name.")
		}
		if num(r, "namespaceformat") == 2 && str(r, "namespaceaddress") == "" {
			return badRequest(codeInvalidArgument, "Namespace address is required when the namespace format is Namespace Address.")
		}
		if addr := str(r, "namespaceaddress"); addr != "" {
			relay := contract == 1 || contract == 3 || contract == 4
			want := "sb://"
			if relay {
				want = "https://"
			}
			if !strings.HasPrefix(strings.ToLower(addr), want) {
				return badRequest(codeInvalidArgument, "The namespace address '%s' is not valid for this designation type: it must start with %s.", addr, want)
			}
		}
		switch auth {
		case 2:
			if str(r, "saskeyname") == "" {
				return badRequest(codeInvalidArgument, "SAS Key Name is required when the authorization type is SAS Key.")
			}
			if str(r, "saskey") == "" {
				return badRequest(codeInvalidArgument, "SAS Key is required when the authorization type is SAS Key.")
			}
		case 3:
			if str(r, "sastoken") == "" {
				return badRequest(codeInvalidArgument, "SAS Token is required when the authorization type is SAS Token.")
			}
		case 1:
			return badRequest(codeInvalidArgument, "ACS authorization is no longer supported; use SAS Key or SAS Token.")
		default:
			return badRequest(codeInvalidArgument, "A Service Bus endpoint needs authorization type SAS Key (2) or SAS Token (3); got %d.", auth)
		}
		if contract == 7 {
			if mf := num(r, "messageformat"); mf != 2 && mf != 3 {
				return badRequest(codeInvalidArgument, "An Event Hub endpoint supports only the JSON or XML message format.")
			}
		}
	case 8: // webhook
		raw := str(r, "url")
		if raw == "" {
			return badRequest(codeInvalidArgument, "The URL is required for a webhook.")
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return badRequest(codeInvalidArgument, "The webhook URL is not a valid absolute http or https URL.")
		}
		if p := u.Port(); p != "" && p != "80" && p != "443" {
			return badRequest(codeInvalidArgument, "Only ports 80 and 443 are allowed for webhooks; the URL uses port %s.", p)
		}
		switch auth {
		case 4:
			if str(r, "authvalue") == "" {
				return badRequest(codeInvalidArgument, "The webhook key (authvalue) is required when the authentication type is WebhookKey.")
			}
		case 5, 6:
			if err := checkSettingsXML(str(r, "authvalue")); err != nil {
				return badRequest(codeInvalidArgument, "The authentication value must be <settings><setting name=\"...\" value=\"...\" /></settings> for HttpHeader and HttpQueryString: %v.", err)
			}
		default:
			return badRequest(codeInvalidArgument, "A webhook needs authentication type WebhookKey (4), HttpHeader (5) or HttpQueryString (6); got %d.", auth)
		}
	case 9:
		if str(r, "url") == "" {
			return badRequest(codeInvalidArgument, "The URL is required for an Event Grid endpoint.")
		}
	}
	return nil
}

func checkSettingsXML(s string) error {
	if s == "" {
		return fmt.Errorf("it is empty")
	}
	var doc struct {
		XMLName  xml.Name `xml:"settings"`
		Settings []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"setting"`
	}
	if err := xml.Unmarshal([]byte(s), &doc); err != nil {
		return fmt.Errorf("it is not that XML")
	}
	if len(doc.Settings) == 0 {
		return fmt.Errorf("it holds no <setting>")
	}
	for _, st := range doc.Settings {
		if st.Name == "" {
			return fmt.Errorf("a <setting> has no name")
		}
	}
	return nil
}
