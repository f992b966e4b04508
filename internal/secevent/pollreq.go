package secevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits of a poll request (RFC 8936 §2.4).
const (
	// DefaultMaxEvents is how many SETs a poll without maxEvents gets at
	// most; MaxEvents is the most any poll gets (a larger maxEvents is
	// served as this, as RFC 8936 allows: moreAvailable says there are
	// more).
	DefaultMaxEvents = 100
	MaxEvents        = 1000
	// MaxPollAcks is the most jtis one request may acknowledge, in ack and
	// setErrs together.
	MaxPollAcks = 2000
	// MaxPollBody is the largest poll request body.
	MaxPollBody = 1 << 20
)

// PollRequest is a poll (RFC 8936 §2.4): the SETs acknowledged, those
// reported as errors (acknowledged too: they are not sent again), how
// many SETs to return and whether to wait for some.
type PollRequest struct {
	Ack     []string
	SetErrs map[string]SETError
	// MaxEvents is how many SETs to return at most (0: none, an
	// acknowledgement only).
	MaxEvents int
	// ReturnImmediately asks for an answer even when there is nothing
	// (a short poll); otherwise the poll waits for SETs (a long poll).
	ReturnImmediately bool
}

// SETError is a receiver's report that it could not accept a SET
// (RFC 8936 §2.4.4).
type SETError struct {
	Err         string `json:"err"`
	Description string `json:"description,omitempty"`
}

// ErrBadPoll is wrapped by every error of ParsePollRequest.
var ErrBadPoll = errors.New("invalid poll request")

func badPoll(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPoll, fmt.Sprintf(format, args...))
}

// ParsePollRequest reads a poll request body: a JSON object with the
// optional members "ack" (array of jti strings), "setErrs" (object of jti
// to {"err", "description"}), "maxEvents" (non-negative integer) and
// "returnImmediately" (boolean); a member given as null counts as absent,
// unknown members are ignored. A repeated member, a wrong type, trailing
// data or more than MaxPollAcks acknowledgements is an error wrapping
// ErrBadPoll that says what is wrong.
func ParsePollRequest(body []byte) (PollRequest, error) {
	req := PollRequest{MaxEvents: DefaultMaxEvents}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return PollRequest{}, badPoll("the body must be a JSON object (RFC 8936 §2.4)")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return PollRequest{}, badPoll("malformed JSON")
		}
		name, _ := tok.(string)
		if seen[name] {
			return PollRequest{}, badPoll("member %q appears twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return PollRequest{}, badPoll("malformed JSON")
		}
		if string(raw) == "null" {
			continue
		}
		switch name {
		case "ack":
			if err := json.Unmarshal(raw, &req.Ack); err != nil {
				return PollRequest{}, badPoll(`"ack" must be an array of jti strings`)
			}
		case "setErrs":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				return PollRequest{}, badPoll(`"setErrs" must be an object whose members are jtis`)
			}
			if len(m) > MaxPollAcks {
				return PollRequest{}, badPoll(`"setErrs" has %d members; at most %d`, len(m), MaxPollAcks)
			}
			req.SetErrs = make(map[string]SETError, len(m))
			for jti, v := range m {
				var e struct {
					Err         *string `json:"err"`
					Description *string `json:"description"`
				}
				if json.Unmarshal(v, &e) != nil || e.Err == nil {
					return PollRequest{}, badPoll(`"setErrs": the error of %s must be an object with a string "err"`, strconv.Quote(clip(jti, 64)))
				}
				se := SETError{Err: *e.Err}
				if e.Description != nil {
					se.Description = *e.Description
				}
				req.SetErrs[jti] = se
			}
		case "maxEvents":
			n, err := strconv.ParseInt(string(raw), 10, 64)
			var ne *strconv.NumError
			switch {
			case err == nil && n >= 0:
				req.MaxEvents = int(min(n, MaxEvents))
			case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && raw[0] != '-':
				req.MaxEvents = MaxEvents
			default:
				return PollRequest{}, badPoll(`"maxEvents" must be a non-negative integer, not %s`, clip(string(raw), 32))
			}
		case "returnImmediately":
			if err := json.Unmarshal(raw, &req.ReturnImmediately); err != nil {
				return PollRequest{}, badPoll(`"returnImmediately" must be true or false`)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return PollRequest{}, badPoll("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return PollRequest{}, badPoll("data after the JSON object")
	}
	if n := len(req.Ack) + len(req.SetErrs); n > MaxPollAcks {
		return PollRequest{}, badPoll("%d acknowledgements in one poll; at most %d", n, MaxPollAcks)
	}
	return req, nil
}

// acked returns every jti the request acknowledges, in ack or setErrs.
func (r PollRequest) acked() map[string]bool {
	m := make(map[string]bool, len(r.Ack)+len(r.SetErrs))
	for _, j := range r.Ack {
		m[j] = true
	}
	for j := range r.SetErrs {
		m[j] = true
	}
	return m
}
