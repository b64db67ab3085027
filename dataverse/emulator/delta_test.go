package emulator

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFilterDateTimeLiterals(t *testing.T) {
	row := record{"name": "x", "createdon": "2026-11-30T12:04:31Z", "modifiedon": "2026-11-30T12:04:31Z"}
	cases := map[string]bool{
		"modifiedon eq 2026-11-30T12:04:31Z":                                       true,
		"modifiedon ne 2026-11-30T12:04:31Z":                                       false,
		"modifiedon ge 2026-11-30T12:04:31Z":                                       true,
		"modifiedon gt 2026-11-30T12:04:31Z":                                       false,
		"modifiedon le 2026-11-30T12:04:31Z":                                       true,
		"modifiedon lt 2026-11-30T12:04:31Z":                                       false,
		"modifiedon gt 2026-11-30T12:04:30.999Z":                                   true,
		"modifiedon lt 2026-11-30T12:04:31.001Z":                                   true,
		"modifiedon ge 2026-11-30T12:04:31.0000001Z":                               false,
		"modifiedon eq 2026-11-30T13:04:31+01:00":                                  true,
		"modifiedon eq 2026-11-30T07:04:31.000-05:00":                              true,
		"modifiedon ge 2026-11-30T12:04Z":                                          true,
		"(modifiedon gt 2027-01-01T00:00:00Z)":                                     false,
		"not (createdon le 2020-01-01T00:00:00Z)":                                  true,
		"createdon eq null":                                                        false,
		"createdon ne null":                                                        true,
		"createdon ge 2026-11-30T12:00:00Z and modifiedon lt 2026-12-01T00:00:00Z": true,
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
	if f, err := parseFilter(serviceEndpointEntity, "modifiedon ge 2026-01-01T00:00:00Z"); err != nil || f.match(record{"name": "no date"}) {
		t.Errorf("a row without modifiedon matched a date comparison (%v)", err)
	}
	for _, bad := range []string{
		"modifiedon ge '2026-11-30T12:04:31Z'", // quoted: a string, not a date
		"modifiedon ge 2026-11-30",             // a date without time
		"modifiedon ge 2026-11-30T12:04:31",    // no offset
		"modifiedon ge 2026-13-30T12:04:31Z",   // no such month
		"modifiedon ge 2026-11-30T12:04:31 01:00",
		"name eq 2026-11-30T12:04:31Z",
		"contract eq 2026-11-30T12:04:31Z",
		"modifiedon ge 2",
	} {
		if _, err := parseFilter(serviceEndpointEntity, bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestModifiedOnAndDeltaQueries checks that createdon and modifiedon are stamped on create,
// modifiedon again on every update, and that $filter compares them over HTTP.
func TestModifiedOnAndDeltaQueries(t *testing.T) {
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := base
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(d time.Duration) { mu.Lock(); now = base.Add(d); mu.Unlock() }
	s, err := Start(Options{Tokens: tokens(t), Users: []AppUser{{ClientID: DevClientID}}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, _ := tokens(t).Issue(DevClientID, s.URL())
	o := &org{t: t, s: s, token: tok}

	create := func(name string) string {
		a := o.do("POST", "serviceendpoints", validQueue(name), "Prefer", "return=representation")
		if a.status != 201 {
			t.Fatalf("create %s: %d %s", name, a.status, a.raw)
		}
		return a.body["serviceendpointid"].(string)
	}
	a := create("a") // 12:00:00
	at(2500 * time.Millisecond)
	create("b") // 12:00:02: kept to the second
	at(4 * time.Second)
	create("c") // 12:00:04
	at(6 * time.Second)
	if r := o.do("PATCH", "serviceendpoints("+a+")", map[string]any{"description": "changed"}, "If-Match", "*"); r.status != 204 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	got := o.do("GET", "serviceendpoints("+a+")?$select=createdon,modifiedon", nil)
	if got.body["createdon"] != "2026-11-30T12:00:00Z" || got.body["modifiedon"] != "2026-11-30T12:00:06Z" {
		t.Fatalf("after update: %s", got.raw)
	}
	at(8 * time.Second)
	// An update that changes no value still stamps modifiedon.
	if r := o.do("PATCH", "serviceendpoints("+a+")", map[string]any{"description": "changed"}, "If-Match", "*"); r.status != 204 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	if got := o.do("GET", "serviceendpoints("+a+")?$select=modifiedon", nil); got.body["modifiedon"] != "2026-11-30T12:00:08Z" {
		t.Fatalf("after second update: %s", got.raw)
	}

	names := func(filter string) string {
		t.Helper()
		r := o.do("GET", "serviceendpoints?$select=name&$orderby=name&$filter="+url.QueryEscape(filter), nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", filter, r.status, r.raw)
		}
		var out []string
		for _, v := range r.body["value"].([]any) {
			out = append(out, v.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	for filter, want := range map[string]string{
		"modifiedon ge 2026-11-30T12:00:02Z":         "a,b,c",
		"modifiedon ge 2026-11-30T12:00:02.500Z":     "a,c",
		"modifiedon gt 2026-11-30T12:00:04Z":         "a",
		"modifiedon ge 2026-11-30T13:00:04+01:00":    "a,c",
		"modifiedon lt 2026-11-30T12:00:04Z":         "b",
		"modifiedon le 2026-11-30T12:00:04Z":         "b,c",
		"modifiedon eq 2026-11-30T12:00:08Z":         "a",
		"modifiedon ne 2026-11-30T12:00:08Z":         "b,c",
		"createdon le 2026-11-30T12:00:00Z":          "a",
		"modifiedon ge 2026-11-30T12:00:09Z":         "",
		"createdon ne 2026-11-30T12:00:00.000-00:00": "b,c",
	} {
		if got := names(filter); got != want {
			t.Errorf("%s: %q, want %q", filter, got, want)
		}
	}
	if r := o.do("GET", "serviceendpoints?$filter="+url.QueryEscape("modifiedon ge '2026-11-30T12:00:00Z'"), nil); r.status != 400 || r.errCode() != codeQuerySyntax {
		t.Errorf("quoted date: %d %s", r.status, r.raw)
	}
}

func TestRequestCount(t *testing.T) {
	o := startOrg(t, "")
	for i := range 3 {
		o.do("POST", "serviceendpoints", validQueue("n"+string(rune('a'+i))))
	}
	list := o.do("GET", "serviceendpoints?$select=name", nil, "Prefer", "odata.maxpagesize=2")
	id := list.body["value"].([]any)[0].(map[string]any)["serviceendpointid"].(string)
	next := strings.TrimPrefix(list.body["@odata.nextLink"].(string), o.s.URL()+APIPath)
	o.do("GET", next, nil, "Prefer", "odata.maxpagesize=2")
	o.do("GET", "serviceendpoints("+id+")", nil)
	o.do("GET", "serviceendpoints("+strings.ToUpper(id)+")?$select=name", nil)
	o.do("PATCH", "serviceendpoints("+id+")", map[string]any{"description": "x"}, "If-Match", "*")
	o.do("GET", "serviceendpoints("+id+")/serviceendpoint_sdkmessageprocessingstep", nil)
	o.do("GET", "WhoAmI", nil)
	o.s.InjectFault(Fault{Method: "GET", Path: "serviceendpoints", Status: 429})
	if a := o.do("GET", "serviceendpoints?$select=name", nil); a.status != 429 {
		t.Fatalf("fault not applied: %d", a.status)
	}

	// Counted concurrently (run with -race).
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			o.do("GET", "serviceendpoints?$select=name", nil)
			_ = o.s.RequestCount("GET", "serviceendpoints")
		})
	}
	wg.Wait()

	for _, c := range []struct {
		method, resource string
		want             int
	}{
		{"GET", "serviceendpoints", 2 + 1 + 8}, // two pages, the throttled one, the concurrent ones
		{"get", "serviceendpoints", 11},
		{"POST", "serviceendpoints", 3},
		{"", "serviceendpoints", 14},
		{"GET", "serviceendpoints()", 2},
		{"PATCH", "serviceendpoints()", 1},
		{"", "serviceendpoints()", 3},
		{"GET", "serviceendpoints()/serviceendpoint_sdkmessageprocessingstep", 1},
		{"GET", "WhoAmI", 1},
		{"DELETE", "serviceendpoints()", 0},
		{"GET", "sdkmessageprocessingsteps", 0},
		{"GET", "serviceendpoints(" + id + ")", 0},
	} {
		if got := o.s.RequestCount(c.method, c.resource); got != c.want {
			t.Errorf("RequestCount(%q, %q) = %d, want %d", c.method, c.resource, got, c.want)
		}
	}
}

func TestResourceOf(t *testing.T) {
	for in, want := range map[string]string{
		"serviceendpoints":            "serviceendpoints",
		"serviceendpoints(6f1e)":      "serviceendpoints()",
		"serviceendpoints({6F1E})/x":  "serviceendpoints()/x",
		"WhoAmI()":                    "WhoAmI()",
		"a(b(c))/d(e)":                "a()/d()",
		"serviceendpoints(unbalanced": "serviceendpoints(",
		"serviceendpoints(x)/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck": "serviceendpoints()/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck",
	} {
		if got := resourceOf(in); got != want {
			t.Errorf("resourceOf(%q) = %q, want %q", in, got, want)
		}
	}
}
