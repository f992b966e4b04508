package secevent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
)

// RFC 8935 push: a SET is POSTed to the receiver's endpoint as
// application/secevent+jwt; the receiver answers 202 Accepted once it has
// validated and kept it, or 400 with {"err", "description"} when it
// refuses it. scimd's webhook sender does the delivery (order, retries,
// leases); this file is what it needs to speak RFC 8935:
//
//	body, ct, err := format.Encode(ctx, event, endpointURL) // ErrNoSET: skip the event
//	req, _ := secevent.NewPushRequest(ctx, endpointURL, body)
//	resp, err := client.Do(req)
//	... err = secevent.CheckPushResponse(resp.StatusCode, firstBytesOf(resp.Body))
//
// or secevent.Push, which does the last three.

// PushError is a receiver's answer that is not success.
type PushError struct {
	Status int // the HTTP status
	// Code and Description are the RFC 8935 §2.3 error of a 400, when the
	// receiver sent one ("invalid_request", "invalid_key", …).
	Code, Description string
	// Permanent reports that sending this SET again is pointless: the
	// receiver refused it for good. The sender records the failure and
	// moves on to the next event; other errors are retried.
	Permanent bool
}

func (e *PushError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SET receiver answered %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	switch {
	case e.Status >= 200 && e.Status < 300:
		b.WriteString(" (RFC 8935 receivers answer 202 Accepted once they keep the SET; retried)")
	case e.Permanent:
		b.WriteString(" (refused for good: not retried)")
	}
	return b.String()
}

// maxErrorBody is how much of a receiver's answer is read.
const maxErrorBody = 64 << 10

// CheckPushResponse applies RFC 8935's success rule to a receiver's answer
// (its status and the first bytes of its body): nil for 202 Accepted,
// otherwise a *PushError.
//
//   - 202: delivered.
//   - 400 with an RFC 8935 error object: the receiver refused this SET;
//     Permanent, except "invalid_key" (it could not verify the signature:
//     usually a JWKS it cached before a key rotation, which a retry after
//     it fetches the JWKS again fixes).
//   - 400 without one, any other status (another 2xx too: RFC 8935 asks
//     for 202), or no answer: retried.
func CheckPushResponse(status int, body []byte) error {
	if status == http.StatusAccepted {
		return nil
	}
	e := &PushError{Status: status}
	if status == http.StatusBadRequest {
		var eb struct {
			Err         *string `json:"err"`
			Description string  `json:"description"`
		}
		if json.Unmarshal(bytes.TrimSpace(body), &eb) == nil && eb.Err != nil && *eb.Err != "" {
			e.Code, e.Description = clip(*eb.Err, 64), clip(eb.Description, 256)
			e.Permanent = e.Code != "invalid_key"
		}
	}
	return e
}

// clip shortens what a receiver wrote, for logs and the console.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	return scim.Cut(s, n) + "…"
}

// NewPushRequest returns the RFC 8935 request that pushes set to a
// receiver's endpoint.
func NewPushRequest(ctx context.Context, endpoint string, set []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(set))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// defaultPushClient is Push's client when given none: a timeout, and no
// redirects (a receiver's endpoint is the URL it was registered with).
var defaultPushClient = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Push pushes set to endpoint with client (nil: a client with a 30 s
// timeout that follows no redirects) and returns CheckPushResponse's
// verdict, or the transport's error (retried).
func Push(ctx context.Context, client *http.Client, endpoint string, set []byte) error {
	if client == nil {
		client = defaultPushClient
	}
	req, err := NewPushRequest(ctx, endpoint, set)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		body = nil // a 400 whose error object did not arrive is retried
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // let the connection be reused
	return CheckPushResponse(resp.StatusCode, body)
}
