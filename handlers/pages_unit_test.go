package handlers

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

func entry(env, name string, c endpoint.Contract, team string, result store.ValidationResult, at time.Time) *catalogEntry {
	e := catalogEntry{Env: &dataverse.Environment{ID: env, DisplayName: env},
		Endpoint: endpoint.ServiceEndpoint{ID: name + "-id", Name: name, Contract: c, NamespaceAddress: "sb://" + name + "ns.servicebus.windows.net/", Path: name + "-q"}}
	if team != "" {
		e.ViaPortal, e.Owner = true, store.Ownership{Team: team}
	}
	if result != "" {
		e.HasLastRun, e.LastRun = true, store.ValidationRun{Result: result, StartedAt: at}
	}
	return catalog.NewEntry(e)
}

func TestListQueryFiltersAndSorts(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	all := []*catalogEntry{
		entry("dev", "orders", endpoint.ContractQueue, "Integration", store.ValidationPassed, now.Add(-time.Hour)),
		entry("dev", "Billing", endpoint.ContractTopic, "Finance", store.ValidationFailed, now),
		entry("test", "audit", endpoint.ContractEventHub, "", "", time.Time{}),
	}
	names := func(q web.ListQuery) string {
		var out []string
		for _, e := range all {
			if matchesQuery(q, strings.ToLower(q.Search), e) {
				out = append(out, e.Endpoint.Name)
			}
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		q    web.ListQuery
		want string
	}{
		{web.ListQuery{}, "orders,Billing,audit"},
		{web.ListQuery{Search: "BILL"}, "Billing"},
		{web.ListQuery{Search: "ordersns.servicebus"}, "orders"},
		{web.ListQuery{Search: "audit-q"}, "audit"},
		{web.ListQuery{Environment: "test"}, "audit"},
		{web.ListQuery{Contract: "5"}, "Billing"},
		{web.ListQuery{Team: "Finance"}, "Billing"},
		{web.ListQuery{Team: "-"}, "audit"},
		{web.ListQuery{Status: "passed"}, "orders"},
		{web.ListQuery{Status: "failed"}, "Billing"},
		{web.ListQuery{Status: "never"}, "audit"},
		{web.ListQuery{Environment: "dev", Status: "never"}, ""},
	} {
		if got := names(c.q); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.q, got, c.want)
		}
	}
	sorted := func(by string) string {
		s := append([]*catalogEntry(nil), all...)
		sortEntries(s, by)
		var out []string
		for _, e := range s {
			out = append(out, e.Endpoint.Name)
		}
		return strings.Join(out, ",")
	}
	if got := sorted("name"); got != "audit,Billing,orders" {
		t.Errorf("by name: %s", got)
	}
	if got := sorted("validated"); got != "Billing,orders,audit" {
		t.Errorf("by validation: %s", got)
	}
	if got := listURL(web.ListQuery{Search: "a b", Team: "-", Sort: "name"}, 2); got != "/endpoints?page=2&q=a+b&team=-" {
		t.Errorf("listURL = %s", got)
	}
}

func TestFingerprintChangesWithAnyValue(t *testing.T) {
	p := &Pages{FingerprintKey: []byte(strings.Repeat("k", 32))}
	base := endpoint.ServiceEndpoint{Name: "n", Contract: endpoint.ContractQueue, Path: "q", SASKeyName: "send",
		SASKey: endpoint.NewSecret(strings.Repeat("a", 44)), NamespaceAddress: "sb://x.servicebus.windows.net/"}
	fp := p.fingerprint(base)
	if fp != p.fingerprint(base) {
		t.Fatal("fingerprint not stable")
	}
	changed := []func(e *endpoint.ServiceEndpoint){
		func(e *endpoint.ServiceEndpoint) { e.Name = "m" },
		func(e *endpoint.ServiceEndpoint) { e.Path = "r" },
		func(e *endpoint.ServiceEndpoint) { e.SASKey = endpoint.NewSecret(strings.Repeat("b", 44)) },
		func(e *endpoint.ServiceEndpoint) { e.MessageFormat = endpoint.MessageFormatTextXML },
		func(e *endpoint.ServiceEndpoint) { e.Description = "d" },
	}
	for i, change := range changed {
		e := base
		change(&e)
		if p.fingerprint(e) == fp {
			t.Errorf("change %d did not change the fingerprint", i)
		}
	}
	if strings.Contains(fp, strings.Repeat("a", 10)) {
		t.Fatal("fingerprint shows the key")
	}
}

func TestPastedSecret(t *testing.T) {
	ep := endpoint.ServiceEndpoint{ID: "1", Name: "n", Contract: endpoint.ContractQueue, Path: "orders", SASKeyName: "old",
		AuthType: endpoint.AuthTypeSASKey, NamespaceAddress: "sb://mybus.servicebus.windows.net/"}
	key := strings.Repeat("K", 43) + "="
	got, _, errs := pastedCredential(ep, endpoint.CredentialInput{ConnectionString: endpoint.NewSecret("Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + key + ";EntityPath=orders")})
	if errs != nil || got.SASKeyName != "send" || got.SASKey.Reveal() != key {
		t.Fatalf("connection string: %+v %v", got, errs)
	}
	if _, _, errs := pastedCredential(ep, endpoint.CredentialInput{ConnectionString: endpoint.NewSecret("Endpoint=sb://other.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + key)}); errs == nil || !strings.Contains(errs["connectionstring"][0], "namespace other.servicebus.windows.net") {
		t.Fatalf("other namespace accepted: %v", errs)
	}
	if got, _, errs := pastedCredential(ep, endpoint.CredentialInput{ConnectionString: endpoint.NewSecret(key)}); errs != nil || got.SASKey.Reveal() != key || got.SASKeyName != "old" {
		t.Fatalf("bare key: %v", errs)
	}
	if _, _, errs := pastedCredential(ep, endpoint.CredentialInput{ConnectionString: endpoint.NewSecret("short")}); errs == nil || strings.Contains(errs["connectionstring"][0], "short") {
		t.Fatalf("short key: %v", errs)
	}
	hook := endpoint.ServiceEndpoint{Contract: endpoint.ContractWebhook, AuthType: endpoint.AuthTypeHTTPHeader}
	got, _, errs = pastedCredential(hook, endpoint.CredentialInput{PairLines: endpoint.NewSecret("x-api-key = abc\n\n")})
	if errs != nil {
		t.Fatal(errs)
	}
	settings, err := endpoint.ParseWebhookSettings(got.AuthValue)
	if err != nil || len(settings) != 1 || settings[0].Name != "x-api-key" || settings[0].Value.Reveal() != "abc" {
		t.Fatalf("settings %+v %v", settings, err)
	}
}

func TestAuditChangesAndSnapshotHideSecrets(t *testing.T) {
	before := endpoint.ServiceEndpoint{Name: "a", Path: "q1", SASKey: endpoint.NewSecret("SECRETKEY")}
	after := before
	after.Path = "q2"
	b, a := auditSnapshot(before), auditSnapshot(after)
	if strings.Contains(string(b), "SECRETKEY") {
		t.Fatalf("secret in snapshot: %s", b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["issaskeyset"] != true {
		t.Fatalf("snapshot %s", b)
	}
	ch := changes(b, a)
	if len(ch) != 1 || ch[0].Label != "path" || ch[0].Value != "q1 → q2" {
		t.Fatalf("changes %+v", ch)
	}
}

// TestSnapshotAndFingerprintFollowTheColumnTable changes each field of the endpoint in turn: a
// column the table writes changes the fingerprint and (unless it is a secret already set) the
// audit snapshot, without either spelling the columns.
func TestSnapshotAndFingerprintFollowTheColumnTable(t *testing.T) {
	p := &Pages{FingerprintKey: []byte(strings.Repeat("k", 32))}
	base := endpoint.ServiceEndpoint{Name: "n", Contract: endpoint.ContractQueue}
	values := func(e endpoint.ServiceEndpoint) map[string]any {
		m := map[string]any{}
		for name, v := range dataverse.EndpointValues(e) {
			m[name] = v
		}
		return m
	}
	columns := 0
	typ := reflect.TypeFor[endpoint.ServiceEndpoint]()
	for i := range typ.NumField() {
		e := base
		f := reflect.ValueOf(&e).Elem().Field(i)
		switch v := f.Addr().Interface().(type) {
		case *endpoint.Secret:
			*v = endpoint.NewSecret("PLAINTEXT-" + typ.Field(i).Name)
		case *time.Time:
			*v = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		case *string:
			*v = "changed"
		case *bool:
			*v = true
		default:
			if f.CanInt() {
				f.SetInt(f.Int() + 1)
			} else {
				t.Fatalf("field %s: add its kind to this test", typ.Field(i).Name)
			}
		}
		if reflect.DeepEqual(values(e), values(base)) {
			continue // not a column a person sets (the id, the read-only ones)
		}
		columns++
		if p.fingerprint(e) == p.fingerprint(base) {
			t.Errorf("%s: fingerprint unchanged", typ.Field(i).Name)
		}
		snap := auditSnapshot(e)
		if string(snap) == string(auditSnapshot(base)) {
			t.Errorf("%s: audit snapshot unchanged", typ.Field(i).Name)
		}
		if strings.Contains(string(snap), "PLAINTEXT") {
			t.Errorf("%s: secret in the audit snapshot: %s", typ.Field(i).Name, snap)
		}
	}
	if columns != len(values(base)) {
		t.Errorf("%d fields changed a column, the table has %d", columns, len(values(base)))
	}
}
