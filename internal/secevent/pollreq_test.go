package secevent

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rfc8936Examples are the poll requests of RFC 8936 §2.4 (with their jtis
// shortened), the fuzzer's seeds.
var rfc8936Examples = []string{
	`{"returnImmediately":true}`,
	`{"ack":["4d3559ec67504aaba65d40b0363faad8","3d0c3cf797584bd193bd0fb1bd4e7d30"],"returnImmediately":false}`,
	`{"ack":["f52901c499e44e3d8f4c2c8b0ee0c3ac"],"setErrs":{"4d3559ec67504aaba65d40b0363faad8":{"err":"authentication_failed","description":"The SET could not be authenticated"}},"returnImmediately":true}`,
	`{"maxEvents":0,"ack":["4d3559ec67504aaba65d40b0363faad8"],"setErrs":{"3d0c3cf797584bd193bd0fb1bd4e7d30":{"err":"invalid_request","description":"Unrecognized event"}}}`,
	`{"maxEvents":5}`,
	`{}`,
}

func TestParsePollRequest(t *testing.T) {
	tests := []struct {
		body string
		want PollRequest
		err  string
	}{
		{`{}`, PollRequest{MaxEvents: DefaultMaxEvents}, ""},
		{rfc8936Examples[2], PollRequest{MaxEvents: DefaultMaxEvents, ReturnImmediately: true, Ack: []string{"f52901c499e44e3d8f4c2c8b0ee0c3ac"},
			SetErrs: map[string]SETError{"4d3559ec67504aaba65d40b0363faad8": {"authentication_failed", "The SET could not be authenticated"}}}, ""},
		{rfc8936Examples[3], PollRequest{MaxEvents: 0, Ack: []string{"4d3559ec67504aaba65d40b0363faad8"},
			SetErrs: map[string]SETError{"3d0c3cf797584bd193bd0fb1bd4e7d30": {"invalid_request", "Unrecognized event"}}}, ""},
		{`{"maxEvents":5000,"future":{"x":[1]},"ack":null,"setErrs":{"j":{"err":"e"}}}`,
			PollRequest{MaxEvents: MaxEvents, SetErrs: map[string]SETError{"j": {Err: "e"}}}, ""},
		{` {"maxEvents" : 7} `, PollRequest{MaxEvents: 7}, ""},
		{`{"maxEvents":1e2}`, PollRequest{}, `"maxEvents" must be a non-negative integer, not 1e2`},
		{`{"maxEvents":-99999999999999999999}`, PollRequest{}, `"maxEvents" must be a non-negative integer, not -99999999999999999999`},
		{`{"maxEvents":"5"}`, PollRequest{}, `"maxEvents" must be a non-negative integer, not "5"`},
		{`{"ack":"evt_1"}`, PollRequest{}, `"ack" must be an array of jti strings`},
		{`{"setErrs":[]}`, PollRequest{}, `"setErrs" must be an object whose members are jtis`},
		{`{"setErrs":{"j":{"err":1}}}`, PollRequest{}, `"setErrs": the error of "j" must be an object with a string "err"`},
		{`{"setErrs":{"j":"bad"}}`, PollRequest{}, `"setErrs": the error of "j" must be an object with a string "err"`},
		{`{"returnImmediately":1}`, PollRequest{}, `"returnImmediately" must be true or false`},
		{`{"ack":[]`, PollRequest{}, `malformed JSON`},
		{`{"ack":[],}`, PollRequest{}, `malformed JSON`},
		{`{"ack":[]}x`, PollRequest{}, `data after the JSON object`},
		{`null`, PollRequest{}, `the body must be a JSON object (RFC 8936 §2.4)`},
		{`{"ack":["a"` + strings.Repeat(`,"a"`, MaxPollAcks) + `]}`, PollRequest{}, `2001 acknowledgements in one poll; at most 2000`},
	}
	for _, tc := range tests {
		got, err := ParsePollRequest([]byte(tc.body))
		if tc.err != "" {
			if !errors.Is(err, ErrBadPoll) || err.Error() != "invalid poll request: "+tc.err {
				t.Errorf("ParsePollRequest(%.60s) = %v, want %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePollRequest(%s): %v", tc.body, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParsePollRequest(%s) (-want +got):\n%s", tc.body, diff)
		}
	}
}

// FuzzParsePollRequest: whatever the body, the parser answers a request
// within the limits or an ErrBadPoll, and never panics; a request it
// accepts means what encoding/json reads in it.
func FuzzParsePollRequest(f *testing.F) {
	for _, s := range rfc8936Examples {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"maxEvents":99999999999999999999999,"ack":null}`))
	f.Add([]byte(`{"setErrs":{"a":{"err":"x","description":null}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParsePollRequest(body)
		if err != nil {
			if !errors.Is(err, ErrBadPoll) {
				t.Fatalf("error %v does not wrap ErrBadPoll", err)
			}
			return
		}
		if req.MaxEvents < 0 || req.MaxEvents > MaxEvents || len(req.Ack)+len(req.SetErrs) > MaxPollAcks {
			t.Fatalf("accepted %q as %+v: outside the limits", body, req)
		}
		var std map[string]json.RawMessage
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		var ack []string
		if raw, ok := std["ack"]; ok {
			json.Unmarshal(raw, &ack)
		}
		if !cmp.Equal(ack, req.Ack) {
			t.Fatalf("%q: ack %q, encoding/json reads %q", body, req.Ack, ack)
		}
	})
}

func TestParseKeyFile(t *testing.T) {
	long := strings.Repeat("k", MinPollKeyLength)
	tests := []struct {
		content string
		keys    int
		err     string
	}{
		{"# poll keys\n\n" + long + "\n  " + long + "x  \n", 2, ""},
		{"# nothing\n\n", 0, "f holds no poll key"},
		{long + "\nshort\n", 0, "f:2: a poll key must be at least 32 characters (e.g. openssl rand -hex 32)"},
		{long + " " + long + "\n", 0, "f:1: a poll key is printable ASCII without spaces"},
		{"é" + long + "\n", 0, "f:1: a poll key is printable ASCII without spaces"},
	}
	for _, tc := range tests {
		kf, err := ParseKeyFile("f", []byte(tc.content))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseKeyFile(%q) = %v, want %q", tc.content, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), long) {
				t.Errorf("the error shows a key: %v", err)
			}
			continue
		}
		if err != nil || kf.Len() != tc.keys {
			t.Errorf("ParseKeyFile(%q) = %v keys, %v; want %d", tc.content, kf, err, tc.keys)
			continue
		}
		if _, all, err := kf.AppKeyAuth(t.Context(), long); err != nil || !all {
			t.Errorf("the file's key: all %v, %v", all, err)
		}
		if _, _, err := kf.AppKeyAuth(t.Context(), long+"y"); err == nil {
			t.Error("a key not in the file was accepted")
		}
	}
}
