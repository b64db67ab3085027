package handlers

import (
	"errors"
	"net/http"

	"github.com/contoso/sbportal/dataverse"
)

// dataverseStatus maps a Dataverse failure kind to the status the portal answers with. The
// words for each kind are dataverse.Explain's; this file only chooses statuses.
var dataverseStatus = map[dataverse.Kind]int{
	dataverse.NotFound:     http.StatusNotFound,
	dataverse.Forbidden:    http.StatusForbidden,
	dataverse.Throttled:    http.StatusServiceUnavailable,
	dataverse.Conflict:     http.StatusConflict,
	dataverse.Invalid:      http.StatusUnprocessableEntity,
	dataverse.Unavailable:  http.StatusBadGateway,
	dataverse.Unauthorized: http.StatusBadGateway,
	dataverse.Unknown:      http.StatusBadGateway,
}

// dataverseMessage says what a Dataverse failure means and what to do about it.
func dataverseMessage(err error) string { return dataverse.Explain(err) }

// dataverseError wraps a Dataverse failure for the error page, keeping the status the failure
// calls for.
func dataverseError(title string, err error) error {
	status := http.StatusBadGateway
	var de *dataverse.Error
	if errors.As(err, &de) {
		if s, ok := dataverseStatus[de.Kind]; ok {
			status = s
		}
	}
	return &Error{Status: status, Title: title, Message: dataverseMessage(err), Err: err}
}
