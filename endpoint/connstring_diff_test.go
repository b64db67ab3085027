package endpoint

import (
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// sdkConnectionStringSeeds are the connection strings from the Azure SDK's own tests
// (azservicebus v1.11.0 internal/conn/conn_test.go, namespace_test.go, receiver_simulated_test.go,
// admin/admin_client_test.go; azeventhubs/v2 v2.0.2 internal/exported tests), inputs only.
var sdkConnectionStringSeeds = []string{
	"Endpoint=sb://mynamespace.servicebus.windows.net/;SharedAccessKeyName=keyName;SharedAccessKey=superSecret=;EntityPath=myhub",
	"Endpoint=sb://mynamespace.servicebus.windows.net/;SharedAccessKeyName=keyName;SharedAccessKey=superSecret=",
	"endpoint=sb://mynamespace.servicebus.windows.net/;SharedAccesskeyName=keyName;sharedAccessKey=superSecret=;Entitypath=myhub",
	"Endpoint=sb://mynamespace.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=mynamespace.servicebus.windows.net&sig=<base64-sig>&se=<expiry>&skn=<keyname>",
	"NoEndpoint=Blah",
	"Endpoint=sb://mynamespace.servicebus.windows.net/",
	"Endpoint=sb://mynamespace.servicebus.windows.net/;SharedAccessKeyName=keyName;EntityPath=myhub",
	"Endpoint=sb://localhost:6765;SharedAccessKeyName=keyName;SharedAccessKey=superSecret=;UseDevelopmentEmulator=true",
	"Endpoint=sb://localhost;SharedAccessKeyName=keyName;SharedAccessKey=superSecret=;UseDevelopmentEmulator=true",
	"Endpoint=sb://localhost:6765;SharedAccessKeyName=keyName;SharedAccessKey=superSecret=;UseDevelopmentEmulator=true;",
	"Endpoint=sb://myserver.com:6765;SharedAccessKeyName=keyName;SharedAccessKey=superSecret=;UseDevelopmentEmulator=true",
	"Endpoint=sb://localhost:6765;SharedAccessKeyName=keyName;SharedAccessKey=superSecret=;UseDevelopmentEmulator=false",
	"Endpoint=sb://localhost:6765;SharedAccessKeyName=MyKey;SharedAccessKey=MySecret;UseDevelopmentEmulator=true",
	"Endpoint=sb://localhost:6765;SharedAccessKeyName=MyKey;SharedAccessKey=MySecret",
	"Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=DEADBEEF",
	"Endpoint=sb://fakeendpoint.something/;SharedAccessKeyName=fakekeyname;SharedAccessKey=CHANGEME",
	"Endpoint=sb://<your-namespace>.servicebus.windows.net/;SharedAccessKeyName=<key-name>;SharedAccessKey=<key>;EntityPath=eventHubName",
	"Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;",
	"",
}

// connectionStringVariants generates the cross product of many spellings of each part: schemes,
// hosts, ports, case, missing and empty values, spaces, duplicate keys, emulator flags, order.
func connectionStringVariants() []string {
	endpoints := []string{"", "Endpoint=sb://mybus.servicebus.windows.net/", "endpoint=sb://mybus.servicebus.usgovcloudapi.net",
		"ENDPOINT=SB://localhost:5672", "Endpoint=https://mybus.servicebus.chinacloudapi.cn/", "Endpoint=mybus.servicebus.windows.net",
		"Endpoint=//mybus.servicebus.windows.net/", "Endpoint=sb://", "Endpoint=sb://h:abc/", "Endpoint=sb://ho st/",
		"Endpoint=sb://[::1]:5671", "Endpoint=localhost:6765", "Endpoint=sb://u:p@mybus.servicebus.windows.net/",
		"Endpoint=sb://mybus.servicebus.windows.net/\n", "Endpoint=sb://h/%zz", "Endpoint=:", "Endpoint=sb://h/q?x=1",
		" Endpoint=sb://mybus.servicebus.windows.net/", "Endpoint=sb:mybus", "Endpoint="}
	names := []string{"", "SharedAccessKeyName=send", "sharedaccesskeyname=", " SharedAccessKeyName=send"}
	keys := []string{"", "SharedAccessKey=0123456789abcdefghijABCDEFGHIJ0123456789abc=", "SHAREDACCESSKEY=", "SharedAccessKey"}
	sigs := []string{"", "SharedAccessSignature=SharedAccessSignature sr=mybus&sig=abc%3D&se=1&skn=send", "SharedAccessSignature="}
	emus := []string{"", "UseDevelopmentEmulator=true", "UseDevelopmentEmulator=false", "usedevelopmentemulator=1",
		"UseDevelopmentEmulator=yes", "UseDevelopmentEmulator=TRUE"}
	paths := []string{"", "EntityPath=orders"}
	var out []string
	for _, ep := range endpoints {
		for _, n := range names {
			for _, k := range keys {
				for _, sg := range sigs {
					for _, em := range emus {
						for _, p := range paths {
							parts := []string{ep, n, k, sg, em, p}
							out = append(out, strings.Join(parts, ";"))
							// Reversed order and a trailing separator.
							for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
								parts[i], parts[j] = parts[j], parts[i]
							}
							out = append(out, strings.Join(parts, ";")+";")
						}
					}
				}
			}
		}
	}
	return out
}

// checkAgainstSDK fails when ParseConnectionString and the SDK disagree on s: acceptance by
// azservicebus.NewClientFromConnectionString (which parses but does not dial), and every field
// as azeventhubs.ParseConnectionString reports it (the same parser, byte for byte, exported).
func checkAgainstSDK(t *testing.T, s string) {
	t.Helper()
	ours, ourErr := ParseConnectionString(s)
	client, sbErr := azservicebus.NewClientFromConnectionString(s, nil)
	if sbErr == nil {
		// NewClientFromConnectionString hands back a half-built client with its error; only a
		// whole one may be closed.
		_ = client.Close(t.Context())
	}
	if (ourErr == nil) != (sbErr == nil) {
		t.Fatalf("disagreement on %q:\n ours: %v\n azservicebus: %v", s, ourErr, sbErr)
	}
	props, ehErr := azeventhubs.ParseConnectionString(s)
	if s != "" && (ehErr == nil) != (sbErr == nil) {
		t.Fatalf("the two SDK parsers disagree on %q: %v vs %v", s, ehErr, sbErr)
	}
	if ourErr != nil {
		return
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if ours.Endpoint != props.Endpoint || ours.Host != props.FullyQualifiedNamespace ||
		ours.EntityPath != deref(props.EntityPath) || ours.KeyName != deref(props.SharedAccessKeyName) ||
		ours.Key.Reveal() != deref(props.SharedAccessKey) || ours.SASToken.Reveal() != deref(props.SharedAccessSignature) ||
		ours.UsesSASToken() != (props.SharedAccessSignature != nil) || ours.Emulator != props.Emulator {
		t.Fatalf("fields differ for %q:\n ours: %+v (sas=%v key=%q token=%q)\n sdk: %+v", s, ours, ours.UsesSASToken(),
			ours.Key.Reveal(), ours.SASToken.Reveal(), props)
	}
}

func TestParseConnectionStringMatchesSDK(t *testing.T) {
	inputs := append(append([]string{}, sdkConnectionStringSeeds...), connectionStringVariants()...)
	accepted := 0
	for _, s := range inputs {
		checkAgainstSDK(t, s)
		if _, err := ParseConnectionString(s); err == nil {
			accepted++
		}
	}
	// The table must exercise both outcomes, or it proves nothing.
	if accepted == 0 || accepted == len(inputs) {
		t.Fatalf("%d of %d inputs accepted: the table lacks variety", accepted, len(inputs))
	}
	t.Logf("%d inputs, %d accepted by both", len(inputs), accepted)
}

// FuzzParseConnectionString checks properties of the parser on arbitrary input: no panic; an
// accepted string yields consistent fields; an error never contains the key or signature; and
// the SDK agrees on acceptance and fields.
func FuzzParseConnectionString(f *testing.F) {
	for _, s := range sdkConnectionStringSeeds {
		f.Add(s)
	}
	f.Add("Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=0123456789abcdefghijABCDEFGHIJ0123456789abc=;EntityPath=orders")
	f.Add("Shared") // once tripped a naive leak check: the word is our own, not the input's secret
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseConnectionString(s)
		if err != nil {
			msg := err.Error()
			for _, secret := range rawSecretValues(s) {
				// A "secret" the fuzzer spelled from our own wording is not a leak.
				if len(secret) >= 6 && strings.Contains(msg, secret) && !strings.Contains(errorVocabulary(), secret) {
					t.Fatalf("error %q quotes a secret from the input", msg)
				}
			}
		} else {
			if cs.Host == "" {
				t.Fatalf("accepted %q without a host", s)
			}
			if !cs.UsesSASToken() && cs.Key.Reveal() == "" && !strings.Contains(strings.ToLower(s), "sharedaccesskey=") {
				t.Fatalf("accepted %q without key or signature", s)
			}
			if cs.Cloud != CloudOfHost(cs.Host) {
				t.Fatalf("cloud %v for host %q", cs.Cloud, cs.Host)
			}
			if cs.NamespaceWide() != (cs.EntityPath == "") {
				t.Fatal("NamespaceWide inconsistent with EntityPath")
			}
			sug := cs.Suggest()
			if sug.NamespaceAddress != "sb://"+cs.Host+"/" || sug.Path != cs.EntityPath || sug.AuthType != cs.AuthType() {
				t.Fatalf("suggestion %+v inconsistent with %+v", sug, cs)
			}
		}
		checkAgainstSDK(t, s)
	})
}

// rawSecretValues pulls the SharedAccessKey and SharedAccessSignature values out of s with a
// deliberately independent, naive split.
func rawSecretValues(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			out = append(out, part) // a lone part may be a pasted key
			continue
		}
		if strings.EqualFold(k, "SharedAccessKey") || strings.EqualFold(k, "SharedAccessSignature") {
			out = append(out, v)
		}
	}
	return out
}

// errorVocabulary is every error message ParseConnectionString gives for the seeds and the
// generated variants, which reach every error branch.
var errorVocabulary = sync.OnceValue(func() string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, s := range append(append([]string{}, sdkConnectionStringSeeds...), connectionStringVariants()...) {
		if _, err := ParseConnectionString(s); err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			b.WriteString(err.Error())
			b.WriteString("\n")
		}
	}
	return b.String()
})
