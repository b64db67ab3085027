package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// A production-shaped connection string (sb://<ns>.servicebus.windows.net/, amqps) reaches the
// emulator through ClientOptions.CustomEndpoint, trusting its certificate via RootCAs.
func TestTLSWithCustomRootPool(t *testing.T) {
	host := DefaultNamespace + ".servicebus.windows.net"
	serverTLS, cert, err := SelfSignedTLS(host, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv, addr := startServer(t, DefaultConfig(), Options{TLS: serverTLS})
	cs := connString(t, srv, addr, DefaultSendPolicy, "")
	if !strings.HasPrefix(cs, "Endpoint=sb://"+host+"/;") || strings.Contains(cs, "UseDevelopmentEmulator") {
		t.Fatalf("TLS connection string = %q, want the production shape", cs)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ctx := testCtx(t)
	client, err := azservicebus.NewClientFromConnectionString(cs, &azservicebus.ClientOptions{
		TLSConfig:      &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12},
		CustomEndpoint: addr,
		RetryOptions:   azservicebus.RetryOptions{MaxRetries: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	sender, _ := client.NewSender(DefaultQueue, nil)
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("over tls")}, nil); err != nil {
		t.Fatalf("SendMessage over TLS: %v", err)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 1 {
		t.Fatalf("queue holds %d, want 1", n)
	}

	// Without the root pool the handshake fails.
	bad, _ := azservicebus.NewClientFromConnectionString(cs, &azservicebus.ClientOptions{
		TLSConfig: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}, CustomEndpoint: addr,
		RetryOptions: azservicebus.RetryOptions{MaxRetries: -1},
	})
	defer bad.Close(context.Background())
	badSender, _ := bad.NewSender(DefaultQueue, nil)
	err = badSender.SendMessage(ctx, &azservicebus.Message{Body: []byte("x")}, nil)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("send without trusting the certificate: %v, want a certificate error", err)
	}
}
