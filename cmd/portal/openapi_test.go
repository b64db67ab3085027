package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/handlers"
)

// TestOpenAPIConformance calls every documented operation of a real `portal dev` with its
// documented example (path parameters from a live endpoint and step) and checks that the
// status is one the document lists for it and the body matches the documented schema; and,
// without a token, that every operation answers 401 with a problem detail.
func TestOpenAPIConformance(t *testing.T) {
	base, out := startDev(t)
	pipeline := devPipelines(t, out)[0]
	token := appToken(t, pipeline)
	status, body, _ := call(t, base, "", "GET", handlers.APIPrefix+"/openapi.json", nil)
	var doc map[string]any
	if status != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("openapi.json: %d", status)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)

	// Live values for the path parameters: an endpoint registered now, and a step on it.
	id := "7a1d5c2e-0000-4000-8000-0000000a0001"
	if status, body, _ := call(t, base, token, "POST", handlers.APIPrefix+"/endpoints", api.NewEndpoint{Environment: "contoso-dev", Team: "Integration",
		Endpoint: endpoint.ServiceEndpoint{ID: id, Name: "Conformance queue"}, Credential: api.Credential{ConnectionString: queueSendString(t, out.String())}}); status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	stepID := "7a1d5c2e-0000-4000-8000-0000000a0002"
	if status, body, _ := call(t, base, token, "POST", handlers.APIPrefix+"/endpoints/contoso-dev/"+id+"/steps", endpoint.Step{ID: stepID, Message: "Create", Table: "account",
		Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous, Rank: 1}); status != 201 {
		t.Fatalf("create step: %d %s", status, body)
	}
	params := map[string]string{"{env}": "contoso-dev", "{id}": id, "{step}": stepID}

	type op struct {
		method, path string
		o            map[string]any
	}
	var ops []op
	for path, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			ops = append(ops, op{strings.ToUpper(method), path, o.(map[string]any)})
		}
	}
	// Deletes last: the others need the endpoint and the step.
	slices.SortFunc(ops, func(a, b op) int {
		return strings.Compare(fmt.Sprint(a.method == "DELETE", len(b.path)), fmt.Sprint(b.method == "DELETE", len(a.path)))
	})
	for _, o := range ops {
		path := o.path
		for k, v := range params {
			path = strings.ReplaceAll(path, k, v)
		}
		var example any
		if rb, ok := o.o["requestBody"].(map[string]any); ok {
			if c, ok := rb["content"].(map[string]any)["application/json"].(map[string]any); ok {
				example = c["example"]
			}
		}
		if o.path == handlers.APIPrefix+"/plan" || o.path == handlers.APIPrefix+"/apply" {
			path += "?environment=contoso-dev"
			example = map[string]any{"endpoints": []any{}}
		}
		t.Run(o.method+" "+o.path, func(t *testing.T) {
			status, _, hdr := call(t, base, "", o.method, path, example)
			if status != 401 || hdr.Get("Content-Type") != api.ProblemContentType || hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("without a token: %d %s", status, hdr.Get("Content-Type"))
			}
			status, body, hdr := call(t, base, token, o.method, path, example)
			resp, ok := o.o["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
			if !ok {
				t.Fatalf("answered %d, which the document does not list: %s", status, body)
			}
			content, _ := resp["content"].(map[string]any)
			if content == nil {
				if len(body) != 0 {
					t.Errorf("%d is documented without a body, got %s", status, body)
				}
				return
			}
			ct := hdr.Get("Content-Type")
			media, ok := content[ct].(map[string]any)
			if !ok {
				t.Fatalf("%d answered %s, documented %v", status, ct, content)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			if problems := conform(schemas, media["schema"].(map[string]any), v, "$"); len(problems) > 0 {
				t.Errorf("%d answer does not match the document:\n  %s\n%s", status, strings.Join(problems, "\n  "), body)
			}
		})
	}
}

// conform checks v against a JSON Schema of the subset the document uses ($ref, type,
// properties, required, additionalProperties, items) and lists what does not match.
func conform(schemas map[string]any, s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		return conform(schemas, schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any), v, at)
	}
	var out []string
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{at + ": not an object"}
		}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				out = append(out, at+"."+r.(string)+": required, missing")
			}
		}
		for k, val := range obj {
			if ps, ok := props[k].(map[string]any); ok {
				out = append(out, conform(schemas, ps, val, at+"."+k)...)
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				out = append(out, conform(schemas, ap, val, at+"."+k)...)
			} else if props != nil {
				out = append(out, at+"."+k+": not documented")
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{at + ": not an array"}
		}
		for i, e := range arr {
			out = append(out, conform(schemas, s["items"].(map[string]any), e, at+"["+strconv.Itoa(i)+"]")...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			out = append(out, at+": not a string")
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			out = append(out, at+": not an integer")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			out = append(out, at+": not a boolean")
		}
	}
	return out
}
