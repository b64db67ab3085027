// Package browsertest starts headless Chromium for browser tests, through chromedp, and saves
// screenshots. It is for tests only: nothing in the portal may import it.
//
// Chromium comes from the system (Debian's /usr/bin/chromium). Without it a test is skipped
// with a loud message, except in CI (environment variable CI set), where a missing browser is
// a failure: browser tests must not silently stop running there.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// candidates are the names and paths Chromium goes by on the systems we run on.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// FindChromium returns the path of a Chromium executable, or "" when there is none.
func FindChromium() string {
	if p := os.Getenv("PORTAL_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless Chromium with a fresh profile for t and returns its chromedp context,
// already running (so later calls may carry timeouts: see WithTimeout). The browser stops
// when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	path := FindChromium()
	if path == "" {
		msg := "\n\n*** BROWSER TEST NOT RUN: Chromium was not found (looked for /usr/bin/chromium, chromium, chromium-browser, google-chrome).\n" +
			"*** Install it (Debian: apt-get install chromium) or set PORTAL_TEST_CHROMIUM to its path. ***\n"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "*** CI is set: a missing browser fails the run. ***")
		}
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout, or the timeout would
	// stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return ctx
}

// WithTimeout bounds a group of browser steps; a hung page fails the test instead of
// hanging it.
func WithTimeout(t testing.TB, ctx context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return ctx
}

// Cookies returns the browser's cookies for url.
func Cookies(ctx context.Context, url string) ([]*network.Cookie, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		return res.Cookies, err
	})
}

// ScreenshotDir is the folder, at the repository root, where screenshots go. It is git-ignored.
const ScreenshotDir = "screenshots"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves a full-page PNG as screenshots/<test name>-<name>.png at the repository
// root and returns its path. A failure to take or save it is reported, not fatal: a
// screenshot is evidence, not the test.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	root, err := repoRoot()
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	dir := filepath.Join(root, ScreenshotDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	t.Logf("screenshot: %s", path)
	return path
}

// repoRoot finds the folder holding go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Text returns the visible text of the first element matching a CSS selector.
func Text(ctx context.Context, css string) (string, error) {
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		return "", fmt.Errorf("text of %s: %w", css, err)
	}
	return s, nil
}
