package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runUntilPrinted runs a command until its output matches done and returns what it printed;
// the command runs on until the test ends.
func runUntilPrinted(t *testing.T, done *regexp.Regexp, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	exited := make(chan int, 1)
	go func() { exited <- dispatch(ctx, args, stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-exited; code != 0 {
			t.Errorf("%s exited %d: %s", args[0], code, stderr.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if done.MatchString(stdout.String()) {
			return stdout.String()
		}
		select {
		case code := <-exited:
			exited <- code
			t.Fatalf("%s exited %d early: %s", args[0], code, stderr.String())
		default:
		}
	}
	t.Fatalf("%s did not print %s: %s", args[0], done, stdout.String())
	return ""
}

// wantEntities checks a banner lists the default emulator configuration's entities below its
// connection strings.
func wantEntities(t *testing.T, banner string) {
	t.Helper()
	for _, want := range []string{
		"queue     sbemulatorns/dataverse-queue",
		"topic     sbemulatorns/dataverse-topic   subscriptions: audit",
		"event hub sbemulatorns/dataverse-hub   partitions: 0-1; consumer groups: $Default",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Index(banner, "Entities") < strings.Index(banner, "SharedAccessKey=") {
		t.Errorf("entities are not listed under the connection strings:\n%s", banner)
	}
}

func TestServiceBusEmulatorBannerListsEntities(t *testing.T) {
	out := runUntilPrinted(t, regexp.MustCompile(`AMQP over WebSockets at ws://127\.0\.0\.1:\d+/\$servicebus/websocket \(subprotocol AMQPWSB10\)`),
		"servicebus-emulator", "--listen", "127.0.0.1:0", "--websocket-listen", "127.0.0.1:0")
	wantEntities(t, out)
}

func TestDevBannerListsEntities(t *testing.T) {
	_, out := startDev(t)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "Press Ctrl+C") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	wantEntities(t, out.String())
}
