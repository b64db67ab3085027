package handlers

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// listPageSize is how many endpoints one page of the list shows.
const listPageSize = 50

var listSorts = []web.Option{
	{Value: "name", Label: "Name"},
	{Value: "type", Label: "Designation type"},
	{Value: "team", Label: "Team"},
	{Value: "validated", Label: "Last validation (newest first)"},
	{Value: "created", Label: "Created (newest first)"},
}

// endpointList shows every endpoint the person may see, with search, filters, sorting and
// paging done on the server.
func (s *Server) endpointList(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	now := s.now()
	version := s.Catalog.Version()
	keep := !hasFlashes(r)
	key := listPageKey(r, id, now)
	if keep {
		if page, ok := s.listPages.get(version, key); ok {
			writeKeptPage(w, r, page)
			return nil
		}
	}
	q := readListQuery(r.URL.Query())
	found := s.visible(r.Context(), id)
	entries := found.entries

	teams := map[string]bool{}
	for _, e := range entries {
		if e.ViaPortal {
			teams[e.Owner.Team] = true
		}
	}
	search := strings.ToLower(q.Search)
	// visible built a fresh slice for this request: filter and sort it in place.
	matched := entries
	if q.Search != "" || q.Environment != "" || q.Contract != "" || q.Team != "" || q.Status != "" || q.Health != "" {
		matched = slices.DeleteFunc(entries, func(e *catalogEntry) bool { return !matchesQuery(q, search, e) })
	}
	if q.Sort != "name" { // visible's entries come sorted by name
		sortEntries(matched, q.Sort)
	}

	l := web.EndpointList{Query: q, Total: len(matched), Now: now,
		CanRegister: s.canRegisterAnywhere(id), Freshness: found.freshness, ReturnURL: listURL(q, q.Page)}
	l.CanRefresh = l.CanRegister
	l.CanAdopt = s.cfg.Policy.Can(id, auth.ActionAdopt, auth.Resource{})
	l.Pages = max(1, (len(matched)+listPageSize-1)/listPageSize)
	l.Page = min(max(q.Page, 1), l.Pages)
	start := (l.Page - 1) * listPageSize
	for _, e := range matched[start:min(start+listPageSize, len(matched))] {
		row := s.row(id, e)
		l.Rows = append(l.Rows, row)
		l.RowHTML = append(l.RowHTML, s.listRows.html(r, version, e, row, now))
	}
	if l.Page > 1 {
		l.PrevURL = listURL(q, l.Page-1)
	}
	if l.Page < l.Pages {
		l.NextURL = listURL(q, l.Page+1)
	}
	l.Unavailable = found.unavailable
	l.Environments = []web.Option{{Value: "", Label: "All environments"}}
	for _, env := range s.Environments.List() {
		l.Environments = append(l.Environments, web.Option{Value: env.ID, Label: env.DisplayName, Selected: env.ID == q.Environment})
	}
	l.Contracts = []web.Option{{Value: "", Label: "All types"}}
	for _, c := range endpoint.RegistrableContracts {
		v := strconv.Itoa(int(c))
		l.Contracts = append(l.Contracts, web.Option{Value: v, Label: c.Label(), Selected: v == q.Contract})
	}
	l.Teams = []web.Option{{Value: "", Label: "All teams"}, {Value: "-", Label: "Not registered through the portal", Selected: q.Team == "-"}}
	teamNames := make([]string, 0, len(teams))
	for t := range teams {
		teamNames = append(teamNames, t)
	}
	slices.Sort(teamNames)
	for _, t := range teamNames {
		l.Teams = append(l.Teams, web.Option{Value: t, Label: t, Selected: t == q.Team})
	}
	l.Statuses = []web.Option{{Value: "", Label: "Any"}}
	for _, s := range []web.Option{{Value: "passed", Label: "Passed"}, {Value: "failed", Label: "Failed"}, {Value: "never", Label: "Never validated"}, {Value: "needs-key", Label: "Needs a key"}} {
		s.Selected = s.Value == q.Status
		l.Statuses = append(l.Statuses, s)
	}
	l.Healths = healthFilterOptions(q.Health)
	for _, s := range listSorts {
		s.Selected = s.Value == q.Sort
		l.Sorts = append(l.Sorts, s)
	}
	page := s.page(w, r, "Endpoints", web.NavEndpoints)
	if !keep {
		s.render(w, r, http.StatusOK, web.EndpointListPage(page, l))
		return nil
	}
	page.RequestID = requestIDPlaceholder
	body, err := s.renderBytes(r, web.EndpointListPage(page, l))
	if err != nil {
		return err
	}
	writeKeptPage(w, r, s.listPages.put(version, key, body))
	return nil
}

// canRegisterAnywhere says whether to offer the New endpoint button.
func (s *Server) canRegisterAnywhere(id auth.Identity) bool {
	for _, env := range s.Environments.List() {
		if len(s.cfg.Policy.RegisterTeams(id, env.ID, env.Teams)) > 0 {
			return true
		}
	}
	return false
}

func readListQuery(v url.Values) web.ListQuery {
	q := web.ListQuery{
		Search:      strings.TrimSpace(v.Get("q")),
		Environment: v.Get("env"),
		Contract:    v.Get("type"),
		Team:        v.Get("team"),
		Status:      v.Get("status"),
		Health:      v.Get("health"),
		Sort:        v.Get("sort"),
	}
	if !slices.ContainsFunc(listSorts, func(o web.Option) bool { return o.Value == q.Sort }) {
		q.Sort = "name"
	}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	return q
}

// matchesQuery applies the search and the filters to one entry.
func matchesQuery(q web.ListQuery, lowerSearch string, e *catalogEntry) bool {
	ep := &e.Endpoint
	if q.Environment != "" && e.Env.ID != q.Environment {
		return false
	}
	if q.Contract != "" && strconv.Itoa(int(ep.Contract)) != q.Contract {
		return false
	}
	switch {
	case q.Team == "-":
		if e.ViaPortal {
			return false
		}
	case q.Team != "":
		if !e.ViaPortal || e.Owner.Team != q.Team {
			return false
		}
	}
	switch q.Status {
	case "passed", "failed":
		if !e.HasLastRun || string(e.LastRun.Result) != q.Status {
			return false
		}
	case "never":
		if e.HasLastRun {
			return false
		}
	case "needs-key":
		if !endpoint.KeyMissing(e.Endpoint) {
			return false
		}
	}
	return matchesHealth(q.Health, e) && e.Matches(lowerSearch)
}

// listURL is the list's address for another page with the same search, filters and sort.
func listURL(q web.ListQuery, page int) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Search)
	set("env", q.Environment)
	set("type", q.Contract)
	set("team", q.Team)
	set("status", q.Status)
	set("health", q.Health)
	if q.Sort != "name" {
		set("sort", q.Sort)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/endpoints"
	}
	return "/endpoints?" + v.Encode()
}

// sortEntries orders the list; ties fall back to the name so pages are stable. The catalog
// keeps each environment sorted by name already, so the default order costs a merge.
func sortEntries(entries []*catalogEntry, by string) {
	if by == "name" || by == "" {
		catalog.MergeByName(entries)
		return
	}
	slices.SortStableFunc(entries, func(a, b *catalogEntry) int {
		switch by {
		case "type":
			return cmp.Or(cmp.Compare(a.Endpoint.Contract.Label(), b.Endpoint.Contract.Label()), catalog.CompareByName(a, b))
		case "team":
			return cmp.Or(cmp.Compare(a.Owner.Team, b.Owner.Team), catalog.CompareByName(a, b))
		case "validated":
			return cmp.Or(b.LastRun.StartedAt.Compare(a.LastRun.StartedAt), catalog.CompareByName(a, b))
		case "created":
			return cmp.Or(b.Endpoint.CreatedOn.Compare(a.Endpoint.CreatedOn), catalog.CompareByName(a, b))
		}
		return catalog.CompareByName(a, b)
	})
}

// row is one list line for a catalog entry.
func (s *Server) row(id auth.Identity, e *catalogEntry) web.EndpointRow {
	ep := e.Endpoint
	r := web.EndpointRow{Environment: e.Env.ID, EnvironmentName: e.Env.DisplayName, ID: ep.ID, Name: ep.Name,
		Contract: ep.Contract.Label(), MessageFormat: ep.MessageFormat.Label(), OwnerTeam: e.Owner.Team,
		ViaPortal: e.ViaPortal, CreatedOn: ep.CreatedOn, CreatedBy: e.Owner.RegisteredByName,
		CanTest: s.cfg.Policy.Can(id, auth.ActionTest, resourceOf(e)), NeedsKeyToTest: !e.ViaPortal,
		KeyMissing: endpoint.KeyMissing(ep)}
	if ep.Contract == endpoint.ContractWebhook {
		r.Target = ep.URL
	} else {
		r.Target = strings.TrimSuffix(ep.NamespaceAddress, "/") + "/" + ep.Path
	}
	if e.HasLastRun {
		r.LastResult, r.LastSummary, r.LastWhen = string(e.LastRun.Result), e.LastRun.Summary, e.LastRun.StartedAt
	}
	r.Health = rowHealth(e)
	return r
}
