package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/internal/pgtest"
)

// dbProxy stands between the portal and PostgreSQL on loopback, so a test can cut the
// database off for this portal alone (other tests share the server) and bring it back.
type dbProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newDBProxy(t *testing.T, target string) *dbProxy {
	p := &dbProxy{t: t, target: target}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *dbProxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut refuses new connections and breaks the open ones, as a database that went away.
func (p *dbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore accepts connections again at the same address.
func (p *dbProxy) restore() { p.listen(p.addr) }

// TestDatabaseOutageIsNamed: with the database unreachable, pages answer 503 "temporarily
// unavailable" with Retry-After and the request id instead of 500, nothing typed is lost, and
// the first request after the database is back works (no stale pooled connection).
func TestDatabaseOutageIsNamed(t *testing.T) {
	dsn, err := url.Parse(pgtest.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDBProxy(t, dsn.Host)
	dsn.Host = proxy.addr
	w := newWorld(t)
	w.addPortal(t, dsn.String())
	c := w.formsFor(t, "integration-registrar")
	draft := c.validatedDraft("Outage queue")

	proxy.cut()
	time.Sleep(1100 * time.Millisecond) // past the replica's one-second reuse of a session
	for _, path := range []string{"/endpoints", "/drafts/" + draft + "/review"} {
		resp, err := c.forms.Get(w.front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(string(body), "Temporarily unavailable") || !strings.Contains(string(body), resp.Header.Get("X-Request-Id")) {
			t.Fatalf("GET %s during the outage: %d, Retry-After %q: %.300s", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}

	proxy.restore()
	if resp := c.post("/drafts/"+draft+"/review", url.Values{"nav": {"save"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the first save after the outage answered %d", resp.StatusCode)
	}
	if doc := listPage(t, c.forms, w.front.URL+"/endpoints?q=outage"); !strings.Contains(doc.Find("table").Text(), "Outage queue") {
		t.Fatal("the saved endpoint is not listed")
	}
}

// TestReadinessNamesNoDatabaseDetails: /readyz reports the database down without the
// connection string's host, user or database.
func TestReadinessNamesNoDatabaseDetails(t *testing.T) {
	dsn, err := url.Parse(pgtest.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDBProxy(t, dsn.Host)
	dsn.Host = proxy.addr
	w := newWorld(t)
	st, _ := w.addPortal(t, dsn.String())
	proxy.cut()
	check := readinessChecks(st, w.envs, w.catalogs[0])[0]
	_, err = check.Check(w.ctx)
	if err == nil {
		t.Fatal("the database check passed with the database cut off")
	}
	for _, secret := range []string{proxy.addr, dsn.User.Username(), strings.TrimPrefix(dsn.Path, "/"), "postgres://"} {
		if secret != "" && strings.Contains(err.Error(), secret) {
			t.Fatalf("readiness names %q: %v", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "not answering") {
		t.Fatalf("readiness says %q", err)
	}
}
