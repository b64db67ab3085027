package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/web"
)

// refreshWait bounds how long a person's Refresh waits for Dataverse.
const refreshWait = 10 * time.Second

// endpointRefresh re-reads the environments' endpoints from Dataverse now, for people who may
// register (they are the ones who change endpoints outside the portal and want to see it). It
// is rate-limited per environment: the catalog answers "too soon" within seconds of the last
// refresh, whoever asked for it.
func (s *Server) endpointRefresh(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	if !s.canRegisterAnywhere(id) {
		return &Error{Status: http.StatusForbidden, Title: "You cannot do this",
			Message: "Only people who may register endpoints can ask for a refresh; the list refreshes by itself every minute."}
	}
	back := r.PostFormValue("return")
	if !strings.HasPrefix(back, "/endpoints") || strings.HasPrefix(back, "//") {
		back = "/endpoints"
	}
	// Wait a little for Dataverse, not for as long as it may take when it is throttling: the
	// refresh goes on in the background, and the list shows its result when it lands.
	ctx, cancel := context.WithTimeout(r.Context(), refreshWait)
	defer cancel()
	envs := s.Environments.List()
	errs := make([]error, len(envs))
	var wg sync.WaitGroup
	for i, env := range envs {
		wg.Go(func() { errs[i] = s.Catalog.Refresh(ctx, env.ID) })
	}
	wg.Wait()
	var refreshed, tooSoon, failed, running []string
	var wait string
	for i, env := range envs {
		var soon *catalog.TooSoonError
		switch err := errs[i]; {
		case err == nil:
			refreshed = append(refreshed, env.DisplayName)
		case errors.As(err, &soon):
			tooSoon = append(tooSoon, env.DisplayName)
			wait = soon.Error()
		case errors.Is(err, context.DeadlineExceeded):
			running = append(running, env.DisplayName)
		default:
			failed = append(failed, env.DisplayName)
		}
	}
	switch {
	case len(running) > 0:
		s.addFlash(w, r, web.Flash{Kind: web.FlashInfo, Message: strings.Join(running, ", ") +
			" answers slowly; the refresh goes on and the list shows its result when it is done."})
	case len(failed) > 0:
		s.addFlash(w, r, web.Flash{Kind: web.FlashWarning, Message: strings.Join(failed, ", ") +
			" could not be refreshed; the list shows the last good data and says why."})
	case len(refreshed) == 0 && len(tooSoon) > 0:
		s.addFlash(w, r, web.Flash{Kind: web.FlashInfo, Message: "The list is current: " + wait + "."})
	default:
		s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "The list was refreshed from Dataverse."})
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
