package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/web"
)

// TestLimits bound how often people may test endpoints (each test sends a real message to a
// team's queue or webhook): per person, and per endpoint whoever tests it. Zero fields take
// the defaults. The limits are kept per replica.
type TestLimits struct {
	// PerPersonPerMinute: tests and validations one person may run a minute (default 10).
	PerPersonPerMinute int
	// PerEndpointPerMinute: tests of one endpoint or draft a minute, by anyone (default 6).
	PerEndpointPerMinute int
}

// Default test limits: a person working through the wizard and the list never meets them; a
// script hammering the Test button does, after a short burst.
const (
	DefaultTestsPerPersonPerMinute   = 10
	DefaultTestsPerEndpointPerMinute = 6
)

// testLimiter is a token bucket per person and per endpoint.
type testLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// take spends a token of the bucket key (capacity perMinute, refilled evenly over a minute)
// and returns 0, or how long to wait when it is empty.
func (l *testLimiter) take(key string, perMinute int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil || len(l.buckets) > 100000 {
		l.buckets = map[string]*bucket{}
	}
	rate := float64(perMinute) / 60 // tokens a second
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(perMinute), last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(float64(perMinute), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// refund gives back a token taken for a test that was then refused by the other limit.
func (l *testLimiter) refund(key string, perMinute int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = math.Min(float64(perMinute), b.tokens+1)
	}
}

// allowTest answers 429 with "try again in N seconds" when id has run too many tests, or the
// endpoint (or draft) target has been tested too often; nil when the test may run.
func (s *Server) allowTest(id auth.Identity, target string) error {
	perPerson := s.TestLimits.PerPersonPerMinute
	if perPerson <= 0 {
		perPerson = DefaultTestsPerPersonPerMinute
	}
	perEndpoint := s.TestLimits.PerEndpointPerMinute
	if perEndpoint <= 0 {
		perEndpoint = DefaultTestsPerEndpointPerMinute
	}
	now := s.now()
	who := "person:" + id.Key
	if wait := s.testLimiter.take(who, perPerson, now); wait > 0 {
		return tooManyTests(wait, fmt.Sprintf("You ran %d tests in the last minute", perPerson))
	}
	if wait := s.testLimiter.take("target:"+target, perEndpoint, now); wait > 0 {
		s.testLimiter.refund(who, perPerson)
		return tooManyTests(wait, fmt.Sprintf("This endpoint was tested %d times in the last minute", perEndpoint))
	}
	return nil
}

func tooManyTests(wait time.Duration, what string) error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	return &Error{Status: http.StatusTooManyRequests, Title: "Too many tests", RetryAfter: time.Duration(secs) * time.Second,
		Message: fmt.Sprintf("%s: each sends a real message. Try again in %d seconds.", what, secs)}
}

// refuseTest answers a test over the limits: on a page, an error page (429); for htmx, the
// result fragment saying when to try again (429, which htmx is configured to swap in). It
// reports whether it answered.
func (s *Server) refuseTest(w http.ResponseWriter, r *http.Request, id auth.Identity, target string) (bool, error) {
	err := s.allowTest(id, target)
	if err == nil {
		return false, nil
	}
	var e *Error
	if !isHTMX(r) || !errors.As(err, &e) {
		return true, err
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter/time.Second)))
	s.render(w, r, http.StatusTooManyRequests, web.ProbeOutcome(web.ProbeView{Ran: true, Title: e.Title, Detail: e.Message}))
	return true, nil
}
