package dataverse

import (
	"encoding/json"
	"iter"
	"reflect"
	"strconv"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// endpointColumns is the serviceendpoint table as the portal maps it, one line per column:
// its Dataverse name, the endpoint.ServiceEndpoint field it fills, and how it is written.
// Everything else is derived from it: the $select list (EndpointColumns), the decoding of
// records, and the create and update bodies. A new column is a field in
// endpoint.ServiceEndpoint and a line here.
var endpointColumns = []column{
	keyColumn("serviceendpointid", func(e *endpoint.ServiceEndpoint) *string { return &e.ID }),
	stringColumn("name", func(e *endpoint.ServiceEndpoint) *string { return &e.Name }),
	stringColumn("description", func(e *endpoint.ServiceEndpoint) *string { return &e.Description }),
	stringColumn("solutionnamespace", func(e *endpoint.ServiceEndpoint) *string { return &e.SolutionNamespace }),
	stringColumn("namespaceaddress", func(e *endpoint.ServiceEndpoint) *string { return &e.NamespaceAddress }),
	stringColumn("path", func(e *endpoint.ServiceEndpoint) *string { return &e.Path }),
	stringColumn("url", func(e *endpoint.ServiceEndpoint) *string { return &e.URL }),
	choiceColumn("contract", func(e *endpoint.ServiceEndpoint) *endpoint.Contract { return &e.Contract }),
	choiceColumn("connectionmode", func(e *endpoint.ServiceEndpoint) *endpoint.ConnectionMode { return &e.ConnectionMode }),
	choiceColumn("userclaim", func(e *endpoint.ServiceEndpoint) *endpoint.UserClaim { return &e.UserClaim }),
	choiceColumn("messageformat", func(e *endpoint.ServiceEndpoint) *endpoint.MessageFormat { return &e.MessageFormat }),
	choiceColumn("authtype", func(e *endpoint.ServiceEndpoint) *endpoint.AuthType { return &e.AuthType }),
	stringColumn("saskeyname", func(e *endpoint.ServiceEndpoint) *string { return &e.SASKeyName }),
	secretColumn("saskey", func(e *endpoint.ServiceEndpoint) *endpoint.Secret { return &e.SASKey }),
	secretColumn("sastoken", func(e *endpoint.ServiceEndpoint) *endpoint.Secret { return &e.SASToken }),
	secretColumn("authvalue", func(e *endpoint.ServiceEndpoint) *endpoint.Secret { return &e.AuthValue }),
	choiceColumn("namespaceformat", func(e *endpoint.ServiceEndpoint) *endpoint.NamespaceFormat { return &e.NamespaceFormat }),
	zeroChoiceColumn("messagecharset", func(e *endpoint.ServiceEndpoint) *endpoint.MessageCharset { return &e.MessageCharset }),
	choiceColumn("schematype", func(e *endpoint.ServiceEndpoint) *endpoint.SchemaType { return &e.SchemaType }),
	boolColumn("usekeyvaultconfiguration", func(e *endpoint.ServiceEndpoint) *bool { return &e.UseKeyVaultConfiguration }),
	lookupColumn("keyvaultreferenceid", "keyvaultreferences", func(e *endpoint.ServiceEndpoint) *string { return &e.KeyVaultReferenceID }),
	readOnly(boolColumn("issaskeyset", func(e *endpoint.ServiceEndpoint) *bool { return &e.IsSASKeySet })),
	readOnly(boolColumn("issastokenset", func(e *endpoint.ServiceEndpoint) *bool { return &e.IsSASTokenSet })),
	readOnly(boolColumn("isauthvalueset", func(e *endpoint.ServiceEndpoint) *bool { return &e.IsAuthValueSet })),
	readOnly(boolColumn("ismanaged", func(e *endpoint.ServiceEndpoint) *bool { return &e.IsManaged })),
	readOnly(timeColumn("createdon", func(e *endpoint.ServiceEndpoint) *time.Time { return &e.CreatedOn })),
	readOnly(timeColumn("modifiedon", func(e *endpoint.ServiceEndpoint) *time.Time { return &e.ModifiedOn })),
	readOnly(lookupColumn("createdby", "systemusers", func(e *endpoint.ServiceEndpoint) *string { return &e.CreatedBy })),
	readOnly(lookupColumn("modifiedby", "systemusers", func(e *endpoint.ServiceEndpoint) *string { return &e.ModifiedBy })),
}

// EndpointColumns are the serviceendpoint columns the client reads by default: every readable
// column of the table, in its order. The write-only secrets are absent on purpose (Dataverse
// returns null for them); their is*set flags are here.
var EndpointColumns = endpointRecord.names()

// endpointRecord decodes serviceendpoint records.
var endpointRecord = newRecordType(endpointColumns)

// decodeEndpoint decodes the serviceendpoint record dec is positioned on.
func decodeEndpoint(dec *json.Decoder) (endpoint.ServiceEndpoint, error) {
	return endpointRecord.decoder().decode(dec)
}

// createBody is the POST payload: the id, every column that has a value, and the secrets that
// are set. Unset columns are left out so Dataverse applies its defaults.
func createBody(ep endpoint.ServiceEndpoint) map[string]any {
	m := make(map[string]any, len(endpointColumns))
	for _, c := range endpointColumns {
		if c.create != nil {
			c.create(m, &ep)
		}
	}
	return m
}

// updateBody is the PATCH payload: every writable column, null where empty, and the secrets
// that are set. This and createBody are the one place secrets' plaintext leaves the portal.
func updateBody(ep endpoint.ServiceEndpoint) map[string]any {
	m := make(map[string]any, len(endpointColumns))
	for _, c := range endpointColumns {
		if c.update != nil {
			c.update(m, &ep)
		}
	}
	return m
}

// EndpointValues yields the columns a person sets on an endpoint, secrets included (every
// column UpdateEndpoint writes), in table order: each one's logical name and ep's value for it
// as the endpoint holds it (a choice type, endpoint.Secret, string, bool). Pages follow the
// table through it (an audit snapshot, a validation's fingerprint) instead of spelling the
// columns again.
func EndpointValues(ep endpoint.ServiceEndpoint) iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for _, c := range endpointColumns {
			if c.update != nil && !yield(c.name, c.value(&ep)) {
				return
			}
		}
	}
}

// column is one column of a Dataverse table as the portal maps it onto its domain type.
// Build columns with the constructors below rather than by hand.
type column struct {
	// name is the column's logical name, e.g. "name", "keyvaultreferenceid", "saskey".
	name string
	// readAs is the property a record carries it as ("_keyvaultreferenceid_value" for a
	// lookup); empty for columns that are never read (the write-only secrets).
	readAs string
	// wire is the Go type the property's JSON value decodes into.
	wire reflect.Type
	// read copies a decoded value (a pointer to a value of type wire) into the endpoint.
	read func(e *endpoint.ServiceEndpoint, v any)
	// create and update add the column to a POST or PATCH body; nil for read-only columns.
	create, update func(body map[string]any, e *endpoint.ServiceEndpoint)
	// value is the endpoint's field, for tests comparing what was written with what was read.
	value func(e *endpoint.ServiceEndpoint) any
}

// readable makes a column read from the property readAs, of JSON type W, by set.
func readable[W any](name, readAs string, set func(e *endpoint.ServiceEndpoint, w W)) column {
	return column{name: name, readAs: readAs, wire: reflect.TypeFor[W](),
		read: func(e *endpoint.ServiceEndpoint, v any) { set(e, *v.(*W)) }}
}

// orNull is v, or nil (JSON null) when v is its type's zero value.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// keyColumn is the primary key: read, sent on create (the portal chooses ids), never in an
// update body (the id is in the URL).
func keyColumn(name string, field func(*endpoint.ServiceEndpoint) *string) column {
	c := readable(name, name, func(e *endpoint.ServiceEndpoint, s string) { *field(e) = s })
	c.create = func(b map[string]any, e *endpoint.ServiceEndpoint) { b[name] = *field(e) }
	c.value = func(e *endpoint.ServiceEndpoint) any { return *field(e) }
	return c
}

// stringColumn is a text column: create leaves it out when empty, update clears it with null.
func stringColumn(name string, field func(*endpoint.ServiceEndpoint) *string) column {
	c := readable(name, name, func(e *endpoint.ServiceEndpoint, s string) { *field(e) = s })
	c.create = func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if s := *field(e); s != "" {
			b[name] = s
		}
	}
	c.update = func(b map[string]any, e *endpoint.ServiceEndpoint) { b[name] = orNull(*field(e)) }
	c.value = func(e *endpoint.ServiceEndpoint) any { return *field(e) }
	return c
}

// choiceColumn is a choice (option set) whose 0 means "not set": create leaves it out, update
// clears it with null.
func choiceColumn[T ~int](name string, field func(*endpoint.ServiceEndpoint) *T) column {
	c := readable(name, name, func(e *endpoint.ServiceEndpoint, n int) { *field(e) = T(n) })
	c.create = func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if n := int(*field(e)); n != 0 {
			b[name] = n
		}
	}
	c.update = func(b map[string]any, e *endpoint.ServiceEndpoint) { b[name] = orNull(int(*field(e))) }
	c.value = func(e *endpoint.ServiceEndpoint) any { return *field(e) }
	return c
}

// zeroChoiceColumn is a choice whose 0 is a value (messagecharset's Default): create leaves 0
// out (Dataverse defaults it to 0 anyway), update always sends the number.
func zeroChoiceColumn[T ~int](name string, field func(*endpoint.ServiceEndpoint) *T) column {
	c := choiceColumn(name, field)
	c.update = func(b map[string]any, e *endpoint.ServiceEndpoint) { b[name] = int(*field(e)) }
	return c
}

// boolColumn is a yes/no column: create sends only true (false is Dataverse's default),
// update always sends it.
func boolColumn(name string, field func(*endpoint.ServiceEndpoint) *bool) column {
	c := readable(name, name, func(e *endpoint.ServiceEndpoint, v bool) { *field(e) = v })
	c.create = func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if *field(e) {
			b[name] = true
		}
	}
	c.update = func(b map[string]any, e *endpoint.ServiceEndpoint) { b[name] = *field(e) }
	c.value = func(e *endpoint.ServiceEndpoint) any { return *field(e) }
	return c
}

// timeColumn is a date and time column: create leaves it out when zero, update clears it with
// null.
func timeColumn(name string, field func(*endpoint.ServiceEndpoint) *time.Time) column {
	c := readable(name, name, func(e *endpoint.ServiceEndpoint, t time.Time) { *field(e) = t })
	c.create = func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if t := *field(e); !t.IsZero() {
			b[name] = FormatDateTime(t)
		}
	}
	c.update = func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if t := *field(e); t.IsZero() {
			b[name] = nil
		} else {
			b[name] = FormatDateTime(t)
		}
	}
	c.value = func(e *endpoint.ServiceEndpoint) any { return *field(e) }
	return c
}

// lookupColumn is a reference to a record of entitySet, held as the referenced id. Dataverse
// reads it as "_<name>_value" and writes it as "<name>@odata.bind": "/<entitySet>(<id>)";
// create leaves it out when empty, update clears it with null.
func lookupColumn(name, entitySet string, field func(*endpoint.ServiceEndpoint) *string) column {
	c := readable(name, "_"+name+"_value", func(e *endpoint.ServiceEndpoint, id string) { *field(e) = id })
	bind := name + "@odata.bind"
	c.create = func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if id := *field(e); id != "" {
			b[bind] = "/" + entitySet + "(" + id + ")"
		}
	}
	c.update = func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if id := *field(e); id != "" {
			b[bind] = "/" + entitySet + "(" + id + ")"
		} else {
			b[bind] = nil
		}
	}
	c.value = func(e *endpoint.ServiceEndpoint) any { return *field(e) }
	return c
}

// secretColumn is a write-only column: sent (create and update) only when set, so an unset
// Secret keeps what Dataverse holds; never read, as Dataverse answers null for it.
func secretColumn(name string, field func(*endpoint.ServiceEndpoint) *endpoint.Secret) column {
	put := func(b map[string]any, e *endpoint.ServiceEndpoint) {
		if s := *field(e); s.IsSet() {
			b[name] = s.Reveal()
		}
	}
	return column{name: name, create: put, update: put,
		value: func(e *endpoint.ServiceEndpoint) any { return *field(e) }}
}

// readOnly marks a column Dataverse sets itself: read, never written.
func readOnly(c column) column {
	c.create, c.update = nil, nil
	return c
}

// recordType is a struct type derived from a column table, one field per readable column, so
// that encoding/json decodes each record in one pass with its cached struct decoder; the
// columns then copy the fields into the domain type.
type recordType struct {
	typ  reflect.Type
	cols []column // the readable columns, in field order
}

func newRecordType(cols []column) *recordType {
	rt := &recordType{}
	var fields []reflect.StructField
	for _, c := range cols {
		if c.readAs == "" {
			continue
		}
		fields = append(fields, reflect.StructField{
			Name: "F" + strconv.Itoa(len(fields)),
			Type: c.wire,
			Tag:  reflect.StructTag(`json:"` + c.readAs + `"`),
		})
		rt.cols = append(rt.cols, c)
	}
	rt.typ = reflect.StructOf(fields)
	return rt
}

// names are the properties a record of this type is read from.
func (rt *recordType) names() []string {
	out := make([]string, len(rt.cols))
	for i, c := range rt.cols {
		out[i] = c.readAs
	}
	return out
}

// recordDecoder decodes records one at a time into one reused value of its recordType.
type recordDecoder struct {
	rt     *recordType
	v      reflect.Value // the struct
	target any           // pointer to v, what json decodes into
	fields []any         // pointers to v's fields
	// ep is filled by the columns; a field rather than a local, which would escape through
	// the columns' read functions and cost an allocation per record.
	ep endpoint.ServiceEndpoint
}

func (rt *recordType) decoder() *recordDecoder {
	p := reflect.New(rt.typ)
	d := &recordDecoder{rt: rt, v: p.Elem(), target: p.Interface(), fields: make([]any, len(rt.cols))}
	for i := range rt.cols {
		d.fields[i] = d.v.Field(i).Addr().Interface()
	}
	return d
}

// decode reads the record dec is positioned on. Properties that are absent or null leave
// their fields zero; properties the table does not know are skipped.
func (d *recordDecoder) decode(dec *json.Decoder) (endpoint.ServiceEndpoint, error) {
	d.v.SetZero()
	if err := dec.Decode(d.target); err != nil {
		return endpoint.ServiceEndpoint{}, err
	}
	d.ep = endpoint.ServiceEndpoint{}
	for i, c := range d.rt.cols {
		c.read(&d.ep, d.fields[i])
	}
	return d.ep, nil
}
