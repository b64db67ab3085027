package handlers

import "net/http"

// healthz answers 200 while the process serves HTTP; it checks nothing else, so an orchestrator
// restarts the portal only when it is really stuck.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}
