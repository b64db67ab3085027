package endpoint

import (
	"strings"
	"testing"
)

// TestNamesAndDescriptionsArePlainText: control characters and bidirectional overrides are
// refused with a message that names the character and where it is; tab and line breaks are
// fine in a description only.
func TestNamesAndDescriptionsArePlainText(t *testing.T) {
	for _, c := range []struct {
		name, description string
		field, want       string
	}{
		{name: "orders\x00", field: FieldName, want: "U+0000) at position 7"},
		{name: "invoice\u202Efdp.exe", field: FieldName, want: "text-direction control character (U+202E) at position 8"},
		{name: "a\u2066b", field: FieldName, want: "U+2066"},
		{name: "tab\tin name", field: FieldName, want: "U+0009"},
		{name: "ok", description: "bell\x07", field: FieldDescription, want: "U+0007"},
		{name: "ok", description: "c1\u0085", field: FieldDescription, want: "U+0085"},
		{name: "ok", description: "isolate\u2069", field: FieldDescription, want: "U+2069"},
	} {
		e := validQueue()
		e.Name, e.Description = c.name, c.description
		p := e.Validate()
		if got := p.For(c.field); len(got) == 0 || !strings.Contains(strings.Join(got, " "), c.want) {
			t.Errorf("%q / %q: problems %v, want %q on %s", c.name, c.description, p, c.want, c.field)
		}
	}
	e := validQueue()
	e.Name, e.Description = "Orders — ünïcödé ✓ עברית", "Line one\nline two\r\n\tindented"
	if p := e.Validate(); p != nil {
		t.Fatalf("plain text refused: %v", p)
	}
}

// TestIsEmulatorAddress decides by the parsed host: only a loopback address is the local
// emulator, whatever the namespace's name looks like.
func TestIsEmulatorAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"sb://127.0.0.1:5672/":                        true,
		"sb://localhost/":                             true,
		"sb://LOCALHOST:5672":                         true,
		"sb://[::1]:5672/":                            true,
		"sb://127.0.0.2/":                             true,
		"sb://localhost-prod.servicebus.windows.net/": false,
		"sb://127.0.0.1.servicebus.windows.net/":      false,
		"sb://localhost.evil.example/":                false,
		"https://localhost/":                          false,
		"sb://mybus.servicebus.windows.net/":          false,
		"":                                            false,
		"sb://[::1":                                   false,
	} {
		if got := IsEmulatorAddress(addr); got != want {
			t.Errorf("IsEmulatorAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}
