package catalog

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
)

// TestMergeByNameMatchesASort: merging sorted runs gives exactly what a full sort gives, for
// any number of runs, empty ones and ties included.
func TestMergeByNameMatchesASort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		var all []*Entry
		runs := rng.IntN(12)
		for r := range runs {
			env := &dataverse.Environment{ID: fmt.Sprintf("env%d", rng.IntN(3))}
			var run []*Entry
			for i := range rng.IntN(30) {
				run = append(run, NewEntry(Entry{Env: env, Endpoint: endpoint.ServiceEndpoint{
					ID: fmt.Sprintf("%d-%d", r, i), Name: fmt.Sprintf("Name %02d", rng.IntN(40))}}))
			}
			slices.SortFunc(run, CompareByName)
			all = append(all, run...)
		}
		want := slices.Clone(all)
		slices.SortStableFunc(want, CompareByName)
		MergeByName(all)
		if !slices.Equal(all, want) {
			t.Fatalf("trial %d (%d runs): merge differs from a sort", trial, runs)
		}
	}
}
