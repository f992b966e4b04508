package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/webhook"
)

// webhookEnv is env with a webhook service that may deliver to loopback,
// an operator signed in, and a receiver.
type webhookEnv struct {
	*env
	svc *webhook.Service
	op  *browser

	mu       sync.Mutex
	received []*http.Request
	bodies   [][]byte
	status   int
	recv     *httptest.Server
}

func newWebhookEnv(t *testing.T) *webhookEnv {
	e := newEnv(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := webhook.New(webhook.Config{Store: e.db, Logger: logger, AllowInsecure: true, Timeout: time.Second, Lease: 3 * time.Second,
		Renew: 500 * time.Millisecond, Poll: 20 * time.Millisecond, Schedule: []time.Duration{time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Close()
	e.srv = httptest.NewServer(New(Config{Store: e.db, Console: e.db, Logger: logger, Webhooks: svc}))
	we := &webhookEnv{env: e, svc: svc, status: http.StatusNoContent}
	we.recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		we.mu.Lock()
		we.received = append(we.received, r)
		we.bodies = append(we.bodies, b)
		status := we.status
		we.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, "receiver says no")
	}))
	t.Cleanup(we.recv.Close)
	if _, err := e.db.CreateOperator(t.Context(), "ops@vendor.example", pwHash, time.Now()); err != nil {
		t.Fatal(err)
	}
	we.op = e.browser()
	we.op.base = e.srv.URL + "/operator"
	if r := we.op.post("/signin", "/signin", url.Values{"email": {"ops@vendor.example"}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("operator sign-in: %d", r.status)
	}
	return we
}

func (we *webhookEnv) count() int {
	we.mu.Lock()
	defer we.mu.Unlock()
	return len(we.received)
}

func TestWebhookPages(t *testing.T) {
	we := newWebhookEnv(t)
	ctx := t.Context()
	wantBody(t, "empty list", we.op.get("/webhooks"), "No webhook endpoints.")
	ep, secret, _, err := we.svc.Add(ctx, webhook.NewEndpoint{URL: we.recv.URL + "/in", Tenants: []string{"acme"}, Types: []string{"user.*"}})
	if err != nil {
		t.Fatal(err)
	}
	we.addUser("new1", "")
	we.addUser("new2", "")

	r := we.op.get("/webhooks")
	wantStatus(t, "list", r, http.StatusOK)
	for _, s := range []string{`id="webhook-` + ep.ID + `"`, we.recv.URL + "/in", "<td>acme</td>", "<td>user.*</td>", `class="state active">active`,
		`<td class="behind">2</td>`, "none yet", `action="/operator/webhooks/` + ep.ID + `/test"`, "Retry now", "Disable", `href="/operator/webhooks"`} {
		wantBody(t, "list", r, s)
	}
	if strings.Contains(r.body, strings.TrimPrefix(secret, "whsec_")) {
		t.Errorf("the list shows the secret")
	}

	// Send a test event: signed, verified by the reference library, shown as a message.
	r = we.op.post("/webhooks", "/webhooks/"+ep.ID+"/test", nil)
	wantStatus(t, "send test", r, http.StatusSeeOther)
	if !strings.HasPrefix(r.location, "/operator/webhooks/"+ep.ID+"?flash=") {
		t.Errorf("test redirects to %q", r.location)
	}
	if we.count() != 1 {
		t.Fatalf("the receiver got %d requests, want the test event", we.count())
	}
	wh, _ := standardwebhooks.NewWebhook(secret)
	if err := wh.Verify(we.bodies[0], we.received[0].Header); err != nil || !strings.Contains(string(we.bodies[0]), `"type":"webhook.test"`) ||
		!strings.Contains(string(we.bodies[0]), `"actor":{"kind":"operator","id":"ops@vendor.example"}`) {
		t.Errorf("test event %s: %v", we.bodies[0], err)
	}
	r = we.op.get(strings.TrimPrefix(r.location, "/operator"))
	wantBody(t, "test result", r, "delivered: HTTP 204 in ")
	we.mu.Lock()
	we.status = http.StatusForbidden
	we.mu.Unlock()
	r = we.op.post("/webhooks/"+ep.ID, "/webhooks/"+ep.ID+"/test", nil)
	wantBody(t, "failed test", we.op.get(strings.TrimPrefix(r.location, "/operator")), "failed after ")
	wantBody(t, "failed test", we.op.get(strings.TrimPrefix(r.location, "/operator")), "HTTP 403: receiver says no")
	if st, _ := we.svc.Endpoint(ctx, ep.ID); st.Attempts != 0 || st.LastError != "" {
		t.Errorf("a test event changed the endpoint's state: %+v", st)
	}

	// Without the form's token nothing is sent.
	n := we.count()
	wantStatus(t, "test without CSRF", we.op.do("POST", "/webhooks/"+ep.ID+"/test", url.Values{}), http.StatusForbidden)
	wantStatus(t, "test with a wrong CSRF", we.op.do("POST", "/webhooks/"+ep.ID+"/test", url.Values{"csrf": {"x"}}), http.StatusForbidden)
	if we.count() != n {
		t.Errorf("a POST without the CSRF token sent a test event")
	}

	// Disable, enable.
	wantStatus(t, "disable", we.op.post("/webhooks/"+ep.ID, "/webhooks/"+ep.ID+"/disable", nil), http.StatusSeeOther)
	if st, _ := we.svc.Endpoint(ctx, ep.ID); st.State != store.WebhookDisabled || st.StateReason != "disabled by the operator" {
		t.Errorf("after disable: %+v", st)
	}
	r = we.op.get("/webhooks/" + ep.ID)
	wantBody(t, "disabled page", r, `id="state" class="inactive">disabled: disabled by the operator`)
	wantBody(t, "disabled page", r, `id="enable"`)
	wantStatus(t, "retry a disabled endpoint", we.op.post("/webhooks/"+ep.ID, "/webhooks/"+ep.ID+"/retry", nil), http.StatusBadRequest)
	wantStatus(t, "enable", we.op.post("/webhooks/"+ep.ID, "/webhooks/"+ep.ID+"/enable", nil), http.StatusSeeOther)
	if st, _ := we.svc.Endpoint(ctx, ep.ID); st.State != store.WebhookActive {
		t.Errorf("after enable: %+v", st)
	}

	// Unknown endpoints, and people who are not operators.
	for _, id := range []string{"wh_000000000000000000000000", "nope", "wh_%00%FF"} {
		wantStatus(t, "unknown endpoint "+id, we.op.get("/webhooks/"+id), http.StatusNotFound)
		wantStatus(t, "enable unknown endpoint "+id, we.op.post("/webhooks", "/webhooks/"+id+"/enable", nil), http.StatusNotFound)
	}
	wantStatus(t, "anonymous", we.browser().get(we.srv.URL+"/operator/webhooks"), http.StatusSeeOther)
	wantStatus(t, "tenant owner", we.signedIn("owner").get(we.srv.URL+"/operator/webhooks"), http.StatusSeeOther)
}

// TestWebhookDeliveriesPage: the last deliveries with status, latency and
// error, and "retry now" of an endpoint waiting for its next attempt.
func TestWebhookDeliveriesPage(t *testing.T) {
	we := newWebhookEnv(t)
	ctx := t.Context()
	we.mu.Lock()
	we.status = http.StatusServiceUnavailable
	we.mu.Unlock()
	ep, _, _, err := we.svc.Add(ctx, webhook.NewEndpoint{URL: we.recv.URL})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { we.svc.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	we.addUser("new1", "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := we.svc.Endpoint(ctx, ep.ID)
		if st.Attempts == 1 && !st.NextAttempt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt recorded: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := we.op.get("/webhooks/" + ep.ID)
	for _, s := range []string{`<td class="outcome">503</td>`, "HTTP 503: receiver says no", " ms</td>", "user.created", `id="retry"`, "1 failed attempt(s)"} {
		wantBody(t, "deliveries", r, s)
	}
	wantBody(t, "list", we.op.get("/webhooks"), "· 503 · ")

	// The schedule says an hour; retry now makes it now.
	we.mu.Lock()
	we.status = http.StatusOK
	we.mu.Unlock()
	wantStatus(t, "retry now", we.op.post("/webhooks/"+ep.ID, "/webhooks/"+ep.ID+"/retry", nil), http.StatusSeeOther)
	for {
		st, _ := we.svc.Endpoint(ctx, ep.ID)
		if st.Attempts == 0 && st.LastError == "" && !st.LastSuccess.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retry now did not deliver: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantBody(t, "after retry", we.op.get("/webhooks/"+ep.ID), `<td class="outcome">200</td>`)
}
