package dataverse

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// System job (asyncoperation) status codes the portal reads: a service endpoint's step posts
// as a system job, which ends Failed (statecode 3 Completed) or, after a transient error,
// waits for a retry (statecode 1 Suspended, statuscode 10 Waiting).
const (
	JobWaiting = 10
	JobFailed  = 31
)

// SystemJob is one failed or waiting system job of a step, with only the columns the portal
// shows.
type SystemJob struct {
	StepID     string    `json:"_owningextensionid_value"`
	StatusCode int       `json:"statuscode"`
	CreatedOn  time.Time `json:"createdon"`
	// Message is Dataverse's error; FriendlyMessage its shorter form when it has one.
	Message         string `json:"message"`
	FriendlyMessage string `json:"friendlymessage"`
}

// stepIDsPerQuery bounds how many step ids one query's $filter names, keeping its URL short.
const stepIDsPerQuery = 25

// FailedDeliveries lists the system jobs of the given steps created at or after since that
// failed (statuscode 31) or wait for a retry (statuscode 10), newest first. It costs one
// request per 25 steps (plus one per further page of 5,000 jobs).
func (c *Client) FailedDeliveries(ctx context.Context, stepIDs []string, since time.Time) ([]SystemJob, error) {
	const op = "list failed system jobs"
	var out []SystemJob
	for chunk := range slices.Chunk(stepIDs, stepIDsPerQuery) {
		var ors []string
		for _, id := range chunk {
			gid, err := normalizeGUID(id)
			if err != nil {
				return nil, &Error{Kind: Invalid, Op: op, Message: err.Error()}
			}
			ors = append(ors, "_owningextensionid_value eq "+gid)
		}
		filter := "(" + strings.Join(ors, " or ") + ") and createdon ge " + FormatDateTime(since) +
			" and (statuscode eq 31 or statuscode eq 10)"
		rows, err := listRows[SystemJob](ctx, c, op, c.api+"asyncoperations?$select=statuscode,createdon,message,friendlymessage,_owningextensionid_value"+
			"&$filter="+queryEscape(filter)+"&$orderby=createdon%20desc")
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	slices.SortStableFunc(out, func(a, b SystemJob) int { return cmp.Compare(b.CreatedOn.UnixNano(), a.CreatedOn.UnixNano()) })
	return out, nil
}

// StepHandlers lists the steps of the environment that have an event handler, as step ids by
// handler id (lower-case): for a service endpoint, its steps. It is one request per 5,000 steps,
// however many endpoints there are, so the health pass can read every endpoint's delivery
// failures without reading each endpoint's steps. Plug-in steps are listed too; callers keep
// the handlers they know.
func (c *Client) StepHandlers(ctx context.Context) (map[string][]string, error) {
	type row struct {
		ID      string `json:"sdkmessageprocessingstepid"`
		Handler string `json:"_eventhandler_value"`
	}
	rows, err := listRows[row](ctx, c, "list steps by event handler",
		c.api+"sdkmessageprocessingsteps?$select=sdkmessageprocessingstepid,_eventhandler_value&$filter="+queryEscape("_eventhandler_value ne null"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, r := range rows {
		h := strings.ToLower(r.Handler)
		out[h] = append(out[h], strings.ToLower(r.ID))
	}
	return out, nil
}
