package health

import (
	"testing"
	"time"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/store"
)

func TestSummarize(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	jobs := []dataverse.SystemJob{
		{StatusCode: dataverse.JobFailed, CreatedOn: now.Add(-time.Hour), Message: "long", FriendlyMessage: "short"},
		{StatusCode: dataverse.JobFailed, CreatedOn: now.Add(-30 * time.Minute), Message: "newest"},
		{StatusCode: dataverse.JobWaiting, CreatedOn: now.Add(-48 * time.Hour)},
		{StatusCode: dataverse.JobFailed, CreatedOn: now.Add(-8 * 24 * time.Hour)},
		{StatusCode: 30, CreatedOn: now.Add(-time.Minute)},
	}
	d := Summarize(jobs, now)
	if d.Failed24h != 2 || d.Waiting24h != 0 || d.Failed7d != 2 || d.Waiting7d != 1 || d.LastError != "newest" ||
		!d.LastErrorAt.Equal(now.Add(-30*time.Minute)) || !d.Recent() {
		t.Fatalf("Summarize = %+v", d)
	}
}

func TestFailingReason(t *testing.T) {
	for _, tc := range []struct {
		name    string
		e       catalog.Entry
		failing bool
	}{
		{"never looked at", catalog.Entry{}, false},
		{"passed", catalog.Entry{HasLastRun: true, LastRun: store.ValidationRun{Result: store.ValidationPassed}}, false},
		{"validation failed", catalog.Entry{HasLastRun: true, LastRun: store.ValidationRun{Result: store.ValidationFailed, Summary: "wrong key"}}, true},
		{"old deliveries only", catalog.Entry{Health: store.Health{Deliveries: store.DeliveryFailures{Failed7d: 3}}}, false},
		{"recent deliveries", catalog.Entry{Health: store.Health{Deliveries: store.DeliveryFailures{Waiting24h: 1, Waiting7d: 1}}}, true},
	} {
		if got := FailingReason(&tc.e) != ""; got != tc.failing {
			t.Errorf("%s: failing = %v, want %v", tc.name, got, tc.failing)
		}
	}
}

func TestJitterWithinATenthAndStable(t *testing.T) {
	s := New(Options{Interval: time.Hour})
	seen := map[time.Duration]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		j := s.jitter("env", id)
		if j < 0 || j > 6*time.Minute || j != s.jitter("env", id) {
			t.Fatalf("jitter(%s) = %s", id, j)
		}
		seen[j] = true
	}
	if len(seen) < 2 {
		t.Fatal("every endpoint got the same jitter")
	}
}
