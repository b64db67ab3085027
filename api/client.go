package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls a portal's API.
type Client struct {
	// BaseURL is the portal's address, e.g. https://portal.contoso.com.
	BaseURL string
	// HTTP sends the requests; nil means a client with a one-minute timeout.
	HTTP *http.Client
	// Token returns the access token to send.
	Token func(ctx context.Context) (string, error)
}

// Raw is a request body sent as it is, with its content type.
type Raw struct {
	ContentType string
	Body        []byte
}

// Do sends a request to path (under /api/v1) with body (JSON, Raw, or nil) and decodes a JSON
// answer into out (nil: ignored). It returns the answer's bytes too. A problem answer is a
// *Problem error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) ([]byte, error) {
	u := strings.TrimSuffix(c.BaseURL, "/") + "/api/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case Raw:
		rd, ct = bytes.NewReader(b.Body), b.ContentType
	default:
		j, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	tok, err := c.Token(ctx)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL holds no secret; the error may name it.
		return nil, fmt.Errorf("the portal at %s did not answer: %w", c.BaseURL, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode >= 400 {
		p := &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		if mt == ProblemContentType {
			_ = json.Unmarshal(data, p)
		} else {
			p.Detail = "The address answered something other than the portal's API; check --portal (or PORTAL_URL)."
		}
		return data, p
	}
	if out != nil && len(data) > 0 {
		if mt != "application/json" {
			return data, fmt.Errorf("the portal answered %s, not JSON; check --portal (or PORTAL_URL)", mt)
		}
		if err := json.Unmarshal(data, out); err != nil {
			return data, fmt.Errorf("read the portal's answer: %w", err)
		}
	}
	return data, nil
}
