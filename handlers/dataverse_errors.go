package handlers

import (
	"errors"
	"net/http"

	"github.com/contoso/sbportal/dataverse"
)

// dataverseStatus maps a Dataverse failure kind to the status the portal answers with.
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
func dataverseMessage(err error) string {
	var de *dataverse.Error
	if !errors.As(err, &de) {
		return "The portal could not reach Dataverse. Try again in a minute."
	}
	switch de.Kind {
	case dataverse.NotFound:
		return "Dataverse has no such record: it may have been deleted outside the portal."
	case dataverse.Forbidden:
		return "Dataverse refused: the portal's application user lacks a privilege (" + de.Message + "). An administrator must give its security role the service endpoint privileges."
	case dataverse.Throttled:
		return "Dataverse is throttling the portal's requests. Wait a minute and try again."
	case dataverse.Conflict:
		return "Dataverse reported a conflict: the record changed or already exists (" + de.Message + "). Reload and try again."
	case dataverse.Invalid:
		return "Dataverse rejected the values: " + de.Message
	case dataverse.Unauthorized:
		return "The portal could not sign in to Dataverse. An administrator should check the environment's credentials."
	}
	return "Dataverse did not answer usefully (" + de.Message + "). Try again in a minute."
}

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
