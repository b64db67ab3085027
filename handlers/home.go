package handlers

import (
	"net/http"

	"github.com/contoso/sbportal/web"
)

// home renders the start page.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, web.Home(s.page(w, r, "", web.NavHome)))
	return nil
}
