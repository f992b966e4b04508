package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/secevent"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/webhook"
)

const webhooksUsage = `scimd webhooks: endpoints that receive the event log by Standard Webhooks

  scimd webhooks add --url URL [--tenants a,b] [--types user.*,group.*] [--format standard|set] [--json]
  scimd webhooks list [--json]
  scimd webhooks disable ID | enable ID | remove ID
  scimd webhooks rotate-secret ID [--json]
  scimd webhooks replay ID --from CURSOR | --since TIME

URLs must be https:// (http:// to a loopback host with --webhooks-allow-insecure,
env SCIMD_WEBHOOKS_ALLOW_INSECURE, for development). The secret is shown once.
replay --from delivers again the events after CURSOR (a delivery's "cursor");
--since takes an RFC 3339 time or a duration ago (24h).
`

// envBool is a boolean flag's default from the environment.
func envBool(getenv func(string) string, key string) bool {
	v, err := onOff(getenv(key))
	return err == nil && v
}

// insecureFlag defines --webhooks-allow-insecure, which serve and
// webhooks add share.
func insecureFlag(fs *flag.FlagSet, getenv func(string) string) *bool {
	return fs.Bool("webhooks-allow-insecure", envBool(getenv, "SCIMD_WEBHOOKS_ALLOW_INSECURE"),
		"permit http:// webhook URLs to loopback hosts (development and tests)")
}

// startWebhooks starts delivering to the webhook endpoints, and returns
// the service (nil when the store has no webhook storage) and a function
// that stops the deliveries and releases their leases.
func startWebhooks(ctx context.Context, st store.Store, logger *slog.Logger, allowInsecure bool, set webhook.SETEncoder, m *metrics.Metrics) (*webhook.Service, func()) {
	svc, err := webhook.New(webhook.Config{Store: st, Logger: logger, AllowInsecure: allowInsecure, SET: set, Observe: m.WebhookAttempt})
	if err != nil {
		logger.Warn("webhooks are off", "err", err)
		return nil, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	return svc, func() { cancel(); <-done }
}

func cmdWebhooks(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, webhooksUsage)
		if len(args) == 0 {
			return usagef("webhooks: expected add, list, disable, enable, rotate-secret, remove or replay")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs, dbURL := newFlags("webhooks "+sub, getenv)
	var urlFlag, tenants, types, from, since, format *string
	var jsonOut, insecure *bool
	switch sub {
	case "add":
		urlFlag = fs.String("url", "", "the endpoint's URL")
		tenants = fs.String("tenants", "", "only these tenants' events (comma-separated names; default all)")
		types = fs.String("types", "", "only these event types (comma-separated, user.* style prefixes; default all)")
		format = fs.String("format", store.WebhookStandard, "what the endpoint receives: `standard` (Standard Webhooks) or set (RFC 8935 pushes of RFC 9967 Security Event Tokens)")
		jsonOut = fs.Bool("json", false, `print {"id": ..., "secret": ...}`)
		insecure = insecureFlag(fs, getenv)
	case "list", "rotate-secret":
		jsonOut = fs.Bool("json", false, "print JSON")
	case "replay":
		from = fs.String("from", "", "replay the events after this cursor")
		since = fs.String("since", "", "replay the events since this time (RFC 3339, or a duration ago)")
	case "disable", "enable", "remove":
	default:
		return usagef("webhooks: unknown subcommand %q (expected add, list, disable, enable, rotate-secret, remove or replay)", sub)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	allow := insecure != nil && *insecure
	cfg := webhook.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AllowInsecure: allow}
	if b, ok := st.(setBackend); ok {
		// The command line delivers nothing: an encoder only says that
		// SET endpoints can be added.
		cfg.SET = &secevent.Format{Keys: &secevent.Keyring{Store: b}}
	}
	svc, err := webhook.New(cfg)
	if err != nil {
		return err
	}
	oneID := func() (string, error) {
		if len(pos) != 1 {
			return "", usagef("webhooks %s: expected one endpoint ID", sub)
		}
		return pos[0], nil
	}
	switch sub {
	case "add":
		return webhooksAdd(ctx, svc, pos, *urlFlag, *tenants, *types, *format, *jsonOut, stdout, stderr)
	case "list":
		if len(pos) != 0 {
			return usagef("webhooks list: unexpected argument %q", pos[0])
		}
		return webhooksList(ctx, svc, *jsonOut, stdout)
	case "disable", "enable", "remove":
		id, err := oneID()
		if err != nil {
			return err
		}
		switch sub {
		case "disable":
			_, err = svc.Disable(ctx, id)
		case "enable":
			var note string
			if _, note, err = svc.Enable(ctx, id); note != "" {
				fmt.Fprintln(stderr, "note:", note)
			}
		case "remove":
			err = svc.Remove(ctx, id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook %s %sd\n", id, sub)
		return nil
	case "rotate-secret":
		id, err := oneID()
		if err != nil {
			return err
		}
		e, secret, err := svc.RotateSecret(ctx, id)
		if err != nil {
			return err
		}
		if *jsonOut {
			return printJSON(stdout, idSecret{ID: e.ID, Secret: secret})
		}
		fmt.Fprintf(stdout, "webhook %s has a new secret; the old one also signs until %s\n", e.ID, e.PrevSecretUntil.Format(time.RFC3339))
		fmt.Fprintf(stdout, "Secret:   %s   (shown once: store it now)\n", secret)
		return nil
	case "replay":
		id, err := oneID()
		if err != nil {
			return err
		}
		var e store.WebhookEndpoint
		switch {
		case (*from == "") == (*since == ""):
			return usagef("webhooks replay: give either --from CURSOR or --since TIME")
		case *from != "":
			e, err = svc.ReplayFrom(ctx, id, *from)
		default:
			t, perr := parseSince(*since, time.Now())
			if perr != nil {
				return perr
			}
			e, err = svc.ReplaySince(ctx, id, t)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook %s replays from %s; it is active\n", e.ID, cursorOrStart(e.Position))
		return nil
	}
	return nil
}

type idSecret struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func webhooksAdd(ctx context.Context, svc *webhook.Service, pos []string, url, tenants, types, format string, jsonOut bool, stdout, stderr io.Writer) error {
	if url == "" && len(pos) == 1 {
		url, pos = pos[0], nil // "webhooks add URL" as well
	}
	if len(pos) != 0 {
		return usagef("webhooks add: unexpected argument %q", pos[0])
	}
	if url == "" {
		return usagef("webhooks add: --url URL is required")
	}
	ts, err := webhook.ParseTypes(types)
	if err != nil {
		return usagef("webhooks add: --types: %v", err)
	}
	var names []string
	for _, n := range strings.Split(tenants, ",") {
		if n = strings.TrimSpace(n); n != "" && n != "all" {
			names = append(names, n)
		}
	}
	e, secret, warning, err := svc.Add(ctx, webhook.NewEndpoint{URL: url, Tenants: names, Types: ts, Format: format})
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(stderr, "warning:", warning)
	}
	if jsonOut {
		return printJSON(stdout, idSecret{ID: e.ID, Secret: secret})
	}
	fmt.Fprintf(stdout, "webhook %s added: %s\n", e.ID, e.URL)
	fmt.Fprintf(stdout, "Tenants:  %s\nTypes:    %s\n", listOrAll(names), listOrAll(ts))
	fmt.Fprintf(stdout, "Secret:   %s   (shown once: store it now)\n", secret)
	fmt.Fprintln(stdout, "It receives the events written from now on; scimd serve delivers them.")
	return nil
}

func listOrAll(v []string) string {
	if len(v) == 0 {
		return "all"
	}
	return strings.Join(v, ",")
}

func cursorOrStart(p store.EventPosition) string {
	if p == (store.EventPosition{}) {
		return "the oldest retained event"
	}
	return "cursor " + events.Cursor(p)
}

// webhookJSON is an endpoint as webhooks list --json prints it.
type webhookJSON struct {
	ID           string   `json:"id"`
	URL          string   `json:"url"`
	Tenants      []string `json:"tenants"`
	Types        []string `json:"types"`
	State        string   `json:"state"`
	StateReason  string   `json:"state_reason,omitempty"`
	Cursor       string   `json:"cursor"` // "" at the start of the log
	Behind       int64    `json:"behind"`
	BehindMore   bool     `json:"behind_more,omitempty"` // more than behind
	Attempts     int      `json:"attempts"`              // failed attempts at the next event
	NextAttempt  string   `json:"next_attempt,omitempty"`
	FailingSince string   `json:"failing_since,omitempty"`
	LastError    string   `json:"last_error,omitempty"`
	LastSuccess  string   `json:"last_success,omitempty"`
	Created      string   `json:"created"`
	LeaseHolder  string   `json:"lease_holder,omitempty"`
}

func webhooksList(ctx context.Context, svc *webhook.Service, jsonOut bool, stdout io.Writer) error {
	sts, err := svc.List(ctx)
	if err != nil {
		return err
	}
	if jsonOut {
		out := make([]webhookJSON, 0, len(sts))
		for _, s := range sts {
			j := webhookJSON{ID: s.ID, URL: s.URL, Tenants: s.Tenants, Types: s.Types, State: s.State, StateReason: s.StateReason,
				Cursor: s.Cursor, Behind: s.Backlog, BehindMore: s.BacklogMore, Attempts: s.Attempts, NextAttempt: stamp(s.NextAttempt, ""),
				FailingSince: stamp(s.FailingSince, ""), LastError: s.LastError, LastSuccess: stamp(s.LastSuccess, ""), Created: stamp(s.Created, "")}
			if j.Tenants == nil {
				j.Tenants = []string{}
			}
			if j.Types == nil {
				j.Types = []string{}
			}
			if s.LeaseHolder != "" && time.Now().Before(s.LeaseExpires) {
				j.LeaseHolder = s.LeaseHolder
			}
			out = append(out, j)
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tTENANTS\tTYPES\tSTATE\tPOSITION\tBEHIND\tLAST SUCCESS\tLAST ERROR")
	var reasons []string
	for _, s := range sts {
		behind := fmt.Sprint(s.Backlog)
		if s.BacklogMore {
			behind += "+"
		}
		position := s.Cursor
		if position == "" {
			position = "start"
		}
		lastErr := s.LastError
		if lastErr == "" {
			lastErr = "-"
		} else if len(lastErr) > 60 {
			lastErr = strings.ToValidUTF8(lastErr[:57], "") + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.URL, listOrAll(s.Tenants), listOrAll(s.Types), s.State,
			position, behind, stamp(s.LastSuccess, "never"), lastErr)
		if s.StateReason != "" {
			reasons = append(reasons, s.ID+" is "+s.State+": "+s.StateReason)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reasons {
		fmt.Fprintln(stdout, r)
	}
	return nil
}

// parseSince reads --since: an RFC 3339 time, or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef("webhooks replay: --since %q is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor a duration ago (24h)", s)
}
