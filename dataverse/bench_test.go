package dataverse_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
)

// peakHeap samples the live heap while f runs and returns the highest value seen above the
// heap in use before it started.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak.Load()
}

func countAll(b *testing.B, c *dataverse.Client, want int) {
	n := 0
	for _, err := range c.Endpoints(context.Background(), dataverse.ListOptions{}) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != want {
		b.Fatalf("listed %d endpoints, want %d", n, want)
	}
}

// BenchmarkListEndpoints10kEmulator lists 10,000 endpoints (two pages of 5,000) end to end:
// client and emulator in one process, so allocations count both sides.
func BenchmarkListEndpoints10kEmulator(b *testing.B) {
	s := newStack(b)
	seedMany(b, s.org, 10000)
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() { countAll(b, s.client, 10000) }))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkListEndpoints10kClient lists 10,000 endpoints from a server replaying two
// pre-rendered pages captured from the emulator, so the numbers are the client's own.
func BenchmarkListEndpoints10kClient(b *testing.B) {
	s := newStack(b)
	seedMany(b, s.org, 10000)
	// Capture the two pages the emulator serves.
	tok, err := s.tokens.Issue(emulator.DevClientID, s.org.URL())
	if err != nil {
		b.Fatal(err)
	}
	fetch := func(u string) string {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	first := fetch(s.org.URL() + "/api/data/v9.2/serviceendpoints?$select=" + strings.Join(dataverse.EndpointColumns, ","))
	i := strings.Index(first, `"@odata.nextLink":"`)
	if i < 0 {
		b.Fatal("no second page")
	}
	next := first[i+len(`"@odata.nextLink":"`):]
	next = next[:strings.IndexByte(next, '"')]
	second := fetch(next)
	nextQuery := next[strings.IndexByte(next, '?')+1:]

	var replay *httptest.Server
	replay = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "skiptoken") {
			io.WriteString(w, second)
			return
		}
		io.WriteString(w, strings.Replace(first, s.org.URL()+"/api/data/v9.2/serviceendpoints?"+nextQuery,
			replay.URL+"/api/data/v9.2/serviceendpoints?"+nextQuery, 1))
	}))
	defer replay.Close()
	cred, _ := credentialConfig(s.tokens, emulator.DevApp).NewCredential(nil)
	c, err := dataverse.New(replay.URL, dataverse.Options{Credential: cred, AllowHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(first) + len(second)))
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() { countAll(b, c, 10000) }))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
