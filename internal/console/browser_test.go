package console

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scimd/scimd/internal/testenv"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// artifactsDir is where the browser test saves its screenshots:
// $SCIMD_ARTIFACTS, or artifacts/ at the repository root.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("SCIMD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium is the path of Chromium; the test is skipped (loudly) without
// it.
func chromium(t *testing.T) string {
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Missing(t, "SKIPPING THE BROWSER TEST: chromium is not installed (apt-get install chromium; .ci/run does it)")
	}
	return p
}

// newChromium starts a headless Chromium with a 1280×900 window, for at
// most timeout; the returned function stops it.
func newChromium(t *testing.T, path string, timeout time.Duration) (context.Context, context.CancelFunc) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	return ctx, func() { cancelT(); cancelC(); cancelA() }
}

// into stores an action's result in *dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		v, err := a(ctx, tg)
		*dst = v
		return err
	})
}

// signInSteps signs user in to the console at base with testPassword.
func signInSteps(base, user string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible("#userName"),
		chromedp.SendKeys("#userName", user),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#signin-button"),
		chromedp.WaitReady("body"),
	)
}

// generateSteps generates a key named name on the keys page of the
// console at base, and waits for its secret.
func generateSteps(base, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/keys"),
		chromedp.WaitVisible("#key-name"),
		chromedp.SendKeys("#key-name", name),
		chromedp.Click("#generate-button"),
		chromedp.WaitVisible("#key-basic"),
	)
}

// TestBrowser drives the console in headless Chromium: sign in as owner,
// generate a key and use it, revoke it and see SCIM refuse it, deactivate a
// user through SCIM and see their sign-in refused and open session ended,
// reactivate and sign in again.
func TestBrowser(t *testing.T) {
	path := chromium(t)
	e := newEnv(t)
	shots := artifactsDir(t)

	newBrowser := func() (context.Context, context.CancelFunc) { return newChromium(t, path, 90*time.Second) }
	n := 0
	shot := func(_ context.Context, name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			n++
			return os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", n, name)), buf, 0o644)
		})
	}
	base := e.srv.URL + "/t/acme/console"
	signIn := func(user string) chromedp.Action[chromedp.Void] { return signInSteps(base, user) }
	// The owner generates a key.
	ctx, cancel := newBrowser()
	defer cancel()
	var who, basic, status string
	err := chromedp.Do(ctx,
		signIn("owner"),
		chromedp.WaitVisible("#whoami"),
		into(&who, chromedp.Text("#whoami")),
		shot(ctx, "owner-home"),
		generateSteps(base, "Okta production"),
		into(&basic, chromedp.Text("#key-basic")),
		shot(ctx, "key-generated"),
	)
	if err != nil {
		t.Fatalf("generating a key: %v", err)
	}
	if who != "owner" {
		t.Errorf("signed in as %q", who)
	}
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 200 {
		t.Fatalf("SCIM with the key generated in the browser: %d", s)
	}

	// Revoke it in the browser (its checkbox confirms, and the page asks
	// again).
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/keys"),
		chromedp.WaitVisible("button.revoke"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`window.confirm = () => true`)(ctx, tg)
			return err
		}),
		chromedp.Click("input.confirm-revoke"),
		chromedp.Click("button.revoke"),
		chromedp.WaitVisible("#flash"),
		into(&status, chromedp.Text("#keys tbody tr td.status")),
		shot(ctx, "key-revoked"),
	)
	if err != nil {
		t.Fatalf("revoking: %v", err)
	}
	if status != "revoked" {
		t.Errorf("key status after revoking = %q", status)
	}
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 401 {
		t.Errorf("SCIM with the revoked key: %d, want 401", s)
	}

	// A member signs in in another browser; SCIM deactivates them.
	mctx, mcancel := newBrowser()
	defer mcancel()
	var home string
	if err := chromedp.Do(mctx, signIn("member"), chromedp.WaitVisible("#whoami"), into(&home, chromedp.Text("main")), shot(mctx, "member-home")); err != nil {
		t.Fatalf("member sign-in: %v", err)
	}
	key := e.key()
	if s := e.scim("PATCH", "/Users/id-member", key, fmt.Sprintf(patchActive, "false")); s != 200 {
		t.Fatalf("SCIM deactivate: %d", s)
	}
	var ended, refused string
	err = chromedp.Do(mctx,
		chromedp.Navigate(base+"/users"),
		chromedp.WaitVisible("#flash"),
		into(&ended, chromedp.Text("#flash")),
		shot(mctx, "member-session-ended"),
		chromedp.SendKeys("#userName", "member"),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#signin-button"),
		chromedp.WaitVisible("#error"),
		into(&refused, chromedp.Text("#error")),
		shot(mctx, "member-signin-refused"),
	)
	if err != nil {
		t.Fatalf("after deactivation: %v", err)
	}
	if !strings.Contains(ended, "deactivated") || !strings.Contains(refused, "deactivated") {
		t.Errorf("after deactivation: session page says %q, sign-in says %q", ended, refused)
	}

	// Reactivated, the member signs in again.
	if s := e.scim("PATCH", "/Users/id-member", key, fmt.Sprintf(patchActive, "true")); s != 200 {
		t.Fatalf("SCIM reactivate: %d", s)
	}
	who = ""
	if err := chromedp.Do(mctx, signIn("member"), chromedp.WaitVisible("#whoami"), into(&who, chromedp.Text("#whoami")), shot(mctx, "member-back")); err != nil {
		t.Fatalf("sign-in after reactivation: %v", err)
	}
	if who != "member" {
		t.Errorf("after reactivation signed in as %q", who)
	}

	// The owner sees it all in the activity log.
	e.rec.Flush()
	var act string
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/activity"), chromedp.WaitVisible("#activity"), into(&act, chromedp.Text("#activity")), shot(ctx, "activity")); err != nil {
		t.Fatalf("activity: %v", err)
	}
	if !strings.Contains(act, "PATCH /scim/v2/Users/id-member") || !strings.Contains(act, "401") {
		t.Errorf("activity page lacks the requests:\n%s", act)
	}
	t.Logf("screenshots in %s", shots)
}
