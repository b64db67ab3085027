package dataverse

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for the parsers of what Dataverse (or anything answering in its place) sends.

func FuzzDecodeCollection(f *testing.F) {
	f.Add(`{"@odata.context":"x","value":[{"serviceendpointid":"a","name":"n","contract":2}],"@odata.nextLink":"https://o/api?$skiptoken=1"}`)
	f.Add(`{"value":[]}`)
	f.Add(`{"value":[{"createdon":"not a time"}]}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, body string) {
		n := 0
		rec := endpointRecord.decoder()
		next, _, err := decodeCollection(strings.NewReader(body), func(dec *json.Decoder) (bool, error) {
			if _, err := rec.decode(dec); err != nil {
				return false, err
			}
			n++
			return true, nil
		})
		if err == nil && !json.Valid([]byte(body)) {
			t.Fatalf("invalid JSON %q accepted (%d records, next %q)", body, n, next)
		}
	})
}

func FuzzErrorFromResponse(f *testing.F) {
	f.Add(429, "5", `{"error":{"code":"0x80072322","message":"m"}}`)
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", `<html>`)
	f.Add(400, "", `{"error":null}`)
	f.Fuzz(func(t *testing.T, status int, retryAfter, body string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := errorFromResponse("op", status, h, []byte(body))
		if e.RetryAfter < 0 {
			t.Fatalf("negative Retry-After %v from %q", e.RetryAfter, retryAfter)
		}
		if len(e.Message) > maxErrorMessage+3 {
			t.Fatalf("message not bounded: %d bytes", len(e.Message))
		}
		_ = e.Error()
	})
}

func FuzzNormalizeGUID(f *testing.F) {
	f.Add("6f1e2a4c-1111-4000-8000-000000000001")
	f.Add("{6F1E2A4C-1111-4000-8000-000000000001}")
	f.Add("../WhoAmI")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := normalizeGUID(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(g, "/()?#%&{} ") || len(g) != 36 {
			t.Fatalf("%q normalized to unsafe %q", s, g)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"0": 0, "5": 5 * time.Second, "1.5": 1500 * time.Millisecond,
		"Thu, 26 Nov 2026 07:00:30 GMT": 30 * time.Second,
		"Thu, 26 Nov 2026 06:59:00 GMT": 0,
	}
	for in, want := range cases {
		got, ok := parseRetryAfter(in, now)
		if !ok || got != want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "soon", "-3"} {
		if _, ok := parseRetryAfter(bad, now); ok {
			t.Errorf("parseRetryAfter(%q) accepted", bad)
		}
	}
}
