package handlers

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/web"
)

// renderBuffers are reused across requests: a list page is tens of kilobytes, and growing a
// fresh buffer for each one was a good part of the garbage collector's work.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a templ component with the given status. It renders into a buffer first so a
// rendering failure becomes a clean error page instead of half a page, and the page goes out
// in one write with its length.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 { // keep the pool from holding on to an outsized page
			renderBuffers.Put(buf)
		}
	}()
	if err := c.Render(r.Context(), buf); err != nil {
		s.log.ErrorContext(r.Context(), "render failed",
			slog.String("request_id", RequestID(r.Context())), slog.String("error", err.Error()))
		http.Error(w, "The page could not be rendered. Request id "+RequestID(r.Context()), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderBytes renders a component into a new slice (for pages that are kept and served again).
func (s *Server) renderBytes(r *http.Request, c templ.Component) ([]byte, error) {
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer renderBuffers.Put(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// page builds the layout's view of the request.
func (s *Server) page(w http.ResponseWriter, r *http.Request, title, nav string) web.Page {
	return web.Page{
		Title:     title,
		Nav:       nav,
		RequestID: RequestID(r.Context()),
		DevMode:   s.cfg.DevMode,
		Flashes:   s.takeFlashes(w, r),
		User:      pageUser(r),
		HideNew:   !s.mayRegister(r),
	}
}

// mayRegister says whether to offer "New endpoint": the signed-in person may register for a
// team in at least one environment.
func (s *Server) mayRegister(r *http.Request) bool {
	id, ok := auth.IdentityFrom(r.Context())
	if !ok || s.cfg.Pages == nil || s.cfg.Pages.Environments == nil {
		return ok
	}
	return s.canRegisterAnywhere(id)
}

// pageUser is the signed-in person for the layout's user menu (nil on public pages).
func pageUser(r *http.Request) *web.User {
	id, ok := auth.IdentityFrom(r.Context())
	if !ok {
		return nil
	}
	roles := make([]string, 0, len(id.Roles))
	for _, role := range id.Roles {
		roles = append(roles, string(role))
	}
	return &web.User{Name: id.Name, Username: id.Username, Roles: roles, Teams: id.Teams, SignOutURL: auth.SignOutPath}
}
