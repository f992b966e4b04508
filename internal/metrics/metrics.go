package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimd/scimd/internal/scim"
)

// latencyBuckets are the buckets of the request and commit latency
// histograms, in seconds: from a cached read (under a millisecond) to a
// large Bulk request.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics holds scimd's metrics. Its methods are safe for concurrent use
// and do nothing on a nil *Metrics.
type Metrics struct {
	reg *prometheus.Registry

	scimRequests    *prometheus.CounterVec
	scimDuration    *prometheus.HistogramVec
	authFailures    *prometheus.CounterVec
	limitRejections *prometheus.CounterVec
	signIns         *prometheus.CounterVec
	lockouts        *prometheus.CounterVec
	writeBatch      prometheus.Histogram
	commitDuration  prometheus.Histogram
	retries         *prometheus.CounterVec
	pools           *poolCollector
	webhookAttempts *prometheus.CounterVec
	webhookLag      prometheus.Histogram
}

// Label values of scimd_console_signins_total's result.
const (
	SignInSuccess     = "success"     // signed in
	SignInFailure     = "failure"     // wrong userName or password
	SignInLockedOut   = "locked_out"  // refused before the password was checked: the account or address is locked
	SignInDeactivated = "deactivated" // right password, deactivated user
)

// Label values of scimd_limit_rejections_total's limit.
const (
	LimitSignIn      = "signin"      // the console's sign-in throttle (429)
	LimitRate        = "rate"        // an API key past its rate (limits.ReasonKeyRate)
	LimitConcurrency = "concurrency" // a tenant past its concurrent requests (limits.ReasonTenantConcurrency)
)

// New creates scimd's metrics in reg, with the Go runtime and process
// collectors and scimd_build_info.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		scimRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimd_scim_requests_total",
			Help: "SCIM requests answered, by method, resource type, status class and identity provider (from the User-Agent).",
		}, []string{"method", "resource", "status_class", "client"}),
		scimDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scimd_scim_request_duration_seconds",
			Help:    "Time to answer a SCIM request, by method, resource type, status class and identity provider.",
			Buckets: latencyBuckets,
		}, []string{"method", "resource", "status_class", "client"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimd_auth_failures_total",
			Help: "SCIM requests refused with 401, by reason.",
		}, []string{"reason"}),
		limitRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimd_limit_rejections_total",
			Help: "Requests refused by a rate or concurrency limit (429), by limit.",
		}, []string{"limit"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimd_console_signins_total",
			Help: "Console sign-in attempts, by console (tenant or operator) and result.",
		}, []string{"console", "result"}),
		lockouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimd_console_lockouts_total",
			Help: "Failed console sign-ins that locked an account (from one address) or an address, by scope.",
		}, []string{"scope"}),
		writeBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "scimd_store_write_batch_size",
			Help:    "Write transactions committed together by SQLite's single writer (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "scimd_store_commit_duration_seconds",
			Help:    "Time of SQLite's COMMIT of a batch of writes (the fsync).",
			Buckets: latencyBuckets,
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimd_store_retries_total",
			Help: "PostgreSQL transactions run again after a serialization failure (40001) or a deadlock (40P01), by SQLSTATE.",
		}, []string{"sqlstate"}),
		pools: &poolCollector{
			waits:   prometheus.NewDesc("scimd_store_pool_waits_total", "Times a query waited for a free connection of the pool.", []string{"pool"}, nil),
			waited:  prometheus.NewDesc("scimd_store_pool_wait_seconds_total", "Time queries waited for a free connection of the pool.", []string{"pool"}, nil),
			conns:   prometheus.NewDesc("scimd_store_pool_connections", "Connections of the pool, by state.", []string{"pool", "state"}, nil),
			maxConn: prometheus.NewDesc("scimd_store_pool_max_connections", "The most connections the pool opens.", []string{"pool"}, nil),
		},
	}
	m.webhookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scimd_webhook_attempts_total",
		Help: "Webhook delivery attempts of this instance, by outcome (delivered, failed, refused).",
	}, []string{"outcome"})
	m.webhookLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "scimd_webhook_delivery_lag_seconds",
		Help:    "Time from an event's commit to its delivery to a webhook endpoint.",
		Buckets: []float64{.005, .01, .05, .1, .5, 1, 5, 30, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600},
	})
	reg.MustRegister(m.scimRequests, m.scimDuration, m.authFailures, m.limitRejections, m.signIns, m.lockouts,
		m.writeBatch, m.commitDuration, m.retries, m.pools, m.webhookAttempts, m.webhookLag,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist before their first event, so that rate() and
	// alerts see a 0 rather than nothing.
	for _, l := range []string{LimitSignIn, LimitRate, LimitConcurrency} {
		m.limitRejections.WithLabelValues(l)
	}
	for _, o := range []string{WebhookDelivered, WebhookFailed, WebhookRefused} {
		m.webhookAttempts.WithLabelValues(o)
	}
	v, rev := buildInfo()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "scimd_build_info",
		Help:        "Always 1; its labels are the version and VCS commit of the running scimd.",
		ConstLabels: prometheus.Labels{"version": v, "revision": rev},
	}, func() float64 { return 1 }))
	return m
}

func buildInfo() (version, revision string) {
	version, revision = "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	version = bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return
}

// Handler serves the registry's metrics in the Prometheus exposition
// formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// SCIMRequest counts a SCIM request that took d and was answered with
// status. method is the HTTP method, resource the resource type the path
// names ("User", "Group", "Bulk", …, see ResourceOf), userAgent the
// client's User-Agent.
func (m *Metrics) SCIMRequest(method, resource, userAgent string, status int, d time.Duration) {
	if m == nil {
		return
	}
	labels := []string{methodLabel(method), resource, statusClass(status), scim.ClientOf(userAgent)}
	m.scimRequests.WithLabelValues(labels...).Inc()
	m.scimDuration.WithLabelValues(labels...).Observe(d.Seconds())
}

// methodLabel bounds the method label: anyone can send any method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// ResourceOf is the resource label of a SCIM path below the tenant
// (/scim/v2/Users/ID → "User"): one of User, Group, Bulk,
// ServiceProviderConfig, ResourceTypes, Schemas, Me, or "other".
func ResourceOf(path string) string {
	rest := path
	for range 2 { // skip "scim" and the version
		_, rest, _ = cut(rest)
	}
	seg, _, _ := cut(rest)
	switch seg {
	case "Users":
		return "User"
	case "Groups":
		return "Group"
	case "Bulk", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Me":
		return seg
	}
	return "other"
}

// cut splits "/a/b/c" into "a" and "/b/c".
func cut(p string) (seg, rest string, ok bool) {
	if len(p) == 0 || p[0] != '/' {
		return "", "", false
	}
	p = p[1:]
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			return p[:i], p[i:], true
		}
	}
	return p, "", true
}

// AuthFailure counts a 401 of a SCIM request, with the reason (auth's
// Fail… constants, or "unknown_tenant").
func (m *Metrics) AuthFailure(reason string) {
	if m == nil {
		return
	}
	m.authFailures.WithLabelValues(reason).Inc()
}

// LimitRejection counts a request refused with 429 by the named limit (one
// of the Limit… constants).
func (m *Metrics) LimitRejection(limit string) {
	if m == nil {
		return
	}
	m.limitRejections.WithLabelValues(limit).Inc()
}

// SignIn counts a console sign-in attempt; console is "tenant" or
// "operator", result one of the SignIn… constants.
func (m *Metrics) SignIn(console, result string) {
	if m == nil {
		return
	}
	m.signIns.WithLabelValues(console, result).Inc()
}

// Lockout counts a failed sign-in that locked its key; scope is "account"
// (an account from one address) or "address".
func (m *Metrics) Lockout(scope string) {
	if m == nil {
		return
	}
	m.lockouts.WithLabelValues(scope).Inc()
}

// WriteBatch records one commit of SQLite's writer: how many write
// transactions it committed and how long the COMMIT took.
func (m *Metrics) WriteBatch(requests int, commit time.Duration) {
	if m == nil {
		return
	}
	m.writeBatch.Observe(float64(requests))
	m.commitDuration.Observe(commit.Seconds())
}

// Retry counts a PostgreSQL transaction run again after the error with the
// given SQLSTATE.
func (m *Metrics) Retry(sqlstate string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(sqlstate).Inc()
}

// WatchWriteQueue exports depth, the number of write transactions waiting
// for SQLite's writer, as scimd_store_write_queue_depth.
func (m *Metrics) WatchWriteQueue(depth func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scimd_store_write_queue_depth",
		Help: "Write transactions waiting for SQLite's single writer.",
	}, func() float64 { return float64(depth()) }))
}

// PoolStats is what a connection pool reports.
type PoolStats struct {
	Waits        int64         // acquisitions that waited for a connection
	WaitDuration time.Duration // the total time they waited
	InUse, Idle  int
	Max          int
}

// DBStats is the PoolStats of a database/sql pool.
func DBStats(s sql.DBStats) PoolStats {
	return PoolStats{Waits: s.WaitCount, WaitDuration: s.WaitDuration, InUse: s.InUse, Idle: s.Idle, Max: s.MaxOpenConnections}
}

// WatchPool exports the stats of the named connection pool ("sqlite_read",
// "postgres") as the scimd_store_pool_* metrics. stats is called at each
// scrape.
func (m *Metrics) WatchPool(name string, stats func() PoolStats) {
	if m == nil {
		return
	}
	m.pools.add(name, stats)
}

// ActivitySource is what the activity recorder reports.
type ActivitySource interface {
	Queued() int
	Written() int64
	Dropped() int64 // queue full
	Failed() int64  // the store failed to write them
}

// WatchActivity exports the activity recorder's queue and counts, and
// unauthenticatedSkipped, the unauthenticated requests counted but not
// recorded (at most one per tenant per 10 s is), as the scimd_activity_*
// metrics.
func (m *Metrics) WatchActivity(a ActivitySource, unauthenticatedSkipped func() int64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "scimd_activity_queue_length",
			Help: "Activity records waiting to be written.",
		}, func() float64 { return float64(a.Queued()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "scimd_activity_written_total",
			Help: "Activity records written to the store.",
		}, func() float64 { return float64(a.Written()) }),
		dropped("queue_full", a.Dropped),
		dropped("write_failed", a.Failed),
		dropped("unauthenticated_sampled", unauthenticatedSkipped),
	)
}

func dropped(reason string, n func() int64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name:        "scimd_activity_dropped_total",
		Help:        "Activity records not written, by reason: the queue was full, the store failed, or an unauthenticated request beyond the sample.",
		ConstLabels: prometheus.Labels{"reason": reason},
	}, func() float64 { return float64(n()) })
}

// WatchEvents exports the event log's lag: pending, the committed events
// not yet visible to readers because an older transaction is still
// running (store.EventStore.EventsPending), as scimd_events_pending.
func (m *Metrics) WatchEvents(pending func(context.Context) (int64, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scimd_events_pending",
		Help: "Committed events not yet visible in the event log, held back by an older transaction still running (0 on SQLite).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := pending(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// Webhook outcomes.
const (
	WebhookDelivered = "delivered" // the receiver took it (2xx; 202 for a SET)
	WebhookFailed    = "failed"    // an attempt that failed, retried later
	WebhookRefused   = "refused"   // a SET the receiver refused for good
)

// WebhookAttempt counts one delivery attempt by outcome, and for a
// delivered event the time from its commit to its delivery (lag).
func (m *Metrics) WebhookAttempt(outcome string, lag time.Duration) {
	if m == nil {
		return
	}
	m.webhookAttempts.WithLabelValues(outcome).Inc()
	if outcome == WebhookDelivered {
		m.webhookLag.Observe(lag.Seconds())
	}
}
