package dataverse

import (
	"context"
	"strings"

	"github.com/contoso/sbportal/endpoint"
)

// solutionComponentQuery lists service endpoints (componenttype 95) with their solution.
const solutionComponentQuery = "solutioncomponents?$select=objectid&$filter=componenttype%20eq%2095" +
	"&$expand=solutionid($select=uniquename,friendlyname,ismanaged)"

// EndpointSolutions reads which solutions the environment's service endpoints belong to, keyed
// by lower-case endpoint id: one list query (plus one per further page) for the whole
// environment. An endpoint in no solution but the default one is absent. Callers cache the
// answer; it changes when solutions are imported or endpoints are created in one.
func (c *Client) EndpointSolutions(ctx context.Context) (map[string][]endpoint.Solution, error) {
	type row struct {
		ObjectID string `json:"objectid"`
		Solution *struct {
			UniqueName   string `json:"uniquename"`
			FriendlyName string `json:"friendlyname"`
			IsManaged    bool   `json:"ismanaged"`
		} `json:"solutionid"`
	}
	rows, err := listRows[row](ctx, c, "list solution components", c.api+solutionComponentQuery)
	if err != nil {
		return nil, err
	}
	out := map[string][]endpoint.Solution{}
	for _, r := range rows {
		if r.Solution == nil || r.ObjectID == "" {
			continue
		}
		id := strings.ToLower(r.ObjectID)
		out[id] = append(out[id], endpoint.Solution{UniqueName: r.Solution.UniqueName,
			FriendlyName: r.Solution.FriendlyName, Managed: r.Solution.IsManaged})
	}
	return out, nil
}
