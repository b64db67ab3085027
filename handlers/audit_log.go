package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

var auditActions = []string{"endpoint.create", "endpoint.edit", "endpoint.rekey", "endpoint.delete", "endpoint.test", "draft.validate",
	"step.create", "step.update", "step.enable", "step.disable", "step.delete", "step.sample"}

// auditLog shows the audit trail to Admins, newest first, with filters.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorize(r, auth.ActionViewAudit, auth.Resource{}); err != nil {
		return err
	}
	q := r.URL.Query()
	// Who: a person's name as the log shows it, or their stable key (tenant/object id).
	f := store.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: q.Get("action"), Environment: q.Get("env"), Limit: 50}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	page, err := s.Store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	l := web.AuditLog{Rows: auditRows(page.Entries), Actor: f.Actor, Action: f.Action, Environment: f.Environment}
	l.Actions = []web.Option{{Value: "", Label: "All actions"}}
	for _, a := range auditActions {
		l.Actions = append(l.Actions, web.Option{Value: a, Label: a, Selected: a == f.Action})
	}
	l.Environments = []web.Option{{Value: "", Label: "All environments"}}
	for _, env := range s.Environments.List() {
		l.Environments = append(l.Environments, web.Option{Value: env.ID, Label: env.DisplayName, Selected: env.ID == f.Environment})
	}
	if page.NextBeforeID != 0 {
		v := url.Values{}
		for k, val := range map[string]string{"actor": f.Actor, "action": f.Action, "env": f.Environment} {
			if val != "" {
				v.Set(k, val)
			}
		}
		v.Set("before", strconv.FormatInt(page.NextBeforeID, 10))
		l.NextURL = "/audit?" + v.Encode()
	}
	if f.BeforeID != 0 {
		l.PrevURL = "/audit"
	}
	s.render(w, r, http.StatusOK, web.AuditLogPage(s.page(w, r, "Audit log", ""), l))
	return nil
}
