// Package limits keeps one tenant, or one key, from taking what the others
// need: a bulkhead bounds how many requests of a tenant run at once (the
// rest wait briefly, then are refused), and a token bucket per API key
// bounds its request rate. Both are per process; the state they keep is
// bounded by the tenants and keys active in the last few minutes.
package limits

import (
	"context"
	"math"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultTenantConcurrency: requests of one tenant that run at once.
	// Okta and Entra ID send a handful at a time; a tenant that sends
	// more waits, and the pool of database connections stays shared.
	DefaultTenantConcurrency = 8
	// DefaultTenantHeavy: reads of one tenant that may return a group's
	// members (up to 100,000 of them, tens of MB to render) at once.
	DefaultTenantHeavy = 2
	// DefaultQueueWait: how long a request waits for its tenant's slot.
	DefaultQueueWait = 2 * time.Second
	// DefaultKeyRate and DefaultKeyBurst: requests per second of one API
	// key, sustained and in a burst. Entra ID sends at most about 25 per
	// second per tenant, Okta a few hundred at most.
	DefaultKeyRate  = 500
	DefaultKeyBurst = 1000
	// idleAfter: state unused this long is forgotten.
	idleAfter = 10 * time.Minute
)

// Config configures a Limiter. Zero values take the defaults; a negative
// TenantConcurrency or KeyRate turns that limit off.
type Config struct {
	TenantConcurrency int
	TenantHeavy       int
	QueueWait         time.Duration
	KeyRate           float64
	KeyBurst          int
	Now               func() time.Time
}

// Limiter holds the bulkheads of tenants and the buckets of keys.
type Limiter struct {
	cfg Config

	mu      sync.Mutex
	tenants map[bulkheadKey]*bulkhead
	keys    map[string]*bucket
	swept   time.Time
}

type bulkheadKey struct {
	tenant int64
	heavy  bool
}

type bulkhead struct {
	slots chan struct{}
	used  time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a Limiter.
func New(cfg Config) *Limiter {
	if cfg.TenantConcurrency == 0 {
		cfg.TenantConcurrency = DefaultTenantConcurrency
	}
	if cfg.TenantHeavy == 0 {
		cfg.TenantHeavy = DefaultTenantHeavy
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = DefaultQueueWait
	}
	if cfg.KeyRate == 0 {
		cfg.KeyRate = DefaultKeyRate
	}
	if cfg.KeyBurst <= 0 {
		cfg.KeyBurst = DefaultKeyBurst
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, tenants: map[bulkheadKey]*bulkhead{}, keys: map[string]*bucket{}}
}

// Refusal says why a request was refused and when to try again.
type Refusal struct {
	Reason     string // "tenant_concurrency" or "key_rate"
	RetryAfter time.Duration
}

func (r *Refusal) Error() string {
	if r.Reason == ReasonKeyRate {
		return "too many requests with this API key: slow down"
	}
	return "too many requests of this tenant at once: retry shortly"
}

// The reasons of a Refusal.
const (
	ReasonTenantConcurrency = "tenant_concurrency"
	ReasonKeyRate           = "key_rate"
)

// Acquire takes one of the tenant's slots, waiting up to the queue wait
// (or until ctx ends) for one; it returns the function that gives it back,
// or a *Refusal.
func (l *Limiter) Acquire(ctx context.Context, tenantID int64) (release func(), err error) {
	return l.acquire(ctx, bulkheadKey{tenant: tenantID}, l.cfg.TenantConcurrency)
}

// AcquireHeavy is Acquire for the tenant's heavy reads (a group with its
// members), of which fewer run at once, within its slots of Acquire.
func (l *Limiter) AcquireHeavy(ctx context.Context, tenantID int64) (release func(), err error) {
	return l.acquire(ctx, bulkheadKey{tenant: tenantID, heavy: true}, l.cfg.TenantHeavy)
}

func (l *Limiter) acquire(ctx context.Context, key bulkheadKey, size int) (release func(), err error) {
	if size < 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	b := l.tenants[key]
	if b == nil {
		b = &bulkhead{slots: make(chan struct{}, size)}
		l.tenants[key] = b
	}
	b.used = l.cfg.Now()
	l.sweepLocked()
	l.mu.Unlock()
	release = func() { <-b.slots }
	select {
	case b.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(l.cfg.QueueWait)
	defer t.Stop()
	select {
	case b.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, &Refusal{Reason: ReasonTenantConcurrency, RetryAfter: time.Second}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Allow takes a token from the key's bucket, which refills at rate per
// second (0: the configured rate) up to the configured burst; it returns
// a *Refusal when the bucket is empty.
func (l *Limiter) Allow(keyID string, rate float64) error {
	if rate == 0 {
		rate = l.cfg.KeyRate
	}
	if rate < 0 {
		return nil
	}
	burst := math.Max(float64(l.cfg.KeyBurst), rate)
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[keyID]
	if b == nil {
		b = &bucket{tokens: burst, at: now}
		l.keys[keyID] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
		return &Refusal{Reason: ReasonKeyRate, RetryAfter: max(wait, time.Second).Round(time.Second)}
	}
	b.tokens--
	return nil
}

// sweepLocked forgets, once a minute, the state of tenants and keys idle
// for idleAfter: a bulkhead with no request in flight, a bucket that has
// refilled.
func (l *Limiter) sweepLocked() {
	now := l.cfg.Now()
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for id, b := range l.tenants {
		if now.Sub(b.used) > idleAfter && len(b.slots) == 0 {
			delete(l.tenants, id)
		}
	}
	for id, b := range l.keys {
		if now.Sub(b.at) > idleAfter {
			delete(l.keys, id)
		}
	}
}

// Sizes reports how many tenants and keys the limiter holds state for.
func (l *Limiter) Sizes() (tenants, keys int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tenants), len(l.keys)
}
