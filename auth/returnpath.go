package auth

import (
	"net/url"
	"strings"
)

// SafeReturnPath returns p when it is a same-site relative path ("/endpoints?env=prod"), and
// "/" otherwise. It refuses everything a browser could resolve to another site: absolute URLs,
// scheme-relative "//host", backslash tricks ("/\host", which browsers treat as "//host"),
// control characters, and paths that only look relative after decoding.
func SafeReturnPath(p string) string {
	if p == "" || len(p) > 2048 || p[0] != '/' {
		return "/"
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// A decoded path starting with "//" or "/\" is refused too: some proxies and frameworks
	// decode before redirecting.
	if dec, err := url.PathUnescape(u.EscapedPath()); err != nil || strings.HasPrefix(dec, "//") || strings.HasPrefix(dec, "/\\") {
		return "/"
	}
	// The callback and sign-in pages are never useful targets and could loop.
	if strings.HasPrefix(u.Path, "/auth/") {
		return "/"
	}
	return p
}
