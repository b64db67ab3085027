package dataverse

import "github.com/contoso/sbportal/endpoint"

// TableColumn is a column of the serviceendpoint table as the external tests see it.
type TableColumn struct {
	Name      string // logical name
	ReadAs    string // the property it is read from; "" when never read
	Creatable bool   // written by CreateEndpoint
	Updatable bool   // written by UpdateEndpoint
	Value     func(*endpoint.ServiceEndpoint) any
}

// EndpointTable is the serviceendpoint column table.
func EndpointTable() []TableColumn {
	out := make([]TableColumn, len(endpointColumns))
	for i, c := range endpointColumns {
		out[i] = TableColumn{Name: c.name, ReadAs: c.readAs, Creatable: c.create != nil, Updatable: c.update != nil, Value: c.value}
	}
	return out
}
