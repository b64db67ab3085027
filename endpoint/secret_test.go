package endpoint

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrintsPlaintext(t *testing.T) {
	const plain = "functionkey123"
	s := NewSecret(plain)
	e := ServiceEndpoint{Name: "x", SASKey: s, SASToken: s, AuthValue: s}
	cs := ConnectionString{Host: "h", Key: s, SASToken: s}

	var outputs []string
	for _, v := range []any{s, &s, e, &e, cs, WebhookSetting{"k", s}, []Secret{s}, map[SecretPurpose]Secret{PurposeSASKey: s},
		struct{ S Secret }{s}, CredentialInput{ConnectionString: s, WebhookKey: s, PairLines: s, Pairs: []WebhookSetting{{"k", s}}}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(j))
		if x, err := xml.Marshal(xmlWrap{S: s}); err != nil { // xml uses MarshalText
			t.Fatal(err)
		} else {
			outputs = append(outputs, string(x))
		}
		var buf bytes.Buffer
		for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
			slog.New(h).Info("msg", "v", v, slog.Any("s", s))
		}
		outputs = append(outputs, buf.String())
	}
	for _, o := range outputs {
		if strings.Contains(o, plain) {
			t.Errorf("plaintext leaked in %q", o)
		}
	}
	if fmt.Sprint(s) != secretMask || fmt.Sprintf("%q", s) != `"`+secretMask+`"` || fmt.Sprintf("%#v", s) != `endpoint.Secret("`+secretMask+`")` ||
		!s.IsSet() || s.Reveal() != plain || s.Len() != len(plain) {
		t.Fatal("secret basics")
	}
	var empty Secret
	if empty.String() != "" || empty.IsSet() {
		t.Fatal("empty secret shows a mask")
	}
}

type xmlWrap struct{ S Secret }
