package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLoggerBuffersInfoAndFlushesWarnings: an info line waits for the flusher, a warning is
// written at once, Close writes what is left, and the flusher writes on its own.
func TestLoggerBuffersInfoAndFlushesWarnings(t *testing.T) {
	out := &syncBuffer{}
	log, closeLog := newLoggerFlushing(out, false, slog.LevelInfo, time.Hour) // no flush by time here
	defer closeLog()
	log.Info("request", "path", "/endpoints")
	if got := out.String(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.Warn("catalog: refresh failed")
	if got := out.String(); !strings.Contains(got, "refresh failed") || !strings.Contains(got, "/endpoints") {
		t.Fatalf("a warning did not write the buffer out at once: %q", got)
	}
	log.Info("request", "path", "/last")
	if strings.Contains(out.String(), "/last") {
		t.Fatal("an info line after a warning was written at once")
	}
	closeLog()
	if !strings.Contains(out.String(), "/last") {
		t.Fatal("Close did not write what was left")
	}

	ticked := &syncBuffer{}
	log, closeTicked := newLoggerFlushing(ticked, true, slog.LevelInfo, 10*time.Millisecond)
	defer closeTicked()
	log.Info("request", "path", "/audit")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(ticked.String(), "/audit") {
		if time.Now().After(deadline) {
			t.Fatal("the flusher never wrote the info line")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
