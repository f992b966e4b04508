package secevent

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scimd/scimd/internal/store"
)

// TestPush: a SET pushed to a receiver (RFC 8935) arrives as
// application/secevent+jwt and verifies; the receiver's answer is judged
// by RFC 8935's rule.
func TestPush(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		keys := &Keyring{Store: b}
		if _, err := keys.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		f := &Format{Issuer: "https://scimd.example", Keys: keys}
		ev := store.Event{ID: "evt_7", Type: store.EventUserDeleted, Tenant: "acme", Resource: store.EventResource{Type: "User", ID: "u-1"}, Data: []byte(`{"archived":false}`)}
		set := jwks(t, keys)
		tests := []struct {
			name          string
			status        int
			body          string
			wantErr       bool
			permanent     bool
			code, message string
		}{
			{"accepted", 202, "", false, false, "", ""},
			{"refused for good", 400, `{"err":"invalid_audience","description":"not for us"}`, true, true, "invalid_audience",
				"SET receiver answered 400 invalid_audience: not for us (refused for good: not retried)"},
			{"refused, request", 400, ` {"err":"invalid_request"} `, true, true, "invalid_request",
				"SET receiver answered 400 invalid_request (refused for good: not retried)"},
			{"signature not verified: retried after its JWKS refresh", 400, `{"err":"invalid_key","description":"unknown kid"}`, true, false, "invalid_key",
				"SET receiver answered 400 invalid_key: unknown kid"},
			{"400 without an error object", 400, `<html>bad gateway config</html>`, true, false, "", "SET receiver answered 400"},
			{"400 with an empty err", 400, `{"err":""}`, true, false, "", "SET receiver answered 400"},
			{"200 is not 202", 200, "", true, false, "", "SET receiver answered 200 (RFC 8935 receivers answer 202 Accepted once they keep the SET; retried)"},
			{"server error", 503, `{"err":"invalid_request"}`, true, false, "", "SET receiver answered 503"},
			{"unauthorized", 401, "", true, false, "", "SET receiver answered 401"},
			{"redirect not followed", 302, "", true, false, "", "SET receiver answered 302"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var got []byte
				var ct, accept string
				rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					got, _ = io.ReadAll(r.Body)
					ct, accept = r.Header.Get("Content-Type"), r.Header.Get("Accept")
					if tc.status == 302 {
						w.Header().Set("Location", "/elsewhere")
					}
					w.WriteHeader(tc.status)
					io.WriteString(w, tc.body)
				}))
				defer rcv.Close()
				body, contentType, err := f.Encode(ctx, ev, rcv.URL)
				if err != nil {
					t.Fatal(err)
				}
				err = Push(ctx, nil, rcv.URL, body)
				if ct != contentType || ct != "application/secevent+jwt" || accept != "application/json" || string(got) != string(body) {
					t.Errorf("receiver got Content-Type %q, Accept %q, body %q", ct, accept, got)
				}
				if c, _ := verify(t, set, string(got)); c.Audience != rcv.URL || c.ID != "evt_7" {
					t.Errorf("pushed SET: aud %q, jti %q", c.Audience, c.ID)
				}
				if !tc.wantErr {
					if err != nil {
						t.Fatalf("Push = %v, want success", err)
					}
					return
				}
				var pe *PushError
				if !errors.As(err, &pe) {
					t.Fatalf("Push = %v, want a *PushError", err)
				}
				if pe.Status != tc.status || pe.Permanent != tc.permanent || pe.Code != tc.code || err.Error() != tc.message {
					t.Errorf("Push = %+v %q; want status %d, permanent %v, code %q, %q", pe, err, tc.status, tc.permanent, tc.code, tc.message)
				}
			})
		}
		// No receiver at all: the transport's error, retried.
		if err := Push(ctx, nil, "http://127.0.0.1:1/", []byte("x")); err == nil {
			t.Error("Push to a closed port succeeded")
		}
	})
}

func TestCheckPushResponseClipsDescriptions(t *testing.T) {
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'x'
	}
	err := CheckPushResponse(400, []byte(`{"err":"invalid_request","description":"`+string(long)+`"}`))
	var pe *PushError
	if !errors.As(err, &pe) || len(pe.Description) != 256+len("…") {
		t.Errorf("description of %d bytes kept as %d", len(long), len(pe.Description))
	}
	if got := clip("ab\xffcd", 10); got != "ab\uFFFDcd" {
		t.Errorf("clip kept invalid UTF-8: %q", got)
	}
	if got := clip("ééé", 3); got != "é…" {
		t.Errorf("clip cut a rune: %q", got)
	}
}
