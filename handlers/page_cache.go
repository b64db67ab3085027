package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/web"
)

// pageCache keeps rendered list pages until the catalog changes. Many people looking at the
// same list, or one person paging back and forth, then cost one rendering: the list page is
// the portal's busiest page and its rows are most of its bytes. A page is kept per viewer
// (what one may see and do is not what another may), per query and per minute (the "3
// minutes ago" texts); the request id in the footer is filled in per request.
type pageCache struct {
	mu      sync.Mutex
	version uint64
	pages   map[string]keptPage
}

// keptPage is a rendered page and where its request id placeholder is (-1: none).
type keptPage struct {
	body []byte
	at   int
}

// pageCacheMax bounds the kept pages (a list page is some tens of kilobytes).
const pageCacheMax = 64

// requestIDPlaceholder stands in for the request id in a kept page; it is replaced in every
// answer. Hexadecimal like a real id, so the page's layout does not change.
const requestIDPlaceholder = "feedfacecafebeef"

func (c *pageCache) get(version uint64, key string) (keptPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return keptPage{}, false
	}
	p, ok := c.pages[key]
	return p, ok
}

func (c *pageCache) put(version uint64, key string, body []byte) keptPage {
	page := keptPage{body: body, at: bytes.LastIndex(body, []byte(requestIDPlaceholder))}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return page // rendered from a catalog that has changed since: not worth keeping
	}
	if c.pages == nil || c.version != version || len(c.pages) >= pageCacheMax {
		c.version, c.pages = version, make(map[string]keptPage)
	}
	c.pages[key] = page
	return page
}

// listPageKey says what a list page depends on besides the catalog: the viewer (identity,
// roles, teams, the names in the user menu), the query, htmx or not, and the minute.
func listPageKey(r *http.Request, id auth.Identity, now time.Time) string {
	var b strings.Builder
	for _, s := range []string{id.Key, id.Name, id.Username, r.URL.RawQuery, r.Header.Get("HX-Request"),
		strconv.FormatInt(now.Unix()/60, 10)} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, role := range id.Roles {
		b.WriteString(string(role))
		b.WriteByte(1)
	}
	for _, t := range id.Teams {
		b.WriteString(t)
		b.WriteByte(2)
	}
	return b.String()
}

// writeKeptPage answers with a kept page, its request id filled in (without copying the page).
func writeKeptPage(w http.ResponseWriter, r *http.Request, kept keptPage) {
	id := RequestID(r.Context())
	page, at := kept.body, kept.at
	if at >= 0 && len(id) != len(requestIDPlaceholder) {
		page = bytes.Replace(page, []byte(requestIDPlaceholder), []byte(id), 1)
		at = -1
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	if at < 0 {
		_, _ = w.Write(page)
		return
	}
	// One write of the whole page: the connection sends it in as few packets as the static file
	// server would, instead of flushing the body around the request id.
	buf := keptPageBuffers.Get().(*[]byte)
	b := append(append(append((*buf)[:0], page[:at]...), id...), page[at+len(requestIDPlaceholder):]...)
	_, _ = w.Write(b)
	*buf = b
	keptPageBuffers.Put(buf)
}

// keptPageBuffers hold a kept page with its request id while it is written.
var keptPageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// hasFlashes reports whether the request carries flash messages: such a page is rendered
// afresh (it shows them once and clears them).
func hasFlashes(r *http.Request) bool {
	_, err := r.Cookie(flashCookie)
	return err == nil
}

// rowCache keeps rendered list lines until the catalog changes: a line depends only on its
// entry, whether the viewer may test it, and the "3 minutes ago" text, so a page another viewer
// (or another filter) has shown costs little to render again.
type rowCache struct {
	mu      sync.Mutex
	version uint64
	rows    map[rowKey]string
}

type rowKey struct {
	entry   *catalogEntry
	canTest bool
	ago     string
}

// rowCacheMax bounds the kept lines (about a kilobyte each).
const rowCacheMax = 20000

// html returns the line for row, rendering and keeping it when it is not kept yet; "" when it
// cannot be rendered (the page then renders it itself and reports the failure).
func (c *rowCache) html(r *http.Request, version uint64, e *catalogEntry, row web.EndpointRow, now time.Time) string {
	key := rowKey{entry: e, canTest: row.CanTest}
	if row.LastResult != "" {
		key.ago = web.Ago(now, row.LastWhen)
	}
	c.mu.Lock()
	if c.rows == nil || c.version < version || len(c.rows) >= rowCacheMax {
		c.version, c.rows = version, make(map[rowKey]string)
	}
	h, ok := c.rows[key]
	c.mu.Unlock()
	if ok {
		return h
	}
	var b strings.Builder
	if err := web.EndpointRowHTML(now, row).Render(r.Context(), &b); err != nil {
		return ""
	}
	h = b.String()
	c.mu.Lock()
	if c.version == version {
		c.rows[key] = h
	}
	c.mu.Unlock()
	return h
}
