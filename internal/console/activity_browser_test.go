package console

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scimd/scimd/internal/store"
)

// TestActivityFitsWindow: in headless Chromium at 1280×900, the activity
// page with long paths, query strings, details and hints is no wider
// than the window, and the key column shows the key's name on one line.
func TestActivityFitsWindow(t *testing.T) {
	path := chromium(t)
	e := newEnv(t)
	keyID, _ := e.namedKey("Okta production")
	long := "/scim/v2/Users/" + strings.Repeat("0123456789abcdef", 12)
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	recs := []store.Activity{
		{TenantID: e.tenant.ID, Time: at, RequestID: "0123456789abcdef", KeyID: keyID, Client: "Okta", UserAgent: "Okta SCIM Client 1.0.0",
			Method: "GET", Path: "/scim/v2/Users", Query: "filter=" + strings.Repeat("userName+eq+%22someone%40example.com%22+or+", 20), Status: 400,
			ScimType: "invalidFilter", Detail: "invalid filter: " + strings.Repeat("unexpected token ", 30)},
		{TenantID: e.tenant.ID, Time: at, RequestID: "fedcba9876543210", KeyID: keyID, Client: "Okta", Method: "PATCH", Path: long,
			ResourceType: "User", ResourceID: strings.Repeat("0123456789abcdef", 12), Status: 200,
			Changes: []store.Change{{Attr: "emails", Old: `[{"value":"` + strings.Repeat("a", 200) + `@example.com"}]`, New: `[{"value":"b@example.com"}]`}}},
		{TenantID: e.tenant.ID, Time: at, RequestID: "aaaaaaaaaaaaaaaa", Client: "other", Method: "GET", Path: "/scim/v2/Users", Status: 401,
			Detail: "invalid credentials: unknown User ID or wrong API key for this tenant"},
	}
	if err := e.db.AddActivity(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := newChromium(t, path, 60*time.Second)
	defer cancel()
	base := e.srv.URL + "/t/acme/console"
	var width, window, keyHeight, lineHeight float64
	var shot []byte
	read := func(dst *float64, expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			v, err := chromedp.Evaluate[float64](expr)(ctx, tg)
			*dst = v
			return err
		})
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible("#userName"),
		chromedp.SendKeys("#userName", "owner"),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#signin-button"),
		chromedp.WaitVisible("#whoami"),
		chromedp.Navigate(base+"/activity"),
		chromedp.WaitVisible("#activity"),
		read(&width, "document.documentElement.scrollWidth"),
		read(&window, "window.innerWidth"),
		read(&keyHeight, "document.querySelector('#activity .keyname').getBoundingClientRect().height"),
		read(&lineHeight, "parseFloat(getComputedStyle(document.querySelector('#activity .keyname')).lineHeight) || 22"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			var err error
			shot, err = chromedp.FullScreenshot(100)(ctx, tg)
			return err
		}),
	)
	if err != nil {
		t.Fatalf("browsing the activity page: %v", err)
	}
	os.WriteFile(filepath.Join(artifactsDir(t), "activity-1280.png"), shot, 0o644)
	if width > window {
		t.Errorf("the activity page is %v px wide in a %v px window", width, window)
	}
	if keyHeight > 2.5*lineHeight {
		t.Errorf("the key's name takes %v px (line height %v): it wraps", keyHeight, lineHeight)
	}
}
