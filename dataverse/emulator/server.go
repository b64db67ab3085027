package emulator

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIPath is where the emulated Web API lives, as in Dataverse.
const APIPath = "/api/data/v9.2/"

// Privilege names a Dataverse privilege the emulator checks.
type Privilege string

// Privileges checked by the emulator (organization-wide, as in Dataverse).
const (
	PrvCreateServiceEndpoint Privilege = "prvCreateServiceEndpoint"
	PrvReadServiceEndpoint   Privilege = "prvReadServiceEndpoint"
	PrvWriteServiceEndpoint  Privilege = "prvWriteServiceEndpoint"
	PrvDeleteServiceEndpoint Privilege = "prvDeleteServiceEndpoint"
	PrvCreateStep            Privilege = "prvCreateSdkMessageProcessingStep"
	PrvReadStep              Privilege = "prvReadSdkMessageProcessingStep"
	PrvWriteStep             Privilege = "prvWriteSdkMessageProcessingStep"
	PrvDeleteStep            Privilege = "prvDeleteSdkMessageProcessingStep"
)

// AppUser is an application user of the organization: the Dataverse identity of an app
// registration. It holds every privilege above except those in Denied.
type AppUser struct {
	ClientID string
	UserID   string // systemuserid; derived from the client id when empty
	FullName string
	Denied   []Privilege
}

// Options configure an emulated organization.
type Options struct {
	// Name is the organization's display name, e.g. "Contoso Dev".
	Name string
	// Addr to listen on; default "127.0.0.1:0".
	Addr string
	// URL overrides the environment URL the emulator reports and expects as token audience;
	// default http://<listen address>.
	URL string
	// Tokens verifies bearer tokens (required).
	Tokens *TokenIssuer
	// Users are the organization's application users. A valid token for an app that is not
	// here gets 403 "not a member of the organization".
	Users []AppUser
	// TLS serves https with the token issuer's certificate (valid for 127.0.0.1, ::1 and
	// localhost; trust TokenIssuer.CertPool). The default is plain http.
	TLS bool
	// DataFile is a SQLite file to keep data across restarts; empty keeps data in memory.
	DataFile string
	// OrganizationID and BusinessUnitID answer WhoAmI; derived from Name when empty.
	OrganizationID string
	BusinessUnitID string
	// Clock is the time createdon and modifiedon are stamped with; nil means time.Now. Tests
	// of delta queries set it to place changes at known times. The emulator keeps these
	// columns to the second, as Dataverse returns them.
	Clock func() time.Time
}

// Server is one emulated Dataverse organization: a Web API stand-in for the serviceendpoint,
// sdkmessageprocessingstep and sdkmessageprocessingstepimage tables, the seeded sdkmessage,
// sdkmessagefilter, customapi and systemuser tables, table column metadata, WhoAmI and
// TriggerServiceEndpointCheck, with bearer token checks, privilege checks, Dataverse's column
// and step rules, and fault injection.
type Server struct {
	name, url   string
	orgID, buID string
	tokens      *TokenIssuer
	store       *store
	ln          net.Listener
	srv         *http.Server

	mu        sync.Mutex
	users     map[string]*AppUser
	faults    []*faultState
	version   int64
	solutions map[string][]string
	log       []string
	counts    map[requestKind]int
	now       func() time.Time
}

// requestKind is what RequestCount counts by.
type requestKind struct{ method, resource string }

// Start opens the data file (if any) and serves the organization on its own listener.
func Start(opts Options) (*Server, error) {
	if opts.Tokens == nil {
		return nil, errors.New("dataverse emulator: Options.Tokens is required to check bearer tokens")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Name == "" {
		opts.Name = "Contoso"
	}
	st, err := openStore(opts.DataFile)
	if err != nil {
		return nil, fmt.Errorf("dataverse emulator: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("dataverse emulator: listen on %s: %w", opts.Addr, err)
	}
	s := &Server{
		name: opts.Name, tokens: opts.Tokens, store: st, ln: ln,
		orgID: opts.OrganizationID, buID: opts.BusinessUnitID,
		users: map[string]*AppUser{}, solutions: map[string][]string{}, counts: map[requestKind]int{}, now: opts.Clock,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.orgID == "" {
		s.orgID = derivedGUID("org:" + opts.Name)
	}
	if s.buID == "" {
		s.buID = derivedGUID("bu:" + opts.Name)
	}
	scheme := "http://"
	if opts.TLS {
		scheme = "https://"
	}
	s.url = opts.URL
	if s.url == "" {
		s.url = scheme + loopbackAddr(ln.Addr())
	}
	s.url = strings.TrimSuffix(s.url, "/")
	for _, u := range opts.Users {
		s.AddAppUser(u)
	}
	s.version = s.maxVersion()
	s.seedMessages()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	if opts.TLS {
		// HTTP/1.1 only: "commit then drop the response" hijacks the connection.
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{opts.Tokens.cert}, MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"}}
		go func() { _ = s.srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = s.srv.Serve(ln) }()
	}
	return s, nil
}

// loopbackAddr turns an unspecified listen address (0.0.0.0, [::]) into one a client can dial.
func loopbackAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// URL is the environment URL (what the portal configures and the token audience).
func (s *Server) URL() string { return s.url }

// Name is the organization's display name.
func (s *Server) Name() string { return s.name }

// OrganizationID is what WhoAmI answers as OrganizationId.
func (s *Server) OrganizationID() string { return s.orgID }

// Close stops serving and closes the data file.
func (s *Server) Close() error {
	err := s.srv.Close()
	if cerr := s.store.close(); err == nil {
		err = cerr
	}
	return err
}

// AddAppUser adds or replaces an application user.
func (s *Server) AddAppUser(u AppUser) {
	if u.UserID == "" {
		u.UserID = derivedGUID("user:" + s.name + ":" + u.ClientID)
	}
	if u.FullName == "" {
		u.FullName = "# " + u.ClientID
	}
	u.Denied = slices.Clone(u.Denied)
	s.mu.Lock()
	s.users[u.ClientID] = &u
	s.mu.Unlock()
	// The application user is a systemuser too, so steps can run as it.
	s.store.mu.Lock()
	s.store.table(systemUserEntity.set)[u.UserID] = record{systemUserEntity.key: u.UserID, "fullname": u.FullName,
		"applicationid": strings.ToLower(u.ClientID), "isdisabled": false, "versionnumber": float64(0)}
	s.store.mu.Unlock()
}

// DenyPrivilege removes a privilege from an application user's roles (for tests and demos).
func (s *Server) DenyPrivilege(clientID string, p Privilege) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[clientID]; ok && !slices.Contains(u.Denied, p) {
		u.Denied = append(u.Denied, p)
	}
}

// GrantPrivilege gives a privilege back.
func (s *Server) GrantPrivilege(clientID string, p Privilege) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[clientID]; ok {
		u.Denied = slices.DeleteFunc(u.Denied, func(d Privilege) bool { return d == p })
	}
}

// Fault is a misbehaviour injected into matching requests, without restarting the emulator.
type Fault struct {
	// Method matches the HTTP method ("" any).
	Method string `json:"method,omitempty"`
	// Path matches when the path under /api/data/v9.2/ contains it ("" any).
	Path string `json:"path,omitempty"`
	// Status answers with this status instead of serving: 429 (with Retry-After and
	// Dataverse's throttling error), 503, 502, 504 or any other.
	Status int `json:"status,omitempty"`
	// RetryAfter is sent with 429 and 503 (rounded up to whole seconds).
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Latency delays the request before anything else.
	Latency time.Duration `json:"latency,omitempty"`
	// DropResponse serves the request (changes are committed) and then closes the connection
	// without answering, like a response lost on the way back.
	DropResponse bool `json:"dropResponse,omitempty"`
	// Times is how many matching requests the fault affects: 0 means once, -1 means until
	// ClearFaults.
	Times int `json:"times,omitempty"`
}

type faultState struct {
	Fault
	left int
}

// InjectFault adds a fault; faults apply in the order added, one per request.
func (s *Server) InjectFault(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{Fault: f, left: left})
	s.mu.Unlock()
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (s *Server) takeFault(method, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, method)) && strings.Contains(path, f.Path) {
			if f.left > 0 {
				f.left--
			}
			if f.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			ff := f.Fault
			return &ff
		}
	}
	return nil
}

// Requests returns "METHOD path?query" of the API requests received so far (the last 10,000).
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// RequestCount returns how many API requests with this method ("" for any) arrived for
// resource since the emulator started. Every request under /api/data/v9.2/ counts, whatever
// its answer: a throttled, refused or faulted request still reached Dataverse. Unlike
// Requests, the counts are not limited to the last 10,000 requests.
//
// resource is the request's path under /api/data/v9.2/ without its query, with every key
// left out of its parentheses, so collection reads and single-record reads are told apart:
//
//	"serviceendpoints"    the collection: list queries (GET; each page, nextLink pages
//	                      included, is one request) and creates (POST)
//	"serviceendpoints()"  one record by id: reads (GET), updates (PATCH), deletes (DELETE)
//	"serviceendpoints()/serviceendpoint_sdkmessageprocessingstep"  an endpoint's steps
//	                      (with their $expand: one request however many are expanded)
//	"serviceendpoints()/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck"
//	"sdkmessageprocessingsteps", "sdkmessageprocessingsteps()"  steps: list and create, and
//	                      one step's read, update, delete
//	"sdkmessageprocessingstepimages", "sdkmessageprocessingstepimages()"  step images
//	"sdkmessages", "sdkmessagefilters", "customapis", "systemusers"  the seeded, read-only
//	                      tables (and "<set>()" for one record)
//	"EntityDefinitions()/Attributes"  a table's columns
//	"WhoAmI"              ("WhoAmI()" when called with parentheses)
//
// For example, RequestCount("GET", "serviceendpoints") is the number of list queries.
func (s *Server) RequestCount(method, resource string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method != "" {
		return s.counts[requestKind{strings.ToUpper(method), resource}]
	}
	n := 0
	for k, c := range s.counts {
		if k.resource == resource {
			n += c
		}
	}
	return n
}

// resourceOf is a request path under APIPath with the keys left out: "serviceendpoints(<id>)/x"
// becomes "serviceendpoints()/x".
func resourceOf(rest string) string {
	if strings.IndexByte(rest, '(') < 0 {
		return rest
	}
	var b strings.Builder
	depth := 0
	for _, r := range rest {
		switch {
		case r == '(':
			if depth == 0 {
				b.WriteRune(r)
			}
			depth++
		case r == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteRune(r)
			}
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Count returns how many rows an entity set holds ("serviceendpoints",
// "sdkmessageprocessingsteps").
func (s *Server) Count(entitySet string) int {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	return len(s.store.tables[entitySet])
}

// SolutionComponents lists the ids created with MSCRM.SolutionUniqueName: name.
func (s *Server) SolutionComponents(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.solutions[name])
}

// ServeHTTP serves the Web API under /api/data/v9.2/ and the fault admin endpoint
// /_emulator/faults (POST a Fault as JSON; DELETE clears them).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_emulator/faults" {
		s.serveFaultAdmin(w, r)
		return
	}
	if r.URL.Path == "/_emulator/deliveries" {
		s.serveDeliveriesAdmin(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, APIPath)
	if !ok {
		writeDVError(w, &apiError{status: 404, code: codeQuerySyntax, message: "The Web API is under " + APIPath})
		return
	}
	s.mu.Lock()
	if len(s.log) >= 10000 {
		s.log = s.log[1:]
	}
	line := r.Method + " " + rest
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	s.log = append(s.log, line)
	s.counts[requestKind{r.Method, resourceOf(rest)}]++
	s.mu.Unlock()

	f := s.takeFault(r.Method, rest)
	if f != nil && f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f != nil && f.Status != 0 {
		s.writeFault(w, f)
		return
	}
	user, aerr := s.authenticate(w, r)
	if aerr != nil {
		if aerr.status != 401 {
			writeDVError(w, aerr)
		}
		return
	}
	if f != nil && f.DropResponse {
		rec := httptest.NewRecorder()
		s.route(rec, r, rest, user)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without a response
	}
	s.route(w, r, rest, user)
}

func (s *Server) serveFaultAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var f Fault
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&f); err != nil {
			http.Error(w, "body must be a JSON fault, e.g. {\"status\":429,\"retryAfter\":2000000000,\"times\":3}: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.InjectFault(f)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "POST, DELETE")
		http.Error(w, "POST a fault or DELETE to clear", http.StatusMethodNotAllowed)
	}
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter > 0 && (f.Status == 429 || f.Status == 503) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
	}
	switch f.Status {
	case http.StatusTooManyRequests:
		writeDVError(w, &apiError{status: 429, code: codeThrottled,
			message: "Number of requests exceeded the limit of 6000 over time window of 300 seconds."})
	case http.StatusServiceUnavailable:
		writeDVError(w, &apiError{status: 503, code: codeUnavailable, message: "The service is temporarily unavailable. Try again later."})
	default:
		writeDVError(w, &apiError{status: f.Status, code: codeUnavailable, message: http.StatusText(f.Status)})
	}
}

// authenticate checks the bearer token and finds the application user. On 401 it has already
// answered (with the WWW-Authenticate challenge and no body, as Dataverse does).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*AppUser, *apiError) {
	challenge := func() *apiError {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri=%s/%s/oauth2/authorize, resource_id=%s/`,
			strings.TrimSuffix(s.tokens.AuthorityHost(), "/"), s.tokens.TenantID(), s.url))
		w.WriteHeader(http.StatusUnauthorized)
		return &apiError{status: 401}
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, challenge()
	}
	claims, err := s.tokens.Verify(tok, s.url)
	if err != nil {
		return nil, challenge()
	}
	s.mu.Lock()
	u, ok := s.users[claims.AppID]
	var cp AppUser
	if ok {
		cp = *u
		cp.Denied = slices.Clone(u.Denied)
	}
	s.mu.Unlock()
	if !ok {
		return nil, &apiError{status: 403, code: codeNotMember, message: "The user is not a member of the organization."}
	}
	return &cp, nil
}

func (s *Server) checkPrivilege(u *AppUser, p Privilege, e *entity) *apiError {
	if u == nil || !slices.Contains(u.Denied, p) {
		return nil
	}
	return &apiError{status: 403, code: codeMissingPrivilege, message: fmt.Sprintf(
		"Principal user (Id=%s, type=8, roleCount=1, privilegeCount=%d) is missing %s privilege (Id=%s) on OTC=%d for entity '%s'.",
		u.UserID, 8-len(u.Denied), p, derivedGUID("prv:"+string(p)), e.otc, e.logicalName)}
}

// splitKey reads "set(id)" into set and id.
func splitKey(seg string) (set, id string, keyed bool) {
	i := strings.IndexByte(seg, '(')
	if i < 0 || !strings.HasSuffix(seg, ")") {
		return seg, "", false
	}
	return seg[:i], seg[i+1 : len(seg)-1], true
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, rest string, u *AppUser) {
	segs := strings.Split(rest, "/")
	set, rawID, keyed := splitKey(segs[0])
	var id string
	if keyed && set == "WhoAmI" && rawID == "" {
		keyed = false // the function may be called as WhoAmI or WhoAmI()
	}
	if set == "EntityDefinitions" {
		var err *apiError
		if keyed && len(segs) == 2 && segs[1] == "Attributes" {
			err = s.serveAttributes(w, r, rawID)
		} else {
			err = &apiError{status: 404, code: codeQuerySyntax, message: "The emulator serves only EntityDefinitions(LogicalName='<table>')/Attributes."}
		}
		if err != nil {
			writeDVError(w, err)
		}
		return
	}
	if keyed {
		var ok bool
		if id, ok = parseGUID(strings.Trim(rawID, "{}")); !ok {
			writeDVError(w, badRequest(codeQuerySyntax, "Bad Request - Error in query syntax: '%s' is not a valid key.", rawID))
			return
		}
	}
	var err *apiError
	switch {
	case set == "WhoAmI" && len(segs) == 1 && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]string{
			"@odata.context": s.url + APIPath + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
			"BusinessUnitId": s.buID, "UserId": u.UserID, "OrganizationId": s.orgID,
		})
	case set == serviceEndpointEntity.set && len(segs) == 1:
		err = s.serveTable(w, r, serviceEndpointEntity, id, keyed, u)
	case set == serviceEndpointEntity.set && keyed && len(segs) == 2 && segs[1] == "serviceendpoint_sdkmessageprocessingstep" && r.Method == http.MethodGet:
		err = s.endpointSteps(w, r, id, u)
	case set == serviceEndpointEntity.set && keyed && len(segs) == 2 && segs[1] == "Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck" && r.Method == http.MethodPost:
		err = s.triggerCheck(w, id, u)
	case set == stepEntity.set && len(segs) == 1:
		err = s.serveTable(w, r, stepEntity, id, keyed, u)
	case set == imageEntity.set && len(segs) == 1:
		err = s.serveTable(w, r, imageEntity, id, keyed, u)
	case len(segs) == 1 && r.Method == http.MethodGet && seededEntities[set] != nil:
		err = s.serveTable(w, r, seededEntities[set], id, keyed, u)
	default:
		err = &apiError{status: 404, code: codeQuerySyntax, message: fmt.Sprintf("Resource not found for the segment '%s'.", segs[0])}
	}
	if err != nil {
		writeDVError(w, err)
	}
}

// seededEntities are the tables served read-only, by entity set.
var seededEntities = map[string]*entity{
	messageEntity.set: messageEntity, filterEntity.set: filterEntity,
	customAPIEntity.set: customAPIEntity, systemUserEntity.set: systemUserEntity,
	asyncOperationEntity.set: asyncOperationEntity,
}

func privilegeFor(e *entity, verb string) Privilege {
	return Privilege("prv" + verb + e.privilege)
}

func (s *Server) serveTable(w http.ResponseWriter, r *http.Request, e *entity, id string, keyed bool, u *AppUser) *apiError {
	switch {
	case !keyed && r.Method == http.MethodGet:
		if err := s.checkPrivilege(u, privilegeFor(e, "Read"), e); err != nil {
			return err
		}
		return s.list(w, r, e, nil)
	case !keyed && r.Method == http.MethodPost:
		if err := s.checkPrivilege(u, privilegeFor(e, "Create"), e); err != nil {
			return err
		}
		return s.create(w, r, e, u)
	case keyed && r.Method == http.MethodGet:
		if err := s.checkPrivilege(u, privilegeFor(e, "Read"), e); err != nil {
			return err
		}
		return s.get(w, r, e, id)
	case keyed && r.Method == http.MethodPatch:
		if err := s.checkPrivilege(u, privilegeFor(e, "Write"), e); err != nil {
			return err
		}
		return s.update(w, r, e, id, u)
	case keyed && r.Method == http.MethodDelete:
		if err := s.checkPrivilege(u, privilegeFor(e, "Delete"), e); err != nil {
			return err
		}
		return s.delete(w, r, e, id)
	}
	return &apiError{status: 405, code: codeQuerySyntax, message: fmt.Sprintf("The HTTP method '%s' is not allowed on '%s'.", r.Method, e.set)}
}

// prefer reads the Prefer header's preferences.
func prefer(r *http.Request) (representation bool, maxPage int) {
	for _, h := range r.Header.Values("Prefer") {
		for p := range strings.SplitSeq(h, ",") {
			p = strings.TrimSpace(p)
			if p == "return=representation" {
				representation = true
			}
			if v, ok := strings.CutPrefix(p, "odata.maxpagesize="); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					maxPage = n
				}
			}
		}
	}
	return
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, e *entity, base func(record) bool) *apiError {
	q := r.URL.Query()
	if q.Has("$skip") {
		return badRequest(codeQuerySyntax, "The query parameter $skip is not supported.")
	}
	sel, err := parseSelect(e, q.Get("$select"))
	if err != nil {
		return err
	}
	order, err := parseOrderBy(e, q.Get("$orderby"))
	if err != nil {
		return err
	}
	items, err := parseExpand(e, q.Get("$expand"))
	if err != nil {
		return err
	}
	var filter filterExpr
	if f := q.Get("$filter"); f != "" {
		if filter, err = parseFilter(e, f); err != nil {
			return err
		}
	}
	if q.Has("$top") {
		return badRequest(codeQuerySyntax, "The emulator does not support $top; use Prefer: odata.maxpagesize.")
	}
	_, pageSize := prefer(r)
	applied := pageSize > 0
	if pageSize <= 0 || pageSize > 5000 {
		pageSize = 5000
	}
	s.store.mu.RLock()
	rows := make([]record, 0, len(s.store.tables[e.set]))
	for _, row := range s.store.tables[e.set] {
		if (base == nil || base(row)) && (filter == nil || filter.match(row)) {
			rows = append(rows, row)
		}
	}
	s.store.mu.RUnlock()
	slices.SortFunc(rows, func(a, b record) int { return compareRecords(a, b, order, e.key) })
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		after, ok := decodeSkipToken(tok, order, e.key)
		if !ok {
			return badRequest(codeQuerySyntax, "The $skiptoken is not valid for this query.")
		}
		start, _ = slices.BinarySearchFunc(rows, after, func(a, b record) int {
			if compareRecords(a, b, order, e.key) <= 0 {
				return -1
			}
			return 1
		})
	}
	end := min(start+pageSize, len(rows))
	page := rows[start:end]
	exps := make([][]expansion, len(page))
	if len(items) > 0 {
		s.store.mu.RLock()
		for i, row := range page {
			exps[i] = s.store.expand(e, row, items)
		}
		s.store.mu.RUnlock()
	}

	var buf bytes.Buffer
	buf.Grow(len(page) * 600)
	buf.WriteString(`{"@odata.context":`)
	ctx := s.url + APIPath + "$metadata#" + e.set
	if len(sel) > 0 {
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	writeJSONString(&buf, ctx)
	buf.WriteString(`,"value":[`)
	for i, row := range page {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeRow(&buf, e, row, sel, exps[i])
	}
	buf.WriteByte(']')
	if end < len(rows) {
		var parts []string
		for p := range strings.SplitSeq(r.URL.RawQuery, "&") {
			if p != "" && !strings.HasPrefix(p, "$skiptoken=") && !strings.HasPrefix(p, "%24skiptoken=") {
				parts = append(parts, p)
			}
		}
		parts = append(parts, "$skiptoken="+encodeSkipToken(page[len(page)-1], order, e.key))
		buf.WriteString(`,"@odata.nextLink":`)
		writeJSONString(&buf, s.url+r.URL.Path+"?"+strings.Join(parts, "&"))
	}
	buf.WriteByte('}')
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	if applied {
		h.Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(pageSize))
	}
	w.WriteHeader(200)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// writeJSONString writes s as a JSON string without HTML escaping (so "&" in a nextLink stays
// "&", as Dataverse writes it).
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}

// writeRow writes a row as Dataverse returns it: @odata.etag, then the selected (or all
// readable) columns; write-only columns are always null.
func writeRow(buf *bytes.Buffer, e *entity, row record, sel []string, exps []expansion) {
	buf.WriteString(`{"@odata.etag":`)
	writeJSONString(buf, etag(row))
	cols := sel
	if len(cols) == 0 {
		cols = e.order
	}
	wroteKey := false
	for _, name := range cols {
		if name == e.key {
			wroteKey = true
		}
		buf.WriteByte(',')
		writeJSONString(buf, name)
		buf.WriteByte(':')
		v := row[name]
		if e.columns[name].writeOnly || v == nil {
			buf.WriteString("null")
			continue
		}
		if f, ok := v.(float64); ok {
			buf.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
			continue
		}
		b, _ := json.Marshal(v)
		buf.Write(b)
	}
	if !wroteKey {
		buf.WriteByte(',')
		writeJSONString(buf, e.key)
		buf.WriteByte(':')
		writeJSONString(buf, str(row, e.key))
	}
	for _, x := range exps {
		buf.WriteByte(',')
		writeJSONString(buf, x.name)
		buf.WriteByte(':')
		switch {
		case x.nav.many:
			buf.WriteByte('[')
			for i, r := range x.many {
				if i > 0 {
					buf.WriteByte(',')
				}
				writeRow(buf, x.nav.target, r, x.sel, nil)
			}
			buf.WriteByte(']')
		case x.one == nil:
			buf.WriteString("null")
		default:
			writeRow(buf, x.nav.target, x.one, x.sel, nil)
		}
	}
	buf.WriteByte('}')
}

func etag(row record) string { return `W/"` + strconv.Itoa(num(row, "versionnumber")) + `"` }

func (s *Server) writeEntity(w http.ResponseWriter, status int, e *entity, row record, sel []string, exps []expansion) {
	var buf bytes.Buffer
	buf.WriteString(`{"@odata.context":`)
	writeJSONString(&buf, s.url+APIPath+"$metadata#"+e.set+"/$entity")
	buf.WriteByte(',')
	var rowBuf bytes.Buffer
	writeRow(&rowBuf, e, row, sel, exps)
	buf.Write(rowBuf.Bytes()[1:])
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	h.Set("ETag", etag(row))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func notFound(e *entity, id string) *apiError {
	return &apiError{status: 404, code: codeNotFound, message: fmt.Sprintf("Entity '%s' With Id = %s Does Not Exist", e.logicalName, id)}
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, e *entity, id string) *apiError {
	sel, err := parseSelect(e, r.URL.Query().Get("$select"))
	if err != nil {
		return err
	}
	items, err := parseExpand(e, r.URL.Query().Get("$expand"))
	if err != nil {
		return err
	}
	s.store.mu.RLock()
	row, ok := s.store.get(e.set, id)
	var exps []expansion
	if ok {
		exps = s.store.expand(e, row, items)
	}
	s.store.mu.RUnlock()
	if !ok {
		return notFound(e, id)
	}
	s.writeEntity(w, 200, e, row, sel, exps)
	return nil
}

func readBody(r *http.Request) ([]byte, *apiError) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, &apiError{status: 415, code: codePayload, message: fmt.Sprintf("The request's Content-Type is %q; send the record as application/json.", ct)}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20+1))
	if err != nil {
		return nil, badRequest(codePayload, "Could not read the request body.")
	}
	if len(b) > 4<<20 {
		return nil, &apiError{status: 413, code: codePayload, message: "The request body is too large."}
	}
	return b, nil
}

// timestamp is now for createdon and modifiedon, to the second as Dataverse returns them.
func (s *Server) timestamp() string { return s.now().UTC().Format("2006-01-02T15:04:05Z") }

// applyDefaults fills the columns Dataverse defaults on create.
func applyDefaults(e *entity, row record) {
	switch e {
	case serviceEndpointEntity:
		setDefault(row, "messagecharset", float64(0))
		setDefault(row, "usekeyvaultconfiguration", false)
		row["ismanaged"] = false
	case stepEntity:
		setDefault(row, "rank", float64(1))
		setDefault(row, "statecode", float64(0))
		setDefault(row, "statuscode", float64(num(row, "statecode")+1))
		setDefault(row, "supporteddeployment", float64(0))
		setDefault(row, "asyncautodelete", false)
		row["ismanaged"] = false
	case imageEntity:
		row["ismanaged"] = false
	}
}

func setDefault(row record, k string, v any) {
	if row[k] == nil {
		row[k] = v
	}
}

// deriveFlags sets the read-only columns computed from others.
func deriveFlags(e *entity, row record) {
	if e == serviceEndpointEntity {
		row["issaskeyset"] = str(row, "saskey") != ""
		row["issastokenset"] = str(row, "sastoken") != ""
		row["isauthvalueset"] = str(row, "authvalue") != ""
	}
}

// validate applies column rules and the entity's own rules; caller holds the store lock.
func (s *Server) validate(e *entity, set, full record) *apiError {
	if err := checkColumns(e, set, full); err != nil {
		return err
	}
	switch e {
	case serviceEndpointEntity:
		return serviceEndpointRules(full, set)
	case stepEntity:
		return s.stepRules(full, set)
	case imageEntity:
		return s.imageRules(full)
	}
	return nil
}

func (s *Server) nextVersion() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	return float64(s.version)
}

func (s *Server) maxVersion() int64 {
	var m int64
	for _, t := range s.store.tables {
		for _, row := range t {
			m = max(m, int64(num(row, "versionnumber")))
		}
	}
	return m
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, e *entity, u *AppUser) *apiError {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	set, err := decodePayload(e, body)
	if err != nil {
		return err
	}
	row, err := s.insert(e, set, u)
	if err != nil {
		return err
	}
	id := str(row, e.key)
	if sol := r.Header.Get("MSCRM.SolutionUniqueName"); sol != "" {
		s.mu.Lock()
		s.solutions[sol] = append(s.solutions[sol], id)
		s.mu.Unlock()
		if e == serviceEndpointEntity {
			s.store.mu.Lock()
			perr := s.addComponentLocked(sol, "", false, id)
			s.store.mu.Unlock()
			if perr != nil {
				return &apiError{status: 500, code: codeUnavailable, message: "The emulator could not add the solution component."}
			}
		}
	}
	w.Header().Set("OData-EntityId", s.url+APIPath+e.set+"("+id+")")
	if rep, _ := prefer(r); rep {
		sel, _ := parseSelect(e, r.URL.Query().Get("$select"))
		s.writeEntity(w, 201, e, row, sel, nil)
		return nil
	}
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(204)
	return nil
}

// insert validates and stores a new row from the columns a payload sets.
func (s *Server) insert(e *entity, set record, u *AppUser) (record, *apiError) {
	id := str(set, e.key)
	if id == "" {
		id = newGUID()
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	if _, exists := s.store.get(e.set, id); exists {
		return nil, &apiError{status: 412, code: codeDuplicateKey, message: "Cannot insert duplicate key."}
	}
	row := record{}
	for k, v := range set {
		row[k] = v
	}
	applyDefaults(e, row)
	if err := s.validate(e, set, row); err != nil {
		return nil, err
	}
	now := s.timestamp()
	row[e.key] = id
	row["createdon"], row["modifiedon"] = now, now
	if _, ok := e.columns["_createdby_value"]; ok {
		row["_createdby_value"], row["_modifiedby_value"] = u.UserID, u.UserID
		row["_organizationid_value"] = s.orgID
	}
	row["versionnumber"] = s.nextVersion()
	deriveFlags(e, row)
	if perr := s.store.put(e.set, id, row); perr != nil {
		return nil, &apiError{status: 500, code: codeUnavailable, message: "The emulator could not save the record."}
	}
	return row, nil
}

// CreateRecord inserts a row into "serviceendpoints", "sdkmessageprocessingsteps" or
// "sdkmessageprocessingstepimages" from a Web
// API payload (the same columns, binds and rules as a POST), as the system user. Seeding and
// tests use it. It returns the new row's id.
func (s *Server) CreateRecord(entitySet string, payload map[string]any) (string, error) {
	var e *entity
	switch entitySet {
	case serviceEndpointEntity.set:
		e = serviceEndpointEntity
	case stepEntity.set:
		e = stepEntity
	case imageEntity.set:
		e = imageEntity
	default:
		return "", fmt.Errorf("dataverse emulator: cannot create rows in %q", entitySet)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("dataverse emulator: encode payload: %w", err)
	}
	set, aerr := decodePayload(e, body)
	if aerr != nil {
		return "", fmt.Errorf("dataverse emulator: %s: %w", entitySet, aerr)
	}
	row, aerr := s.insert(e, set, &AppUser{UserID: derivedGUID("user:SYSTEM:" + s.name)})
	if aerr != nil {
		return "", fmt.Errorf("dataverse emulator: %s: %w", entitySet, aerr)
	}
	return str(row, e.key), nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, e *entity, id string, u *AppUser) *apiError {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	set, err := decodePayload(e, body)
	if err != nil {
		return err
	}
	if k := str(set, e.key); k != "" && k != id {
		return badRequest(codeInvalidArgument, "The record id in the body (%s) differs from the id in the URL (%s).", k, id)
	}
	ifMatch, ifNoneMatch := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	existing, exists := s.store.get(e.set, id)
	switch {
	case !exists && ifMatch != "":
		return notFound(e, id)
	case exists && ifNoneMatch == "*":
		return &apiError{status: 412, code: codeDuplicateKey, message: "A record with matching key values already exists."}
	case exists && ifMatch != "" && ifMatch != "*" && ifMatch != etag(existing):
		return &apiError{status: 412, code: codeVersionMismatch, message: "The version of the existing record doesn't match the RowVersion property provided."}
	}
	if !exists {
		// Upsert: PATCH without If-Match creates the record, as Dataverse does.
		if perr := s.checkPrivilege(u, privilegeFor(e, "Create"), e); perr != nil {
			return perr
		}
	}
	row := record{}
	for k, v := range existing {
		row[k] = v
	}
	for k, v := range set {
		row[k] = v
	}
	if !exists {
		applyDefaults(e, row)
	}
	if err := s.validate(e, set, row); err != nil {
		return err
	}
	now := s.timestamp()
	row[e.key] = id
	row["modifiedon"] = now
	if !exists {
		row["createdon"] = now
	}
	if _, ok := e.columns["_modifiedby_value"]; ok {
		row["_modifiedby_value"] = u.UserID
		if !exists {
			row["_createdby_value"] = u.UserID
			row["_organizationid_value"] = s.orgID
		}
	}
	row["versionnumber"] = s.nextVersion()
	deriveFlags(e, row)
	if perr := s.store.put(e.set, id, row); perr != nil {
		return &apiError{status: 500, code: codeUnavailable, message: "The emulator could not save the record."}
	}
	w.Header().Set("OData-EntityId", s.url+APIPath+e.set+"("+id+")")
	if rep, _ := prefer(r); rep {
		sel, _ := parseSelect(e, r.URL.Query().Get("$select"))
		s.writeEntity(w, 200, e, row, sel, nil)
		return nil
	}
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(204)
	return nil
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, e *entity, id string) *apiError {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	row, ok := s.store.get(e.set, id)
	if !ok {
		return notFound(e, id)
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != etag(row) {
		return &apiError{status: 412, code: codeVersionMismatch, message: "The version of the existing record doesn't match the RowVersion property provided."}
	}
	if row["ismanaged"] == true {
		return &apiError{status: 400, code: codeInvalidArgument, message: "The " + e.logicalName + " cannot be deleted because it is part of a managed solution. Uninstall the solution, or import a version without it."}
	}
	var err error
	switch e {
	case serviceEndpointEntity:
		// Steps registered against the endpoint go with it, and their images with them.
		for _, c := range s.store.all(solutionComponentEntity.set) {
			if str(c, "objectid") == id && err == nil {
				err = s.store.delete(solutionComponentEntity.set, str(c, solutionComponentEntity.key))
			}
		}
		for _, st := range s.store.all(stepEntity.set) {
			if str(st, "_eventhandler_value") == id && err == nil {
				err = s.deleteStepLocked(str(st, stepEntity.key))
			}
		}
		if err == nil {
			err = s.store.delete(e.set, id)
		}
	case stepEntity:
		err = s.deleteStepLocked(id)
	default:
		err = s.store.delete(e.set, id)
	}
	if err != nil {
		return &apiError{status: 500, code: codeUnavailable, message: "The emulator could not delete the record."}
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) endpointSteps(w http.ResponseWriter, r *http.Request, id string, u *AppUser) *apiError {
	if err := s.checkPrivilege(u, PrvReadStep, stepEntity); err != nil {
		return err
	}
	s.store.mu.RLock()
	_, ok := s.store.get(serviceEndpointEntity.set, id)
	s.store.mu.RUnlock()
	if !ok {
		return notFound(serviceEndpointEntity, id)
	}
	return s.list(w, r, stepEntity, func(row record) bool { return str(row, "_eventhandler_value") == id })
}

func (s *Server) triggerCheck(w http.ResponseWriter, id string, u *AppUser) *apiError {
	if err := s.checkPrivilege(u, PrvReadServiceEndpoint, serviceEndpointEntity); err != nil {
		return err
	}
	s.store.mu.RLock()
	row, ok := s.store.get(serviceEndpointEntity.set, id)
	s.store.mu.RUnlock()
	if !ok {
		return notFound(serviceEndpointEntity, id)
	}
	if err := serviceEndpointRules(row, record{}); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

func writeDVError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]any{"error": map[string]string{"code": e.code, "message": e.message}})
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
