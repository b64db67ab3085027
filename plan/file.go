package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FormatVersion is the version of the document format Export writes and Parse reads.
const FormatVersion = 1

// Document is a file of endpoints and their steps. It holds no secret: an endpoint's secret is
// a reference (SecretRef).
type Document struct {
	Version int `json:"version" yaml:"version"`
	// Teams are the teams whose endpoints the document describes in full: an endpoint of one
	// of these teams that the document does not list is deleted by Apply. Without teams,
	// nothing is deleted.
	Teams     []string   `json:"teams,omitempty" yaml:"teams,omitempty"`
	Endpoints []Endpoint `json:"endpoints" yaml:"endpoints"`
}

// Endpoint is one service endpoint of a Document. Choices are written by their labels
// ("Queue", "JSON", "SAS Key"), as the portal's pages show them.
type Endpoint struct {
	ID              string `json:"id,omitempty" yaml:"id,omitempty"`
	Name            string `json:"name" yaml:"name"`
	Team            string `json:"team,omitempty" yaml:"team,omitempty"`
	Type            string `json:"type" yaml:"type"`
	Description     string `json:"description,omitempty" yaml:"description,omitempty"`
	Namespace       string `json:"namespace,omitempty" yaml:"namespace,omitempty"` // namespace address
	Path            string `json:"path,omitempty" yaml:"path,omitempty"`
	URL             string `json:"url,omitempty" yaml:"url,omitempty"`
	MessageFormat   string `json:"messageFormat,omitempty" yaml:"messageFormat,omitempty"`
	UserInformation string `json:"userInformation,omitempty" yaml:"userInformation,omitempty"`
	Auth            string `json:"auth,omitempty" yaml:"auth,omitempty"`
	Policy          string `json:"policy,omitempty" yaml:"policy,omitempty"` // SAS policy (saskeyname)
	// Secret is a reference to the key, connection string, SAS token or webhook secret, e.g.
	// env:ORDERS_SAS_KEY. Never the value.
	Secret string `json:"secret,omitempty" yaml:"secret,omitempty"`
	Steps  []Step `json:"steps,omitempty" yaml:"steps,omitempty"`

	line   int
	fields map[string]int // field name -> line
}

// Step is one step of an Endpoint.
type Step struct {
	ID                  string   `json:"id,omitempty" yaml:"id,omitempty"`
	Name                string   `json:"name" yaml:"name"`
	Description         string   `json:"description,omitempty" yaml:"description,omitempty"`
	Message             string   `json:"message" yaml:"message"`
	Table               string   `json:"table,omitempty" yaml:"table,omitempty"`
	Stage               string   `json:"stage" yaml:"stage"`
	Mode                string   `json:"mode" yaml:"mode"`
	Rank                int      `json:"rank,omitempty" yaml:"rank,omitempty"`
	FilteringAttributes []string `json:"filteringAttributes,omitempty" yaml:"filteringAttributes,omitempty"`
	RunAs               string   `json:"runAs,omitempty" yaml:"runAs,omitempty"`
	AsyncAutoDelete     bool     `json:"asyncAutoDelete,omitempty" yaml:"asyncAutoDelete,omitempty"`
	Disabled            bool     `json:"disabled,omitempty" yaml:"disabled,omitempty"`
	Images              []Image  `json:"images,omitempty" yaml:"images,omitempty"`

	line int
}

// Image is one image of a Step.
type Image struct {
	Type            string   `json:"type" yaml:"type"`
	Alias           string   `json:"alias" yaml:"alias"`
	Attributes      []string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	MessageProperty string   `json:"messageProperty,omitempty" yaml:"messageProperty,omitempty"`
}

// Problem is something wrong with a document or with what it asks of an environment: where
// (line, endpoint, field) and what to do about it. It never quotes a secret.
type Problem struct {
	Line     int    `json:"line,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
	// MissingSecret is set when the only problem is that the value of this secret reference
	// was not supplied: a plan can still be shown; it cannot be applied.
	MissingSecret string `json:"missingSecret,omitempty"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Endpoint != "" {
		fmt.Fprintf(&b, "endpoint %q: ", p.Endpoint)
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// MaxDocumentBytes bounds a document Parse reads.
const MaxDocumentBytes = 1 << 20

// Parse reads a document in YAML or JSON (JSON is read as YAML, so line numbers hold for
// both). Problems name the line and field and say what to fix; a document with problems is
// not to be planned.
func Parse(data []byte) (Document, []Problem) {
	if len(data) > MaxDocumentBytes {
		return Document{}, []Problem{{Message: fmt.Sprintf("The file is larger than %d bytes; split it by team.", MaxDocumentBytes)}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Document{}, []Problem{{Message: "The file is empty. Export an environment to see the format."}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Document{}, []Problem{yamlProblem(err)}
	}
	var doc Document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return Document{}, []Problem{yamlProblem(err)}
	}
	indexLines(&root, &doc)
	return doc, check(doc)
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlProblem turns a YAML error into a problem with its line and a hint.
func yamlProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	p := Problem{Message: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &p.Line)
		p.Message = m[2]
	}
	switch {
	case strings.Contains(p.Message, "not found in type"):
		p.Message = "Unknown field " + strings.Fields(p.Message)[1] + ". Remove it, or check its spelling against an exported file."
	case strings.Contains(p.Message, "cannot unmarshal"):
		p.Message += ". Check the value's type against an exported file (a list is written with - items, a number without quotes)."
	default:
		p.Message = "The file is not valid YAML or JSON: " + p.Message + "."
	}
	return p
}

// indexLines records where each endpoint, field and step starts, for problems.
func indexLines(root *yaml.Node, doc *Document) {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return
	}
	eps := mappingValue(root.Content[0], "endpoints")
	if eps == nil || eps.Kind != yaml.SequenceNode {
		return
	}
	for i, n := range eps.Content {
		if i >= len(doc.Endpoints) {
			break
		}
		ep := &doc.Endpoints[i]
		ep.line, ep.fields = n.Line, map[string]int{}
		for j := 0; j+1 < len(n.Content); j += 2 {
			ep.fields[n.Content[j].Value] = n.Content[j].Line
		}
		if steps := mappingValue(n, "steps"); steps != nil {
			for k, sn := range steps.Content {
				if k < len(ep.Steps) {
					ep.Steps[k].line = sn.Line
				}
			}
		}
	}
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			return n.Content[j+1]
		}
	}
	return nil
}

// lineOf is the line of an endpoint's field (the endpoint's own line when the field is absent).
func (e Endpoint) lineOf(field string) int {
	if l, ok := e.fields[field]; ok {
		return l
	}
	return e.line
}

// secretRef is the form of a secret reference: env: and an environment variable's name.
var secretRef = regexp.MustCompile(`^env:[A-Za-z_][A-Za-z0-9_]*$`)

// check finds what is wrong with a document on its own, before any environment is asked.
func check(doc Document) []Problem {
	var out []Problem
	if doc.Version != FormatVersion {
		out = append(out, Problem{Line: 1, Field: "version", Message: fmt.Sprintf("Write version: %d at the top; this portal reads version %d files.", FormatVersion, FormatVersion)})
	}
	names := map[string]int{}
	for _, e := range doc.Endpoints {
		add := func(field, msg string) {
			out = append(out, Problem{Line: e.lineOf(field), Endpoint: e.Name, Field: field, Message: msg})
		}
		key := strings.ToLower(strings.TrimSpace(e.Name))
		switch {
		case key == "":
			add("name", "Every endpoint needs a name.")
		case names[key] > 0:
			add("name", fmt.Sprintf("Another endpoint (line %d) has this name; names are unique in an environment.", names[key]))
		default:
			names[key] = e.line
		}
		if e.Secret != "" && !secretRef.MatchString(e.Secret) {
			add("secret", "Write a reference such as env:ORDERS_SAS_KEY, never the secret itself; the value is supplied where the file is applied.")
		}
		steps := map[string]bool{}
		for _, st := range e.Steps {
			k := strings.ToLower(strings.TrimSpace(st.Name))
			if k != "" && steps[k] {
				out = append(out, Problem{Line: st.line, Endpoint: e.Name, Field: "steps", Message: "Another step of this endpoint is named “" + st.Name + "”; give each step its own name."})
			}
			steps[k] = true
		}
	}
	return out
}

// Format is a document's encoding.
type Format string

// The formats Encode writes.
const (
	YAML Format = "yaml"
	JSON Format = "json"
)

// Encode writes a document as YAML or JSON.
func Encode(doc Document, f Format) ([]byte, error) {
	if f == JSON {
		b, err := json.MarshalIndent(doc, "", "  ")
		return append(b, '\n'), err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	err := enc.Close()
	return buf.Bytes(), err
}
