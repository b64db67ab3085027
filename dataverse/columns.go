package dataverse

import (
	"encoding/json"
	"iter"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// endpointColumns is the serviceendpoint table as the portal maps it, one line per column:
// its Dataverse name, the endpoint.ServiceEndpoint field it fills, and how it is written.
// Everything else is derived from it: the $select list (EndpointColumns), the decoding of
// records, and the create and update bodies. A new column is a field in
// endpoint.ServiceEndpoint and a line here.
var endpointColumns = []column[endpoint.ServiceEndpoint]{
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
	return createPayload(endpointColumns, &ep)
}

// createPayload is the POST payload of rec by its columns.
func createPayload[R any](cols []column[R], rec *R) map[string]any {
	m := make(map[string]any, len(cols))
	for _, c := range cols {
		if c.create != nil {
			c.create(m, rec)
		}
	}
	return m
}

// updatePayload is the PATCH payload of rec by its columns.
func updatePayload[R any](cols []column[R], rec *R) map[string]any {
	m := make(map[string]any, len(cols))
	for _, c := range cols {
		if c.update != nil {
			c.update(m, rec)
		}
	}
	return m
}

// updateBody is the PATCH payload: every writable column, null where empty, and the secrets
// that are set. This and createBody are the one place secrets' plaintext leaves the portal.
func updateBody(ep endpoint.ServiceEndpoint) map[string]any {
	return updatePayload(endpointColumns, &ep)
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

// column is one column of a Dataverse table as the portal maps it onto its domain type R
// (endpoint.ServiceEndpoint, endpoint.Step, endpoint.StepImage).
// Build columns with the constructors below rather than by hand.
type column[R any] struct {
	// name is the column's logical name, e.g. "name", "keyvaultreferenceid", "saskey".
	name string
	// readAs is the property a record carries it as ("_keyvaultreferenceid_value" for a
	// lookup); empty for columns that are never read (the write-only secrets).
	readAs string
	// expand is the $expand item that brings the property (a related record or collection,
	// "sdkmessageid($select=name)"); empty for the table's own columns, which go in $select.
	expand string
	// wire is the Go type the property's JSON value decodes into.
	wire reflect.Type
	// read copies a decoded value (a pointer to a value of type wire) into the record.
	read func(e *R, v any)
	// create and update add the column to a POST or PATCH body; nil for read-only columns.
	create, update func(body map[string]any, e *R)
	// value is the record's field, for tests comparing what was written with what was read.
	value func(e *R) any
}

// readable makes a column read from the property readAs, of JSON type W, by set.
func readable[R, W any](name, readAs string, set func(e *R, w W)) column[R] {
	return column[R]{name: name, readAs: readAs, wire: reflect.TypeFor[W](),
		read: func(e *R, v any) { set(e, *v.(*W)) }}
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
func keyColumn[R any](name string, field func(*R) *string) column[R] {
	c := readable(name, name, func(e *R, s string) { *field(e) = s })
	c.create = func(b map[string]any, e *R) { b[name] = *field(e) }
	c.value = func(e *R) any { return *field(e) }
	return c
}

// stringColumn is a text column: create leaves it out when empty, update clears it with null.
func stringColumn[R any](name string, field func(*R) *string) column[R] {
	c := readable(name, name, func(e *R, s string) { *field(e) = s })
	c.create = func(b map[string]any, e *R) {
		if s := *field(e); s != "" {
			b[name] = s
		}
	}
	c.update = func(b map[string]any, e *R) { b[name] = orNull(*field(e)) }
	c.value = func(e *R) any { return *field(e) }
	return c
}

// choiceColumn is a choice (option set) whose 0 means "not set": create leaves it out, update
// clears it with null.
func choiceColumn[R any, T ~int](name string, field func(*R) *T) column[R] {
	c := readable(name, name, func(e *R, n int) { *field(e) = T(n) })
	c.create = func(b map[string]any, e *R) {
		if n := int(*field(e)); n != 0 {
			b[name] = n
		}
	}
	c.update = func(b map[string]any, e *R) { b[name] = orNull(int(*field(e))) }
	c.value = func(e *R) any { return *field(e) }
	return c
}

// zeroChoiceColumn is a choice whose 0 is a value (messagecharset's Default): create leaves 0
// out (Dataverse defaults it to 0 anyway), update always sends the number.
func zeroChoiceColumn[R any, T ~int](name string, field func(*R) *T) column[R] {
	c := choiceColumn(name, field)
	c.update = func(b map[string]any, e *R) { b[name] = int(*field(e)) }
	return c
}

// boolColumn is a yes/no column: create sends only true (false is Dataverse's default),
// update always sends it.
func boolColumn[R any](name string, field func(*R) *bool) column[R] {
	c := readable(name, name, func(e *R, v bool) { *field(e) = v })
	c.create = func(b map[string]any, e *R) {
		if *field(e) {
			b[name] = true
		}
	}
	c.update = func(b map[string]any, e *R) { b[name] = *field(e) }
	c.value = func(e *R) any { return *field(e) }
	return c
}

// timeColumn is a date and time column: create leaves it out when zero, update clears it with
// null.
func timeColumn[R any](name string, field func(*R) *time.Time) column[R] {
	c := readable(name, name, func(e *R, t time.Time) { *field(e) = t })
	c.create = func(b map[string]any, e *R) {
		if t := *field(e); !t.IsZero() {
			b[name] = FormatDateTime(t)
		}
	}
	c.update = func(b map[string]any, e *R) {
		if t := *field(e); t.IsZero() {
			b[name] = nil
		} else {
			b[name] = FormatDateTime(t)
		}
	}
	c.value = func(e *R) any { return *field(e) }
	return c
}

// lookupColumn is a reference to a record of entitySet, held as the referenced id. Dataverse
// reads it as "_<name>_value" and writes it as "<name>@odata.bind": "/<entitySet>(<id>)";
// create leaves it out when empty, update clears it with null.
func lookupColumn[R any](name, entitySet string, field func(*R) *string) column[R] {
	return bindColumn(name, name, entitySet, field)
}

// bindColumn is a lookup whose navigation property (written as "<nav>@odata.bind") is named
// differently from the column (read as "_<name>_value"), such as a step's eventhandler,
// bound through eventhandler_serviceendpoint.
func bindColumn[R any](name, nav, entitySet string, field func(*R) *string) column[R] {
	c := readable(name, "_"+name+"_value", func(e *R, id string) { *field(e) = id })
	bind := nav + "@odata.bind"
	c.create = func(b map[string]any, e *R) {
		if id := *field(e); id != "" {
			b[bind] = "/" + entitySet + "(" + id + ")"
		}
	}
	c.update = func(b map[string]any, e *R) {
		if id := *field(e); id != "" {
			b[bind] = "/" + entitySet + "(" + id + ")"
		} else {
			b[bind] = nil
		}
	}
	c.value = func(e *R) any { return *field(e) }
	return c
}

// intColumn is a whole number or a choice whose every value counts, 0 included: always sent.
func intColumn[R any, T ~int](name string, field func(*R) *T) column[R] {
	c := readable(name, name, func(e *R, n int) { *field(e) = T(n) })
	put := func(b map[string]any, e *R) { b[name] = int(*field(e)) }
	c.create, c.update = put, put
	c.value = func(e *R) any { return *field(e) }
	return c
}

// listColumn is a comma-separated list of names (filteringattributes, an image's attributes):
// read split and trimmed, written joined; empty is null.
func listColumn[R any](name string, field func(*R) *[]string) column[R] {
	c := readable(name, name, func(e *R, s string) { *field(e) = splitList(s) })
	put := func(b map[string]any, e *R) { b[name] = orNull(strings.Join(*field(e), ",")) }
	c.create, c.update = put, put
	c.value = func(e *R) any { return *field(e) }
	return c
}

// splitList reads "a, b,,c" as [a b c]; "" is nil.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// fixedColumn is written with the same value on create and never read or updated
// (a step's supporteddeployment: server only).
func fixedColumn[R any](name string, v any) column[R] {
	return column[R]{name: name, create: func(b map[string]any, _ *R) { b[name] = v },
		value: func(*R) any { return v }}
}

// secretColumn is a write-only column: sent (create and update) only when set, so an unset
// Secret keeps what Dataverse holds; never read, as Dataverse answers null for it.
func secretColumn[R any](name string, field func(*R) *endpoint.Secret) column[R] {
	put := func(b map[string]any, e *R) {
		if s := *field(e); s.IsSet() {
			b[name] = s.Reveal()
		}
	}
	return column[R]{name: name, create: put, update: put,
		value: func(e *R) any { return *field(e) }}
}

// readOnly marks a column Dataverse sets itself: read, never written.
func readOnly[R any](c column[R]) column[R] {
	c.create, c.update = nil, nil
	return c
}

// recordType is a struct type derived from a column table, one field per readable column, so
// that encoding/json decodes each record in one pass with its cached struct decoder; the
// columns then copy the fields into the domain type.
type recordType[R any] struct {
	typ  reflect.Type
	cols []column[R] // the readable columns, in field order
}

func newRecordType[R any](cols []column[R]) *recordType[R] {
	rt := &recordType[R]{}
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

// names are the properties a record of this type is read from ($select), related records
// left out.
func (rt *recordType[R]) names() []string {
	out := make([]string, 0, len(rt.cols))
	for _, c := range rt.cols {
		if c.expand == "" {
			out = append(out, c.readAs)
		}
	}
	return out
}

// expands are the $expand items of the related records a record of this type is read with.
func (rt *recordType[R]) expands() []string {
	var out []string
	for _, c := range rt.cols {
		if c.expand != "" {
			out = append(out, c.expand)
		}
	}
	return out
}

// query is the $select (and $expand) that reads records of this type.
func (rt *recordType[R]) query() string {
	q := "$select=" + queryEscape(strings.Join(rt.names(), ","))
	if exp := rt.expands(); len(exp) > 0 {
		q += "&$expand=" + queryEscape(strings.Join(exp, ","))
	}
	return q
}

// recordDecoder decodes records one at a time into one reused value of its recordType.
type recordDecoder[R any] struct {
	rt     *recordType[R]
	v      reflect.Value // the struct
	target any           // pointer to v, what json decodes into
	fields []any         // pointers to v's fields
	// rec is filled by the columns; a field rather than a local, which would escape through
	// the columns' read functions and cost an allocation per record.
	rec R
}

func (rt *recordType[R]) decoder() *recordDecoder[R] {
	p := reflect.New(rt.typ)
	d := &recordDecoder[R]{rt: rt, v: p.Elem(), target: p.Interface(), fields: make([]any, len(rt.cols))}
	for i := range rt.cols {
		d.fields[i] = d.v.Field(i).Addr().Interface()
	}
	return d
}

// decode reads the record dec is positioned on. Properties that are absent or null leave
// their fields zero; properties the table does not know are skipped.
func (d *recordDecoder[R]) decode(dec *json.Decoder) (R, error) {
	d.v.SetZero()
	if err := dec.Decode(d.target); err != nil {
		var zero R
		return zero, err
	}
	var zero R
	d.rec = zero
	for i, c := range d.rt.cols {
		c.read(&d.rec, d.fields[i])
	}
	return d.rec, nil
}
