package endpoint

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// WebhookSetting is one name/value pair of a webhook's HttpHeader or HttpQueryString
// authentication. The value is usually a secret (an API key), so it is a Secret.
type WebhookSetting struct {
	Name  string
	Value Secret
}

// FormatWebhookSettings writes the authvalue Dataverse expects for webhook auth types 5 and 6:
// <settings><setting name="k" value="v" /></settings>, with names and values XML-escaped. The
// result holds the values, so it is a Secret.
func FormatWebhookSettings(settings []WebhookSetting) Secret {
	var b strings.Builder
	b.WriteString("<settings>")
	for _, s := range settings {
		b.WriteString(`<setting name="`)
		escapeAttr(&b, s.Name)
		b.WriteString(`" value="`)
		escapeAttr(&b, s.Value.Reveal())
		b.WriteString(`" />`)
	}
	b.WriteString("</settings>")
	return NewSecret(b.String())
}

// escapeAttr escapes s for a double-quoted XML attribute, including tabs and line breaks, which
// a parser would otherwise normalise to spaces.
func escapeAttr(b *strings.Builder, s string) {
	// xml.EscapeText escapes & < > " ' \t \n \r and replaces invalid characters; it cannot fail
	// on a strings.Builder.
	_ = xml.EscapeText(b, []byte(s))
}

type settingsXML struct {
	XMLName  xml.Name     `xml:"settings"`
	Settings []settingXML `xml:"setting"`
}

type settingXML struct {
	Name  *string `xml:"name,attr"`
	Value *string `xml:"value,attr"`
}

// ParseWebhookSettings reads a webhook authvalue of the form
// <settings><setting name="k" value="v" /></settings>. It requires at least one setting, each
// with a non-empty name and a value attribute. Its errors never quote a value.
func ParseWebhookSettings(authvalue Secret) ([]WebhookSetting, error) {
	dec := xml.NewDecoder(strings.NewReader(authvalue.Reveal()))
	dec.Strict = true
	var doc settingsXML
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) && strings.TrimSpace(authvalue.Reveal()) == "" {
			return nil, errors.New(`enter at least one setting: <settings><setting name="..." value="..." /></settings>`)
		}
		return nil, errors.New(`the settings are not well-formed XML: write <settings><setting name="..." value="..." /></settings>, ` +
			`with &amp; for & and &quot; for " inside values (or use the name/value fields)`)
	}
	// Nothing but white space may follow the closing </settings>.
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errors.New("the settings have text after </settings>: remove it")
		}
		if cd, ok := tok.(xml.CharData); ok && strings.TrimSpace(string(cd)) == "" {
			continue
		}
		if _, ok := tok.(xml.Comment); ok {
			continue
		}
		return nil, errors.New("the settings have text after </settings>: remove it")
	}
	if len(doc.Settings) == 0 {
		return nil, errors.New(`enter at least one setting: <settings><setting name="..." value="..." /></settings>`)
	}
	out := make([]WebhookSetting, 0, len(doc.Settings))
	for i, s := range doc.Settings {
		if s.Name == nil || strings.TrimSpace(*s.Name) == "" {
			return nil, fmt.Errorf("setting %d has no name: give every setting a name=\"...\"", i+1)
		}
		if s.Value == nil {
			return nil, fmt.Errorf("setting %q has no value=\"...\": add its value", *s.Name)
		}
		out = append(out, WebhookSetting{Name: *s.Name, Value: NewSecret(*s.Value)})
	}
	return out, nil
}

// ValidHeaderName reports whether name is an HTTP header field name (an RFC 9110 token).
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// DescribeWebhookAuth says in plain words how Dataverse will authenticate to the webhook, naming
// headers or query parameters but never their values. It is safe to show and to log.
func DescribeWebhookAuth(e ServiceEndpoint) string {
	switch e.AuthType {
	case AuthTypeWebhookKey:
		return "Dataverse adds the webhook key to the URL as ?code=<key> (Azure Functions style)."
	case AuthTypeHTTPHeader, AuthTypeHTTPQueryString:
		where := "HTTP headers"
		if e.AuthType == AuthTypeHTTPQueryString {
			where = "query string parameters"
		}
		if !e.AuthValue.IsSet() {
			return "Dataverse sends the configured " + where + " (kept unchanged; values hidden)."
		}
		settings, err := ParseWebhookSettings(e.AuthValue)
		if err != nil {
			return "Dataverse sends " + where + ", but the settings cannot be read: " + err.Error()
		}
		names := make([]string, len(settings))
		for i, s := range settings {
			names[i] = s.Name
		}
		return "Dataverse sends the " + where + " " + strings.Join(names, ", ") + " (values hidden)."
	}
	return "No webhook authentication: choose Webhook key, HTTP header or HTTP query string."
}

// DisplayURL is a URL as pages, results and logs may show it: without its query or fragment,
// which may hold a key.
func DisplayURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	return raw
}
