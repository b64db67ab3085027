package catalog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/contoso/sbportal/dataverse"
)

// BenchmarkRefresh compares the two ways the catalog refreshes an environment of 1,000
// endpoints against the Dataverse stand-in over HTTP: a full read of every record, and a
// modifiedon delta that finds one changed record. It reports the bytes Dataverse sent per
// refresh; the delta is what most refreshes cost.
//
//	go test -run x -bench Refresh -benchtime 20x ./catalog/
func BenchmarkRefresh(b *testing.B) {
	r := newRig(b)
	c := r.catalog(b, openStore(b, sqliteDSN(b)), Options{})
	env, srv := r.dev()
	for i := range 1000 {
		_, err := srv.CreateRecord("serviceendpoints", map[string]any{
			"name": fmt.Sprintf("Bench queue %04d", i), "solutionnamespace": "benchns",
			"namespaceaddress": "sb://benchns.servicebus.windows.net/", "path": fmt.Sprintf("q%04d", i),
			"contract": 2, "connectionmode": 1, "userclaim": 1, "messageformat": 2, "namespaceformat": 2,
			"authtype": 2, "saskeyname": "send", "saskey": strings.Repeat("k", 43) + "=",
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	ec := c.byID[env.ID]
	if err := ec.refresh(r.ctx, true); err != nil {
		b.Fatal(err)
	}
	for _, full := range []bool{true, false} {
		name := "delta"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			before := r.bytes.n.Load()
			if _, err := env.Client.CreateEndpoint(r.ctx, queue("Changed "+name), dataverse.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := ec.refresh(r.ctx, full); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(r.bytes.n.Load()-before)/float64(b.N), "Dataverse-bytes/op")
			b.ReportMetric(float64(len(mustView(b, c, env.ID).Entries)), "entries")
		})
	}
}
