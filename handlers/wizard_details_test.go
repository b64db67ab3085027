package handlers

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/contoso/sbportal/endpoint"
)

// TestReadDetailsTakesOnlyThePagesFields: the wizard and the edit page read the details form
// with one function, each only the fields it offers, whatever else is posted.
func TestReadDetailsTakesOnlyThePagesFields(t *testing.T) {
	posted := url.Values{
		"name": {"  New name "}, "description": {"d"}, "messageformat": {"3"}, "userclaim": {"x"},
		"contract": {"5"}, "authtype": {"3"}, "path": {" q2 "}, "namespaceaddress": {"sb://evil.servicebus.windows.net/"},
		"solutionnamespace": {"evil"}, "saskeyname": {"root"}, "url": {"https://evil.example/"},
	}
	old := endpoint.ServiceEndpoint{Name: "n", Contract: endpoint.ContractQueue, AuthType: endpoint.AuthTypeSASKey, Path: "q",
		NamespaceAddress: "sb://mybus.servicebus.windows.net/", SolutionNamespace: "mybus", SASKeyName: "send",
		MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone}
	read := func(fields []string, e endpoint.ServiceEndpoint) endpoint.ServiceEndpoint {
		r := httptest.NewRequest("POST", "/", strings.NewReader(posted.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		readDetails(r, fields, &e)
		return e
	}

	edited := read(editFields(endpoint.KindServiceBus), old)
	want := old
	want.Name, want.Description, want.MessageFormat, want.Path = "New name", "d", endpoint.MessageFormatTextXML, "q2"
	if edited != want {
		t.Errorf("edit page read\n got %+v\nwant %+v", edited, want)
	}

	hook := endpoint.ServiceEndpoint{Name: "h", Contract: endpoint.ContractWebhook, URL: "https://hooks.example/", AuthType: endpoint.AuthTypeWebhookKey}
	if got := read(editFields(endpoint.KindWebhook), hook); got.URL != "https://evil.example/" || got.Contract != endpoint.ContractWebhook || got.Path != "" {
		t.Errorf("edit page, webhook: %+v", got)
	}
	if got := read(wizardDetailsFields(endpoint.KindWebhook), hook); got.URL != hook.URL || got.Contract != endpoint.ContractWebhook || got.Name != "New name" {
		t.Errorf("wizard, webhook: %+v", got)
	}
	if got := read(wizardDetailsFields(endpoint.KindServiceBus), old); got.Contract != endpoint.ContractTopic || got.AuthType != endpoint.AuthTypeSASToken ||
		got.NamespaceAddress != "sb://evil.servicebus.windows.net/" || got.SolutionNamespace != "evil" || got.SASKeyName != "root" || got.UserClaim != endpoint.UserClaimNone {
		t.Errorf("wizard, Service Bus: %+v", got)
	}

	for _, fields := range [][]string{editFields(endpoint.KindServiceBus), editFields(endpoint.KindWebhook),
		wizardDetailsFields(endpoint.KindServiceBus), wizardDetailsFields(endpoint.KindWebhook)} {
		for _, f := range fields {
			if detailsFields[f] == nil {
				t.Errorf("field %s is offered but never read", f)
			}
		}
	}
}
