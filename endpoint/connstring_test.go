package endpoint

import (
	"strings"
	"testing"
)

func TestParseConnectionStringFields(t *testing.T) {
	cases := []struct {
		in                              string
		host, path, keyName, key, token string
		cloud                           Cloud
		emulator, sas, namespaceWide    bool
	}{
		{in: "Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + testKey + ";EntityPath=orders",
			host: "mybus.servicebus.windows.net", path: "orders", keyName: "send", key: testKey, cloud: CloudPublic},
		{in: "endpoint=sb://gov.servicebus.usgovcloudapi.net;sharedaccesskeyname=Root;SHAREDACCESSKEY=a=b=;",
			host: "gov.servicebus.usgovcloudapi.net", keyName: "Root", key: "a=b=", cloud: CloudUSGov, namespaceWide: true},
		{in: "Endpoint=sb://cn.servicebus.chinacloudapi.cn/;SharedAccessSignature=" + testToken + ";EntityPath=orders",
			host: "cn.servicebus.chinacloudapi.cn", path: "orders", token: testToken, cloud: CloudChina, sas: true},
		{in: "Endpoint=sb://localhost:6765;SharedAccessKeyName=k;SharedAccessKey=s;UseDevelopmentEmulator=true;",
			host: "localhost:6765", keyName: "k", key: "s", cloud: CloudUnknown, emulator: true, namespaceWide: true},
		// Last occurrence wins; unknown keys are ignored; empty parts are skipped.
		{in: "Endpoint=sb://a.servicebus.windows.net/;;Foo=bar;Endpoint=sb://b.servicebus.windows.net/;SharedAccessKeyName=x;SharedAccessKey=y;EntityPath=q;EntityPath=r",
			host: "b.servicebus.windows.net", path: "r", keyName: "x", key: "y", cloud: CloudPublic},
		// The SDK takes the signature over the key when both are present.
		{in: "Endpoint=sb://a.servicebus.windows.net/;SharedAccessKeyName=x;SharedAccessKey=y;SharedAccessSignature=" + testToken,
			host: "a.servicebus.windows.net", keyName: "x", key: "y", token: testToken, cloud: CloudPublic, sas: true, namespaceWide: true},
	}
	for _, c := range cases {
		cs, err := ParseConnectionString(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if cs.Host != c.host || cs.EntityPath != c.path || cs.KeyName != c.keyName || cs.Key.Reveal() != c.key ||
			cs.SASToken.Reveal() != c.token || cs.Cloud != c.cloud || cs.Emulator != c.emulator || cs.UsesSASToken() != c.sas ||
			cs.NamespaceWide() != c.namespaceWide {
			t.Errorf("%q: got %+v (key %q, token %q, sas %v)", c.in, cs, cs.Key.Reveal(), cs.SASToken.Reveal(), cs.UsesSASToken())
		}
	}
}

func TestParseConnectionStringFriendlyErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "no Endpoint=sb://"},
		{"SharedAccessKeyName=send;SharedAccessKey=" + testKey, "no Endpoint=sb://<namespace>.servicebus.windows.net/ part"},
		{"Endpoint=mybus.servicebus.windows.net;SharedAccessKeyName=send;SharedAccessKey=" + testKey, "lacks sb:// in front"},
		{"Endpoint=sb://;SharedAccessKeyName=send;SharedAccessKey=" + testKey, "names no host"},
		{"Endpoint=sb://ho st/;SharedAccessKeyName=send;SharedAccessKey=" + testKey, "not a valid address"},
		{"Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKey=" + testKey, "no SharedAccessKeyName"},
		{"Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send", "no SharedAccessKey (nor a SharedAccessSignature)"},
		{"Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;\n SharedAccessKey=" + testKey, "Remove the spaces or line breaks before SharedAccessKey"},
		{"Endpoint=sb://mybus.servicebus.windows.net/;" + testKey[:20], "part without '='"},
		{testKey, "key on its own"},
		{testToken, "looks like a SAS token"},
		{"Endpoint=localhost:6765;SharedAccessKeyName=k;SharedAccessKey=s;UseDevelopmentEmulator=true", "UseDevelopmentEmulator=true works only with Endpoint=sb://"},
		{"Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=s;UseDevelopmentEmulator=yes", "true or false"},
	}
	for _, c := range cases {
		_, err := ParseConnectionString(c.in)
		if err == nil {
			t.Errorf("%q accepted", c.in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%q: error %q lacks %q", c.in, msg, c.want)
		}
		if !strings.Contains(msg, "Shared access policies") && !strings.Contains(msg, "UseDevelopmentEmulator") {
			t.Errorf("%q: error %q does not say where to copy the connection string from", c.in, msg)
		}
		assertNoSecretIn(t, msg)
	}
}

func TestLooksLikeConnectionString(t *testing.T) {
	yes := []string{"Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b", "sharedaccesskey=abc", "x;EntityPath=q",
		"SharedAccessSignature=SharedAccessSignature sr=a"}
	no := []string{testKey, testToken, "", "endpoint", "https://mybus.servicebus.windows.net/"}
	for _, s := range yes {
		if !LooksLikeConnectionString(s) {
			t.Errorf("%q not recognised", s)
		}
	}
	for _, s := range no {
		if LooksLikeConnectionString(s) {
			t.Errorf("%q recognised", s)
		}
	}
}

func TestSuggest(t *testing.T) {
	cs, err := ParseConnectionString("Endpoint=sb://MyBus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + testKey + ";EntityPath=orders")
	if err != nil {
		t.Fatal(err)
	}
	e := cs.Suggest()
	if e.NamespaceAddress != "sb://MyBus.servicebus.windows.net/" || e.SolutionNamespace != "MyBus" || e.Path != "orders" ||
		e.SASKeyName != "send" || e.SASKey.Reveal() != testKey || e.SASToken.IsSet() || e.AuthType != AuthTypeSASKey ||
		e.Contract != ContractQueue || e.NamespaceFormat != NamespaceFormatAddress || e.ConnectionMode != ConnectionModeNormal ||
		e.UserClaim != UserClaimNone || e.MessageFormat != MessageFormatJSON || e.Name != "MyBus orders" {
		t.Fatalf("suggestion %+v", e)
	}
	if p := e.Validate(); p != nil {
		t.Fatalf("a suggestion from a complete entity connection string must be valid: %v", p)
	}

	cs, err = ParseConnectionString("Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessSignature=" + testToken)
	if err != nil {
		t.Fatal(err)
	}
	e = cs.Suggest()
	if e.AuthType != AuthTypeSASToken || e.SASToken.Reveal() != testToken || e.SASKey.IsSet() || e.SASKeyName != "send" ||
		e.Contract != 0 || e.Name != "mybus" || !cs.NamespaceWide() {
		t.Fatalf("token suggestion %+v", e)
	}
	// Namespace-wide: the contract and path stay for the person to choose.
	p := e.Validate()
	if !p.Has(FieldContract) {
		t.Fatalf("namespace-wide suggestion should ask for the designation type: %v", p)
	}
}

func TestSuggestNameIsCut(t *testing.T) {
	cs := ConnectionString{Host: "mybus.servicebus.windows.net", EntityPath: strings.Repeat("é", 300)}
	if n := utf16Len(SuggestName(cs)); n != MaxNameLen {
		t.Fatalf("name of %d characters", n)
	}
}

func TestCloudOfHost(t *testing.T) {
	cases := map[string]Cloud{
		"mybus.servicebus.windows.net":          CloudPublic,
		"MYBUS.SERVICEBUS.WINDOWS.NET:5671":     CloudPublic,
		"mybus.servicebus.windows.net.":         CloudPublic,
		"gov.servicebus.usgovcloudapi.net":      CloudUSGov,
		"cn.servicebus.chinacloudapi.cn":        CloudChina,
		"servicebus.windows.net":                CloudUnknown,
		"mybus.servicebus.windows.net.evil.com": CloudUnknown,
		"evilservicebus.windows.net":            CloudUnknown,
		"mybus.servicebus.cloudapi.de":          CloudUnknown,
		"localhost:5672":                        CloudUnknown,
		"[::1]:5671":                            CloudUnknown,
	}
	for host, want := range cases {
		if got := CloudOfHost(host); got != want {
			t.Errorf("CloudOfHost(%q) = %v, want %v", host, got, want)
		}
	}
	for _, s := range CloudSuffixes {
		if s.Cloud.Suffix() != s.Suffix || s.Cloud.Label() == CloudUnknown.Label() {
			t.Errorf("cloud %v suffix/label inconsistent", s.Cloud)
		}
	}
	if CloudUnknown.Suffix() != "" {
		t.Error("unknown cloud has a suffix")
	}
	if NamespaceName("mybus.servicebus.windows.net:5671") != "mybus" || NamespaceName("localhost:5672") != "localhost" {
		t.Error("NamespaceName")
	}
}

func TestSDKConnectionStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + testKey + ";EntityPath=orders",
		"Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessSignature=" + testToken + ";EntityPath=orders",
	} {
		cs, err := ParseConnectionString(in)
		if err != nil {
			t.Fatal(err)
		}
		e := cs.Suggest()
		out, err := e.SDKConnectionString(false)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstSDK(t, out.Reveal())
		back, err := ParseConnectionString(out.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if back.Host != cs.Host || back.EntityPath != cs.EntityPath || !back.Key.Equal(cs.Key) ||
			!back.SASToken.Equal(cs.SASToken) || back.UsesSASToken() != cs.UsesSASToken() || back.Emulator {
			t.Fatalf("round trip of %q gave %+v", in, back)
		}
		if r := cs.Redacted(); strings.Contains(r, testKey) || strings.Contains(r, "sig=") || !strings.Contains(r, "EntityPath=orders") {
			t.Fatalf("Redacted() = %q", r)
		}
	}
	relay := validExamples()["two-way relay"]
	s, err := relay.SDKConnectionString(true)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := ParseConnectionString(s.Reveal()); err != nil || !back.Emulator || back.Endpoint != "sb://mybus.servicebus.windows.net/" {
		t.Fatalf("relay connection string %v %+v", err, back)
	}
	for name, e := range map[string]ServiceEndpoint{
		"webhook":      validExamples()["webhook key"],
		"no key":       func() ServiceEndpoint { q := validQueue(); q.SASKey = Secret{}; return q }(),
		"semicolon":    func() ServiceEndpoint { q := validQueue(); q.Path = "a;b"; return q }(),
		"bad address":  func() ServiceEndpoint { q := validQueue(); q.NamespaceAddress = "mybus"; return q }(),
		"no auth type": func() ServiceEndpoint { q := validQueue(); q.AuthType = 0; return q }(),
	} {
		if _, err := e.SDKConnectionString(false); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			assertNoSecretIn(t, err.Error())
		}
	}
}
