package endpoint

import "testing"

func TestMovedAndDeliveryChanged(t *testing.T) {
	base := ServiceEndpoint{Name: "Orders", Contract: ContractQueue, NamespaceAddress: "sb://contoso.servicebus.windows.net/",
		Path: "orders", AuthType: AuthTypeSASKey, SASKeyName: "send", MessageFormat: MessageFormatJSON}
	cases := []struct {
		name            string
		change          func(*ServiceEndpoint)
		moved, delivery bool
	}{
		{"nothing", func(*ServiceEndpoint) {}, false, false},
		{"name and description", func(e *ServiceEndpoint) { e.Name, e.Description = "Orders v2", "new" }, false, false},
		{"the namespace written without its slash, in capitals", func(e *ServiceEndpoint) { e.NamespaceAddress = "SB://CONTOSO.servicebus.windows.net" }, false, false},
		{"message format", func(e *ServiceEndpoint) { e.MessageFormat = MessageFormatTextXML }, false, true},
		{"path", func(e *ServiceEndpoint) { e.Path = "orders-v2" }, true, true},
		{"namespace", func(e *ServiceEndpoint) { e.NamespaceAddress = "sb://fabrikam.servicebus.windows.net/" }, true, true},
		{"policy", func(e *ServiceEndpoint) { e.SASKeyName = "manage" }, true, true},
		{"kind", func(e *ServiceEndpoint) { e.Contract = ContractTopic }, true, true},
		{"authentication", func(e *ServiceEndpoint) { e.AuthType = AuthTypeSASToken }, true, true},
		{"url", func(e *ServiceEndpoint) { e.URL = "https://hooks.contoso.example/x" }, true, true},
	}
	for _, c := range cases {
		after := base
		c.change(&after)
		if got := Moved(base, after); got != c.moved {
			t.Errorf("%s: Moved = %v, want %v", c.name, got, c.moved)
		}
		if got := DeliveryChanged(base, after); got != c.delivery {
			t.Errorf("%s: DeliveryChanged = %v, want %v", c.name, got, c.delivery)
		}
	}
}
