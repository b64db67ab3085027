package handlers

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// TestDecodeDraftDataReadsPreviousReleaseDrafts feeds drafts exactly as the previous release
// wrote them (columns in "fields"): they live 24 hours, across an upgrade.
func TestDecodeDraftDataReadsPreviousReleaseDrafts(t *testing.T) {
	const id = "6f1e2a4c-1111-4000-8000-000000000001"
	key := endpoint.NewSecret(strings.Repeat("K", 43) + "=")
	for _, c := range []struct {
		name    string
		json    string
		secrets map[endpoint.SecretPurpose]endpoint.Secret
		want    endpoint.ServiceEndpoint
		check   func(t *testing.T, d draftData)
	}{
		{
			name:    "service bus, validated",
			json:    `{"team":"Integration","kind":"servicebus","reached":4,"fields":{"name":"orders (contoso-payments)","description":"Orders for billing","contract":2,"messageFormat":2,"userClaim":1,"authType":2,"path":"orders","namespaceAddress":"sb://contoso-payments.servicebus.windows.net/","solutionNamespace":"contoso-payments","sasKeyName":"send"},"hasConnection":true,"redacted":"Endpoint=sb://contoso-payments.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=********;EntityPath=orders","mode":"send","lastRun":{"passed":true,"title":"Validation passed","detail":"Sent a test message to queue orders.","messageId":"m-1","duration":120000000,"at":"2026-03-01T09:30:00Z","fingerprint":"3f2a"}}`,
			secrets: map[endpoint.SecretPurpose]endpoint.Secret{endpoint.PurposeSASKey: key},
			want: endpoint.ServiceEndpoint{ID: id, Name: "orders (contoso-payments)", Description: "Orders for billing",
				Contract: endpoint.ContractQueue, MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone,
				AuthType: endpoint.AuthTypeSASKey, Path: "orders", NamespaceAddress: "sb://contoso-payments.servicebus.windows.net/",
				SolutionNamespace: "contoso-payments", SASKeyName: "send", SASKey: key,
				ConnectionMode: endpoint.ConnectionModeNormal, NamespaceFormat: endpoint.NamespaceFormatAddress},
			check: func(t *testing.T, d draftData) {
				if d.Team != "Integration" || d.Kind != endpoint.KindServiceBus || d.Reached != web.StepValidate || !d.HasConnection ||
					d.Mode != endpoint.ProbeSend || d.LastRun == nil || !d.LastRun.Passed || d.LastRun.Duration != 120*time.Millisecond {
					t.Errorf("draft state %+v", d)
				}
			},
		},
		{
			name:    "webhook with header settings",
			json:    `{"team":"Integration","kind":"webhook","reached":3,"fields":{"name":"Webhook hooks.contoso.example/api/dataverse","contract":8,"messageFormat":2,"userClaim":1,"authType":5,"url":"https://hooks.contoso.example/api/dataverse"},"webhookAuth":"header","pairNames":["x-api-key"]}`,
			secrets: map[endpoint.SecretPurpose]endpoint.Secret{endpoint.PurposeAuthValue: endpoint.NewSecret(`<settings><setting name="x-api-key" value="v" /></settings>`)},
			want: endpoint.ServiceEndpoint{ID: id, Name: "Webhook hooks.contoso.example/api/dataverse", Contract: endpoint.ContractWebhook,
				MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone, AuthType: endpoint.AuthTypeHTTPHeader,
				URL: "https://hooks.contoso.example/api/dataverse", ConnectionMode: endpoint.ConnectionModeNormal,
				AuthValue: endpoint.NewSecret(`<settings><setting name="x-api-key" value="v" /></settings>`)},
			check: func(t *testing.T, d draftData) {
				if d.WebhookAuth != endpoint.WebhookAuthHeader || len(d.PairNames) != 1 || d.PairNames[0] != "x-api-key" {
					t.Errorf("draft state %+v", d)
				}
			},
		},
		{
			name: "just started",
			json: `{"team":"Finance","kind":"servicebus","reached":2,"fields":{"name":""}}`,
			want: endpoint.ServiceEndpoint{ID: id, ConnectionMode: endpoint.ConnectionModeNormal, NamespaceFormat: endpoint.NamespaceFormatAddress},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, err := decodeDraftData([]byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			d := wizardDraft{Draft: store.Draft{EndpointID: id, Secrets: c.secrets}, data: data}
			if got := d.serviceEndpoint(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("endpoint\n got %#v\nwant %#v", got, c.want)
			}
			if c.check != nil {
				c.check(t, data)
			}
			// Saved again, it is in the new shape and reads back the same.
			b, err := json.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), `"fields"`) {
				t.Errorf("saved again in the old shape: %s", b)
			}
			again, err := decodeDraftData(b)
			if err != nil || !reflect.DeepEqual(again, data) {
				t.Errorf("saved again: %v\n got %+v\nwant %+v", err, again, data)
			}
		})
	}
}

// TestDraftKeepsTheEndpointWithoutItsSecrets: the draft's JSON holds the endpoint but never a
// secret, which comes back from the encrypted secrets.
func TestDraftKeepsTheEndpointWithoutItsSecrets(t *testing.T) {
	const plain = "SECRETKEYSECRETKEYSECRETKEYSECRETKEYSECRET="
	e := endpoint.ServiceEndpoint{ID: "x", Name: "orders", Contract: endpoint.ContractQueue, AuthType: endpoint.AuthTypeSASKey,
		SASKeyName: "send", SASKey: endpoint.NewSecret(plain), Path: "orders", ConnectionMode: endpoint.ConnectionModeNormal,
		MessageCharset: endpoint.MessageCharsetUTF8, SchemaType: endpoint.SchemaTypeCloudEvents}
	var d wizardDraft
	d.EndpointID = "x"
	d.data = newDraftData("Integration", endpoint.KindServiceBus)
	d.setEndpoint(e)
	b, err := json.Marshal(d.data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), plain) || d.data.Endpoint.SASKey.IsSet() {
		t.Fatalf("secret in the draft's JSON: %s", b)
	}
	data, err := decodeDraftData(b)
	if err != nil {
		t.Fatal(err)
	}
	loaded := wizardDraft{Draft: d.Draft, data: data}
	if got := loaded.serviceEndpoint(); got != e {
		t.Fatalf("loaded\n got %#v\nwant %#v", got, e)
	}
	if _, err := decodeDraftData([]byte(`{"endpoint":{"sasKey":"` + plain + `"}}`)); err == nil {
		t.Fatal("a plaintext secret was read from a draft's JSON")
	}
}
