package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/store"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the id the portal gave this request ("" outside a request).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// requestID gives every request a random id, echoed in X-Request-Id, shown on error pages and
// written to every log line about the request. Incoming ids are ignored: a client could choose
// one to confuse the logs.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// statusRecorder remembers the status and size of a response for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog writes one structured line per request, with the client's address (see
// TrustProxies), which it also hands to the store for the request's audit entries. It logs the
// path without the query string: sign-in callbacks carry authorization codes there. It also
// tells Config.Metrics of the request, by route pattern.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		client := clientOf(r)
		r = r.WithContext(store.WithClientAddress(r.Context(), client.addr))
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		if s.cfg.Metrics != nil {
			// The router filled in the pattern while serving: read it now, after the handler.
			s.cfg.Metrics.ObserveRequest(r.Method, chi.RouteContext(r.Context()).RoutePattern(), rec.status, elapsed)
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed),
			slog.String("client", client.addr),
			slog.String("remote", client.peer),
			slog.String("proto", client.proto),
		)
	})
}

// client is where a request came from.
type client struct {
	addr  string // the client's IP address
	peer  string // the connection's remote address: the client's, or the nearest proxy's
	proto string // "https" or "http", as the client used it
}

type clientKey struct{}

// clientOf is the request's client: as TrustProxies found it, or the connection's peer.
func clientOf(r *http.Request) client {
	if c, ok := r.Context().Value(clientKey{}).(client); ok {
		return c
	}
	c := client{addr: r.RemoteAddr, peer: r.RemoteAddr, proto: "http"}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.addr = ap.Addr().Unmap().String()
	}
	if r.TLS != nil {
		c.proto = "https"
	}
	return c
}

// TrustProxies wraps the portal's handler for a portal behind reverse proxies (load balancers,
// TLS terminators) at the addresses in trusted. On a request whose connection comes from one
// of them it honours X-Forwarded-For (the client is the nearest address in it that is not a
// trusted proxy), X-Forwarded-Proto and X-Forwarded-Host (the host the client asked for, which
// the cross-origin check compares with Origin). From anyone else the headers are ignored:
// otherwise any client could choose the address the log and the audit record. Without trusted
// proxies it returns h unchanged.
func TrustProxies(trusted []netip.Prefix, h http.Handler) http.Handler {
	if len(trusted) == 0 {
		return h
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := clientOf(r)
		peer, err := netip.ParseAddr(c.addr)
		if err != nil || !isTrusted(peer) {
			h.ServeHTTP(w, r)
			return
		}
		// The rightmost address not of a trusted proxy is the client; every hop to its right
		// is one of ours and appended what it saw. Without one, the leftmost is the best known.
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a hop we cannot read: trust nothing further left
			}
			c.addr = a.Unmap().String()
			if !isTrusted(a) {
				break
			}
		}
		if proto := strings.ToLower(firstForwarded(r, "X-Forwarded-Proto")); proto == "https" || proto == "http" {
			c.proto = proto
		}
		if host := firstForwarded(r, "X-Forwarded-Host"); validHost(host) {
			r.Host = host
		}
		r.RemoteAddr = c.addr
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
	})
}

// firstForwarded is the first (client-side) value of a forwarded header.
func firstForwarded(r *http.Request, name string) string {
	v, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.TrimSpace(v)
}

// validHost accepts a host or host:port as a Host header may carry it.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic into a logged error and a 500 page carrying the request id.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic",
				slog.String("request_id", RequestID(r.Context())),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			s.renderError(w, r, &Error{Status: http.StatusInternalServerError})
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the Content-Security-Policy with a fresh nonce per request (templ adds
// it to the scripts and styles it renders), and the other protective headers.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	formAction := strings.Join(append([]string{"'self'"}, s.cfg.FormActionOrigins...), " ")
	// Everything but the nonce is the same for every response: built once, and set without
	// canonicalizing the (already canonical) names again.
	cspHead, cspMid := "default-src 'self'; script-src 'self' 'nonce-", "'; style-src 'self' 'nonce-"
	cspTail := "'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
	fixed := map[string][]string{
		"X-Content-Type-Options":     {"nosniff"},
		"Referrer-Policy":            {"same-origin"},
		"X-Frame-Options":            {"DENY"},
		"Cross-Origin-Opener-Policy": {"same-origin"},
		"Permissions-Policy":         {"camera=(), microphone=(), geolocation=()"},
	}
	if s.cfg.HTTPS {
		fixed["Strict-Transport-Security"] = []string{"max-age=63072000; includeSubDomains"}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [18]byte
		_, _ = rand.Read(b[:])
		nonce := base64.RawURLEncoding.EncodeToString(b[:])
		h := w.Header()
		h["Content-Security-Policy"] = []string{cspHead + nonce + cspMid + nonce + cspTail}
		for k, v := range fixed {
			h[k] = v
		}
		next.ServeHTTP(w, r.WithContext(templ.WithNonce(r.Context(), nonce)))
	})
}

// limitBody caps request bodies; a handler reading past the cap gets *http.MaxBytesError,
// which errors.go maps to 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		// Forms are read here, once: a handler's PostFormValue would swallow the limit's error
		// and see an empty form (a misleading 422) instead of a 413 that names the limit.
		if ct := r.Header.Get("Content-Type"); r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) &&
			(strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")) {
			var err error
			if strings.HasPrefix(ct, "multipart/") {
				err = r.ParseMultipartForm(s.cfg.MaxBodyBytes)
			} else {
				err = r.ParseForm()
			}
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.renderError(w, r, &Error{Status: http.StatusRequestEntityTooLarge, Title: "Too much data",
					Message: "The portal accepts at most " + byteSize(s.cfg.MaxBodyBytes) + " in one form; what was sent is larger. Shorten it and send it again."})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// byteSize says a size in the unit people read: bytes, KB or MB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
