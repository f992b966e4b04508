package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scimd/scimd/internal/secevent"
	"github.com/scimd/scimd/internal/store"
)

// TestSETEndpoint: an endpoint of format set receives each user and group
// event as an RFC 8935 push of a signed RFC 9967 token, which verifies
// against the deployment's JWKS; only 202 is success (a 200 is retried);
// a token the receiver refuses with an RFC 8935 error is not sent again
// and the endpoint goes on; tenant events, which have no token, are
// passed over.
func TestSETEndpoint(t *testing.T) {
	var keys *secevent.Keyring
	e := newEnv(t, func(c *Config) {
		keys = &secevent.Keyring{Store: c.Store.(secevent.Backend)}
		c.SET = &secevent.Format{Issuer: "https://scimd.example", Keys: keys}
	})
	ctx := t.Context()
	if _, err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	jwks, err := keys.PublicKeys(ctx)
	if err != nil || len(jwks.Keys) == 0 {
		t.Fatalf("JWKS: %v, %v", jwks, err)
	}
	var mu sync.Mutex
	type got struct {
		ctype, jti, aud string
		events          map[string]json.RawMessage
	}
	var gots []got
	answers := []int{http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusAccepted}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tok, err := jose.ParseSigned(string(body), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Errorf("receiver: not a JWS: %v", err)
			w.WriteHeader(400)
			return
		}
		payload, err := tok.Verify(jwks.Keys[0].Key)
		if err != nil {
			t.Errorf("receiver: the signature does not verify with the JWKS: %v", err)
		}
		var c struct {
			JTI    string                     `json:"jti"`
			Aud    any                        `json:"aud"`
			Events map[string]json.RawMessage `json:"events"`
		}
		json.Unmarshal(payload, &c)
		mu.Lock()
		n := len(gots)
		gots = append(gots, got{r.Header.Get("Content-Type"), c.JTI, jsonString(c.Aud), c.Events})
		mu.Unlock()
		status := http.StatusAccepted
		if n < len(answers) {
			status = answers[n]
		}
		w.WriteHeader(status)
		if status == http.StatusBadRequest {
			io.WriteString(w, `{"err":"invalid_request","description":"not for this receiver"}`)
		}
	}))
	defer srv.Close()
	ep, _, _, err := e.svc.Add(ctx, NewEndpoint{URL: srv.URL + "/set", Format: store.WebhookSET})
	if err != nil {
		t.Fatal(err)
	}
	e.createUsers(1)
	if _, err := e.st.UpdateTenant(ctx, "acme", func(t *store.Tenant) error { t.ProvisioningActive = true; return nil }); err != nil {
		t.Fatal(err)
	}
	e.createUsers(2)
	e.start()
	e.waitCaughtUp(ep.ID)

	all, err := e.st.ReadEvents(ctx, store.EventQuery{Limit: 100, Types: []string{"user.created"}})
	if err != nil || len(all.Events) != 3 {
		t.Fatalf("events: %v, %v", all, err)
	}
	want := []string{all.Events[0].ID, all.Events[0].ID, all.Events[1].ID, all.Events[2].ID}
	mu.Lock()
	defer mu.Unlock()
	if len(gots) != len(want) {
		t.Fatalf("the receiver got %d pushes, want %d (the first retried after a 200): %+v", len(gots), len(want), gots)
	}
	for i, g := range gots {
		if g.jti != want[i] || g.ctype != secevent.ContentType || g.aud != srv.URL+"/set" {
			t.Errorf("push %d: jti %s, Content-Type %q, aud %q; want %s, %q, %q", i, g.jti, g.ctype, g.aud, want[i], secevent.ContentType, srv.URL+"/set")
		}
		if _, ok := g.events["urn:ietf:params:scim:event:prov:create:full"]; !ok {
			t.Errorf("push %d: events %v, want prov:create:full", i, g.events)
		}
	}
	after := e.endpoint(ep.ID)
	if after.State != store.WebhookActive || after.Format != store.WebhookSET {
		t.Errorf("endpoint after the pushes: state %s, format %s", after.State, after.Format)
	}
	if _, err := e.svc.SendTest(ctx, ep.ID, store.Actor{Kind: store.ActorOperator}); err == nil {
		t.Error("a test event was sent to a SET endpoint")
	}
}

func jsonString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		if len(v) == 1 {
			s, _ := v[0].(string)
			return s
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
