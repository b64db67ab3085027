package dataverse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// ListOptions shape a list of service endpoints.
type ListOptions struct {
	// Select lists the columns to read; nil means EndpointColumns.
	Select []string
	// Filter is an OData $filter expression, e.g. "contract eq 2 and contains(name,'orders')".
	// Build string literals with Quote.
	Filter string
	// OrderBy is an OData $orderby, e.g. "name asc".
	OrderBy string
	// PageSize asks for at most this many records per page (Prefer: odata.maxpagesize);
	// 0 leaves Dataverse's default (5000). Larger values are capped at MaxPageSize.
	PageSize int
}

// Quote makes s an OData string literal: single quotes around it, inner quotes doubled.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// FormatDateTime makes t an OData DateTimeOffset literal for $filter: unquoted ISO 8601 in
// UTC with milliseconds, e.g. 2026-11-30T12:04:31.250Z. A delta query reads the records
// modified at or after t with Filter: "modifiedon ge " + FormatDateTime(t).
func FormatDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// queryEscape escapes an OData query option value; spaces become %20 because "+" is not a
// space to every OData parser.
func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func (o ListOptions) query() string {
	sel := o.Select
	if len(sel) == 0 {
		sel = EndpointColumns
	}
	q := "$select=" + queryEscape(strings.Join(sel, ","))
	if o.Filter != "" {
		q += "&$filter=" + queryEscape(o.Filter)
	}
	if o.OrderBy != "" {
		q += "&$orderby=" + queryEscape(o.OrderBy)
	}
	return q
}

func preferPageSize(n int) map[string]string {
	if n <= 0 {
		return nil
	}
	if n > MaxPageSize {
		n = MaxPageSize
	}
	return map[string]string{"Prefer": "odata.maxpagesize=" + strconv.Itoa(n)}
}

// Endpoints lists the environment's service endpoints, following @odata.nextLink to the end.
// Records are decoded and yielded one at a time as each page streams in, so memory stays flat
// however many there are. A failure is yielded once as the error, and the sequence ends.
// Retries cover each page request; a connection lost while a page's body is being read ends
// the sequence with an Unavailable error (the records already yielded stay valid).
func (c *Client) Endpoints(ctx context.Context, opts ListOptions) iter.Seq2[endpoint.ServiceEndpoint, error] {
	return func(yield func(endpoint.ServiceEndpoint, error) bool) {
		const op = "list serviceendpoints"
		next := c.api + "serviceendpoints?" + opts.query()
		rec := endpointRecord.decoder()
		for next != "" {
			link, stopped, err := c.pageInto(ctx, op, next, opts.PageSize, func(dec *json.Decoder) (bool, error) {
				ep, err := rec.decode(dec)
				if err != nil {
					return false, err
				}
				return yield(ep, nil), nil
			})
			if stopped {
				return
			}
			if err != nil {
				yield(endpoint.ServiceEndpoint{}, err)
				return
			}
			next = link
		}
	}
}

// ListEndpoints collects Endpoints into a slice; prefer Endpoints for large environments.
func (c *Client) ListEndpoints(ctx context.Context, opts ListOptions) ([]endpoint.ServiceEndpoint, error) {
	var out []endpoint.ServiceEndpoint
	for ep, err := range c.Endpoints(ctx, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, ep)
	}
	return out, nil
}

// pageInto fetches one page of a collection and calls each for every element of "value"
// with the decoder positioned on it. It returns the page's @odata.nextLink, whether each
// asked to stop, and any error.
func (c *Client) pageInto(ctx context.Context, op, u string, pageSize int, each func(*json.Decoder) (bool, error)) (next string, stopped bool, err error) {
	resp, err := c.send(ctx, request{op: op, method: http.MethodGet, url: u, safe: true, header: preferPageSize(pageSize)})
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	next, stopped, err = decodeCollection(resp.Body, each)
	if err != nil {
		if ctx.Err() != nil {
			return "", false, fmt.Errorf("dataverse: %s: %w", op, ctx.Err())
		}
		return "", false, &Error{Kind: Unavailable, Op: op, Status: resp.StatusCode, Message: "could not read a page of results", Err: err}
	}
	if next != "" && !c.sameOrigin(next) {
		return "", false, &Error{Kind: Unknown, Op: op, Message: "Dataverse returned a next page link to another host; refusing to follow it"}
	}
	return next, stopped, nil
}

// decodeCollection walks {"@odata.context":..., "value":[...], "@odata.nextLink":...} without
// holding the whole body.
func decodeCollection(r io.Reader, each func(*json.Decoder) (bool, error)) (next string, stopped bool, err error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return "", false, err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false, err
		}
		key, _ := t.(string)
		switch key {
		case "value":
			if err := expectDelim(dec, '['); err != nil {
				return "", false, err
			}
			for dec.More() {
				cont, err := each(dec)
				if err != nil {
					return "", false, err
				}
				if !cont {
					return "", true, nil
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return "", false, err
			}
		case "@odata.nextLink":
			if err := dec.Decode(&next); err != nil {
				return "", false, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", false, err
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return "", false, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", false, errors.New("unexpected data after the JSON object")
	}
	return next, false, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := t.(json.Delim); !ok || got != d {
		return fmt.Errorf("unexpected JSON: want %q, got %v", d, t)
	}
	return nil
}

// Endpoint reads one service endpoint by id.
func (c *Client) Endpoint(ctx context.Context, id string) (endpoint.ServiceEndpoint, error) {
	op := "get serviceendpoint " + id
	gid, err := normalizeGUID(id)
	if err != nil {
		return endpoint.ServiceEndpoint{}, &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	var ep endpoint.ServiceEndpoint
	u := c.api + "serviceendpoints(" + gid + ")?" + ListOptions{}.query()
	err = c.get(ctx, op, u, func(dec *json.Decoder) (err error) {
		ep, err = decodeEndpoint(dec)
		return err
	})
	return ep, err
}

// CreateOptions tune CreateEndpoint.
type CreateOptions struct {
	// SolutionUniqueName adds the new endpoint to this unmanaged solution
	// (MSCRM.SolutionUniqueName); empty adds it to no solution.
	SolutionUniqueName string
}

// CreateEndpoint creates ep with its own ID (a new GUID is chosen when ep.ID is empty) and
// returns the record as Dataverse stored it. Because the id is chosen here, a create whose
// answer was lost is retried safely: if the retry hears "duplicate key" and the record with
// that id has the same name, the first attempt landed and the call succeeds.
func (c *Client) CreateEndpoint(ctx context.Context, ep endpoint.ServiceEndpoint, opts CreateOptions) (endpoint.ServiceEndpoint, error) {
	if ep.ID == "" {
		ep.ID = NewGUID()
	}
	op := "create serviceendpoint " + ep.ID
	gid, err := normalizeGUID(ep.ID)
	if err != nil {
		return endpoint.ServiceEndpoint{}, &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	ep.ID = gid
	body, err := json.Marshal(createBody(ep))
	if err != nil {
		return endpoint.ServiceEndpoint{}, fmt.Errorf("dataverse: %s: encode: %w", op, err)
	}
	hdr := map[string]string{"Prefer": "return=representation"}
	if opts.SolutionUniqueName != "" {
		hdr["MSCRM.SolutionUniqueName"] = opts.SolutionUniqueName
	}
	u := c.api + "serviceendpoints?" + ListOptions{}.query()
	resp, err := c.send(ctx, request{op: op, method: http.MethodPost, url: u, body: body, header: hdr, safe: true})
	if err != nil {
		var de *Error
		if errors.As(err, &de) && de.IsDuplicateKey() && de.Attempts > 1 {
			// An earlier attempt may have landed before its answer was lost.
			got, gerr := c.Endpoint(ctx, gid)
			if gerr == nil && got.Name == ep.Name {
				return got, nil
			}
		}
		return endpoint.ServiceEndpoint{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		// Prefer: return=representation was not honoured; read the record back.
		return c.Endpoint(ctx, gid)
	}
	created, err := decodeEndpoint(json.NewDecoder(resp.Body))
	if err != nil {
		return endpoint.ServiceEndpoint{}, &Error{Kind: Unknown, Op: op, Status: resp.StatusCode, Message: "could not read the created record", Err: err}
	}
	return created, nil
}

// UpdateEndpoint writes every writable column of ep to the existing record ep.ID (PATCH with
// If-Match: *, so a missing record is NotFound rather than silently created). Empty columns
// are cleared. Secrets are sent only when set: an unset Secret keeps what Dataverse holds.
func (c *Client) UpdateEndpoint(ctx context.Context, ep endpoint.ServiceEndpoint) error {
	op := "update serviceendpoint " + ep.ID
	gid, err := normalizeGUID(ep.ID)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	return c.patchRecord(ctx, op, "serviceendpoints", gid, updateBody(ep))
}

// DeleteEndpoint deletes the record; Dataverse deletes its steps with it. Deleting a record
// that a lost earlier attempt of this same call already deleted succeeds.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	op := "delete serviceendpoint " + id
	gid, err := normalizeGUID(id)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	return c.deleteRecord(ctx, op, "serviceendpoints", gid)
}

// TriggerServiceEndpointCheck asks Dataverse to validate the endpoint's configuration
// server-side (bound action Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck). A rejected
// configuration comes back as an *Error with Dataverse's message.
func (c *Client) TriggerServiceEndpointCheck(ctx context.Context, id string) error {
	op := "check serviceendpoint " + id
	gid, err := normalizeGUID(id)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	resp, err := c.send(ctx, request{op: op, method: http.MethodPost,
		url:  c.api + "serviceendpoints(" + gid + ")/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck",
		body: []byte("{}"), safe: true})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// NewGUID returns a random (version 4) GUID in Dataverse's lower-case form.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// normalizeGUID checks that s is a GUID (optionally in braces) and returns it lower-case; ids go
// into URLs, so nothing else may pass.
func normalizeGUID(s string) (string, error) {
	g := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}"))
	if len(g) != 36 {
		return "", fmt.Errorf("%q is not a record id: expected a GUID like 6f1e2a4c-0000-4000-8000-000000000001", s)
	}
	for i, r := range g {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return "", fmt.Errorf("%q is not a record id: expected a GUID like 6f1e2a4c-0000-4000-8000-000000000001", s)
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return "", fmt.Errorf("%q is not a record id: expected a GUID like 6f1e2a4c-0000-4000-8000-000000000001", s)
			}
		}
	}
	return g, nil
}
