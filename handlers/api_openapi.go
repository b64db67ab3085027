package handlers

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/endpoint"
)

// apiOperation is one operation of the API as the OpenAPI document describes it. Bodies are
// given as Go values: their schemas are derived from the types the handlers encode and decode,
// so the document cannot describe a field the handlers do not have.
type apiOperation struct {
	Method, Path string // Path as routed, under APIPrefix
	ID, Summary  string
	Query        []string // query parameters
	Request      any      // the request body's type and its example; nil for none
	Responses    map[int]any
}

// Examples of the documented bodies.
var (
	exampleCredential = api.Credential{ConnectionString: "Endpoint=sb://contoso-integration.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=<key>;EntityPath=orders"}
	exampleEndpoint   = endpoint.ServiceEndpoint{Name: "Orders queue", Description: "Order events for the warehouse",
		MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone}
	exampleStep = endpoint.Step{Name: "Orders queue: Update of account", Message: "Update", Table: "account",
		Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous, Rank: 1, FilteringAttributes: []string{"name"}}
	problem = api.Problem{}
)

// apiOperations is every operation of /api/v1.
var apiOperations = []apiOperation{
	{Method: "GET", Path: "/endpoints", ID: "listEndpoints", Summary: "The endpoints the caller may see, with the list page's search, filters, sort and paging",
		Query: []string{"q", "env", "type", "team", "status", "sort", "page", "pageSize"}, Responses: map[int]any{200: api.EndpointList{}}},
	{Method: "POST", Path: "/endpoints", ID: "createEndpoint", Summary: "Register an endpoint: validated, proved by a test message, then saved (idempotent with endpoint.id)",
		Request:   api.NewEndpoint{Environment: "contoso-dev", Team: "Integration", Endpoint: exampleEndpoint, Credential: exampleCredential},
		Responses: map[int]any{201: api.Endpoint{}, 403: problem, 409: problem, 422: problem, 429: problem}},
	{Method: "GET", Path: "/endpoints/{env}/{id}", ID: "getEndpoint", Summary: "One endpoint", Responses: map[int]any{200: api.Endpoint{}, 404: problem}},
	{Method: "PATCH", Path: "/endpoints/{env}/{id}", ID: "updateEndpoint", Summary: "Change an endpoint's details; a delivery change is proved by a test first",
		Request:   api.EndpointChange{Description: ptr("Order events, all regions")},
		Responses: map[int]any{200: api.Endpoint{}, 403: problem, 404: problem, 409: problem, 422: problem, 429: problem}},
	{Method: "DELETE", Path: "/endpoints/{env}/{id}", ID: "deleteEndpoint", Summary: "Delete an endpoint with its steps",
		Responses: map[int]any{204: nil, 403: problem, 404: problem}},
	{Method: "POST", Path: "/endpoints/{env}/{id}/test", ID: "testEndpoint", Summary: "Send a test message (with the stored key, or a credential used once); a failed test is a result",
		Request: api.TestRequest{}, Responses: map[int]any{200: api.TestResult{}, 403: problem, 404: problem, 422: problem, 429: problem}},
	{Method: "POST", Path: "/endpoints/{env}/{id}/set-key", ID: "setEndpointKey", Summary: "Give an endpoint a new key: proved by a test, then written to Dataverse and kept",
		Request:   api.SetKeyRequest{Credential: exampleCredential},
		Responses: map[int]any{200: api.TestResult{}, 403: problem, 404: problem, 422: problem, 429: problem}},
	{Method: "GET", Path: "/endpoints/{env}/{id}/validations", ID: "listValidations", Summary: "An endpoint's validation history, newest first",
		Responses: map[int]any{200: api.ValidationHistory{}, 404: problem}},
	{Method: "GET", Path: "/endpoints/{env}/{id}/steps", ID: "listSteps", Summary: "An endpoint's steps", Responses: map[int]any{200: api.StepList{}, 404: problem}},
	{Method: "POST", Path: "/endpoints/{env}/{id}/steps", ID: "createStep", Summary: "Add a step, checked with Dataverse's rules",
		Request: exampleStep, Responses: map[int]any{201: endpoint.Step{}, 403: problem, 404: problem, 422: problem}},
	{Method: "GET", Path: "/endpoints/{env}/{id}/steps/{step}", ID: "getStep", Summary: "One step", Responses: map[int]any{200: endpoint.Step{}, 404: problem}},
	{Method: "PUT", Path: "/endpoints/{env}/{id}/steps/{step}", ID: "updateStep", Summary: "Replace a step's settings",
		Request: exampleStep, Responses: map[int]any{200: endpoint.Step{}, 403: problem, 404: problem, 409: problem, 422: problem}},
	{Method: "POST", Path: "/endpoints/{env}/{id}/steps/{step}/state", ID: "setStepState", Summary: "Enable or disable a step",
		Request: api.StepState{State: "disabled"}, Responses: map[int]any{200: endpoint.Step{}, 403: problem, 404: problem, 409: problem, 422: problem}},
	{Method: "DELETE", Path: "/endpoints/{env}/{id}/steps/{step}", ID: "deleteStep", Summary: "Delete a step with its images",
		Responses: map[int]any{204: nil, 403: problem, 404: problem, 409: problem}},
	{Method: "POST", Path: "/plan", ID: "plan", Summary: "What applying a file of endpoints to an environment would change, endpoint by endpoint and step by step",
		Query: []string{"environment"}, Responses: map[int]any{200: api.Plan{}, 400: problem, 403: problem, 404: problem, 422: problem}},
	{Method: "POST", Path: "/apply", ID: "apply", Summary: "Change an environment to match a file of endpoints: every changed endpoint proved first, then written in order as one audited change set; a failure stops and says what was done and what not",
		Query: []string{"environment"}, Responses: map[int]any{200: api.Plan{}, 400: problem, 403: problem, 404: problem, 422: problem}},
	{Method: "GET", Path: "/audit", ID: "listAudit", Summary: "The audit trail, newest first (Admins)",
		Query: []string{"actor", "action", "env", "endpoint", "since", "before"}, Responses: map[int]any{200: api.AuditPage{}, 403: problem}},
}

func ptr[T any](v T) *T { return &v }

// Every operation may also answer these.
var commonResponses = map[int]string{401: "The access token is missing or refused", 400: "The request could not be read",
	503: "A dependency is not answering; retry"}

// apiOpenAPI serves the OpenAPI 3.1 document of the API (public: it holds no data).
func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, OpenAPIDocument())
}

// OpenAPIDocument is the OpenAPI 3.1 description of /api/v1.
func OpenAPIDocument() map[string]any {
	schemas := map[string]any{}
	paths := map[string]any{}
	for _, op := range apiOperations {
		o := map[string]any{"operationId": op.ID, "summary": op.Summary, "security": []any{map[string]any{"bearer": []string{}}}}
		var params []any
		for _, name := range pathParams(op.Path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		for _, q := range op.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.Request != nil {
			o["requestBody"] = map[string]any{"required": op.ID != "testEndpoint", "content": map[string]any{
				"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(op.Request), schemas), "example": op.Request}}}
		}
		if op.ID == "plan" || op.ID == "apply" {
			o["requestBody"] = map[string]any{"required": true,
				"description": "The file of endpoints, as written (JSON or YAML); or, as " + api.PlanRequestContentType + ", the file with the values of the secret references it makes.",
				"content": map[string]any{"application/json": map[string]any{}, "application/yaml": map[string]any{},
					api.PlanRequestContentType: map[string]any{"schema": schemaRef(reflect.TypeOf(api.PlanRequest{}), schemas),
						"example": api.PlanRequest{File: "version: 1\nendpoints: []\n", Secrets: map[string]string{"env:ORDERS_SAS_KEY": "<key>"}}}}}
		}
		responses := map[string]any{}
		for status, body := range op.Responses {
			resp := map[string]any{"description": http.StatusText(status)}
			switch {
			case body == nil:
			case reflect.TypeOf(body) == reflect.TypeOf(problem):
				resp["content"] = map[string]any{api.ProblemContentType: map[string]any{"schema": schemaRef(reflect.TypeOf(problem), schemas)}}
			default:
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(body), schemas)}}
			}
			responses[itoa(status)] = resp
		}
		for status, desc := range commonResponses {
			responses[itoa(status)] = map[string]any{"description": desc,
				"content": map[string]any{api.ProblemContentType: map[string]any{"schema": schemaRef(reflect.TypeOf(problem), schemas)}}}
		}
		o["responses"] = responses
		path := APIPrefix + op.Path
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(op.Method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Service Endpoint Portal API", "version": "1",
			"description": "Register, test, re-key and delete Dataverse service endpoints and their steps from pipelines. " +
				"Every change is validated, proved by a test message when it touches a destination or a secret, and audited, exactly as in the portal's pages. " +
				"Errors are RFC 9457 problem details. Authenticate with an access token for the scope <PORTAL_API_AUDIENCE>/.default."},
		"paths": paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
				"description": "An access token for the portal's API (aud = PORTAL_API_AUDIENCE), e.g. from the client credentials grant. ID tokens are refused."}}},
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// pathParams are the {names} of a route pattern.
func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

var (
	timeType   = reflect.TypeOf(time.Time{})
	secretType = reflect.TypeOf(endpoint.Secret{})
	rawType    = reflect.TypeOf(json.RawMessage{})
)

// schemaRef is the JSON Schema of t, a $ref into schemas for named structs.
func schemaRef(t reflect.Type, schemas map[string]any) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == secretType:
		return map[string]any{"type": "string", "description": "write-only: shown as a mask when set"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaRef(t.Elem(), schemas)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaRef(t.Elem(), schemas)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaRef(t.Elem(), schemas)}
	case reflect.Struct:
		name := t.Name()
		if _, ok := schemas[name]; !ok {
			schemas[name] = nil // reserve: recursive types
			props := map[string]any{}
			var required []string
			for i := range t.NumField() {
				f := t.Field(i)
				tag := f.Tag.Get("json")
				fname, opts, _ := strings.Cut(tag, ",")
				if !f.IsExported() || fname == "-" {
					continue
				}
				if fname == "" {
					fname = f.Name
				}
				props[fname] = schemaRef(f.Type, schemas)
				if !strings.Contains(opts, "omit") && f.Type.Kind() != reflect.Pointer {
					required = append(required, fname)
				}
			}
			s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
			if required != nil {
				s["required"] = required
			}
			schemas[name] = s
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}
