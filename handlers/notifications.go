package handlers

import (
	"net/http"

	"github.com/contoso/sbportal/web"
)

// notificationsPage lists what the portal sent (or, in the local stack, would have sent) to
// teams, newest first. Only the local stack serves it: there everybody is a test persona.
func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.DevMode {
		return s.notFound(w, r)
	}
	list, err := s.Store.ListNotifications(r.Context(), 200)
	if err != nil {
		return err
	}
	page := web.NotificationsPage{Note: s.NotificationsNote}
	for _, n := range list {
		row := web.Notification{When: n.CreatedAt, Team: n.Team, Channel: n.Channel, Target: s.Notifier.Describe(n.Team, n.Channel),
			Endpoint: n.EndpointName, EndpointURL: web.EndpointURL(n.Environment, n.EndpointID), Subject: n.Subject, Body: n.Body,
			Attempts: n.Attempts, LastError: n.LastError, State: "pending"}
		switch {
		case !n.SentAt.IsZero():
			row.State = "sent"
		case n.Attempts > 0:
			row.State = "failed, will retry"
		}
		page.Rows = append(page.Rows, row)
	}
	s.render(w, r, http.StatusOK, web.NotificationsListPage(s.page(w, r, "Notifications", web.NavNotifications), page))
	return nil
}
