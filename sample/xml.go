package sample

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"time"
)

// element is one XML element of a DataContract document, with the prefixes and namespace
// declarations it is written with. Text XML and .NET Binary XML are two encodings of the same
// tree, so they cannot drift apart.
type element struct {
	Prefix, Name string
	Attrs        []attribute // namespace declarations included: Prefix "xmlns", or Name "xmlns" for the default
	Text         string      // character content; an element has text or children, not both
	Children     []*element
}

type attribute struct {
	Prefix, Name, Value string
}

// Prefixes this package writes. DataContractSerializer generates its own; readers go by the
// namespaces they stand for.
const (
	prefixInstance      = "i"
	prefixGeneric       = "a"
	prefixSchema        = "b"
	prefixSerialization = "c"
)

// document is the context as DataContractSerializer writes it: the root in the Contracts
// namespace (default) with the schema-instance prefix declared once.
func (c *RemoteExecutionContext) document() *element {
	root := &element{Name: "RemoteExecutionContext", Attrs: []attribute{
		{Name: "xmlns", Value: ContractsNamespace},
		{Prefix: "xmlns", Name: prefixInstance, Value: InstanceNamespace},
	}}
	var b xmlBuilder
	root.Children = b.members(c.members())
	return root
}

// XML encodes the context as Text XML (Dataverse's XML format), with an XML declaration.
func (c *RemoteExecutionContext) XML() []byte {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	c.document().writeText(&buf)
	return buf.Bytes()
}

// xmlBuilder turns members into elements, declaring the generic namespace on the outermost
// collection that needs it.
type xmlBuilder struct{ genericDeclared bool }

func (b *xmlBuilder) members(ms []member) []*element {
	out := make([]*element, 0, len(ms))
	for _, m := range ms {
		e := &element{Name: m.name}
		b.fill(e, m.value, false)
		out = append(out, e)
	}
	return out
}

func nilAttr() attribute { return attribute{Prefix: prefixInstance, Name: "nil", Value: "true"} }

func typeAttr(qname string) attribute {
	return attribute{Prefix: prefixInstance, Name: "type", Value: qname}
}

// fill gives e the content of v; hinted says the declared type is object, so e carries i:type.
func (b *xmlBuilder) fill(e *element, v any, hinted bool) {
	schema := func(typ string) {
		if hinted {
			e.Attrs = append(e.Attrs, typeAttr(prefixSchema+":"+typ),
				attribute{Prefix: "xmlns", Name: prefixSchema, Value: SchemaNamespace})
		}
	}
	contract := func(typ string) {
		if hinted {
			e.Attrs = append(e.Attrs, typeAttr(typ)) // the Contracts namespace is the default
		}
	}
	switch v := v.(type) {
	case nil:
		e.Attrs = append(e.Attrs, nilAttr())
	case string:
		schema("string")
		e.Text = v
	case GUID:
		if hinted {
			e.Attrs = append(e.Attrs, typeAttr(prefixSerialization+":guid"),
				attribute{Prefix: "xmlns", Name: prefixSerialization, Value: SerializationNamespace})
		}
		e.Text = string(v)
	case bool:
		schema("boolean")
		e.Text = strconv.FormatBool(v)
	case int:
		schema("int")
		e.Text = strconv.Itoa(v)
	case int64:
		schema("long")
		e.Text = strconv.FormatInt(v, 10)
	case float64:
		schema("double")
		e.Text = strconv.FormatFloat(v, 'G', -1, 64)
	case Decimal:
		schema("decimal")
		e.Text = string(v)
	case time.Time:
		schema("dateTime")
		e.Text = formatDate(v)
	case Money:
		contract("Money")
		e.Children = b.members([]member{{"Value", Decimal(v)}})
	case OptionSetValue:
		contract("OptionSetValue")
		e.Children = b.members([]member{{"Value", int(v)}})
	case EntityReference:
		contract("EntityReference")
		e.Children = b.members(v.members())
	case *Entity:
		if v == nil {
			e.Attrs = append(e.Attrs, nilAttr())
			return
		}
		contract("Entity")
		e.Children = b.members(v.members())
	case emptyList:
	case []Parameter:
		b.collection(e, len(v), func(i int) (*element, *element) {
			p, value := b.pair("KeyValuePairOfstringanyType", v[i].Key)
			b.fill(value, v[i].Value, true)
			return p, value
		})
	case []Image:
		b.collection(e, len(v), func(i int) (*element, *element) {
			p, value := b.pair("KeyValuePairOfstringEntity", v[i].Alias)
			b.fill(value, v[i].Entity, false)
			return p, value
		})
	default:
		schema("string")
		e.Text = fmt.Sprint(v)
	}
}

// collection writes n key/value items into e, declaring the generic namespace there when no
// outer element has.
func (b *xmlBuilder) collection(e *element, n int, item func(i int) (pair, value *element)) {
	if n == 0 {
		return
	}
	outer := !b.genericDeclared
	if outer {
		e.Attrs = append(e.Attrs, attribute{Prefix: "xmlns", Name: prefixGeneric, Value: GenericNamespace})
		b.genericDeclared = true
	}
	for i := range n {
		p, _ := item(i)
		e.Children = append(e.Children, p)
	}
	if outer {
		b.genericDeclared = false
	}
}

// pair makes <name><a:key>key</a:key><a:value/></name> and returns the pair and its value.
func (b *xmlBuilder) pair(name, key string) (*element, *element) {
	value := &element{Prefix: prefixGeneric, Name: "value"}
	p := &element{Name: name, Children: []*element{
		{Prefix: prefixGeneric, Name: "key", Text: key},
		value,
	}}
	return p, value
}

func (e *element) qname() string {
	if e.Prefix == "" {
		return e.Name
	}
	return e.Prefix + ":" + e.Name
}

func (a attribute) qname() string {
	if a.Prefix == "" {
		return a.Name
	}
	return a.Prefix + ":" + a.Name
}

func (e *element) writeText(buf *bytes.Buffer) {
	buf.WriteByte('<')
	buf.WriteString(e.qname())
	for _, a := range e.Attrs {
		buf.WriteByte(' ')
		buf.WriteString(a.qname())
		buf.WriteString(`="`)
		_ = xml.EscapeText(buf, []byte(a.Value)) // a bytes.Buffer does not fail
		buf.WriteByte('"')
	}
	if e.Text == "" && len(e.Children) == 0 {
		buf.WriteString("/>")
		return
	}
	buf.WriteByte('>')
	_ = xml.EscapeText(buf, []byte(e.Text))
	for _, c := range e.Children {
		c.writeText(buf)
	}
	buf.WriteString("</")
	buf.WriteString(e.qname())
	buf.WriteByte('>')
}
