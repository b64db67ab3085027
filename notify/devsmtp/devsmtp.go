// Package devsmtp is a stand-in SMTP recipient on loopback for `portal dev` and tests: it
// accepts every message (no TLS, no AUTH) and keeps it in memory, so e-mail notifications can
// be tried without a mail server.
//
// What it must not do: listen beyond loopback, relay mail anywhere, or keep messages on disk.
package devsmtp

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Mail is one message received.
type Mail struct {
	From string
	To   []string
	Data string // headers and body as received (dot-unstuffed)
	At   time.Time
}

// Server is the stand-in recipient.
type Server struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []Mail
	wg   sync.WaitGroup
}

// Start listens on addr, which must be a loopback address ("127.0.0.1:0" for a free port).
func Start(addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("stand-in SMTP: %q is not host:port", addr)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, errors.New("stand-in SMTP: listens on a loopback address only")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stand-in SMTP: %w", err)
	}
	s := &Server{ln: ln}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the address to configure as the SMTP server.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Mail returns the messages received so far, oldest first.
func (s *Server) Mail() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mail)
}

// Close stops listening and waits for open sessions to end.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
		}()
	}
}

// session speaks just enough SMTP (RFC 5321) for net/smtp.SendMail.
func (s *Server) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	reply := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	reply("220 localhost stand-in SMTP recipient (portal dev)")
	var m Mail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(verb, "EHLO"):
			reply("250-localhost")
			reply("250 8BITMIME")
		case strings.HasPrefix(verb, "HELO"):
			reply("250 localhost")
		case strings.HasPrefix(verb, "MAIL FROM:"):
			m = Mail{From: strings.Trim(line[len("MAIL FROM:"):], " <>")}
			reply("250 OK")
		case strings.HasPrefix(verb, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(line[len("RCPT TO:"):], " <>"))
			reply("250 OK")
		case verb == "DATA":
			reply("354 End data with <CR><LF>.<CR><LF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data, m.At = b.String(), time.Now()
			s.mu.Lock()
			s.mail = append(s.mail, m)
			s.mu.Unlock()
			reply("250 OK: queued")
		case verb == "RSET" || verb == "NOOP":
			reply("250 OK")
		case verb == "QUIT":
			reply("221 Bye")
			return
		default:
			reply("502 Command not implemented")
		}
	}
}
