package plan

import (
	"strings"
	"testing"

	"github.com/contoso/sbportal/endpoint"
)

func TestParseNamesLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		line       int
		field      string
		want       string
	}{
		{"unknown field", "version: 1\nendpoints:\n  - name: a\n    type: Queue\n    colour: blue\n", 5, "", "Unknown field colour"},
		{"a secret in clear", "version: 1\nendpoints:\n  - name: a\n    type: Queue\n    secret: Endpoint=sb://x/;SharedAccessKey=abc\n", 5, "secret", "never the secret itself"},
		{"duplicate name", "version: 1\nendpoints:\n  - name: a\n    type: Queue\n  - name: A\n    type: Queue\n", 5, "name", "line 3"},
		{"wrong version", "version: 2\nendpoints: []\n", 1, "version", "version: 1"},
		{"a list where a text belongs", "version: 1\nendpoints:\n  - name: [a, b]\n", 3, "", "cannot unmarshal"},
		{"broken YAML", "version: 1\nendpoints:\n  - name: a\n   type: Queue\n", 2, "", "not valid YAML or JSON"},
		{"JSON", "{\"version\": 1,\n \"endpoints\": [\n  {\"name\": \"a\", \"type\": \"Queue\", \"secret\": \"plain\"}]}\n", 3, "secret", "reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := Parse([]byte(tc.file))
			if len(problems) == 0 {
				t.Fatal("no problem found")
			}
			p := problems[0]
			if p.Line != tc.line || p.Field != tc.field || !strings.Contains(p.String(), tc.want) {
				t.Fatalf("problem = %+v (%s), want line %d field %q containing %q", p, p, tc.line, tc.field, tc.want)
			}
			if strings.Contains(p.String(), "SharedAccessKey=abc") {
				t.Fatal("a problem quotes the secret")
			}
		})
	}
}

func TestEncodeParseRoundTrip(t *testing.T) {
	e := endpoint.ServiceEndpoint{ID: "5F1E0000-0000-4000-8000-000000000001", Name: "Orders: queue", Contract: endpoint.ContractQueue,
		NamespaceAddress: "sb://orders.servicebus.windows.net/", Path: "orders", SASKeyName: "send", AuthType: endpoint.AuthTypeSASKey,
		MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone, SASKey: endpoint.NewSecret("must-never-be-written")}
	doc := Document{Version: FormatVersion, Teams: []string{"Integration"}, Endpoints: []Endpoint{EndpointOf(e, "Integration", []endpoint.Step{
		{ID: "S1", Name: "b", Message: "Update", Table: "account", Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous, Rank: 1,
			FilteringAttributes: []string{"name"}, Images: []endpoint.StepImage{{Type: endpoint.ImagePre, Alias: "Pre", Attributes: []string{"name"}}}},
		{ID: "S2", Name: "a", Message: "Create", Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous}})}}
	for _, f := range []Format{YAML, JSON} {
		b, err := Encode(doc, f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "must-never-be-written") || !strings.Contains(string(b), "env:ORDERS_QUEUE_SAS_KEY") {
			t.Fatalf("%s holds the secret or no reference:\n%s", f, b)
		}
		got, problems := Parse(b)
		if problems != nil {
			t.Fatalf("%s: %v", f, problems)
		}
		again, _ := Encode(got, f)
		if string(again) != string(b) {
			t.Fatalf("%s changed on a round trip:\n%s\n---\n%s", f, b, again)
		}
		if got.Endpoints[0].Steps[0].Name != "a" {
			t.Fatal("steps are not sorted by name")
		}
		back, probs := toEndpoint(got.Endpoints[0], endpoint.ServiceEndpoint{ID: e.ID})
		if probs != nil || back.SolutionNamespace != "orders" || back.Contract != e.Contract || back.SASKeyName != "send" {
			t.Fatalf("toEndpoint = %+v, %v", back, probs)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\nendpoints:\n  - name: a\n    type: Queue\n    steps:\n      - name: s\n        stage: Post-operation\n"))
	f.Add([]byte(`{"version":1,"endpoints":[{"name":"a","secret":"env:A"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, problems := Parse(b)
		for _, p := range problems {
			if p.Message == "" {
				t.Fatal("a problem without a message")
			}
		}
		if problems == nil {
			if _, err := Encode(doc, YAML); err != nil {
				t.Fatal(err)
			}
		}
	})
}
