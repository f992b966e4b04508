package webhook

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// The delivery schedule. A failed attempt is retried after a random delay
// between 0 and the next of these ceilings (full jitter, so that
// endpoints that failed together do not retry together); past the last
// ceiling each retry waits up to it. Once GiveUpAfter has passed since
// the event's first failed attempt (a final attempt is made then), the
// endpoint is marked failing and stops until an operator enables or
// replays it.
var (
	DefaultSchedule = []time.Duration{
		5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
	}
	DefaultGiveUpAfter = 24 * time.Hour
)

// Defaults of Config.
const (
	DefaultTimeout = 10 * time.Second // per attempt, connection included
	DefaultLease   = 15 * time.Second // must exceed Timeout and the renewal interval
	DefaultRenew   = 3 * time.Second
	DefaultPoll    = time.Second
	batchSize      = 20
	userAgent      = "scimd-webhooks/1 (Standard Webhooks 1.0)"
	// maxErrorBody is how much of a failed answer's body its error text
	// quotes.
	maxErrorBody = 200
)

// Config is what a Service needs. Zero fields take the defaults.
type Config struct {
	Store  store.Store // must also be a store.WebhookStore
	Logger *slog.Logger
	// AllowInsecure permits http:// URLs to loopback hosts and loopback
	// addresses (development and tests).
	AllowInsecure bool
	// Instance names this process as a lease holder; default: host name,
	// process id and random digits.
	Instance string

	Timeout     time.Duration   // per attempt (DefaultTimeout)
	Schedule    []time.Duration // retry ceilings (DefaultSchedule)
	GiveUpAfter time.Duration   // (DefaultGiveUpAfter)
	Lease       time.Duration   // lease length (DefaultLease)
	Renew       time.Duration   // lease renewal interval (DefaultRenew)
	Poll        time.Duration   // how often idle endpoints read the log and the endpoint list (DefaultPoll)
	// SET encodes events as Security Event Tokens for the endpoints of
	// format store.WebhookSET; without it they cannot be added, and those
	// that exist wait.
	SET SETEncoder
	// Observe, when set, is told the outcome of each attempt
	// ("delivered", "failed", "refused") and, for a delivered event, the
	// time since it was committed.
	Observe func(outcome string, lag time.Duration)
	// RootCAs, when set, replaces the system's roots (tests).
	RootCAs *x509.CertPool
	// Now is the clock; Jitter returns a random duration in [0, d]
	// (tests may make it deterministic).
	Now    func() time.Time
	Jitter func(d time.Duration) time.Duration
}

// SETEncoder makes the RFC 8417 token of an event for an audience (the
// endpoint's URL): secevent.Format. An event with no token returns an
// error that wraps secevent.ErrNoSET.
type SETEncoder interface {
	Encode(ctx context.Context, e store.Event, audience string) (body []byte, contentType string, err error)
}

// Service manages webhook endpoints and delivers events to them.
type Service struct {
	st     store.Store
	ws     store.WebhookStore
	log    *slog.Logger
	cfg    Config
	seal   *sealer
	client *http.Client
	// wake pokes the delivery loop of this process (a new endpoint, retry
	// now); buffered, a missed send is fine.
	wake chan struct{}

	mu      sync.Mutex
	running map[string]*worker // endpoints this process delivers for
}

// ErrNoWebhookStore is returned by New for a store without webhook
// storage.
var ErrNoWebhookStore = errors.New("this database backend has no webhook storage")

// New returns a Service for cfg. It does not deliver until Run.
func New(cfg Config) (*Service, error) {
	ws, ok := cfg.Store.(store.WebhookStore)
	if !ok {
		return nil, ErrNoWebhookStore
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Instance == "" {
		cfg.Instance = newInstanceID()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = DefaultGiveUpAfter
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Renew <= 0 {
		cfg.Renew = DefaultRenew
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = fullJitter
	}
	if cfg.Lease < cfg.Timeout+cfg.Renew+time.Second/2 {
		return nil, fmt.Errorf("webhook: the lease (%v) must exceed the attempt timeout (%v) and the renewal interval (%v)", cfg.Lease, cfg.Timeout, cfg.Renew)
	}
	s := &Service{st: cfg.Store, ws: ws, log: cfg.Logger, cfg: cfg, seal: &sealer{st: cfg.Store},
		wake: make(chan struct{}, 1), running: map[string]*worker{}}
	s.client = newClient(cfg)
	return s, nil
}

// Instance is the name this process holds leases under.
func (s *Service) Instance() string { return s.cfg.Instance }

func newInstanceID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "scimd"
	}
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// fullJitter returns a uniformly random duration in [0, d].
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	var b [8]byte
	rand.Read(b[:])
	n := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7]&0x7f)<<56
	return time.Duration(n % uint64(d+1))
}

// insecureKey marks the context of a request to an http:// URL: its
// connections may go only to loopback.
type insecureKey struct{}

// newClient is the HTTP client of deliveries: no proxy (the SSRF check
// must see the real peer), the SSRF check on every connection, no
// redirects followed (a 3xx is a failed attempt).
func newClient(cfg Config) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		onlyLoopback, _ := ctx.Value(insecureKey{}).(bool)
		d := &net.Dialer{Timeout: cfg.Timeout, Control: dialControl(cfg.AllowInsecure, onlyLoopback)}
		return d.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run delivers until ctx ends: every few seconds (and when poked) it
// looks for active endpoints whose lease is free and starts delivering
// for them, each in its own goroutine, so that an endpoint that is down
// holds back only itself. On return every lease it held is released.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(2 * s.cfg.Poll)
	defer t.Stop()
	for {
		s.startWorkers(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// poke wakes this process's delivery loop and its workers.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.running {
		w.poke()
	}
}

func (s *Service) startWorkers(ctx context.Context, wg *sync.WaitGroup) {
	eps, err := s.ws.Webhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("webhooks: listing endpoints failed", "err", err)
		}
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range eps {
		if e.State != store.WebhookActive || s.running[e.ID] != nil {
			continue
		}
		if e.LeaseHolder != "" && e.LeaseHolder != s.cfg.Instance && now.Before(e.LeaseExpires) {
			continue // another instance delivers for it
		}
		w := &worker{s: s, id: e.ID, wake: make(chan struct{}, 1)}
		s.running[e.ID] = w
		wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.running, w.id)
				s.mu.Unlock()
			}()
			w.run(ctx)
		})
	}
}
