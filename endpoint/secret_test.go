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

func TestSecretReadsBackUnsetFromJSON(t *testing.T) {
	const plain = "functionkey123"
	e := ServiceEndpoint{Name: "n", Contract: ContractQueue, SASKeyName: "send", SASKey: NewSecret(plain), AuthValue: NewSecret(plain), IsSASKeySet: true}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), plain) || strings.Contains(string(b), "sasToken") {
		t.Fatalf("JSON %s", b)
	}
	var got ServiceEndpoint
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.SASKey.IsSet() || got.AuthValue.IsSet() || got != e.WithoutSecrets() {
		t.Fatalf("read back %#v, want %#v", got, e.WithoutSecrets())
	}
	for _, in := range []string{`""`, `"` + secretMask + `"`, `null`} {
		s := NewSecret("before")
		if err := json.Unmarshal([]byte(in), &s); err != nil || (in != "null" && s.IsSet()) {
			t.Errorf("%s: %v, set %v", in, err, s.IsSet())
		}
	}
	for _, in := range []string{`"` + plain + `"`, `42`, `{"value":"x"}`} {
		var s Secret
		err := json.Unmarshal([]byte(in), &s)
		if err == nil || s.IsSet() || strings.Contains(err.Error(), plain) {
			t.Errorf("%s: read %v, err %v", in, s.IsSet(), err)
		}
	}
	var s Secret
	if err := s.UnmarshalText([]byte(secretMask)); err != nil || s.IsSet() {
		t.Fatalf("mask as text: %v", err)
	}
	if err := s.UnmarshalText([]byte(plain)); err == nil || s.IsSet() {
		t.Fatal("plaintext read from text")
	}
}

func TestHasSecretAndWithoutSecrets(t *testing.T) {
	e := ServiceEndpoint{SASKey: NewSecret("k"), IsSASTokenSet: true}
	if !e.HasSecret(PurposeSASKey) || !e.HasSecret(PurposeSASToken) || e.HasSecret(PurposeAuthValue) || e.HasSecret("other") {
		t.Fatal("HasSecret")
	}
	bare := e.WithoutSecrets()
	for _, p := range SecretPurposes {
		if bare.Secret(p).IsSet() {
			t.Errorf("%s kept", p)
		}
	}
	if !bare.IsSASTokenSet || !e.SASKey.IsSet() {
		t.Fatal("WithoutSecrets changed more than the secrets")
	}
}
