package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certificateFiles serves the certificate of a PEM certificate file and key file and picks up
// a renewed pair without a restart: a handshake at most every checkEvery looks at both files'
// modification times and sizes and reloads them when either changed. A pair that does not
// load (the certificate already written, its key not yet) leaves the previous certificate in
// use and is tried again at the next check, so a renewal is never an outage.
type certificateFiles struct {
	certFile, keyFile string
	checkEvery        time.Duration
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // the files' state when cert was read
	checked time.Time
}

// certificateCheckInterval is how often handshakes look for renewed files.
const certificateCheckInterval = time.Second

// loadCertificateFiles reads the pair once; an unreadable pair is an error at start.
func loadCertificateFiles(certFile, keyFile string, log *slog.Logger) (*certificateFiles, error) {
	c := &certificateFiles{certFile: certFile, keyFile: keyFile, checkEvery: certificateCheckInterval, log: log}
	if err := c.reload(c.fileStamp()); err != nil {
		return nil, err
	}
	return c, nil
}

// fileStamp describes both files' modification times and sizes ("" when one cannot be read).
func (c *certificateFiles) fileStamp() string {
	var stamp string
	for _, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return ""
		}
		stamp += fmt.Sprintf("%d/%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return stamp
}

func (c *certificateFiles) reload(stamp string) error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load the TLS certificate (PORTAL_TLS_CERT_FILE, PORTAL_TLS_KEY_FILE): %w", err)
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certificateFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= c.checkEvery {
		c.checked = now
		if stamp := c.fileStamp(); stamp != "" && stamp != c.stamp {
			if err := c.reload(stamp); err != nil {
				c.log.Warn("TLS certificate files changed but do not load; serving the previous certificate", slog.String("err", err.Error()))
			} else {
				c.log.Info("TLS certificate reloaded", slog.String("subject", c.cert.Leaf.Subject.String()),
					slog.Time("not_after", c.cert.Leaf.NotAfter))
			}
		}
	}
	return c.cert, nil
}

// tlsConfig is the server's TLS configuration: TLS 1.2 or later, the files' certificate.
func (c *certificateFiles) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}
