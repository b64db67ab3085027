// Command loadtest measures the endpoints list page under load, as a person would meet it:
// it builds the portal, starts `portal dev --seed-endpoints N` in its own process (the portal,
// the Dataverse and Service Bus stand-ins, the identity provider and SQLite, all on loopback),
// signs in many sessions, and then, in one run and at the same concurrency, requests the list
// page from the portal and the very same bytes from a plain net/http server. It prints both
// throughputs, their ratio, p50 and p99, the portal's resident memory, and how many list
// queries reached Dataverse while few and many people were viewing.
//
//	go run ./internal/loadtest -endpoints 1000 -sessions 100 -concurrency 50 -duration 10s
//
// It is a measurement, not a test: it asserts nothing and sends traffic only to loopback.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	endpoints := flag.Int("endpoints", 1000, "endpoints seeded into Contoso Dev")
	sessions := flag.Int("sessions", 100, "signed-in sessions (requests take turns among them)")
	concurrency := flag.Int("concurrency", 50, "requests in flight at once")
	duration := flag.Duration("duration", 10*time.Second, "length of each measured phase")
	path := flag.String("path", "/endpoints", "page to measure")
	fresh := flag.Bool("fresh", false, "make every request's address unique, so the portal renders each page anew (no kept pages)")
	flag.Parse()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "portal-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "portal")
	fmt.Println("building the portal …")
	build := exec.Command("go", "build", "-o", bin, "./cmd/portal")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the portal (run from the repository root): %w", err)
	}

	portal := exec.CommandContext(ctx, bin, "dev", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--seed-endpoints", strconv.Itoa(*endpoints))
	stdout, err := portal.StdoutPipe()
	if err != nil {
		return err
	}
	portal.Stderr = io.Discard // the access log: one line per request, as in production
	if err := portal.Start(); err != nil {
		return err
	}
	defer func() { _ = portal.Process.Kill(); _ = portal.Wait() }()
	base, err := portalURL(stdout)
	if err != nil {
		return err
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	fmt.Printf("portal dev (pid %d) at %s with %d seeded endpoints\n", portal.Process.Pid, base, *endpoints)

	tr := &http.Transport{MaxIdleConnsPerHost: *concurrency * 2, MaxConnsPerHost: 0, DisableCompression: true}
	cookies, err := signIn(ctx, base, *sessions, tr)
	if err != nil {
		return err
	}
	fmt.Printf("%d sessions signed in (persona admin)\n", len(cookies))

	page, err := fetch(ctx, tr, base+*path, cookies[0])
	if err != nil {
		return err
	}
	if *path == "/endpoints" && !strings.Contains(string(page), "endpoint(s)") {
		return errors.New("the list page does not list endpoints; is the catalog loaded?")
	}

	static := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = static.Serve(ln) }()
	defer static.Close()
	staticURL := "http://" + ln.Addr().String() + *path

	q0, err := listQueries(ctx, tr, base)
	if err != nil {
		return err
	}
	few := load(ctx, tr, base+*path, cookies, 1, *duration, *fresh)
	q1, _ := listQueries(ctx, tr, base)
	many := load(ctx, tr, base+*path, cookies, *concurrency, *duration, *fresh)
	q2, _ := listQueries(ctx, tr, base)
	plain := load(ctx, tr, staticURL, []string{""}, *concurrency, *duration, false)
	rss, hwm := memory(portal.Process.Pid)

	how := "kept pages allowed"
	if *fresh {
		how = "every page rendered anew"
	}
	fmt.Printf("\npage %s: %d bytes, %d endpoints, %d sessions, %d concurrent, %s per phase, %d cores, %s\n",
		*path, len(page), *endpoints, len(cookies), *concurrency, *duration, numCPU(), how)
	fmt.Printf("%-28s %10s %10s %10s %8s\n", "", "req/s", "p50", "p99", "errors")
	for _, r := range []struct {
		name string
		res  result
	}{{"portal, 1 viewer", few}, {fmt.Sprintf("portal, %d viewers", *concurrency), many}, {fmt.Sprintf("static bytes, %d viewers", *concurrency), plain}} {
		fmt.Printf("%-28s %10.0f %10s %10s %8d\n", r.name, r.res.rate(), r.res.pct(50), r.res.pct(99), r.res.errors)
	}
	fmt.Printf("\nthroughput ratio portal/static at %d viewers: %.2f\n", *concurrency, many.rate()/plain.rate())
	fmt.Printf("portal resident memory: %.1f MB now, %.1f MB peak (VmRSS, VmHWM)\n", rss, hwm)
	perMin := func(n int) float64 { return float64(n) / duration.Minutes() }
	fmt.Printf("Dataverse list queries: %d with 1 viewer (%.1f/min), %d with %d viewers (%.1f/min)\n",
		q1-q0, perMin(q1-q0), q2-q1, *concurrency, perMin(q2-q1))
	return nil
}

var openRE = regexp.MustCompile(`Open (http://\S+?)/?\s*$`)

// portalURL reads the dev stack's banner until it names the address to open.
func portalURL(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	deadline := time.Now().Add(2 * time.Minute)
	for sc.Scan() {
		if m := openRE.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			return strings.TrimSuffix(m[1], "/"), nil
		}
		if time.Now().After(deadline) {
			break
		}
	}
	return "", errors.New("portal dev did not print its address")
}

// signIn signs n sessions in through the local identity provider and returns each one's
// Cookie header.
func signIn(ctx context.Context, base string, n int, tr *http.Transport) ([]string, error) {
	u, _ := url.Parse(base)
	out := make([]string, n)
	for i := range n {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: tr}
		resp, err := devidp.SignIn(ctx, c, base+auth.SignInPath+"?return=/", "admin")
		if err != nil {
			return nil, fmt.Errorf("sign in session %d: %w", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		var parts []string
		for _, ck := range jar.Cookies(u) {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("session %d got no cookie", i)
		}
		out[i] = strings.Join(parts, "; ")
	}
	return out, nil
}

func fetch(ctx context.Context, tr *http.Transport, u, cookie string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return b, err
}

type result struct {
	n, errors int
	took      time.Duration
	lat       []time.Duration
}

func (r result) rate() float64 { return float64(r.n) / r.took.Seconds() }

func (r result) pct(p int) string {
	if len(r.lat) == 0 {
		return "-"
	}
	i := min(len(r.lat)-1, len(r.lat)*p/100)
	return r.lat[i].Round(10 * time.Microsecond).String()
}

// load keeps c requests in flight for d, taking turns among the cookies; with fresh, every
// address is made unique by a query parameter the page ignores.
func load(ctx context.Context, tr *http.Transport, u string, cookies []string, c int, d time.Duration, fresh bool) result {
	var (
		mu  sync.Mutex
		all result
		wg  sync.WaitGroup
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range c {
		wg.Go(func() {
			var mine []time.Duration
			errs := 0
			for i := w; time.Now().Before(stop); i += c {
				t := time.Now()
				addr := u
				if fresh {
					addr = fmt.Sprintf("%s?n=%d-%d", u, w, i)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
				if ck := cookies[i%len(cookies)]; ck != "" {
					req.Header.Set("Cookie", ck)
				}
				resp, err := tr.RoundTrip(req)
				if err != nil {
					errs++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs++
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all.lat = append(all.lat, mine...)
			all.errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	all.took = time.Since(start)
	all.n = len(all.lat)
	slices.Sort(all.lat)
	return all
}

var queriesRE = regexp.MustCompile(`\((\d+) list queries since start\)`)

// listQueries sums the catalog's list queries to Dataverse, from /readyz.
func listQueries(ctx context.Context, tr *http.Transport, base string) (int, error) {
	b, err := fetch(ctx, tr, base+"/readyz", "")
	if err != nil {
		return 0, fmt.Errorf("readyz: %w", err)
	}
	n := 0
	for _, m := range queriesRE.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n, nil
}

// memory reads the process's resident set size and its peak, in MB.
func memory(pid int) (rss, hwm float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}
