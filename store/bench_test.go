package store_test

import (
	"context"
	"fmt"
	"github.com/contoso/sbportal/internal/pgtest"
	"log/slog"
	"testing"
	"time"

	"github.com/contoso/sbportal/store"
)

// Benchmarks of the store's per-request cost (session lookup) and of the list page's queries
// (owner team and latest validation for 1,000 endpoints), on both backends:
//
//	go test -run '^$' -bench . -benchtime 2s ./store/
//	PORTAL_TEST_DATABASE_URL=postgres://... go test -run '^$' -bench . ./store/

type backend struct {
	name   string
	newDSN func(testing.TB) string
}

func backends() []backend {
	return []backend{{"sqlite", newSQLiteDSN}, {"postgres", pgtest.NewDSN}}
}

func openBench(b *testing.B, dsn string) *store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), dsn, store.Keyring{}, store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func BenchmarkSessionLookup(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := openBench(b, be.newDSN(b))
			ctx := context.Background()
			// Other users' sessions, so the lookup is not in a one-row table.
			for range 1000 {
				if _, err := s.CreateSession(ctx, store.Session{UserKey: "someone", Roles: []string{"r"}, Teams: []string{"t"}}); err != nil {
					b.Fatal(err)
				}
			}
			sess, err := s.CreateSession(ctx, store.Session{UserKey: "t/u", Name: "User", Username: "user@contoso.com",
				Roles: []string{"Endpoint.Registrar"}, Teams: []string{"payments", "billing"}})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("get", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.GetSession(ctx, sess.ID); err != nil {
						b.Fatal(err)
					}
				}
			})
			// What the auth middleware does per request: read, then extend (which writes at
			// most once a minute per session).
			b.Run("get+touch", func(b *testing.B) {
				for b.Loop() {
					got, err := s.GetSession(ctx, sess.ID)
					if err != nil {
						b.Fatal(err)
					}
					if err := s.TouchSession(ctx, got); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("get-parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.GetSession(ctx, sess.ID); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

func BenchmarkListPage(b *testing.B) {
	const endpoints, runsPer = 1000, 3
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := openBench(b, be.newDSN(b))
			ctx := context.Background()
			ids := make([]string, endpoints)
			// Twice as many endpoints exist in the store as the page shows.
			for i := range 2 * endpoints {
				id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
				if i < endpoints {
					ids[i] = id
				}
				if _, err := s.SetOwnership(ctx, store.Ownership{Environment: "prod", EndpointID: id, Team: fmt.Sprintf("team-%d", i%20),
					RegisteredBy: "u", RegisteredByName: "User"}); err != nil {
					b.Fatal(err)
				}
				for j := range runsPer {
					if _, err := s.RecordValidationRun(ctx, store.ValidationRun{Environment: "prod", EndpointID: id, RunBy: "u",
						Duration: time.Duration(j) * time.Millisecond, Result: store.ValidationPassed, Summary: "sent",
						Warnings: []string{"namespace-wide policy"}}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Run("owners", func(b *testing.B) {
				for b.Loop() {
					owners, err := s.OwnershipOf(ctx, "prod", ids)
					if err != nil || len(owners) != endpoints {
						b.Fatalf("owners: %d, %v", len(owners), err)
					}
				}
			})
			b.Run("latest-validation", func(b *testing.B) {
				for b.Loop() {
					latest, err := s.LatestValidationRuns(ctx, "prod", ids)
					if err != nil || len(latest) != endpoints {
						b.Fatalf("latest runs: %d, %v", len(latest), err)
					}
				}
			})
		})
	}
}
