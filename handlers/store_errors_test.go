package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/contoso/sbportal/store"
)

// TestStoreErrorsMapInOnePlace: every sentinel error of the store becomes a status a person can
// act on, wherever a handler returns it unwrapped by its own words.
func TestStoreErrorsMapInOnePlace(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{store.ErrNotFound, http.StatusNotFound},
		{store.ErrConflict, http.StatusConflict},
		{store.ErrDraftSaving, http.StatusConflict},
		{store.ErrDraftSaved, http.StatusConflict},
		{store.ErrClaimLost, http.StatusConflict},
		{store.ErrInvalid, http.StatusBadRequest},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		got := toError(fmt.Errorf("get draft 42: %w", c.err))
		if got.Status != c.want {
			t.Errorf("%v: status %d, want %d", c.err, got.Status, c.want)
		}
		if title, msg := defaultText(got.Status); title == "" || msg == "" {
			t.Errorf("%d has no words for people", got.Status)
		}
	}
}
