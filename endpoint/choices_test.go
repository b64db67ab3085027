package endpoint

import (
	"strconv"
	"strings"
	"testing"
)

// checkChoices holds a choice type to its Dataverse codes (DOMAIN.md §2) and checks that codes
// and labels parse back, and that unknown codes are neither valid nor parsed.
func checkChoices[T interface {
	~int
	Label() string
	Valid() bool
}](t *testing.T, all []T, wantCodes []int, parse func(string) (T, bool)) {
	t.Helper()
	if len(all) != len(wantCodes) {
		t.Fatalf("%d values, want %d", len(all), len(wantCodes))
	}
	labels := map[string]bool{}
	for i, c := range all {
		if int(c) != wantCodes[i] {
			t.Errorf("value %d has code %d, want %d", i, int(c), wantCodes[i])
		}
		if !c.Valid() || strings.HasPrefix(c.Label(), "Unknown") || labels[c.Label()] {
			t.Errorf("code %d: valid=%v label %q", int(c), c.Valid(), c.Label())
		}
		labels[c.Label()] = true
		if p, ok := parse(strconv.Itoa(int(c))); !ok || p != c {
			t.Errorf("parse code %d = %v %v", int(c), p, ok)
		}
		if p, ok := parse(c.Label()); !ok || p != c {
			t.Errorf("parse label %q = %v %v", c.Label(), p, ok)
		}
	}
	for _, bad := range []int{-1, 99} {
		if T(bad).Valid() || !strings.HasPrefix(T(bad).Label(), "Unknown") {
			t.Errorf("code %d looks valid", bad)
		}
		if _, ok := parse(strconv.Itoa(bad)); ok {
			t.Errorf("code %d parsed", bad)
		}
	}
	if _, ok := parse("no such label"); ok {
		t.Error("unknown label parsed")
	}
}

func TestChoiceCodes(t *testing.T) {
	checkChoices(t, Contracts, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, ParseContract)
	checkChoices(t, MessageFormats, []int{1, 2, 3}, ParseMessageFormat)
	checkChoices(t, UserClaims, []int{1, 2, 3}, ParseUserClaim)
	checkChoices(t, AuthTypes, []int{1, 2, 3, 4, 5, 6, 7, 8}, ParseAuthType)
	checkChoices(t, NamespaceFormats, []int{1, 2}, ParseNamespaceFormat)
	checkChoices(t, ConnectionModes, []int{1, 2}, ParseConnectionMode)
	checkChoices(t, MessageCharsets, []int{0, 1}, ParseMessageCharset)
	schema := []SchemaType{SchemaTypeNone, SchemaTypeEventGrid, SchemaTypeCloudEvents}
	checkChoices(t, schema, []int{0, 1, 2}, func(s string) (SchemaType, bool) { return parseChoice(s, schema) })
}

func TestContractKinds(t *testing.T) {
	relays := map[Contract]bool{ContractOneWay: true, ContractTwoWay: true, ContractRest: true}
	serviceBus := map[Contract]bool{ContractQueue: true, ContractPersistentQueue: true, ContractTopic: true, ContractEventHub: true,
		ContractOneWay: true, ContractTwoWay: true, ContractRest: true}
	for _, c := range Contracts {
		if c.IsRelay() != relays[c] || c.IsServiceBus() != serviceBus[c] {
			t.Errorf("%v: relay=%v serviceBus=%v", c, c.IsRelay(), c.IsServiceBus())
		}
	}
	for _, a := range AuthTypes {
		want := a == AuthTypeWebhookKey || a == AuthTypeHTTPHeader || a == AuthTypeHTTPQueryString
		if a.IsWebhookAuth() != want {
			t.Errorf("%v: IsWebhookAuth=%v", a, !want)
		}
	}
	for f, ct := range map[MessageFormat]string{MessageFormatBinaryXML: "application/msbin1", MessageFormatJSON: "application/json",
		MessageFormatTextXML: "application/xml", 0: ""} {
		if f.ContentType() != ct {
			t.Errorf("%v: content type %q", f, f.ContentType())
		}
	}
}
