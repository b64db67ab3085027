package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCertificate writes a self-signed certificate for 127.0.0.1 named cn, and its key, to
// certFile and keyFile: written beside them and renamed over them, as certificate tools do.
func writeCertificate(t *testing.T, certFile, keyFile, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file+".new", pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".new", file); err != nil {
			t.Fatal(err)
		}
	}
}

// servedName is the common name of the certificate a new handshake with addr sees.
func servedName(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestServeTLSPicksUpRenewedCertificate: the files are replaced under a running server; the
// next handshake sees the new certificate, and a half-written renewal keeps the old one.
func TestServeTLSPicksUpRenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCertificate(t, certFile, keyFile, "first")
	var logs syncBuffer
	certs, err := loadCertificateFiles(certFile, keyFile, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	certs.checkEvery = 10 * time.Millisecond
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), testLogger(&logs))
	srv.TLSConfig = certs.tlsConfig()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveUntilDone(ctx, srv, ln, time.Second, testLogger(&logs)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := ln.Addr().String()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("https GET: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	if got := servedName(t, addr); got != "first" {
		t.Fatalf("served %q, want first", got)
	}

	writeCertificate(t, certFile, keyFile, "renewed")
	time.Sleep(20 * time.Millisecond)
	if got := servedName(t, addr); got != "renewed" {
		t.Fatalf("after renewal served %q, want renewed", got)
	}

	// The key is not there yet: the renewed certificate stays in use until it is.
	if err := os.WriteFile(keyFile, []byte("not yet"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if got := servedName(t, addr); got != "renewed" {
		t.Fatalf("with a broken key served %q, want renewed", got)
	}
	if !strings.Contains(logs.String(), "do not load") {
		t.Errorf("a broken renewal was not logged: %s", logs.String())
	}
	writeCertificate(t, certFile, keyFile, "third")
	time.Sleep(20 * time.Millisecond)
	if got := servedName(t, addr); got != "third" {
		t.Fatalf("served %q, want third", got)
	}
}
