package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// JSON encodes the context as DataContractJsonSerializer does (Dataverse's JSON format and every
// webhook body): members in order, collections as [{"key":…,"value":…}], "/Date(ms)/" dates,
// "__type" hints on values whose declared type is object, and every "/" escaped as "\/".
func (c *RemoteExecutionContext) JSON() []byte {
	var w jsonWriter
	w.object(c.members(), "")
	return w.Bytes()
}

type jsonWriter struct{ bytes.Buffer }

// typeHint is DataContractJsonSerializer's "__type" for a Contracts type.
func typeHint(name string) string { return name + ":" + ContractsNamespace }

func (w *jsonWriter) object(ms []member, hint string) {
	w.WriteByte('{')
	if hint != "" {
		w.str("__type")
		w.WriteByte(':')
		w.str(hint)
		if len(ms) > 0 {
			w.WriteByte(',')
		}
	}
	for i, m := range ms {
		if i > 0 {
			w.WriteByte(',')
		}
		w.str(m.name)
		w.WriteByte(':')
		w.value(m.value, false)
	}
	w.WriteByte('}')
}

// value writes v; hinted says its declared type is object, so complex values carry "__type".
func (w *jsonWriter) value(v any, hinted bool) {
	hint := func(name string) string {
		if hinted {
			return typeHint(name)
		}
		return ""
	}
	switch v := v.(type) {
	case nil:
		w.WriteString("null")
	case string:
		w.str(v)
	case GUID:
		w.str(string(v))
	case bool:
		w.WriteString(strconv.FormatBool(v))
	case int:
		w.WriteString(strconv.Itoa(v))
	case int64:
		w.WriteString(strconv.FormatInt(v, 10))
	case float64:
		w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case Decimal:
		w.WriteString(string(v))
	case time.Time:
		w.str("/Date(" + strconv.FormatInt(v.UnixMilli(), 10) + ")/")
	case Money:
		w.object([]member{{"Value", Decimal(v)}}, hint("Money"))
	case OptionSetValue:
		w.object([]member{{"Value", int(v)}}, hint("OptionSetValue"))
	case EntityReference:
		w.object(v.members(), hint("EntityReference"))
	case *Entity:
		if v == nil {
			w.WriteString("null")
			return
		}
		w.object(v.members(), hint("Entity"))
	case emptyList:
		w.WriteString("[]")
	case []Parameter:
		w.pairs(len(v), func(i int) (string, any, bool) { return v[i].Key, v[i].Value, true })
	case []Image:
		w.pairs(len(v), func(i int) (string, any, bool) { return v[i].Alias, v[i].Entity, false })
	default:
		// A type this package does not produce; written as text so the body stays valid.
		w.str(fmt.Sprint(v))
	}
}

// pairs writes a collection of n {"key":…,"value":…} items; pair gives item i's key, value and
// whether its value is declared as object.
func (w *jsonWriter) pairs(n int, pair func(i int) (key string, value any, hinted bool)) {
	w.WriteByte('[')
	for i := range n {
		if i > 0 {
			w.WriteByte(',')
		}
		key, value, hinted := pair(i)
		w.WriteString(`{"key":`)
		w.str(key)
		w.WriteString(`,"value":`)
		w.value(value, hinted)
		w.WriteByte('}')
	}
	w.WriteByte(']')
}

// str writes a JSON string as .NET does: "/" escaped as "\/" (Go's encoder leaves it).
func (w *jsonWriter) str(s string) {
	b, _ := json.Marshal(s) // a string always marshals
	w.Write(bytes.ReplaceAll(b, []byte("/"), []byte(`\/`)))
}
