package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/store"
)

// apiAudit answers the audit trail (Admins), newest first, with the audit page's filters
// (actor, action, env) plus endpoint and since; next continues it.
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorize(r, auth.ActionViewAudit, auth.Resource{}); err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: q.Get("action"), Environment: q.Get("env"),
		EndpointID: q.Get("endpoint"), Limit: 100}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return invalid("since is not a time", map[string][]string{"since": {"Write since as an RFC 3339 time, e.g. 2025-01-31T12:00:00Z."}})
		}
		f.Since = t
	}
	page, err := s.Store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	out := api.AuditPage{Items: []api.AuditEntry{}}
	for _, e := range page.Entries {
		out.Items = append(out.Items, api.AuditEntry{ID: e.ID, At: e.At, Actor: e.ActorName, ActorKey: e.ActorKey, Action: e.Action,
			Environment: e.Environment, EndpointID: e.EndpointID, EndpointName: e.EndpointName, Outcome: string(e.Outcome),
			Detail: e.Detail, Before: e.Before, After: e.After, RequestID: e.RequestID})
	}
	if page.NextBeforeID != 0 {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("before", strconv.FormatInt(page.NextBeforeID, 10))
		out.Next = APIPrefix + "/audit?" + next.Encode()
	}
	return writeJSON(w, http.StatusOK, out)
}
