package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/contoso/sbportal/servicebus/emulator"
)

func init() {
	register(command{
		name:    "servicebus-emulator",
		summary: "run a local Azure Service Bus / Event Hubs stand-in (AMQP 1.0)",
		run:     runServiceBusEmulator,
	})
}

func runServiceBusEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("servicebus-emulator",
		"servicebus-emulator --listen ADDR [--websocket-listen ADDR] [--config FILE] [--tls-cert FILE --tls-key FILE]\n\n"+
			"Runs a local Service Bus that speaks AMQP 1.0 and checks SAS tokens like Azure.\n"+
			"Without --config it serves the default namespace \"sbemulatorns\" with a queue, a topic\n"+
			"with a subscription, an event hub and send-only, listen-only and manage policies with\n"+
			"fixed, public keys (development only). Without TLS, connection strings carry\n"+
			"UseDevelopmentEmulator=true; with --tls-cert/--tls-key they have the production shape.", stderr)
	listen := fs.String("listen", "127.0.0.1:5672", "address to listen on (host:port)")
	configPath := fs.String("config", "", "emulator configuration JSON (Microsoft's Service Bus emulator format, extended; see servicebus/emulator/example-config.json)")
	certFile := fs.String("tls-cert", "", "PEM certificate for amqps (needs --tls-key)")
	keyFile := fs.String("tls-key", "", "PEM private key for amqps (needs --tls-cert)")
	wsListen := fs.String("websocket-listen", "", "also accept AMQP over WebSockets (as Azure does on port 443) on this address (host:port); wss with --tls-cert")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	cfg := emulator.DefaultConfig()
	if *configPath != "" {
		var err error
		if cfg, err = emulator.LoadConfig(*configPath); err != nil {
			return err
		}
	}
	opts := emulator.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := emulator.New(cfg, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	addr := ln.Addr().String()
	scheme := "amqp"
	if opts.TLS != nil {
		scheme = "amqps"
	}
	fmt.Fprintf(stdout, "Service Bus emulator listening on %s://%s\n\nConnection strings:\n", scheme, addr)
	for _, cs := range srv.ConnectionStrings(addr) {
		scope := "namespace " + cs.Namespace
		if cs.Entity != "" {
			scope = "entity " + cs.Namespace + "/" + cs.Entity
		}
		fmt.Fprintf(stdout, "  %s (%s; %s):\n    %s\n", cs.Policy, scope, strings.Join(cs.Rights, ", "), cs.Value)
	}
	printEntities(stdout, srv.Entities())
	if opts.TLS != nil {
		fmt.Fprintf(stdout, "\nWith TLS, point the SDK at %s with ClientOptions.CustomEndpoint and trust the certificate.\n", addr)
	}
	serves := 1
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if *wsListen != "" {
		wsln, err := net.Listen("tcp", *wsListen)
		if err != nil {
			srv.Close()
			<-errc
			return fmt.Errorf("listen on %s: %w", *wsListen, err)
		}
		serves++
		wsScheme := "ws"
		if opts.TLS != nil {
			wsScheme = "wss"
		}
		fmt.Fprintf(stdout, "\nAMQP over WebSockets at %s://%s%s (subprotocol %s)\n", wsScheme, wsln.Addr(), emulator.WebSocketPath, emulator.WebSocketSubprotocol)
		go func() { errc <- srv.ServeWebSocket(wsln) }()
	}
	err = nil
	select {
	case <-ctx.Done():
	case err = <-errc:
		serves--
	}
	srv.Close()
	for ; serves > 0; serves-- {
		<-errc
	}
	if errors.Is(err, emulator.ErrServerClosed) {
		return nil
	}
	return err
}

// printEntities lists the emulator's queues, topics (with their subscriptions) and event hubs
// (with partitions and consumer groups) under its connection strings: what to write as the
// entity path, and what to read from.
func printEntities(w io.Writer, entities []emulator.Entity) {
	fmt.Fprintf(w, "\nEntities (the path of an endpoint, or EntityPath):\n")
	for _, e := range entities {
		fmt.Fprintf(w, "  %-9s %s/%s", e.Kind, e.Namespace, e.Name)
		switch e.Kind {
		case "topic":
			if len(e.Subscriptions) > 0 {
				fmt.Fprintf(w, "   subscriptions: %s", strings.Join(e.Subscriptions, ", "))
			}
		case "event hub":
			fmt.Fprintf(w, "   partitions: 0-%d; consumer groups: %s", e.Partitions-1, strings.Join(e.ConsumerGroups, ", "))
		}
		fmt.Fprintln(w)
	}
}
