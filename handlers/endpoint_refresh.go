package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/web"
)

// endpointRefresh re-reads the environments' endpoints from Dataverse now, for people who may
// register (they are the ones who change endpoints outside the portal and want to see it). It
// is rate-limited per environment: the catalog answers "too soon" within seconds of the last
// refresh, whoever asked for it.
func (p *pages) endpointRefresh(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	if !p.canRegisterAnywhere(id) {
		return &Error{Status: http.StatusForbidden, Title: "You cannot do this",
			Message: "Only people who may register endpoints can ask for a refresh; the list refreshes by itself every minute."}
	}
	back := r.PostFormValue("return")
	if !strings.HasPrefix(back, "/endpoints") || strings.HasPrefix(back, "//") {
		back = "/endpoints"
	}
	var refreshed, tooSoon, failed []string
	var wait string
	for _, env := range p.Environments.List() {
		err := p.Catalog.Refresh(r.Context(), env.ID)
		var soon *catalog.TooSoonError
		switch {
		case err == nil:
			refreshed = append(refreshed, env.DisplayName)
		case errors.As(err, &soon):
			tooSoon = append(tooSoon, env.DisplayName)
			wait = soon.Error()
		default:
			failed = append(failed, env.DisplayName)
		}
	}
	switch {
	case len(failed) > 0:
		p.addFlash(w, r, web.Flash{Kind: web.FlashWarning, Message: strings.Join(failed, ", ") +
			" could not be refreshed; the list shows the last good data and says why."})
	case len(refreshed) == 0 && len(tooSoon) > 0:
		p.addFlash(w, r, web.Flash{Kind: web.FlashInfo, Message: "The list is current: " + wait + "."})
	default:
		p.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "The list was refreshed from Dataverse."})
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
