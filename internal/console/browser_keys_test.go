package console

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserKeys drives the API Keys page in headless Chromium: a
// generated key's secret is shown once (reloading shows a note, and no
// second key); rotating keeps the User ID, with the default overlap of a
// day, during which SCIM takes both secrets; revoking needs its checkbox.
func TestBrowserKeys(t *testing.T) {
	path := chromium(t)
	e := newEnv(t)
	ctx, cancel := newChromium(t, path, 90*time.Second)
	defer cancel()
	base := e.srv.URL + "/t/acme/console"
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(artifactsDir(t), "keys-"+name+".png"), buf, 0o644)
		})
	}

	var id, basic, loc, flash string
	var secretShown bool
	var rows int
	err := chromedp.Do(ctx,
		signInSteps(base, "owner"),
		chromedp.WaitVisible("#whoami"),
		generateSteps(base, "Okta browser"),
		into(&id, chromedp.Text("#key-id")),
		into(&basic, chromedp.Text("#key-basic")),
		into(&loc, chromedp.Location()),
		shot("generated"),
		chromedp.Reload(),
		chromedp.WaitVisible("#flash"),
		into(&flash, chromedp.Text("#flash")),
		into(&secretShown, chromedp.Evaluate[bool](`document.getElementById("key-secret") !== null`)),
		into(&rows, chromedp.Evaluate[int](`document.querySelectorAll("#keys tbody tr[id^=key-]").length`)),
		shot("reloaded"),
	)
	if err != nil {
		t.Fatalf("generating a key: %v", err)
	}
	if !strings.HasSuffix(loc, "/keys?new="+id) {
		t.Errorf("after Generate the browser is at %s, want /keys?new=%s", loc, id)
	}
	if secretShown || !strings.Contains(flash, "was shown once") || rows != 1 {
		t.Errorf("after reloading: secret shown %v, flash %q, %d keys; want no secret, the note, 1 key", secretShown, flash, rows)
	}

	var newID, newBasic, note string
	row := "#key-" + id
	err = chromedp.Do(ctx,
		chromedp.Click(row+" details:has(form.rotate) summary"),
		chromedp.WaitVisible(row+" form.rotate button"),
		chromedp.Click(row+" form.rotate button"),
		chromedp.WaitVisible("#rotated-note"),
		into(&note, chromedp.Text("#rotated-note")),
		into(&newID, chromedp.Text("#key-id")),
		into(&newBasic, chromedp.Text("#key-basic")),
		shot("rotated"),
	)
	if err != nil {
		t.Fatalf("rotating: %v", err)
	}
	if newID != id || newBasic == basic || !strings.Contains(note, "keeps working until") {
		t.Errorf("after rotating: User ID %s (was %s), note %q", newID, id, note)
	}
	for _, k := range []string{basic, newBasic} {
		if s := e.scim("GET", "/Users", "Basic "+k, ""); s != 200 {
			t.Errorf("a secret during the overlap: %d", s)
		}
	}

	// Revoke: the button alone does not submit; with the checkbox it does.
	var status string
	valid := true
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/keys"),
		chromedp.WaitVisible(row+" button.revoke"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`window.confirm = () => true`)(ctx, tg)
			return err
		}),
		into(&valid, chromedp.Evaluate[bool](`document.querySelector("`+row+` form.revoke-form").checkValidity()`)),
		chromedp.Click(row+" button.revoke"),
		into(&status, chromedp.Text(row+" td.status")),
		chromedp.Click(row+" input.confirm-revoke"),
		chromedp.Click(row+" button.revoke"),
		chromedp.WaitVisible("#flash"),
		into(&flash, chromedp.Text("#flash")),
		shot("revoked"),
	)
	if err != nil {
		t.Fatalf("revoking: %v", err)
	}
	if valid || status != "active" || !strings.Contains(flash, "revoked") {
		t.Errorf("revoking: form valid without the checkbox %v, status then %q, flash %q", valid, status, flash)
	}
	for _, k := range []string{basic, newBasic} {
		if s := e.scim("GET", "/Users", "Basic "+k, ""); s != 401 {
			t.Errorf("a secret of the revoked key: %d, want 401", s)
		}
	}
}
