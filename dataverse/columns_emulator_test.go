package dataverse_test

import (
	"context"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
)

// everyColumn sets every writable column of the serviceendpoint table (variant 1 or 2, which
// differ in each of them) with values Dataverse's rules accept.
func everyColumn(variant int) endpoint.ServiceEndpoint {
	v := []string{"", "first", "second"}[variant]
	ep := endpoint.ServiceEndpoint{
		Name:                     "Every column " + v,
		Description:              "all columns set, " + v,
		SolutionNamespace:        "contoso-" + v,
		NamespaceAddress:         "sb://contoso-" + v + ".servicebus.windows.net/",
		Path:                     "orders-" + v,
		URL:                      "https://hooks.contoso.example/" + v,
		SASKeyName:               "send-" + v,
		SASKey:                   testKey(v),
		SASToken:                 endpoint.NewSecret("SharedAccessSignature sr=x&sig=" + v + "&se=1&skn=send"),
		AuthValue:                endpoint.NewSecret("webhook-key-" + v),
		KeyVaultReferenceID:      "6f1e2a4c-3333-4000-8000-00000000000" + string(rune('0'+variant)),
		UseKeyVaultConfiguration: variant == 1,
	}
	if variant == 1 {
		ep.Contract, ep.ConnectionMode, ep.UserClaim, ep.MessageFormat = endpoint.ContractQueue, endpoint.ConnectionModeNormal, endpoint.UserClaimNone, endpoint.MessageFormatJSON
		ep.AuthType, ep.NamespaceFormat, ep.MessageCharset, ep.SchemaType = endpoint.AuthTypeSASKey, endpoint.NamespaceFormatAddress, endpoint.MessageCharsetUTF8, endpoint.SchemaTypeEventGrid
	} else {
		ep.Contract, ep.ConnectionMode, ep.UserClaim, ep.MessageFormat = endpoint.ContractTopic, endpoint.ConnectionModeFederated, endpoint.UserClaimUserInfo, endpoint.MessageFormatTextXML
		ep.AuthType, ep.NamespaceFormat, ep.MessageCharset, ep.SchemaType = endpoint.AuthTypeSASToken, endpoint.NamespaceFormatName, endpoint.MessageCharsetDefault, endpoint.SchemaTypeCloudEvents
	}
	return ep
}

func isZero(v any) bool { return v == nil || reflect.ValueOf(v).IsZero() }

// TestEveryColumnRoundTrips writes every column of the table through the client into the
// emulator (create, then update to other values) and reads it back: readable writable columns
// come back as written, write-only ones never come back, read-only ones are filled by
// Dataverse. A column added to the table is covered once everyColumn sets it.
func TestEveryColumnRoundTrips(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	table := dataverse.EndpointTable()
	first, second := everyColumn(1), everyColumn(2)
	first.ID = dataverse.NewGUID()
	second.ID = first.ID
	for _, c := range table {
		if c.Creatable && isZero(c.Value(&first)) {
			t.Errorf("everyColumn(1) leaves column %s zero: set it so the round trip covers it", c.Name)
		}
		if c.Updatable && reflect.DeepEqual(c.Value(&first), c.Value(&second)) {
			t.Errorf("everyColumn(1) and (2) agree on column %s: make them differ so the update covers it", c.Name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// mayBeZero are read-only columns whose honest value here is their zero value.
	mayBeZero := map[string]bool{"ismanaged": true}
	check := func(stage string, want, got endpoint.ServiceEndpoint) {
		t.Helper()
		for _, c := range table {
			w, g := c.Value(&want), c.Value(&got)
			switch {
			case c.ReadAs == "":
				if !isZero(g) {
					t.Errorf("%s: write-only column %s was read back", stage, c.Name)
				}
			case c.Creatable || c.Updatable:
				if !reflect.DeepEqual(w, g) {
					t.Errorf("%s: column %s = %v, wrote %v", stage, c.Name, g, w)
				}
			default:
				if isZero(g) && !mayBeZero[c.Name] {
					t.Errorf("%s: read-only column %s is empty", stage, c.Name)
				}
			}
		}
	}

	created, err := s.client.CreateEndpoint(ctx, first, dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("create answer", first, created)
	got, err := s.client.Endpoint(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("read after create", first, got)

	if err := s.client.UpdateEndpoint(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, err = s.client.Endpoint(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("read after update", second, got)

	// $select is exactly the table's readable columns, in its order, and that is what reached
	// the emulator.
	var readable []string
	for _, c := range table {
		if c.ReadAs != "" {
			readable = append(readable, c.ReadAs)
		}
	}
	if !slices.Equal(dataverse.EndpointColumns, readable) {
		t.Errorf("EndpointColumns = %v, want the readable columns %v", dataverse.EndpointColumns, readable)
	}
	for _, r := range s.org.Requests() {
		if !strings.HasPrefix(r, "GET serviceendpoints(") {
			continue
		}
		_, query, _ := strings.Cut(r, "?")
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		if sel := q.Get("$select"); sel != strings.Join(readable, ",") {
			t.Errorf("$select sent = %s, want %s", sel, strings.Join(readable, ","))
		}
	}
}

func TestFormatDateTime(t *testing.T) {
	in := time.Date(2026, 11, 30, 13, 4, 31, 250_000_000, time.FixedZone("CET", 3600))
	if got := dataverse.FormatDateTime(in); got != "2026-11-30T12:04:31.250Z" {
		t.Errorf("FormatDateTime = %q", got)
	}
	if got := dataverse.FormatDateTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "2026-01-02T03:04:05.000Z" {
		t.Errorf("FormatDateTime = %q", got)
	}
}

// TestDeltaQuery lists the records modified at or after a time, as a cache refreshing itself
// would, against the emulator over a real socket with changes placed at known times.
func TestDeltaQuery(t *testing.T) {
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := base
	at := func(d time.Duration) { mu.Lock(); now = base.Add(d); mu.Unlock() }
	tok := issuer(t)
	org, err := emulator.Start(emulator.Options{Tokens: tok, Users: []emulator.AppUser{{ClientID: emulator.DevClientID}},
		Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer org.Close()
	cred, err := credentialConfig(tok, emulator.DevApp).NewCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dataverse.New(org.URL(), dataverse.Options{Credential: cred, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	a, err := c.CreateEndpoint(ctx, queueEndpoint("a"), dataverse.CreateOptions{}) // 12:00:00
	if err != nil {
		t.Fatal(err)
	}
	at(2 * time.Second)
	if _, err := c.CreateEndpoint(ctx, queueEndpoint("b"), dataverse.CreateOptions{}); err != nil { // 12:00:02
		t.Fatal(err)
	}
	at(4500 * time.Millisecond)
	if _, err := c.CreateEndpoint(ctx, queueEndpoint("c"), dataverse.CreateOptions{}); err != nil { // 12:00:04
		t.Fatal(err)
	}
	at(6 * time.Second)
	a.Description = "changed" // a moves to 12:00:06
	a.SASKey = endpoint.Secret{}
	if err := c.UpdateEndpoint(ctx, a); err != nil {
		t.Fatal(err)
	}

	all, err := c.ListEndpoints(ctx, dataverse.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, since := range []time.Time{
		base.Add(-time.Hour), base, base.Add(time.Second), base.Add(2 * time.Second),
		base.Add(2001 * time.Millisecond), base.Add(4 * time.Second), base.Add(6 * time.Second),
		base.Add(6 * time.Second).In(time.FixedZone("EST", -5*3600)), base.Add(7 * time.Second),
	} {
		var want []string
		for _, ep := range all {
			if !ep.ModifiedOn.Before(since) {
				want = append(want, ep.Name)
			}
		}
		got, err := c.ListEndpoints(ctx, dataverse.ListOptions{Filter: "modifiedon ge " + dataverse.FormatDateTime(since), OrderBy: "name"})
		if err != nil {
			t.Fatalf("since %v: %v", since, err)
		}
		var names []string
		for _, ep := range got {
			names = append(names, ep.Name)
		}
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("modified since %s: %v, want %v", dataverse.FormatDateTime(since), names, want)
		}
	}
	// The boundaries are where they were placed: a at 12:00:06 (updated), c at 12:00:04.
	mod := map[string]time.Time{}
	for _, ep := range all {
		mod[ep.Name] = ep.ModifiedOn
	}
	if !mod["a"].Equal(base.Add(6*time.Second)) || !mod["b"].Equal(base.Add(2*time.Second)) || !mod["c"].Equal(base.Add(4*time.Second)) {
		t.Fatalf("modifiedon = %v", mod)
	}
	if n := org.RequestCount("GET", "serviceendpoints"); n != 10 {
		t.Errorf("list queries = %d, want 10 (one full list and nine deltas)", n)
	}
}
