package auth_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/contoso/sbportal/auth"
)

func TestSafeReturnPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "/",
		"/":                             "/",
		"/endpoints":                    "/endpoints",
		"/endpoints?env=prod&q=a":       "/endpoints?env=prod&q=a",
		"/endpoints/new#step2":          "/endpoints/new#step2",
		"/a%20b":                        "/a%20b",
		"endpoints":                     "/",
		"https://evil.example/":         "/",
		"http:/evil.example":            "/",
		"//evil.example":                "/",
		"///evil.example":               "/",
		"/\\evil.example":               "/",
		"\\\\evil.example":              "/",
		"/%2F/evil.example":             "/",
		"/%5Cevil.example":              "/",
		"/x\\y":                         "/",
		"/\t/evil.example":              "/",
		"/x\r\nSet-Cookie: a=b":         "/",
		"javascript:alert(1)":           "/",
		"/auth/callback?code=x":         "/",
		"/auth/signin?return=/x":        "/",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		if got := auth.SafeReturnPath(in); got != want {
			t.Errorf("SafeReturnPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeReturnPath checks that whatever comes in, what goes out resolves to this site.
func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range []string{"/", "/x?y=z", "//e.com", "/\\e.com", "https://e.com", "/%2f%2fe.com", "/\x00"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.example/")
	f.Fuzz(func(t *testing.T, in string) {
		out := auth.SafeReturnPath(in)
		if out != "/" && out != in {
			t.Fatalf("changed %q to %q", in, out)
		}
		ref, err := url.Parse(out)
		if err != nil {
			t.Fatalf("output %q does not parse: %v", out, err)
		}
		// Browsers read a backslash as a slash.
		if r := base.ResolveReference(ref); r.Host != base.Host || r.Scheme != base.Scheme || strings.ContainsAny(out, "\\\r\n") {
			t.Fatalf("%q resolves to %s", out, r)
		}
	})
}
