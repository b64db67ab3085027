package handlers

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/auth"
)

// TestTestLimits: a person's burst is cut at the limit with "try again in N seconds", refills
// over the minute, and one endpoint's limit holds whoever tests it.
func TestTestLimits(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := &Server{Pages: &Pages{Now: func() time.Time { return now }, TestLimits: TestLimits{PerPersonPerMinute: 3, PerEndpointPerMinute: 4}}}
	viewer, other := auth.Identity{Key: "viewer"}, auth.Identity{Key: "other"}
	for i := range 3 {
		if err := s.allowTest(viewer, "dev/a"); err != nil {
			t.Fatalf("test %d refused: %v", i, err)
		}
	}
	err := s.allowTest(viewer, "dev/b")
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusTooManyRequests || e.RetryAfter != 20*time.Second ||
		!strings.Contains(e.Message, "Try again in 20 seconds") {
		t.Fatalf("the fourth test: %#v", err)
	}
	// Another person may still test endpoint a once more (4 a minute), then not.
	if err := s.allowTest(other, "dev/a"); err != nil {
		t.Fatalf("another person refused: %v", err)
	}
	if err := s.allowTest(other, "dev/a"); !errors.As(err, &e) || !strings.Contains(e.Message, "This endpoint was tested 4 times") {
		t.Fatalf("the endpoint's fifth test: %v", err)
	}
	// A refusal by the endpoint's limit does not count against the person.
	if err := s.allowTest(other, "dev/c"); err != nil {
		t.Fatalf("the person was charged for a refused test: %v", err)
	}
	now = now.Add(20 * time.Second) // one token back for the viewer
	if err := s.allowTest(viewer, "dev/b"); err != nil {
		t.Fatalf("after 20 s: %v", err)
	}
}
