package dataverse_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
)

// These tests run the client against the emulator over real loopback sockets, with tokens
// obtained by azidentity from the local token issuer over https.

type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

type stack struct {
	tokens *emulator.TokenIssuer
	org    *emulator.Server
	client *dataverse.Client
	sleeps *sleepRecorder
}

var sharedIssuer struct {
	once sync.Once
	t    *emulator.TokenIssuer
	err  error
}

// issuer returns one token issuer for the whole test binary (RSA key generation is slow).
func issuer(t testing.TB) *emulator.TokenIssuer {
	sharedIssuer.once.Do(func() {
		sharedIssuer.t, sharedIssuer.err = emulator.StartTokenIssuer(emulator.TokenIssuerOptions{
			Apps: []emulator.AppRegistration{emulator.DevApp, {ClientID: "b2c3d4e5-0000-4000-8000-0000000000b2", ClientSecret: "other-secret"}},
		})
	})
	if sharedIssuer.err != nil {
		t.Fatal(sharedIssuer.err)
	}
	return sharedIssuer.t
}

// credentialConfig signs in as app through the local token issuer, trusting its certificate
// in-process.
func credentialConfig(tok *emulator.TokenIssuer, app emulator.AppRegistration) dataverse.CredentialConfig {
	return dataverse.CredentialConfig{
		Kind:          dataverse.ClientSecretCredential,
		TenantID:      tok.TenantID(),
		ClientID:      app.ClientID,
		ClientSecret:  dataverse.ConfigSecret(app.ClientSecret),
		AuthorityHost: tok.AuthorityHost(),
		AuthorityCAs:  tok.CertPool(),
	}
}

func newStack(t testing.TB, opts ...func(*dataverse.Options)) *stack {
	t.Helper()
	tok := issuer(t)
	org, err := emulator.Start(emulator.Options{Name: "Contoso Test " + t.Name(), Tokens: tok,
		Users: []emulator.AppUser{{ClientID: emulator.DevClientID}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	cred, err := credentialConfig(tok, emulator.DevApp).NewCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &sleepRecorder{}
	o := dataverse.Options{Credential: cred, AllowHTTP: true, Sleep: rec.sleep}
	for _, f := range opts {
		f(&o)
	}
	c, err := dataverse.New(org.URL(), o)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{tokens: tok, org: org, client: c, sleeps: rec}
}

func testKey(seed string) endpoint.Secret {
	k := (seed + strings.Repeat("A", 43))[:43] + "="
	return endpoint.NewSecret(k)
}

func queueEndpoint(name string) endpoint.ServiceEndpoint {
	return endpoint.ServiceEndpoint{
		Name:              name,
		Description:       "orders for " + name,
		SolutionNamespace: "contoso-payments",
		NamespaceAddress:  "sb://contoso-payments.servicebus.windows.net/",
		Path:              "orders",
		Contract:          endpoint.ContractQueue,
		ConnectionMode:    endpoint.ConnectionModeNormal,
		UserClaim:         endpoint.UserClaimNone,
		MessageFormat:     endpoint.MessageFormatJSON,
		AuthType:          endpoint.AuthTypeSASKey,
		SASKeyName:        "send",
		NamespaceFormat:   endpoint.NamespaceFormatAddress,
		SASKey:            testKey("k"),
	}
}

func TestCRUDAgainstEmulator(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()

	who, err := s.client.WhoAmI(ctx)
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	if who.OrganizationID != s.org.OrganizationID() || who.UserID == "" {
		t.Fatalf("WhoAmI = %+v, want organization %s", who, s.org.OrganizationID())
	}

	want := queueEndpoint("Orders queue")
	created, err := s.client.CreateEndpoint(ctx, want, dataverse.CreateOptions{SolutionUniqueName: "ContosoIntegrations"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.ID == "" || created.Name != want.Name || created.Path != "orders" || created.Contract != endpoint.ContractQueue {
		t.Fatalf("created = %+v", created)
	}
	if !created.IsSASKeySet || created.SASKey.IsSet() || created.IsSASTokenSet {
		t.Fatalf("secret flags after create: keyset=%v key returned=%v tokenset=%v", created.IsSASKeySet, created.SASKey.IsSet(), created.IsSASTokenSet)
	}
	if created.CreatedBy != who.UserID || created.CreatedOn.IsZero() {
		t.Fatalf("created by %q on %v, want %q", created.CreatedBy, created.CreatedOn, who.UserID)
	}
	if got := s.org.SolutionComponents("ContosoIntegrations"); len(got) != 1 || got[0] != created.ID {
		t.Fatalf("solution components = %v, want [%s]", got, created.ID)
	}

	got, err := s.client.Endpoint(ctx, created.ID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Description != want.Description || got.SASKeyName != "send" || got.NamespaceFormat != endpoint.NamespaceFormatAddress {
		t.Fatalf("get = %+v", got)
	}

	// Update without a secret keeps the stored key; cleared columns become empty.
	got.Description = ""
	got.UserClaim = endpoint.UserClaimUserInfo
	got.SASKey = endpoint.Secret{}
	if err := s.client.UpdateEndpoint(ctx, got); err != nil {
		t.Fatalf("update: %v", err)
	}
	after, err := s.client.Endpoint(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Description != "" || after.UserClaim != endpoint.UserClaimUserInfo || !after.IsSASKeySet {
		t.Fatalf("after update = %+v", after)
	}
	if !after.ModifiedOn.After(created.ModifiedOn) && !after.ModifiedOn.Equal(created.ModifiedOn) {
		t.Fatalf("modifiedon went back: %v < %v", after.ModifiedOn, created.ModifiedOn)
	}

	if err := s.client.TriggerServiceEndpointCheck(ctx, created.ID); err != nil {
		t.Fatalf("check: %v", err)
	}

	if err := s.client.DeleteEndpoint(ctx, created.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.client.Endpoint(ctx, created.ID)
	if !errors.Is(err, dataverse.NotFound) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Code != dataverse.CodeRecordNotFound || de.Status != 404 {
		t.Fatalf("not found error = %#v", err)
	}
	// Updating a deleted record must not re-create it (If-Match: *).
	if err := s.client.UpdateEndpoint(ctx, got); !errors.Is(err, dataverse.NotFound) {
		t.Fatalf("update of deleted record: %v, want NotFound", err)
	}
	if n := s.org.Count("serviceendpoints"); n != 0 {
		t.Fatalf("update re-created the record: %d rows", n)
	}
}

func seedMany(t testing.TB, org *emulator.Server, n int) {
	t.Helper()
	for i := range n {
		contract := 2
		if i%3 == 0 {
			contract = 5
		}
		_, err := org.CreateRecord("serviceendpoints", map[string]any{
			"name":              fmt.Sprintf("endpoint %05d", i),
			"solutionnamespace": "bus", "namespaceaddress": "sb://bus.servicebus.windows.net/",
			"path": fmt.Sprintf("q%d", i), "contract": contract, "connectionmode": 1, "userclaim": 1,
			"messageformat": 2, "authtype": 2, "saskeyname": "send", "saskey": testKey(fmt.Sprint(i)).Reveal(),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestPagingFollowsNextLink(t *testing.T) {
	s := newStack(t)
	seedMany(t, s.org, 23)
	var names []string
	for ep, err := range s.client.Endpoints(context.Background(), dataverse.ListOptions{OrderBy: "name desc", PageSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, ep.Name)
	}
	if len(names) != 23 {
		t.Fatalf("got %d endpoints, want 23", len(names))
	}
	for i, n := range names {
		if want := fmt.Sprintf("endpoint %05d", 22-i); n != want {
			t.Fatalf("names[%d] = %q, want %q (order or paging broken)", i, n, want)
		}
	}
	var gets, withToken int
	for _, r := range s.org.Requests() {
		if strings.HasPrefix(r, "GET serviceendpoints?") {
			gets++
			if strings.Contains(r, "$skiptoken=") {
				withToken++
			}
		}
	}
	if gets != 5 || withToken != 4 {
		t.Fatalf("page requests = %d (with skiptoken %d), want 5 (4)", gets, withToken)
	}
}

func TestEndpointsStopsEarly(t *testing.T) {
	s := newStack(t)
	seedMany(t, s.org, 12)
	n := 0
	for _, err := range s.client.Endpoints(context.Background(), dataverse.ListOptions{PageSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 3 {
			break
		}
	}
	gets := 0
	for _, r := range s.org.Requests() {
		if strings.HasPrefix(r, "GET serviceendpoints?") {
			gets++
		}
	}
	if n != 3 || gets != 1 {
		t.Fatalf("read %d records with %d page requests, want 3 with 1", n, gets)
	}
}

func TestFilters(t *testing.T) {
	s := newStack(t)
	seedMany(t, s.org, 10) // contract 5 for 0,3,6,9
	ctx := context.Background()
	odd := queueEndpoint("O'Brien's queue")
	if _, err := s.client.CreateEndpoint(ctx, odd, dataverse.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		filter string
		want   int
	}{
		{"contract eq 5", 4},
		{"contract ne 5", 7},
		{"contract eq 5 and contains(name,'00003')", 1},
		{"(contract eq 5 or contains(name, '07')) and issaskeyset eq true", 5},
		{"name eq " + dataverse.Quote("o'brien's QUEUE"), 1},
		{"contains(name," + dataverse.Quote("'") + ")", 1},
		{"not (contract eq 2)", 4},
		{"description eq null", 10},
	}
	for _, c := range cases {
		got, err := s.client.ListEndpoints(ctx, dataverse.ListOptions{Filter: c.filter})
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if len(got) != c.want {
			t.Errorf("filter %s: %d endpoints, want %d", c.filter, len(got), c.want)
		}
	}
	_, err := s.client.ListEndpoints(ctx, dataverse.ListOptions{Filter: "nosuchcolumn eq 1"})
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Kind != dataverse.Invalid || !strings.Contains(de.Message, "nosuchcolumn") {
		t.Fatalf("unknown column: %v, want Invalid naming the column", err)
	}
	_, err = s.client.ListEndpoints(ctx, dataverse.ListOptions{Filter: "contract eq 'x'"})
	if !errors.Is(err, dataverse.Invalid) {
		t.Fatalf("type mismatch: %v, want Invalid", err)
	}
}

func TestThrottlingHonoursRetryAfter(t *testing.T) {
	s := newStack(t, func(o *dataverse.Options) { o.Retry.MaxWait = 10 * time.Second })
	seedMany(t, s.org, 2)
	s.org.InjectFault(emulator.Fault{Method: "GET", Path: "serviceendpoints", Status: 429, RetryAfter: 3 * time.Second, Times: 2})
	got, err := s.client.ListEndpoints(context.Background(), dataverse.ListOptions{})
	if err != nil {
		t.Fatalf("list after throttling: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d endpoints", len(got))
	}
	waits := s.sleeps.all()
	if len(waits) != 2 {
		t.Fatalf("client waited %d times (%v), want 2", len(waits), waits)
	}
	for _, w := range waits {
		if w < 3*time.Second {
			t.Fatalf("client waited %v, less than Retry-After 3s", w)
		}
	}
}

func TestThrottlingRealWait(t *testing.T) {
	s := newStack(t, func(o *dataverse.Options) { o.Sleep = nil })
	s.org.InjectFault(emulator.Fault{Path: "WhoAmI", Status: 429, RetryAfter: time.Second})
	start := time.Now()
	if _, err := s.client.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Fatalf("WhoAmI returned after %v, before Retry-After (1s) passed", el)
	}
}

func TestThrottlingBeyondBudgetFails(t *testing.T) {
	s := newStack(t, func(o *dataverse.Options) { o.Retry = dataverse.RetryPolicy{MaxWait: 10 * time.Second} })
	s.org.InjectFault(emulator.Fault{Status: 429, RetryAfter: 2 * time.Minute, Times: -1})
	_, err := s.client.WhoAmI(context.Background())
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Kind != dataverse.Throttled || de.RetryAfter != 2*time.Minute || de.Code != "0x80072322" {
		t.Fatalf("err = %v, want Throttled with RetryAfter 2m", err)
	}
	if n := len(s.sleeps.all()); n != 0 {
		t.Fatalf("client slept %d times though Retry-After exceeded its budget", n)
	}
}

func TestUnavailableRetriedThenSurfaced(t *testing.T) {
	s := newStack(t, func(o *dataverse.Options) { o.Retry = dataverse.RetryPolicy{MaxAttempts: 3} })
	s.org.InjectFault(emulator.Fault{Status: 503, Times: -1})
	_, err := s.client.WhoAmI(context.Background())
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Kind != dataverse.Unavailable || de.Attempts != 3 {
		t.Fatalf("err = %#v, want Unavailable after 3 attempts", err)
	}
	if n := len(s.sleeps.all()); n != 2 {
		t.Fatalf("slept %d times, want 2", n)
	}
}

func TestLostResponseCreateMakesOneRecord(t *testing.T) {
	s := newStack(t)
	s.org.InjectFault(emulator.Fault{Method: "POST", Path: "serviceendpoints", DropResponse: true})
	ep := queueEndpoint("Lost answer queue")
	ep.ID = dataverse.NewGUID()
	got, err := s.client.CreateEndpoint(context.Background(), ep, dataverse.CreateOptions{})
	if err != nil {
		t.Fatalf("create with lost response: %v", err)
	}
	if got.ID != ep.ID || got.Name != ep.Name {
		t.Fatalf("got %+v", got)
	}
	if n := s.org.Count("serviceendpoints"); n != 1 {
		t.Fatalf("%d records, want exactly 1", n)
	}
	posts := 0
	for _, r := range s.org.Requests() {
		if strings.HasPrefix(r, "POST serviceendpoints") {
			posts++
		}
	}
	if posts != 2 {
		t.Fatalf("POSTs = %d, want 2 (the lost one and the retry)", posts)
	}
}

func TestDuplicateIDWithoutRetryIsConflict(t *testing.T) {
	s := newStack(t)
	ep := queueEndpoint("first")
	ep.ID = dataverse.NewGUID()
	if _, err := s.client.CreateEndpoint(context.Background(), ep, dataverse.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.client.CreateEndpoint(context.Background(), ep, dataverse.CreateOptions{})
	var de *dataverse.Error
	if !errors.As(err, &de) || !errors.Is(err, dataverse.Conflict) || !de.IsDuplicateKey() {
		t.Fatalf("second create with the same id: %v, want a duplicate-key Conflict", err)
	}
}

func TestMissingPrivilegeSurfaced(t *testing.T) {
	s := newStack(t)
	s.org.DenyPrivilege(emulator.DevClientID, emulator.PrvCreateServiceEndpoint)
	_, err := s.client.CreateEndpoint(context.Background(), queueEndpoint("denied"), dataverse.CreateOptions{})
	var de *dataverse.Error
	if !errors.As(err, &de) || !errors.Is(err, dataverse.Forbidden) {
		t.Fatalf("err = %v, want Forbidden", err)
	}
	if de.Status != 403 || de.Code != dataverse.CodeMissingPrivilege || !strings.Contains(de.Message, "prvCreateServiceEndpoint") {
		t.Fatalf("error = %+v", de)
	}
	if de.Attempts != 1 {
		t.Fatalf("a 403 was retried: %d attempts", de.Attempts)
	}
	// Reading is still allowed.
	if _, err := s.client.ListEndpoints(context.Background(), dataverse.ListOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestNotAMemberOfTheOrganization(t *testing.T) {
	tok := issuer(t)
	org, err := emulator.Start(emulator.Options{Tokens: tok}) // no application users
	if err != nil {
		t.Fatal(err)
	}
	defer org.Close()
	cred, _ := credentialConfig(tok, emulator.DevApp).NewCredential(nil)
	c, _ := dataverse.New(org.URL(), dataverse.Options{Credential: cred, AllowHTTP: true})
	_, err = c.WhoAmI(context.Background())
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Kind != dataverse.Forbidden || de.Code != dataverse.CodeNotOrgMember {
		t.Fatalf("err = %v, want Forbidden %s", err, dataverse.CodeNotOrgMember)
	}
}

func TestRuleViolationsAreInvalid(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	short := queueEndpoint("short key")
	short.SASKey = endpoint.NewSecret("Endpoint=sb://x/;SharedAccessKeyName=y")
	_, err := s.client.CreateEndpoint(ctx, short, dataverse.CreateOptions{})
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Kind != dataverse.Invalid || de.Message != "SASKey length should be 44" {
		t.Fatalf("short key: %v", err)
	}
	if strings.Contains(err.Error(), "SharedAccessKeyName=y") {
		t.Fatalf("error echoes the secret: %v", err)
	}
	hub := queueEndpoint("binary hub")
	hub.Contract, hub.MessageFormat = endpoint.ContractEventHub, endpoint.MessageFormatBinaryXML
	if _, err := s.client.CreateEndpoint(ctx, hub, dataverse.CreateOptions{}); !errors.Is(err, dataverse.Invalid) {
		t.Fatalf("event hub with binary format: %v, want Invalid", err)
	}
	long := queueEndpoint(strings.Repeat("n", 257))
	_, err = s.client.CreateEndpoint(ctx, long, dataverse.CreateOptions{})
	if !errors.As(err, &de) || de.Code != "0x80044331" {
		t.Fatalf("long name: %v", err)
	}
	noMode := queueEndpoint("no connection mode")
	noMode.ConnectionMode = 0
	if _, err := s.client.CreateEndpoint(ctx, noMode, dataverse.CreateOptions{}); !errors.Is(err, dataverse.Invalid) {
		t.Fatalf("missing connectionmode: %v, want Invalid", err)
	}
	if n := s.org.Count("serviceendpoints"); n != 0 {
		t.Fatalf("%d invalid records stored", n)
	}
}

func TestStepsListedAndCascadeDeleted(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	ep, err := s.client.CreateEndpoint(ctx, queueEndpoint("with steps"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.client.CreateEndpoint(ctx, queueEndpoint("other"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, target := range []string{ep.ID, ep.ID, other.ID} {
		_, err := s.org.CreateRecord("sdkmessageprocessingsteps", map[string]any{
			"name": fmt.Sprintf("step %d", i), "stage": 40, "mode": 1,
			"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + target + ")",
			"sdkmessageid@odata.bind":                 "/sdkmessages(" + emulator.MessageID("Create") + ")",
			"sdkmessagefilterid@odata.bind":           "/sdkmessagefilters(" + emulator.FilterID("Create", "account") + ")",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.org.CreateRecord("sdkmessageprocessingsteps", map[string]any{
		"name": "sync on service bus", "stage": 20, "mode": 0,
		"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + ep.ID + ")",
		"sdkmessageid@odata.bind":                 "/sdkmessages(" + emulator.MessageID("Create") + ")",
	})
	if err == nil {
		t.Fatal("a synchronous step on a Service Bus endpoint was accepted")
	}
	steps, err := s.client.EndpointSteps(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].Mode != 1 || steps[0].Stage != 40 || steps[0].MessageID != emulator.MessageID("Create") {
		t.Fatalf("steps = %+v", steps)
	}
	if err := s.client.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if n := s.org.Count("sdkmessageprocessingsteps"); n != 1 {
		t.Fatalf("%d steps left, want 1 (the other endpoint's)", n)
	}
	if _, err := s.client.EndpointSteps(ctx, ep.ID); !errors.Is(err, dataverse.NotFound) {
		t.Fatalf("steps of deleted endpoint: %v", err)
	}
}

func TestContextCancellation(t *testing.T) {
	s := newStack(t, func(o *dataverse.Options) { o.Sleep, o.Retry.MaxWait = nil, 2*time.Minute })
	// Cancelled while the server is slow to answer.
	s.org.InjectFault(emulator.Fault{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := s.client.WhoAmI(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow answer: %v, want DeadlineExceeded", err)
	}
	s.org.ClearFaults()
	// Cancelled while waiting out a long Retry-After.
	s.org.InjectFault(emulator.Fault{Status: 429, RetryAfter: 50 * time.Second, Times: -1})
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel2() }()
	_, err = s.client.ListEndpoints(ctx2, dataverse.ListOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel during backoff: %v, want Canceled", err)
	}
	// Already cancelled: nothing is sent.
	before := len(s.org.Requests())
	ctx3, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if err := s.client.DeleteEndpoint(ctx3, dataverse.NewGUID()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled delete: %v", err)
	}
	if after := len(s.org.Requests()); after != before {
		t.Fatalf("a cancelled call sent %d requests", after-before)
	}
}

func TestWrongSecretIsUnauthorized(t *testing.T) {
	tok := issuer(t)
	org, err := emulator.Start(emulator.Options{Tokens: tok, Users: []emulator.AppUser{{ClientID: emulator.DevClientID}}})
	if err != nil {
		t.Fatal(err)
	}
	defer org.Close()
	bad := emulator.DevApp
	bad.ClientSecret = "wrong"
	cred, _ := credentialConfig(tok, bad).NewCredential(nil)
	c, _ := dataverse.New(org.URL(), dataverse.Options{Credential: cred, AllowHTTP: true,
		Retry: dataverse.RetryPolicy{MaxAttempts: 1}})
	_, err = c.WhoAmI(context.Background())
	if !errors.Is(err, dataverse.Unauthorized) {
		t.Fatalf("err = %v, want Unauthorized", err)
	}
	if strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), "client_secret=wrong") {
		t.Fatalf("error leaks the secret: %v", err)
	}
	// Named as a token error with Entra's code and what to fix, not retried.
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Cause() != dataverse.CauseToken || de.AADSTS() != "AADSTS7000215" {
		t.Fatalf("err = %v, want a token error with AADSTS7000215", err)
	}
	for _, want := range []string{"AADSTS7000215", "not its Secret ID", "Retrying will not help"} {
		if got := dataverse.Explain(err); !strings.Contains(got, want) {
			t.Errorf("Explain = %q, want %q", got, want)
		}
	}
}

func TestTokenForAnotherEnvironmentIsRefused(t *testing.T) {
	a := newStack(t)
	b, err := emulator.Start(emulator.Options{Tokens: a.tokens, Users: []emulator.AppUser{{ClientID: emulator.DevClientID}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tok, err := a.tokens.Issue(emulator.DevClientID, a.org.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.tokens.Verify(tok, b.URL()); err == nil {
		t.Fatal("a token for environment A verified for environment B")
	}
	if _, err := a.tokens.Verify(tok, a.org.URL()); err != nil {
		t.Fatalf("token for A not accepted by A: %v", err)
	}
	if _, err := a.tokens.Verify(tok[:len(tok)-4]+"AAAA", a.org.URL()); err == nil {
		t.Fatal("a token with a forged signature verified")
	}
}

func TestHTTPSEnvironmentWithoutAllowHTTP(t *testing.T) {
	tok := issuer(t)
	org, err := emulator.Start(emulator.Options{Tokens: tok, TLS: true, Users: []emulator.AppUser{{ClientID: emulator.DevClientID}}})
	if err != nil {
		t.Fatal(err)
	}
	defer org.Close()
	if !strings.HasPrefix(org.URL(), "https://") {
		t.Fatalf("URL = %s", org.URL())
	}
	cred, _ := credentialConfig(tok, emulator.DevApp).NewCredential(nil)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: tok.CertPool()}
	c, err := dataverse.New(org.URL(), dataverse.Options{Credential: cred, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := c.CreateEndpoint(context.Background(), queueEndpoint("over https"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A lost response over TLS is recovered the same way.
	org.InjectFault(emulator.Fault{Method: "DELETE", DropResponse: true})
	if err := c.DeleteEndpoint(context.Background(), ep.ID); err != nil {
		t.Fatalf("delete with lost answer over https: %v", err)
	}
	if n := org.Count("serviceendpoints"); n != 0 {
		t.Fatalf("%d rows left", n)
	}
}
