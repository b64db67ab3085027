package dataverse_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
)

// These tests check the client's requests and its reading of answers against the Web API's
// documented shapes (DOMAIN.md §2), using a recording server rather than our own emulator.

type recordedRequest struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

type recordingServer struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recordedRequest
	respond func(w http.ResponseWriter, r *http.Request, n int)
}

func newRecordingServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) (*recordingServer, *dataverse.Client) {
	t.Helper()
	rs := &recordingServer{t: t, respond: respond}
	rs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.reqs = append(rs.reqs, recordedRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		n := len(rs.reqs)
		rs.mu.Unlock()
		rs.respond(w, r, n)
	}))
	t.Cleanup(rs.srv.Close)
	tok := issuer(t)
	cred, err := credentialConfig(tok, emulator.DevApp).NewCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dataverse.New(rs.srv.URL, dataverse.Options{Credential: cred, AllowHTTP: true,
		Retry: dataverse.RetryPolicy{MaxAttempts: 3}, Sleep: (&sleepRecorder{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	return rs, c
}

func (rs *recordingServer) requests() []recordedRequest {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]recordedRequest(nil), rs.reqs...)
}

// checkCommonHeaders asserts the OData headers and a bearer token issued for this environment.
func (rs *recordingServer) checkCommonHeaders(r recordedRequest, withBody bool) {
	t := rs.t
	t.Helper()
	for k, want := range map[string]string{"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.Path, k, got, want)
		}
	}
	ct := r.Header.Get("Content-Type")
	if withBody && !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type = %q, want application/json", r.Method, r.Path, ct)
	}
	if !withBody && ct != "" {
		t.Errorf("%s %s: Content-Type %q on a request without body", r.Method, r.Path, ct)
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		t.Fatalf("%s %s: no bearer token", r.Method, r.Path)
	}
	claims, err := issuer(t).Verify(tok, rs.srv.URL)
	if err != nil {
		t.Fatalf("%s %s: bearer token not valid for %s: %v", r.Method, r.Path, rs.srv.URL, err)
	}
	if claims.AppID != emulator.DevClientID {
		t.Errorf("token appid = %q", claims.AppID)
	}
}

// A record as the Web API documents it, including the null write-only columns.
const sampleRecord = `{
  "@odata.context": "https://contoso.crm.dynamics.com/api/data/v9.2/$metadata#serviceendpoints/$entity",
  "@odata.etag": "W/\"4711\"",
  "serviceendpointid": "6f1e2a4c-1111-4000-8000-000000000001",
  "name": "Orders queue",
  "description": null,
  "solutionnamespace": "contoso-payments",
  "namespaceaddress": "sb://contoso-payments.servicebus.windows.net/",
  "path": "orders",
  "url": null,
  "contract": 2,
  "connectionmode": 1,
  "userclaim": 3,
  "messageformat": 2,
  "authtype": 2,
  "saskeyname": "send",
  "saskey": null,
  "sastoken": null,
  "authvalue": null,
  "namespaceformat": 2,
  "messagecharset": 0,
  "schematype": null,
  "usekeyvaultconfiguration": false,
  "_keyvaultreferenceid_value": null,
  "issaskeyset": true,
  "issastokenset": false,
  "isauthvalueset": false,
  "ismanaged": false,
  "createdon": "2026-11-20T10:15:00Z",
  "modifiedon": "2026-11-21T08:00:00Z",
  "_createdby_value": "aaaaaaaa-0000-4000-8000-000000000001",
  "_modifiedby_value": "aaaaaaaa-0000-4000-8000-000000000002"
}`

func TestCreateRequestShape(t *testing.T) {
	rs, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		w.Header().Set("OData-EntityId", "http://"+r.Host+"/api/data/v9.2/serviceendpoints(6f1e2a4c-1111-4000-8000-000000000001)")
		w.WriteHeader(201)
		io.WriteString(w, sampleRecord)
	})
	ep := queueEndpoint("Orders queue")
	ep.ID = "6F1E2A4C-1111-4000-8000-000000000001"
	ep.Description = ""
	got, err := c.CreateEndpoint(context.Background(), ep, dataverse.CreateOptions{SolutionUniqueName: "ContosoIntegrations"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := rs.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/api/data/v9.2/serviceendpoints" {
		t.Fatalf("request = %s %s", r.Method, r.Path)
	}
	if !strings.HasPrefix(r.RawQuery, "$select=serviceendpointid%2Cname%2C") {
		t.Errorf("query = %q, want $select of the endpoint columns", r.RawQuery)
	}
	rs.checkCommonHeaders(r, true)
	if got := r.Header.Get("Prefer"); got != "return=representation" {
		t.Errorf("Prefer = %q", got)
	}
	if got := r.Header.Get("MSCRM.SolutionUniqueName"); got != "ContosoIntegrations" {
		t.Errorf("MSCRM.SolutionUniqueName = %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"serviceendpointid": "6f1e2a4c-1111-4000-8000-000000000001",
		"name":              "Orders queue",
		"solutionnamespace": "contoso-payments",
		"namespaceaddress":  "sb://contoso-payments.servicebus.windows.net/",
		"path":              "orders",
		"contract":          2.0, "connectionmode": 1.0, "userclaim": 1.0, "messageformat": 2.0,
		"authtype": 2.0, "saskeyname": "send", "namespaceformat": 2.0,
		"saskey": ep.SASKey.Reveal(),
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("create body =\n%v\nwant\n%v", body, want)
	}

	// The answer is mapped, secrets are never read back, flags are.
	if got.ID != "6f1e2a4c-1111-4000-8000-000000000001" || got.UserClaim != endpoint.UserClaimUserInfo ||
		got.MessageCharset != endpoint.MessageCharsetDefault || got.SchemaType != endpoint.SchemaTypeNone {
		t.Errorf("mapped = %+v", got)
	}
	if !got.IsSASKeySet || got.SASKey.IsSet() || got.IsAuthValueSet {
		t.Errorf("flags: %v %v %v", got.IsSASKeySet, got.SASKey.IsSet(), got.IsAuthValueSet)
	}
	if got.CreatedBy != "aaaaaaaa-0000-4000-8000-000000000001" || got.ModifiedBy != "aaaaaaaa-0000-4000-8000-000000000002" ||
		!got.CreatedOn.Equal(time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("read-only columns: %q %q %v", got.CreatedBy, got.ModifiedBy, got.CreatedOn)
	}
}

func TestCreateWithoutRepresentationReadsBack(t *testing.T) {
	const id = "6f1e2a4c-1111-4000-8000-000000000001"
	rs, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method == "POST" {
			w.Header().Set("OData-EntityId", "http://"+r.Host+"/api/data/v9.2/serviceendpoints("+id+")")
			w.WriteHeader(204)
			return
		}
		io.WriteString(w, sampleRecord)
	})
	ep := queueEndpoint("Orders queue")
	ep.ID = id
	got, err := c.CreateEndpoint(context.Background(), ep, dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := rs.requests()
	if len(reqs) != 2 || reqs[1].Method != "GET" || reqs[1].Path != "/api/data/v9.2/serviceendpoints("+id+")" {
		t.Fatalf("requests = %+v", reqs)
	}
	if reqs[0].Header.Get("MSCRM.SolutionUniqueName") != "" {
		t.Errorf("solution header sent without a solution")
	}
	if got.Name != "Orders queue" {
		t.Errorf("got %+v", got)
	}
}

func TestUpdateRequestShape(t *testing.T) {
	rs, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(204) })
	ep := queueEndpoint("Orders queue")
	ep.ID = "6f1e2a4c-1111-4000-8000-000000000001"
	ep.Description = ""
	ep.SASKey = endpoint.Secret{}
	ep.SASToken = endpoint.NewSecret("SharedAccessSignature sr=x&sig=y&se=1&skn=send")
	if err := c.UpdateEndpoint(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
	r := rs.requests()[0]
	if r.Method != "PATCH" || r.Path != "/api/data/v9.2/serviceendpoints(6f1e2a4c-1111-4000-8000-000000000001)" || r.RawQuery != "" {
		t.Fatalf("request = %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	rs.checkCommonHeaders(r, true)
	if got := r.Header.Get("If-Match"); got != "*" {
		t.Errorf("If-Match = %q, want *", got)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if v, ok := body["description"]; !ok || v != nil {
		t.Errorf("description = %v (present %v), want null to clear it", v, ok)
	}
	if _, ok := body["saskey"]; ok {
		t.Errorf("an unset SAS key was sent")
	}
	if body["sastoken"] != "SharedAccessSignature sr=x&sig=y&se=1&skn=send" {
		t.Errorf("sastoken = %v", body["sastoken"])
	}
	if _, ok := body["serviceendpointid"]; ok {
		t.Errorf("PATCH body carries the id")
	}
	for _, k := range []string{"issaskeyset", "createdon", "_createdby_value"} {
		if _, ok := body[k]; ok {
			t.Errorf("read-only column %s sent", k)
		}
	}
	if body["contract"] != 2.0 || body["messagecharset"] != 0.0 || body["schematype"] != nil {
		t.Errorf("choices: contract=%v messagecharset=%v schematype=%v", body["contract"], body["messagecharset"], body["schematype"])
	}
}

func TestDeleteWhoAmITriggerStepsShapes(t *testing.T) {
	const id = "6f1e2a4c-1111-4000-8000-000000000001"
	rs, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/WhoAmI"):
			io.WriteString(w, `{"@odata.context":"x/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse","BusinessUnitId":"b","UserId":"u","OrganizationId":"o"}`)
		case strings.HasSuffix(r.URL.Path, "/serviceendpoint_sdkmessageprocessingstep"):
			io.WriteString(w, `{"@odata.context":"x","value":[{"@odata.etag":"W/\"1\"","sdkmessageprocessingstepid":"s1","name":"Create of account","stage":40,"mode":1,"rank":1,"statecode":0,"filteringattributes":null,"supporteddeployment":0,"asyncautodelete":true,"_sdkmessageid_value":"m1","_sdkmessagefilterid_value":null}]}`)
		default:
			w.WriteHeader(204)
		}
	})
	ctx := context.Background()
	who, err := c.WhoAmI(ctx)
	if err != nil || who != (dataverse.WhoAmI{BusinessUnitID: "b", UserID: "u", OrganizationID: "o"}) {
		t.Fatalf("WhoAmI = %+v, %v", who, err)
	}
	if err := c.TriggerServiceEndpointCheck(ctx, id); err != nil {
		t.Fatal(err)
	}
	steps, err := c.EndpointSteps(ctx, id)
	if err != nil || len(steps) != 1 || steps[0].Name != "Create of account" || steps[0].Stage != 40 || !steps[0].AsyncAutoDelete || steps[0].MessageID != "m1" {
		t.Fatalf("steps = %+v, %v", steps, err)
	}
	if err := c.DeleteEndpoint(ctx, "{"+strings.ToUpper(id)+"}"); err != nil {
		t.Fatal(err)
	}
	reqs := rs.requests()
	want := []struct{ method, path string }{
		{"GET", "/api/data/v9.2/WhoAmI"},
		{"POST", "/api/data/v9.2/serviceendpoints(" + id + ")/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck"},
		{"GET", "/api/data/v9.2/serviceendpoints(" + id + ")/serviceendpoint_sdkmessageprocessingstep"},
		{"DELETE", "/api/data/v9.2/serviceendpoints(" + id + ")"},
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, w := range want {
		if reqs[i].Method != w.method || reqs[i].Path != w.path {
			t.Errorf("request %d = %s %s, want %s %s", i, reqs[i].Method, reqs[i].Path, w.method, w.path)
		}
		rs.checkCommonHeaders(reqs[i], w.method == "POST")
	}
	if string(reqs[1].Body) != "{}" {
		t.Errorf("action body = %q", reqs[1].Body)
	}
	if !strings.HasPrefix(reqs[2].RawQuery, "$select=sdkmessageprocessingstepid%2C_eventhandler_value%2Cname") {
		t.Errorf("steps query = %q", reqs[2].RawQuery)
	}
}

func TestListFollowsNextLinkUnchanged(t *testing.T) {
	// Dataverse's nextLink carries a paging cookie; the client must send it back untouched.
	const cookieQuery = "$select=name&$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%22%20/%3E"
	var base string
	rs, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			io.WriteString(w, `{"@odata.context":"x","value":[{"serviceendpointid":"a","name":"one"},{"serviceendpointid":"b","name":"two"}],"@odata.nextLink":"`+base+`/api/data/v9.2/serviceendpoints?`+cookieQuery+`"}`)
		default:
			io.WriteString(w, `{"value":[{"serviceendpointid":"c","name":"three","saskey":null}],"@odata.context":"x"}`)
		}
	})
	base = rs.srv.URL
	got, err := c.ListEndpoints(context.Background(), dataverse.ListOptions{
		Select: []string{"name"}, Filter: "contract eq 2 and contains(name,'o''k')", OrderBy: "name asc", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Name != "three" || got[0].ID != "a" {
		t.Fatalf("got %+v", got)
	}
	reqs := rs.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if want := "$select=name&$filter=contract%20eq%202%20and%20contains%28name%2C%27o%27%27k%27%29&$orderby=name%20asc"; reqs[0].RawQuery != want {
		t.Errorf("first query =\n%s\nwant\n%s", reqs[0].RawQuery, want)
	}
	if reqs[1].RawQuery != cookieQuery {
		t.Errorf("nextLink query changed:\n%s\nwant\n%s", reqs[1].RawQuery, cookieQuery)
	}
	for _, r := range reqs {
		rs.checkCommonHeaders(r, false)
		if got := r.Header.Get("Prefer"); got != "odata.maxpagesize=2" {
			t.Errorf("Prefer = %q", got)
		}
	}
}

func TestNextLinkToAnotherHostIsNotFollowed(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the client followed a nextLink to another host (with token: %v)", r.Header.Get("Authorization") != "")
	}))
	defer other.Close()
	_, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		io.WriteString(w, `{"value":[],"@odata.nextLink":"`+other.URL+`/api/data/v9.2/serviceendpoints?$skiptoken=x"}`)
	})
	_, err := c.ListEndpoints(context.Background(), dataverse.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect followed")
	}))
	defer other.Close()
	_, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	if _, err := c.WhoAmI(context.Background()); err == nil {
		t.Fatal("a redirect was accepted as an answer")
	}
}

func TestErrorAnswersAreClassified(t *testing.T) {
	cases := []struct {
		status  int
		header  map[string]string
		body    string
		kind    dataverse.Kind
		code    string
		message string
	}{
		{404, nil, `{"error":{"code":"0x80040217","message":"serviceendpoint With Id = x Does Not Exist"}}`, dataverse.NotFound, "0x80040217", "serviceendpoint With Id = x Does Not Exist"},
		{403, nil, `{"error":{"code":"0x80040220","message":"Principal user is missing prvWriteServiceEndpoint privilege"}}`, dataverse.Forbidden, "0x80040220", "Principal user is missing prvWriteServiceEndpoint privilege"},
		{412, nil, `{"error":{"code":"0x80060882","message":"version mismatch"}}`, dataverse.Conflict, "0x80060882", "version mismatch"},
		{400, nil, `{"error":{"code":"0x80040203","message":"SASKey length should be 44"}}`, dataverse.Invalid, "0x80040203", "SASKey length should be 44"},
		{413, nil, `{"error":{"code":"0x80048d19","message":"too large"}}`, dataverse.Invalid, "0x80048d19", "too large"},
		{500, nil, `{"error":{"code":"0x80040237","message":"Cannot insert duplicate key."}}`, dataverse.Conflict, "0x80040237", "Cannot insert duplicate key."},
		{401, map[string]string{"WWW-Authenticate": "Bearer authorization_uri=https://login.microsoftonline.com/t/oauth2/authorize"}, ``, dataverse.Unauthorized, "", ""},
		{429, map[string]string{"Retry-After": "5"}, `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}`, dataverse.Throttled, "0x80072322", "Number of requests exceeded the limit"},
		{503, nil, `<html>Service Unavailable</html>`, dataverse.Unavailable, "", ""},
		{418, nil, `{"error":{"code":"0x1","message":"teapot"}}`, dataverse.Unknown, "0x1", "teapot"},
	}
	for _, tc := range cases {
		_, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			for k, v := range tc.header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		})
		_, err := c.Endpoint(context.Background(), "6f1e2a4c-1111-4000-8000-000000000001")
		var de *dataverse.Error
		if !errors.As(err, &de) {
			t.Fatalf("%d: err = %v", tc.status, err)
		}
		if !errors.Is(err, tc.kind) || de.Status != tc.status || de.Code != tc.code {
			t.Errorf("%d: kind %v status %d code %q, want %v %q", tc.status, de.Kind, de.Status, de.Code, tc.kind, tc.code)
		}
		if tc.message != "" && de.Message != tc.message {
			t.Errorf("%d: message %q, want %q", tc.status, de.Message, tc.message)
		}
		if tc.status == 429 && de.RetryAfter != 5*time.Second {
			t.Errorf("429: RetryAfter = %v", de.RetryAfter)
		}
	}
}

func TestRetryAfterAsHTTPDate(t *testing.T) {
	rec := &sleepRecorder{}
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", time.Now().Add(4*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, `{"BusinessUnitId":"b","UserId":"u","OrganizationId":"o"}`)
	}))
	defer srv.Close()
	cred, _ := credentialConfig(issuer(t), emulator.DevApp).NewCredential(nil)
	c, _ := dataverse.New(srv.URL, dataverse.Options{Credential: cred, AllowHTTP: true, Sleep: rec.sleep})
	if _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := rec.all()
	// HTTP dates have one-second resolution; the wait must cover at least the 3 whole seconds left.
	if len(w) != 1 || w[0] < 3*time.Second {
		t.Fatalf("waits = %v, want one of at least 3s", w)
	}
}

func TestDeleteAfterLostAnswerSucceeds(t *testing.T) {
	_, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			// The delete happened but the answer is lost.
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.WriteHeader(404)
		io.WriteString(w, `{"error":{"code":"0x80040217","message":"Does Not Exist"}}`)
	})
	if err := c.DeleteEndpoint(context.Background(), "6f1e2a4c-1111-4000-8000-000000000001"); err != nil {
		t.Fatalf("delete retried after lost answer: %v", err)
	}
}

func TestBadIDsNeverReachTheURL(t *testing.T) {
	rs, c := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(204) })
	for _, id := range []string{"", "abc", "../WhoAmI", "6f1e2a4c-1111-4000-8000-00000000000g", "6f1e2a4c-1111-4000-8000-000000000001)/x("} {
		if err := c.DeleteEndpoint(context.Background(), id); !errors.Is(err, dataverse.Invalid) {
			t.Errorf("id %q: err = %v, want Invalid", id, err)
		}
	}
	if n := len(rs.requests()); n != 0 {
		t.Fatalf("%d requests sent for bad ids", n)
	}
}

func TestEnvironmentURLRules(t *testing.T) {
	for _, tc := range []struct {
		url       string
		allowHTTP bool
		ok        bool
	}{
		{"https://contoso.crm4.dynamics.com", false, true},
		{"https://contoso.crm4.dynamics.com/", false, true},
		{"http://127.0.0.1:8080", false, false},
		{"http://127.0.0.1:8080", true, true},
		{"https://contoso.crm.dynamics.com/api/data/v9.2", false, false},
		{"contoso.crm.dynamics.com", false, false},
		{"https://contoso.crm.dynamics.com?x=1", false, false},
	} {
		_, err := dataverse.ParseEnvironmentURL(tc.url, tc.allowHTTP)
		if (err == nil) != tc.ok {
			t.Errorf("%q (allowHTTP %v): err = %v, want ok=%v", tc.url, tc.allowHTTP, err, tc.ok)
		}
	}
}
