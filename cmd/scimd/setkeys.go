package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimd/scimd/internal/secevent"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/webhook"
)

// Security Event Tokens: the set-keys command, and what serve mounts
// (/.well-known/jwks.json, the RFC 8936 poll endpoint) and advertises.

// setBackend is a store that keeps SET keys and pollers.
type setBackend interface {
	store.Store
	store.SETStore
}

// cmdSETKeys is "scimd set-keys list|rotate".
func cmdSETKeys(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "list" && args[0] != "rotate" {
		return usagef("set-keys: expected list or rotate")
	}
	sub, args := args[0], args[1:]
	var grace *string
	var jsonFlag *bool
	define := func(fs *flag.FlagSet) {
		jsonFlag = fs.Bool("json", false, "print JSON")
		if sub == "rotate" {
			grace = fs.String("grace", secevent.DefaultGrace.String(), "how long the replaced key stays in the JWKS (a `DURATION`)")
		}
	}
	return withStore(ctx, "set-keys "+sub, args, getenv, define, func(st store.Store, pos []string) error {
		jsonOut := *jsonFlag
		if len(pos) > 0 {
			return usagef("set-keys %s: unexpected argument %q", sub, pos[0])
		}
		b, ok := st.(setBackend)
		if !ok {
			return fmt.Errorf("this database backend keeps no SET keys")
		}
		keys := &secevent.Keyring{Store: b}
		if sub == "list" {
			ks, err := keys.Keys(ctx)
			if err != nil {
				return err
			}
			return printSETKeys(stdout, jsonOut, ks, time.Now())
		}
		d, err := time.ParseDuration(*grace)
		if err != nil || d < secevent.MinGrace {
			return usagef("set-keys rotate: --grace must be a duration of at least %v, such as 168h", secevent.MinGrace)
		}
		before, err := keys.Keys(ctx)
		if err != nil {
			return err
		}
		k, err := keys.Rotate(ctx, d)
		if err != nil {
			return err
		}
		if jsonOut {
			return json.NewEncoder(stdout).Encode(map[string]string{"kid": k.ID, "alg": k.Algorithm, "created": stamp(k.Created, "")})
		}
		fmt.Fprintf(stdout, "new signing key %s (%s); every instance signs with it within %v\n", k.ID, k.Algorithm, secevent.DefaultKeyTTL)
		for _, old := range before {
			if old.Signing {
				fmt.Fprintf(stdout, "the previous key %s stays in the JWKS until %s\n", old.ID, stamp(k.Created.Add(d), ""))
			}
		}
		return nil
	})
}

// printSETKeys lists the signing keys and their state.
func printSETKeys(w io.Writer, jsonOut bool, ks []store.SETKey, now time.Time) error {
	state := func(k store.SETKey) string {
		switch {
		case k.Signing:
			return "signing"
		case k.Published(now):
			return "published until " + stamp(k.PublishedUntil, "")
		}
		return "expired (deleted at the next rotation)"
	}
	if jsonOut {
		type keyJSON struct {
			KID            string `json:"kid"`
			Alg            string `json:"alg"`
			Created        string `json:"created"`
			Signing        bool   `json:"signing"`
			Published      bool   `json:"published"`
			Retired        string `json:"retired,omitempty"`
			PublishedUntil string `json:"publishedUntil,omitempty"`
		}
		out := []keyJSON{}
		for _, k := range ks {
			out = append(out, keyJSON{k.ID, k.Algorithm, stamp(k.Created, ""), k.Signing, k.Published(now), stamp(k.Retired, ""), stamp(k.PublishedUntil, "")})
		}
		return json.NewEncoder(w).Encode(out)
	}
	if len(ks) == 0 {
		fmt.Fprintln(w, "no SET signing key yet: scimd serve makes the first one (or run \"scimd set-keys rotate\")")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tCREATED\tSTATE")
	for _, k := range ks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, stamp(k.Created, "-"), state(k))
	}
	return tw.Flush()
}

// setOptions are serve's flags for Security Event Tokens.
type setOptions struct {
	issuer, pollKeyFile *string
}

// setService is what serve runs of Security Event Tokens.
type setService struct {
	keys   *secevent.Keyring
	format *secevent.Format // what a SET sender encodes events with
	poll   http.Handler     // nil while polling is off
	log    *slog.Logger
}

// open makes the first signing key if there is none and sets up the JWKS
// and, with a key file, the poll endpoint. A backend without SET storage
// serves neither (nil, logged).
func (o *setOptions) open(ctx context.Context, st store.Store, logger *slog.Logger, addr, baseDomain string) (*setService, error) {
	b, ok := st.(setBackend)
	if !ok {
		if *o.pollKeyFile != "" {
			return nil, fmt.Errorf("--set-poll-key-file: this database backend keeps no SET keys")
		}
		logger.Warn("this database backend has no storage for Security Event Tokens: no JWKS, no SET polling")
		return nil, nil
	}
	issuer := *o.issuer
	switch {
	case issuer == "" && baseDomain != "":
		issuer = "https://" + strings.TrimPrefix(baseDomain, ".")
	case issuer == "":
		issuer = "http://" + addr
	}
	if u, err := url.Parse(issuer); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usagef("serve: --set-issuer must be an http(s) URL without query, such as https://scimd.example.com")
	}
	s := &setService{keys: &secevent.Keyring{Store: b, Logger: logger}, log: logger}
	s.format = &secevent.Format{Issuer: strings.TrimSuffix(issuer, "/"), Keys: s.keys}
	made, err := s.keys.Ensure(ctx)
	if err != nil {
		return nil, fmt.Errorf("the SET signing key: %w", err)
	}
	if made {
		logger.Info("made the first Security Event Token signing key (rotate it with \"scimd set-keys rotate\")")
	}
	if *o.pollKeyFile != "" {
		kf, err := secevent.LoadKeyFile(*o.pollKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--set-poll-key-file: %w", err)
		}
		s.poll = &secevent.Poll{Events: b, Pollers: b, Format: s.format, Auth: kf, Done: ctx.Done(), Logger: logger}
		logger.Info("serving the SET poll endpoint", "path", secevent.PollPath, "keys", kf.Len(), "issuer", s.format.Issuer)
	}
	return s, nil
}

// advertise puts the SET event URIs in the ServiceProviderConfig when
// this deployment can deliver SETs: it has signing keys (the JWKS is
// published), so they are pushed to the webhook endpoints of format set
// and, with a key file, served at the poll endpoint.
func (s *setService) advertise(cfg *server.Config) {
	if s != nil {
		cfg.SecurityEvents = &server.SecurityEvents{EventURIs: secevent.EventURIs}
	}
}

// mount serves /.well-known/jwks.json and /api/v1/sets/ in front of next.
func (s *setService) mount(next http.Handler) http.Handler {
	if s == nil {
		return next
	}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/jwks.json", logged(s.log, s.keys))
	sets := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != secevent.PollPath:
			writeSETError(w, http.StatusNotFound, "no such endpoint: SETs are polled at "+secevent.PollPath)
		case s.poll == nil:
			writeSETError(w, http.StatusNotFound, "SET polling is off: start scimd serve with --set-poll-key-file FILE")
		default:
			s.poll.ServeHTTP(w, r)
		}
	})
	mux.Handle("/api/v1/sets/", logged(s.log, sets))
	mux.Handle("/", next)
	return mux
}

func writeSETError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"err": "invalid_request", "description": msg})
	w.Write(append(b, '\n'))
}

// logged logs each request to h (method, path, status, duration; never
// its credentials), as the SCIM server logs its own.
func logged(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &setStatus{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start).Round(time.Microsecond).String())
	})
}

type setStatus struct {
	http.ResponseWriter
	status int
}

func (s *setStatus) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// encoder is what webhook endpoints of format "set" encode events with;
// nil when the backend keeps no SET keys.
func (s *setService) encoder() webhook.SETEncoder {
	if s == nil {
		return nil
	}
	return s.format
}
