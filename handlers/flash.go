package handlers

import (
	"net/http"

	"github.com/gorilla/securecookie"

	"github.com/contoso/sbportal/web"
)

// Flash messages travel to the next page in a short-lived, signed cookie: they are not secret,
// but the signature stops anyone from planting a message in someone else's browser.
const flashCookie = "portal_flash"

func newFlashCodec(key []byte) *securecookie.SecureCookie {
	c := securecookie.New(key, nil)
	c.MaxAge(300)
	c.SetSerializer(securecookie.JSONEncoder{})
	return c
}

// addFlash queues a message for the next page this browser loads.
func (s *Server) addFlash(w http.ResponseWriter, r *http.Request, f web.Flash) {
	flashes := s.readFlashes(r)
	flashes = append(flashes, f)
	if len(flashes) > 5 {
		flashes = flashes[len(flashes)-5:]
	}
	v, err := s.flash.Encode(flashCookie, flashes)
	if err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v, Path: "/", MaxAge: 300,
		HttpOnly: true, Secure: s.cfg.HTTPS, SameSite: http.SameSiteLaxMode})
}

func (s *Server) readFlashes(r *http.Request) []web.Flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	var flashes []web.Flash
	if err := s.flash.Decode(flashCookie, c.Value, &flashes); err != nil {
		return nil
	}
	return flashes
}

// takeFlashes returns the queued messages and clears them, so each shows once.
func (s *Server) takeFlashes(w http.ResponseWriter, r *http.Request) []web.Flash {
	flashes := s.readFlashes(r)
	if _, err := r.Cookie(flashCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: s.cfg.HTTPS, SameSite: http.SameSiteLaxMode})
	}
	return flashes
}
