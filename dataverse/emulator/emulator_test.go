package emulator

import (
	"encoding/json"
	"go/build"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	issuerOnce sync.Once
	testIssuer *TokenIssuer
	issuerErr  error
)

func tokens(t testing.TB) *TokenIssuer {
	issuerOnce.Do(func() {
		testIssuer, issuerErr = StartTokenIssuer(TokenIssuerOptions{Apps: []AppRegistration{DevApp}})
	})
	if issuerErr != nil {
		t.Fatal(issuerErr)
	}
	return testIssuer
}

type org struct {
	t     testing.TB
	s     *Server
	token string
}

func startOrg(t testing.TB, file string) *org {
	t.Helper()
	s, err := Start(Options{Name: "Test " + t.Name(), Tokens: tokens(t), DataFile: file, Users: []AppUser{{ClientID: DevClientID}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, err := tokens(t).Issue(DevClientID, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &org{t: t, s: s, token: tok}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (o *org) do(method, path string, body any, hdr ...string) answer {
	o.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, o.s.URL()+APIPath+path, rd)
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (a answer) errCode() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func validQueue(name string) map[string]any {
	return map[string]any{
		"name": name, "solutionnamespace": "bus", "namespaceaddress": "sb://bus.servicebus.windows.net/",
		"path": "orders", "contract": 2, "connectionmode": 1, "userclaim": 1, "messageformat": 2,
		"namespaceformat": 2, "authtype": 2, "saskeyname": "send", "saskey": strings.Repeat("k", 43) + "=",
	}
}

func TestBearerTokenRequired(t *testing.T) {
	o := startOrg(t, "")
	for _, p := range []string{"WhoAmI", "WhoAmI()"} {
		if a := o.do("GET", p, nil); a.status != 200 || a.body["OrganizationId"] != o.s.OrganizationID() {
			t.Fatalf("%s with a valid token: %d %s", p, a.status, a.raw)
		}
	}
	for _, tok := range []string{"", "not-a-jwt", o.token[:len(o.token)-3] + "abc"} {
		o.token = tok
		a := o.do("GET", "WhoAmI", nil)
		if a.status != 401 {
			t.Fatalf("token %q: status %d", tok, a.status)
		}
		ch := a.header.Get("WWW-Authenticate")
		if !strings.HasPrefix(ch, "Bearer authorization_uri=https://127.0.0.1:") || !strings.Contains(ch, "resource_id="+o.s.URL()) {
			t.Fatalf("challenge = %q", ch)
		}
	}
	other, _ := tokens(t).Issue(DevClientID, "https://someone-else.crm.dynamics.com")
	o.token = other
	if a := o.do("GET", "WhoAmI", nil); a.status != 401 {
		t.Fatalf("token for another audience: status %d", a.status)
	}
}

func TestCreateShapes(t *testing.T) {
	o := startOrg(t, "")
	a := o.do("POST", "serviceendpoints", validQueue("plain"))
	if a.status != 204 || !strings.HasPrefix(a.header.Get("OData-EntityId"), o.s.URL()+APIPath+"serviceendpoints(") || a.raw != "" {
		t.Fatalf("create = %d %q %q", a.status, a.header.Get("OData-EntityId"), a.raw)
	}
	a = o.do("POST", "serviceendpoints?$select=name,saskey,issaskeyset", validQueue("represented"), "Prefer", "return=representation")
	if a.status != 201 {
		t.Fatalf("create with representation = %d %s", a.status, a.raw)
	}
	wantKeys := []string{"@odata.context", "@odata.etag", "name", "saskey", "issaskeyset", "serviceendpointid"}
	if len(a.body) != len(wantKeys) {
		t.Fatalf("body keys = %v, want %v", a.body, wantKeys)
	}
	for _, k := range wantKeys {
		if _, ok := a.body[k]; !ok {
			t.Fatalf("body lacks %s: %s", k, a.raw)
		}
	}
	if a.body["saskey"] != nil || a.body["issaskeyset"] != true {
		t.Fatalf("secret returned or flag unset: %s", a.raw)
	}
	if strings.Contains(a.raw, strings.Repeat("k", 43)) {
		t.Fatalf("the SAS key came back: %s", a.raw)
	}
	if !strings.HasSuffix(a.body["@odata.context"].(string), "$metadata#serviceendpoints/$entity") {
		t.Fatalf("context = %v", a.body["@odata.context"])
	}
	// A full read never returns secrets either.
	id := a.body["serviceendpointid"].(string)
	full := o.do("GET", "serviceendpoints("+id+")", nil)
	if full.status != 200 || strings.Contains(full.raw, strings.Repeat("k", 43)) || full.body["saskey"] != nil {
		t.Fatalf("get = %d %s", full.status, full.raw)
	}
	if _, ok := full.body["sastoken"]; !ok {
		t.Fatalf("write-only columns should read as null, not be absent: %s", full.raw)
	}
}

func TestPayloadAndRuleErrors(t *testing.T) {
	o := startOrg(t, "")
	mod := func(f func(map[string]any)) map[string]any {
		q := validQueue("x")
		f(q)
		return q
	}
	cases := []struct {
		name    string
		body    map[string]any
		code    string
		message string
	}{
		{"unknown column", mod(func(q map[string]any) { q["colour"] = "red" }), codePayload, "colour"},
		{"read-only column", mod(func(q map[string]any) { q["issaskeyset"] = true }), codePayload, "read-only"},
		{"wrong type", mod(func(q map[string]any) { q["contract"] = "queue" }), codePayload, "Edm.Int32"},
		{"choice out of range", mod(func(q map[string]any) { q["contract"] = 42 }), codeOutOfRange, "Accepted Values: 1,2,3,4,5,6,7,8,9,10"},
		{"name too long", mod(func(q map[string]any) { q["name"] = strings.Repeat("é", 257) }), codeLengthExceeded, "'name'"},
		{"missing userclaim", mod(func(q map[string]any) { delete(q, "userclaim") }), codeInvalidArgument, "userclaim"},
		{"short key", mod(func(q map[string]any) { q["saskey"] = "abc" }), codeInvalidArgument, "SASKey length should be 44"},
		{"no key", mod(func(q map[string]any) { delete(q, "saskey") }), codeInvalidArgument, "SAS Key is required"},
		{"sas token missing", mod(func(q map[string]any) { q["authtype"] = 3 }), codeInvalidArgument, "SAS Token is required"},
		{"queue over https", mod(func(q map[string]any) { q["namespaceaddress"] = "https://bus.servicebus.windows.net/" }), codeInvalidArgument, "sb://"},
		{"relay over sb", mod(func(q map[string]any) { q["contract"] = 4 }), codeInvalidArgument, "https://"},
		{"no path", mod(func(q map[string]any) { delete(q, "path") }), codeInvalidArgument, "path"},
		{"acs", mod(func(q map[string]any) { q["authtype"] = 1 }), codeInvalidArgument, "ACS"},
		{"webhook port", map[string]any{"name": "w", "url": "https://hooks.example:8443/x", "contract": 8, "connectionmode": 1, "userclaim": 1, "authtype": 4, "authvalue": "k"}, codeInvalidArgument, "ports 80 and 443"},
		{"webhook header xml", map[string]any{"name": "w", "url": "https://hooks.example/x", "contract": 8, "connectionmode": 1, "userclaim": 1, "authtype": 5, "authvalue": "k=v"}, codeInvalidArgument, "<settings>"},
		{"webhook sas", map[string]any{"name": "w", "url": "https://hooks.example/x", "contract": 8, "connectionmode": 1, "userclaim": 1, "authtype": 2}, codeInvalidArgument, "WebhookKey (4)"},
	}
	for _, c := range cases {
		a := o.do("POST", "serviceendpoints", c.body)
		msg, _ := a.body["error"].(map[string]any)["message"].(string)
		if a.status != 400 || a.errCode() != c.code || !strings.Contains(msg, c.message) {
			t.Errorf("%s: %d %s %q, want 400 %s containing %q", c.name, a.status, a.errCode(), msg, c.code, c.message)
		}
	}
	if a := o.do("POST", "serviceendpoints", validQueue("no content type"), "Content-Type", "text/plain"); a.status != 415 {
		t.Errorf("text/plain body: %d", a.status)
	}
	ok := map[string]any{"name": "w", "url": "https://hooks.example/x", "contract": 8, "connectionmode": 1, "userclaim": 1, "authtype": 5,
		"authvalue": `<settings><setting name="x-api-key" value="v" /></settings>`}
	if a := o.do("POST", "serviceendpoints", ok); a.status != 204 {
		t.Fatalf("valid header webhook: %d %s", a.status, a.raw)
	}
	if n := o.s.Count("serviceendpoints"); n != 1 {
		t.Fatalf("%d rows stored, want only the valid one", n)
	}
}

func TestIfMatchAndUpsert(t *testing.T) {
	o := startOrg(t, "")
	id := "6f1e2a4c-2222-4000-8000-000000000001"
	// PATCH with If-Match on a missing record: 404, nothing created.
	if a := o.do("PATCH", "serviceendpoints("+id+")", validQueue("x"), "If-Match", "*"); a.status != 404 || a.errCode() != codeNotFound {
		t.Fatalf("patch missing with If-Match: %d %s", a.status, a.raw)
	}
	// PATCH without If-Match is an upsert.
	if a := o.do("PATCH", "serviceendpoints("+id+")", validQueue("upserted")); a.status != 204 {
		t.Fatalf("upsert: %d %s", a.status, a.raw)
	}
	got := o.do("GET", "serviceendpoints("+id+")?$select=name", nil)
	tag := got.body["@odata.etag"].(string)
	if got.header.Get("ETag") != tag || !strings.HasPrefix(tag, `W/"`) {
		t.Fatalf("etag %q / header %q", tag, got.header.Get("ETag"))
	}
	if a := o.do("PATCH", "serviceendpoints("+id+")", map[string]any{"description": "v2"}, "If-Match", tag); a.status != 204 {
		t.Fatalf("patch with current etag: %d %s", a.status, a.raw)
	}
	if a := o.do("PATCH", "serviceendpoints("+id+")", map[string]any{"description": "v3"}, "If-Match", tag); a.status != 412 || a.errCode() != codeVersionMismatch {
		t.Fatalf("patch with stale etag: %d %s", a.status, a.raw)
	}
	if a := o.do("PATCH", "serviceendpoints("+id+")", validQueue("again"), "If-None-Match", "*"); a.status != 412 || a.errCode() != codeDuplicateKey {
		t.Fatalf("create-only patch on existing: %d %s", a.status, a.raw)
	}
	// An update that breaks a rule is refused and changes nothing.
	if a := o.do("PATCH", "serviceendpoints("+id+")", map[string]any{"authtype": 3}, "If-Match", "*"); a.status != 400 {
		t.Fatalf("patch to SAS token without token: %d %s", a.status, a.raw)
	}
	if a := o.do("GET", "serviceendpoints("+id+")?$select=authtype,description", nil); a.body["authtype"] != 2.0 || a.body["description"] != "v2" {
		t.Fatalf("after refused patch: %s", a.raw)
	}
	body := validQueue("dup")
	body["serviceendpointid"] = id
	if a := o.do("POST", "serviceendpoints", body); a.status != 412 || a.errCode() != codeDuplicateKey {
		t.Fatalf("duplicate create: %d %s", a.status, a.raw)
	}
}

func TestQueryOptions(t *testing.T) {
	o := startOrg(t, "")
	for i := range 7 {
		q := validQueue("n" + string(rune('a'+i)))
		if i%2 == 0 {
			q["description"] = "even"
		}
		if a := o.do("POST", "serviceendpoints", q); a.status != 204 {
			t.Fatal(a.raw)
		}
	}
	a := o.do("GET", "serviceendpoints?$select=name&$filter=description%20eq%20'EVEN'&$orderby=name%20desc", nil, "Prefer", "odata.maxpagesize=3")
	if a.status != 200 || a.header.Get("Preference-Applied") != "odata.maxpagesize=3" {
		t.Fatalf("%d %v %s", a.status, a.header, a.raw)
	}
	vals := a.body["value"].([]any)
	if len(vals) != 3 || vals[0].(map[string]any)["name"] != "ng" || vals[2].(map[string]any)["name"] != "nc" {
		t.Fatalf("page 1 = %s", a.raw)
	}
	next, _ := a.body["@odata.nextLink"].(string)
	if !strings.Contains(next, "$skiptoken=") || !strings.Contains(next, "$select=name") {
		t.Fatalf("nextLink = %q", next)
	}
	if ctx := a.body["@odata.context"].(string); !strings.HasSuffix(ctx, "$metadata#serviceendpoints(name)") {
		t.Fatalf("context = %q", ctx)
	}
	page2 := o.do("GET", strings.TrimPrefix(next, o.s.URL()+APIPath), nil, "Prefer", "odata.maxpagesize=3")
	vals = page2.body["value"].([]any)
	if len(vals) != 1 || vals[0].(map[string]any)["name"] != "na" || page2.body["@odata.nextLink"] != nil {
		t.Fatalf("page 2 = %s", page2.raw)
	}
	for _, bad := range []string{"$skip=2", "$filter=name%20eq", "$filter=contains(contract,'2')", "$orderby=name%20sideways", "$select=nope", "$skiptoken=garbage"} {
		if a := o.do("GET", "serviceendpoints?"+bad, nil); a.status != 400 {
			t.Errorf("%s: status %d", bad, a.status)
		}
	}
	big := o.do("GET", "serviceendpoints?$select=name", nil, "Prefer", "odata.maxpagesize=9000")
	if big.header.Get("Preference-Applied") != "odata.maxpagesize=5000" {
		t.Fatalf("page size not capped: %v", big.header)
	}
}

func TestFilterParser(t *testing.T) {
	row := record{"name": "O'Brien Orders", "contract": 2.0, "issaskeyset": true, "description": nil,
		"serviceendpointid": "6f1e2a4c-2222-4000-8000-000000000001"}
	cases := map[string]bool{
		"name eq 'o''brien orders'":                                      true,
		"name ne 'x' and contract eq 2":                                  true,
		"contract gt 1 and contract lt 3 and contract ge 2":              true,
		"contract le 1 or (issaskeyset eq true and not (contract eq 5))": true,
		"startswith(name,'o''b') and endswith(name, 'ORDERS')":           true,
		"contains(name,'xyz')":                                           false,
		"description eq null":                                            true,
		"description ne null":                                            false,
		"serviceendpointid eq 6F1E2A4C-2222-4000-8000-000000000001":      true,
		"contract eq -1":                                                 false,
	}
	for src, want := range cases {
		f, err := parseFilter(serviceEndpointEntity, src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := f.match(row); got != want {
			t.Errorf("%s: match = %v, want %v", src, got, want)
		}
	}
	for _, bad := range []string{"", "name", "name eq", "name eq 'x", "(name eq 'x'", "name eq 'x')", "name like 'x'",
		"contract eq '2'", "name eq 2", "issaskeyset eq 1", "serviceendpointid eq 'abc'", "nope eq 1", "name eq 'a' and", "contract eq 12abc", "name eq 'x' # y"} {
		if _, err := parseFilter(serviceEndpointEntity, bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"name eq 'x'", "(contract eq 2 or contains(name,'a')) and not issaskeyset eq true", "a eq null", "'''", "(((", "-1",
		"modifiedon ge 2026-11-30T12:04:31.250+01:00", "createdon lt 2026-11-30T12:04Z"} {
		f.Add(s)
	}
	row := record{"name": "x", "contract": 2.0, "modifiedon": "2026-11-30T12:04:31Z"}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := parseFilter(serviceEndpointEntity, s); err == nil {
			e.match(row)
		}
	})
}

func TestFaultsAndAdminEndpoint(t *testing.T) {
	o := startOrg(t, "")
	resp, err := http.Post(o.s.URL()+"/_emulator/faults", "application/json", strings.NewReader(`{"status":429,"retryAfter":1500000000,"times":2}`))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("admin: %v %v", err, resp)
	}
	for range 2 {
		a := o.do("GET", "WhoAmI", nil)
		if a.status != 429 || a.header.Get("Retry-After") != "2" || a.errCode() != codeThrottled {
			t.Fatalf("throttled answer = %d %v %s", a.status, a.header, a.raw)
		}
	}
	if a := o.do("GET", "WhoAmI", nil); a.status != 200 {
		t.Fatalf("fault outlived its count: %d", a.status)
	}
	o.s.InjectFault(Fault{Method: "DELETE", Status: 503, Times: -1})
	if a := o.do("GET", "WhoAmI", nil); a.status != 200 {
		t.Fatalf("fault for DELETE hit a GET: %d", a.status)
	}
	req, _ := http.NewRequest("DELETE", o.s.URL()+"/_emulator/faults", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatal(err)
	}
	o.s.InjectFault(Fault{Method: "POST", DropResponse: true})
	req, _ = http.NewRequest("POST", o.s.URL()+APIPath+"serviceendpoints", strings.NewReader(mustJSON(validQueue("dropped"))))
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("dropped response arrived")
	}
	if n := o.s.Count("serviceendpoints"); n != 1 {
		t.Fatalf("dropped create not committed: %d rows", n)
	}
	o.s.InjectFault(Fault{Latency: 150 * time.Millisecond})
	start := time.Now()
	o.do("GET", "WhoAmI", nil)
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("latency not applied")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestPrivilegeDenied(t *testing.T) {
	o := startOrg(t, "")
	o.s.DenyPrivilege(DevClientID, PrvDeleteServiceEndpoint)
	o.do("POST", "serviceendpoints", validQueue("keep"))
	list := o.do("GET", "serviceendpoints?$select=name", nil)
	id := list.body["value"].([]any)[0].(map[string]any)["serviceendpointid"].(string)
	a := o.do("DELETE", "serviceendpoints("+id+")", nil)
	msg, _ := a.body["error"].(map[string]any)["message"].(string)
	if a.status != 403 || a.errCode() != codeMissingPrivilege || !strings.Contains(msg, "prvDeleteServiceEndpoint") || !strings.Contains(msg, "OTC=4618") {
		t.Fatalf("delete without privilege: %d %s", a.status, a.raw)
	}
	o.s.GrantPrivilege(DevClientID, PrvDeleteServiceEndpoint)
	if a := o.do("DELETE", "serviceendpoints("+id+")", nil); a.status != 204 {
		t.Fatalf("delete after grant: %d", a.status)
	}
}

func TestSQLitePersistence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "org.db")
	o := startOrg(t, file)
	o.do("POST", "serviceendpoints", validQueue("kept"))
	ep := o.do("GET", "serviceendpoints?$select=name", nil).body["value"].([]any)[0].(map[string]any)
	o.do("PATCH", "serviceendpoints("+ep["serviceendpointid"].(string)+")", map[string]any{"description": "changed"}, "If-Match", "*")
	o.s.Close()

	o2 := startOrg(t, file)
	a := o2.do("GET", "serviceendpoints("+ep["serviceendpointid"].(string)+")?$select=name,description,issaskeyset", nil)
	if a.status != 200 || a.body["description"] != "changed" || a.body["issaskeyset"] != true {
		t.Fatalf("after reopen: %d %s", a.status, a.raw)
	}
	// Version numbers keep increasing across restarts, so old etags stay stale.
	o2.do("PATCH", "serviceendpoints("+ep["serviceendpointid"].(string)+")", map[string]any{"description": "again"}, "If-Match", "*")
	b := o2.do("GET", "serviceendpoints("+ep["serviceendpointid"].(string)+")?$select=name", nil)
	if b.body["@odata.etag"] == a.body["@odata.etag"] {
		t.Fatalf("etag unchanged after update: %v", b.body["@odata.etag"])
	}
}

func TestDevStackSeeds(t *testing.T) {
	d, err := StartDev(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(d.Environments) != 2 || d.Environments[0].Name() != "Contoso Dev" || d.Environments[1].Name() != "Contoso Test" {
		t.Fatalf("environments = %d", len(d.Environments))
	}
	for _, s := range d.Environments {
		if s.Count("serviceendpoints") == 0 || s.Count("sdkmessageprocessingsteps") == 0 {
			t.Errorf("%s not seeded", s.Name())
		}
		// The dev app is an application user of each organization.
		tok, err := d.Tokens.Issue(DevClientID, s.URL())
		if err != nil {
			t.Fatal(err)
		}
		o := &org{t: t, s: s, token: tok}
		if a := o.do("GET", "WhoAmI", nil); a.status != 200 {
			t.Errorf("%s: WhoAmI as the dev app = %d %s", s.Name(), a.status, a.raw)
		}
	}
}

// TestImportsNothingOfThePortal keeps the emulator independent: it checks the portal's client
// and rules, so it must not share their code.
func TestImportsNothingOfThePortal(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/contoso/sbportal/") {
			t.Errorf("the emulator imports %s", imp)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add(mustJSON(validQueue("x")))
	f.Add(`{"keyvaultreferenceid@odata.bind":"/keyvaultreferences(6f1e2a4c-2222-4000-8000-000000000001)"}`)
	f.Add(`{"contract":1e99}`)
	f.Add(`{"name":null,"saskey":"` + strings.Repeat("k", 44) + `"}`)
	f.Fuzz(func(t *testing.T, body string) {
		set, err := decodePayload(serviceEndpointEntity, []byte(body))
		if err != nil {
			if err.status != 400 || err.code == "" {
				t.Fatalf("bad error %+v", err)
			}
			return
		}
		full := record{}
		for k, v := range set {
			if _, ok := serviceEndpointEntity.columns[k]; !ok {
				t.Fatalf("payload produced unknown column %q", k)
			}
			full[k] = v
		}
		if aerr := checkColumns(serviceEndpointEntity, set, full); aerr == nil {
			_ = serviceEndpointRules(full, set)
		}
	})
}

func FuzzQueryOptions(f *testing.F) {
	f.Add("name desc, contract", "name,contract", "eyJ2IjpbXSwiayI6ImEifQ")
	f.Add(",", " ", "")
	f.Fuzz(func(t *testing.T, orderby, sel, skiptoken string) {
		order, err := parseOrderBy(serviceEndpointEntity, orderby)
		if err != nil {
			return
		}
		if _, err := parseSelect(serviceEndpointEntity, sel); err != nil {
			return
		}
		if after, ok := decodeSkipToken(skiptoken, order, serviceEndpointEntity.key); ok {
			compareRecords(after, record{"name": "x", "contract": 2.0}, order, serviceEndpointEntity.key)
		}
	})
}
