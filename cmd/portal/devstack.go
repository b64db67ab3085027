package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/servicebus"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
	"github.com/contoso/sbportal/store"
)

// devStack is everything `portal dev` runs besides the portal and the identity provider: the
// database, the Service Bus and Dataverse stand-ins, and the probes, all on loopback.
type devStack struct {
	store    *store.Store
	envs     *dataverse.Environments
	prober   *servicebus.Prober
	dv       *dvemulator.DevStack
	sb       *sbemulator.Server
	sbAddr   string
	stopFunc []func()
}

// defaultEmulatorAddr is the Service Bus emulator's usual address (AMQP's port); a free port
// is used when it is taken.
const defaultEmulatorAddr = "127.0.0.1:5672"

// startDevStack starts the local stack; m counts its Dataverse requests and probes.
func startDevStack(ctx context.Context, dataDir string, m *metrics.Metrics, log *slog.Logger) (*devStack, error) {
	d := &devStack{}
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	keys, err := store.LoadOrCreateKeyFile(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		return nil, err
	}
	d.store, err = store.Open(ctx, filepath.Join(dataDir, "portal.db"), keys,
		store.WithSessionLifetimes(auth.DefaultIdleTimeout, auth.DefaultMaxAge), store.WithLogger(log))
	if err != nil {
		return nil, err
	}
	d.stopFunc = append(d.stopFunc, func() { d.store.Close() })
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	go d.store.RunSweeper(sweepCtx, 10*time.Minute)
	d.stopFunc = append(d.stopFunc, stopSweep)

	d.sb, err = sbemulator.New(sbemulator.DefaultConfig(), sbemulator.Options{Logger: log.With("component", "servicebus-emulator")})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", defaultEmulatorAddr)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listen for the Service Bus emulator: %w", err)
		}
	}
	d.sbAddr = ln.Addr().String()
	go func() {
		if err := d.sb.Serve(ln); err != nil && !errors.Is(err, sbemulator.ErrServerClosed) {
			log.Error("Service Bus emulator stopped", slog.String("error", err.Error()))
		}
	}()
	d.stopFunc = append(d.stopFunc, func() { d.sb.Close() })

	d.dv, err = dvemulator.StartDev(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	d.stopFunc = append(d.stopFunc, func() { d.dv.Close() })
	d.envs, err = dataverse.NewEnvironments(devEnvironmentConfigs(d.dv), dataverse.EnvironmentsOptions{Observe: m.ObserveDataverse})
	if err != nil {
		return nil, err
	}
	d.prober = servicebus.NewProber(servicebus.Options{Policy: servicebus.DevelopmentPolicy(), Logger: log.With("component", "probe"),
		Observe: m.ObserveProbe})
	ok = true
	return d, nil
}

// devEnvironments say how the portal serves each organization of the local Dataverse, by
// display name: its id in the portal's URLs and the teams that may use it.
var devEnvironments = map[string]struct {
	id    string
	teams []string
}{
	"Contoso Dev":  {id: "contoso-dev", teams: []string{"Integration", "Finance"}},
	"Contoso Test": {id: "contoso-test", teams: []string{"Integration"}},
}

// devEnvironmentConfigs is the portal's configuration for the local Dataverse: one environment
// per organization of dv, in its order, each signing in as the dev app through dv's token
// issuer. An organization not listed in devEnvironments gets an id made from its name and
// every dev team.
func devEnvironmentConfigs(dv *dvemulator.DevStack) []dataverse.EnvironmentConfig {
	cred := dataverse.CredentialConfig{
		Kind:            dataverse.ClientSecretCredential,
		TenantID:        dv.Tokens.TenantID(),
		ClientID:        dvemulator.DevApp.ClientID,
		ClientSecret:    dataverse.ConfigSecret(dvemulator.DevApp.ClientSecret),
		AuthorityHost:   dv.Tokens.AuthorityHost(),
		AuthorityCAFile: dv.CAFile,
		AuthorityCAs:    dv.Tokens.CertPool(),
	}
	cfgs := make([]dataverse.EnvironmentConfig, 0, len(dv.Environments))
	for _, org := range dv.Environments {
		env, ok := devEnvironments[org.Name()]
		if !ok {
			env.id = strings.ToLower(strings.Join(strings.Fields(org.Name()), "-"))
			env.teams = slices.Sorted(maps.Values(devTeams))
		}
		cfgs = append(cfgs, dataverse.EnvironmentConfig{
			ID: env.id, DisplayName: org.Name(), URL: org.URL(), Teams: slices.Clone(env.teams),
			AllowInsecureHTTP: true, Credential: cred,
		})
	}
	return cfgs
}

// printInfo tells a newcomer what the local stack offers.
func (d *devStack) printInfo(w io.Writer) {
	fmt.Fprintf(w, "\nLocal Dataverse environments:\n")
	for _, env := range d.envs.List() {
		fmt.Fprintf(w, "  %-14s %-28s teams: %v\n", env.DisplayName, env.URL, env.Teams)
	}
	fmt.Fprintf(w, "\nLocal Service Bus at amqp://%s: paste one of these connection strings in the wizard:\n", d.sbAddr)
	for _, cs := range d.sb.ConnectionStrings(d.sbAddr) {
		scope := "namespace"
		if cs.Entity != "" {
			scope = cs.Entity
		}
		fmt.Fprintf(w, "  %s (%s, %v):\n    %s\n", cs.Policy, scope, cs.Rights, cs.Value)
	}
	printEntities(w, d.sb.Entities())
}

func (d *devStack) close() {
	for i := len(d.stopFunc) - 1; i >= 0; i-- {
		d.stopFunc[i]()
	}
}
