package dataverse

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// fullEndpoint sets every field of endpoint.ServiceEndpoint, read-only ones included.
func fullEndpoint() endpoint.ServiceEndpoint {
	return endpoint.ServiceEndpoint{
		ID:                       "6f1e2a4c-1111-4000-8000-000000000001",
		Name:                     "Orders queue",
		Description:              "orders",
		SolutionNamespace:        "contoso-payments",
		NamespaceAddress:         "sb://contoso-payments.servicebus.windows.net/",
		Path:                     "orders",
		URL:                      "https://hooks.contoso.example/x",
		Contract:                 endpoint.ContractQueue,
		ConnectionMode:           endpoint.ConnectionModeNormal,
		UserClaim:                endpoint.UserClaimUserInfo,
		MessageFormat:            endpoint.MessageFormatJSON,
		AuthType:                 endpoint.AuthTypeSASKey,
		SASKeyName:               "send",
		NamespaceFormat:          endpoint.NamespaceFormatAddress,
		MessageCharset:           endpoint.MessageCharsetUTF8,
		SchemaType:               endpoint.SchemaTypeCloudEvents,
		UseKeyVaultConfiguration: true,
		KeyVaultReferenceID:      "6f1e2a4c-2222-4000-8000-000000000002",
		SASKey:                   endpoint.NewSecret("key"),
		SASToken:                 endpoint.NewSecret("token"),
		AuthValue:                endpoint.NewSecret("value"),
		IsSASKeySet:              true,
		IsSASTokenSet:            true,
		IsAuthValueSet:           true,
		IsManaged:                true,
		CreatedOn:                time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC),
		ModifiedOn:               time.Date(2026, 11, 21, 10, 15, 0, 0, time.UTC),
		CreatedBy:                "aaaaaaaa-0000-4000-8000-000000000001",
		ModifiedBy:               "aaaaaaaa-0000-4000-8000-000000000002",
	}
}

// bodyJSON is what a body looks like once sent (and read back by a JSON parser).
func bodyJSON(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBodiesKeepTheirWireShape pins the exact create and update bodies (the wire behaviour the
// column table must keep): create leaves out what is empty, update clears it with null, except
// messagecharset (0 is a value) and usekeyvaultconfiguration (always a bool); secrets go only
// when set; read-only columns never.
func TestBodiesKeepTheirWireShape(t *testing.T) {
	full := fullEndpoint()
	wantFull := map[string]any{
		"name": "Orders queue", "description": "orders", "solutionnamespace": "contoso-payments",
		"namespaceaddress": "sb://contoso-payments.servicebus.windows.net/", "path": "orders",
		"url": "https://hooks.contoso.example/x", "contract": 2.0, "connectionmode": 1.0, "userclaim": 3.0,
		"messageformat": 2.0, "authtype": 2.0, "saskeyname": "send", "namespaceformat": 2.0,
		"messagecharset": 1.0, "schematype": 2.0, "usekeyvaultconfiguration": true,
		"keyvaultreferenceid@odata.bind": "/keyvaultreferences(6f1e2a4c-2222-4000-8000-000000000002)",
		"saskey":                         "key", "sastoken": "token", "authvalue": "value",
	}
	wantCreate := map[string]any{"serviceendpointid": "6f1e2a4c-1111-4000-8000-000000000001"}
	for k, v := range wantFull {
		wantCreate[k] = v
	}
	if got := bodyJSON(t, createBody(full)); !reflect.DeepEqual(got, wantCreate) {
		t.Errorf("create body of a full endpoint =\n%v\nwant\n%v", got, wantCreate)
	}
	if got := bodyJSON(t, updateBody(full)); !reflect.DeepEqual(got, wantFull) {
		t.Errorf("update body of a full endpoint =\n%v\nwant\n%v", got, wantFull)
	}

	empty := endpoint.ServiceEndpoint{ID: full.ID, IsSASKeySet: true, IsManaged: true, CreatedOn: full.CreatedOn}
	if got, want := bodyJSON(t, createBody(empty)), map[string]any{"serviceendpointid": full.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("create body of an empty endpoint = %v, want %v", got, want)
	}
	wantClear := map[string]any{
		"name": nil, "description": nil, "solutionnamespace": nil, "namespaceaddress": nil, "path": nil,
		"url": nil, "contract": nil, "connectionmode": nil, "userclaim": nil, "messageformat": nil,
		"authtype": nil, "saskeyname": nil, "namespaceformat": nil, "messagecharset": 0.0, "schematype": nil,
		"usekeyvaultconfiguration": false, "keyvaultreferenceid@odata.bind": nil,
	}
	if got := bodyJSON(t, updateBody(empty)); !reflect.DeepEqual(got, wantClear) {
		t.Errorf("update body of an empty endpoint =\n%v\nwant\n%v", got, wantClear)
	}
}

// TestDecodeRecordReadsEveryColumn decodes a record holding every readable column (and the
// null write-only ones, and annotations) and expects every field but the secrets filled.
func TestDecodeRecordReadsEveryColumn(t *testing.T) {
	rec := `{"@odata.etag":"W/\"1\"","serviceendpointid":"6f1e2a4c-1111-4000-8000-000000000001","name":"Orders queue",
		"description":"orders","solutionnamespace":"contoso-payments","namespaceaddress":"sb://contoso-payments.servicebus.windows.net/",
		"path":"orders","url":"https://hooks.contoso.example/x","contract":2,"connectionmode":1,"userclaim":3,"messageformat":2,
		"authtype":2,"saskeyname":"send","saskey":null,"sastoken":null,"authvalue":null,"namespaceformat":2,"messagecharset":1,
		"schematype":2,"usekeyvaultconfiguration":true,"_keyvaultreferenceid_value":"6f1e2a4c-2222-4000-8000-000000000002",
		"issaskeyset":true,"issastokenset":true,"isauthvalueset":true,"ismanaged":true,"createdon":"2026-11-20T10:15:00Z",
		"modifiedon":"2026-11-21T10:15:00Z","_createdby_value":"aaaaaaaa-0000-4000-8000-000000000001",
		"_modifiedby_value":"aaaaaaaa-0000-4000-8000-000000000002"}`
	var got endpoint.ServiceEndpoint
	_, _, err := decodeCollection(strings.NewReader(`{"value":[`+rec+`]}`), func(dec *json.Decoder) (bool, error) {
		var err error
		got, err = decodeEndpoint(dec)
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := fullEndpoint()
	want.SASKey, want.SASToken, want.AuthValue = endpoint.Secret{}, endpoint.Secret{}, endpoint.Secret{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
}

// TestEveryFieldHasOneColumn keeps endpoint.ServiceEndpoint and the column table in step: a
// field added to the type without its line in the table fails here.
func TestEveryFieldHasOneColumn(t *testing.T) {
	typ := reflect.TypeFor[endpoint.ServiceEndpoint]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		var ep endpoint.ServiceEndpoint
		v := reflect.ValueOf(&ep).Elem().Field(i)
		switch {
		case f.Type == reflect.TypeFor[endpoint.Secret]():
			v.Set(reflect.ValueOf(endpoint.NewSecret("x")))
		case f.Type == reflect.TypeFor[time.Time]():
			v.Set(reflect.ValueOf(time.Now()))
		case f.Type.Kind() == reflect.String:
			v.SetString("x")
		case f.Type.Kind() == reflect.Int:
			v.SetInt(1)
		case f.Type.Kind() == reflect.Bool:
			v.SetBool(true)
		default:
			t.Errorf("field %s has type %s, which no column kind maps yet", f.Name, f.Type)
			continue
		}
		var cols []string
		for _, c := range endpointColumns {
			if !reflect.ValueOf(c.value(&ep)).IsZero() {
				cols = append(cols, c.name)
			}
		}
		if len(cols) != 1 {
			t.Errorf("field %s is mapped by columns %v, want exactly one line in endpointColumns", f.Name, cols)
		}
	}
	names := map[string]bool{}
	for _, c := range endpointColumns {
		if names[c.name] {
			t.Errorf("column %s is in the table twice", c.name)
		}
		names[c.name] = true
	}
}
