package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// scrape returns the lines of m's exposition that start with prefix.
func scrape(t *testing.T, m *Metrics, prefix string) []string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return out
}

func TestResourceOf(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/scim/v2/Users", "User"},
		{"/scim/v2/Users/abc", "User"},
		{"/scim/v1/Users/.search", "User"},
		{"/scim/v2/Groups/g1", "Group"},
		{"/scim/v2/Bulk", "Bulk"},
		{"/scim/v2/ServiceProviderConfig", "ServiceProviderConfig"},
		{"/scim/v2/ResourceTypes/User", "ResourceTypes"},
		{"/scim/v2/Schemas/urn:x", "Schemas"},
		{"/scim/v2/Me", "Me"},
		{"/scim/v2/users", "other"}, // resource names are case-sensitive
		{"/scim/v2/Anything", "other"},
		{"/scim/v2", "other"},
		{"", "other"},
	} {
		if got := ResourceOf(tc.path); got != tc.want {
			t.Errorf("ResourceOf(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestLabelsAreBounded(t *testing.T) {
	for _, tc := range []struct {
		method, wantMethod string
		status             int
		wantClass          string
	}{
		{"GET", "GET", 200, "2xx"},
		{"PATCH", "PATCH", 204, "2xx"},
		{"DELETE", "DELETE", 304, "3xx"},
		{"POST", "POST", 499, "4xx"},
		{"PUT", "PUT", 503, "5xx"},
		{"BREW", "other", 0, "other"},
		{"get", "other", 600, "other"},
	} {
		if got := methodLabel(tc.method); got != tc.wantMethod {
			t.Errorf("methodLabel(%q) = %q, want %q", tc.method, got, tc.wantMethod)
		}
		if got := statusClass(tc.status); got != tc.wantClass {
			t.Errorf("statusClass(%d) = %q, want %q", tc.status, got, tc.wantClass)
		}
	}
}

type fakeActivity struct{}

func (fakeActivity) Queued() int    { return 3 }
func (fakeActivity) Written() int64 { return 10 }
func (fakeActivity) Dropped() int64 { return 2 }
func (fakeActivity) Failed() int64  { return 1 }

// TestExposition records known events and checks the exposition, line by
// line.
func TestExposition(t *testing.T) {
	m := New(prometheus.NewRegistry())
	m.SCIMRequest("GET", "User", "Okta SCIM Client 1.0", 200, 3*time.Millisecond)
	m.SCIMRequest("GET", "User", "Okta SCIM Client 1.0", 200, 20*time.Millisecond)
	m.SCIMRequest("BREW", "other", "curl/8", 405, time.Millisecond)
	m.AuthFailure("wrong_secret")
	m.SignIn("tenant", SignInFailure)
	m.Lockout("account")
	m.LimitRejection(LimitSignIn)
	m.WriteBatch(3, 2*time.Millisecond)
	m.Retry("40001")
	m.WatchWriteQueue(func() int { return 7 })
	m.WatchPool("sqlite_read", func() PoolStats {
		return PoolStats{Waits: 4, WaitDuration: 1500 * time.Millisecond, InUse: 1, Idle: 3, Max: 4}
	})
	m.WatchActivity(fakeActivity{}, func() int64 { return 5 })
	m.WatchEvents(func(context.Context) (int64, error) { return 2, nil })
	m.WebhookAttempt(WebhookFailed, 0)
	m.WebhookAttempt(WebhookDelivered, 3*time.Millisecond)

	got := scrape(t, m, "scimd_")
	// Histogram buckets are checked by one line each, not all of them.
	var lines []string
	for _, l := range got {
		if strings.Contains(l, "_bucket{") && !strings.Contains(l, `le="0.005"`) && !strings.Contains(l, `le="+Inf"`) && !strings.Contains(l, `le="4"`) {
			continue
		}
		if strings.HasPrefix(l, "scimd_build_info") {
			continue // its labels depend on the build
		}
		lines = append(lines, l)
	}
	want := []string{
		`scimd_activity_dropped_total{reason="queue_full"} 2`,
		`scimd_activity_dropped_total{reason="unauthenticated_sampled"} 5`,
		`scimd_activity_dropped_total{reason="write_failed"} 1`,
		`scimd_activity_queue_length 3`,
		`scimd_activity_written_total 10`,
		`scimd_auth_failures_total{reason="wrong_secret"} 1`,
		`scimd_console_lockouts_total{scope="account"} 1`,
		`scimd_console_signins_total{console="tenant",result="failure"} 1`,
		`scimd_events_pending 2`,
		`scimd_limit_rejections_total{limit="concurrency"} 0`,
		`scimd_limit_rejections_total{limit="rate"} 0`,
		`scimd_limit_rejections_total{limit="signin"} 1`,
		`scimd_scim_request_duration_seconds_bucket{client="Okta",method="GET",resource="User",status_class="2xx",le="0.005"} 1`,
		`scimd_scim_request_duration_seconds_bucket{client="Okta",method="GET",resource="User",status_class="2xx",le="+Inf"} 2`,
		`scimd_scim_request_duration_seconds_sum{client="Okta",method="GET",resource="User",status_class="2xx"} 0.023`,
		`scimd_scim_request_duration_seconds_count{client="Okta",method="GET",resource="User",status_class="2xx"} 2`,
		`scimd_scim_request_duration_seconds_bucket{client="other",method="other",resource="other",status_class="4xx",le="0.005"} 1`,
		`scimd_scim_request_duration_seconds_bucket{client="other",method="other",resource="other",status_class="4xx",le="+Inf"} 1`,
		`scimd_scim_request_duration_seconds_sum{client="other",method="other",resource="other",status_class="4xx"} 0.001`,
		`scimd_scim_request_duration_seconds_count{client="other",method="other",resource="other",status_class="4xx"} 1`,
		`scimd_scim_requests_total{client="Okta",method="GET",resource="User",status_class="2xx"} 2`,
		`scimd_scim_requests_total{client="other",method="other",resource="other",status_class="4xx"} 1`,
		`scimd_store_commit_duration_seconds_bucket{le="0.005"} 1`,
		`scimd_store_commit_duration_seconds_bucket{le="+Inf"} 1`,
		`scimd_store_commit_duration_seconds_sum 0.002`,
		`scimd_store_commit_duration_seconds_count 1`,
		`scimd_store_pool_connections{pool="sqlite_read",state="idle"} 3`,
		`scimd_store_pool_connections{pool="sqlite_read",state="in_use"} 1`,
		`scimd_store_pool_max_connections{pool="sqlite_read"} 4`,
		`scimd_store_pool_wait_seconds_total{pool="sqlite_read"} 1.5`,
		`scimd_store_pool_waits_total{pool="sqlite_read"} 4`,
		`scimd_store_retries_total{sqlstate="40001"} 1`,
		`scimd_store_write_batch_size_bucket{le="4"} 1`,
		`scimd_store_write_batch_size_bucket{le="+Inf"} 1`,
		`scimd_store_write_batch_size_sum 3`,
		`scimd_store_write_batch_size_count 1`,
		`scimd_store_write_queue_depth 7`,
		`scimd_webhook_attempts_total{outcome="delivered"} 1`,
		`scimd_webhook_attempts_total{outcome="failed"} 1`,
		`scimd_webhook_attempts_total{outcome="refused"} 0`,
		`scimd_webhook_delivery_lag_seconds_bucket{le="0.005"} 1`,
		`scimd_webhook_delivery_lag_seconds_bucket{le="+Inf"} 1`,
		`scimd_webhook_delivery_lag_seconds_sum 0.003`,
		`scimd_webhook_delivery_lag_seconds_count 1`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("exposition (-want +got):\n%s", diff)
	}
	if bi := scrape(t, m, "scimd_build_info"); len(bi) != 1 || !strings.HasSuffix(bi[0], "} 1") {
		t.Errorf("scimd_build_info: %q", bi)
	}
	if g := scrape(t, m, "go_goroutines "); len(g) != 1 {
		t.Errorf("the Go runtime collector is missing: %q", g)
	}
	if p := scrape(t, m, "process_start_time_seconds "); len(p) != 1 {
		t.Errorf("the process collector is missing: %q", p)
	}
}

// TestNilMetrics: a nil *Metrics records nothing and does not panic.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.SCIMRequest("GET", "User", "", 200, time.Second)
	m.AuthFailure("missing")
	m.LimitRejection(LimitRate)
	m.SignIn("tenant", SignInSuccess)
	m.Lockout("address")
	m.WriteBatch(1, time.Second)
	m.Retry("40P01")
	m.WatchWriteQueue(func() int { return 0 })
	m.WatchPool("x", func() PoolStats { return PoolStats{} })
	m.WatchActivity(fakeActivity{}, func() int64 { return 0 })
}

// TestRegistriesAreIndependent: two Metrics in two registries do not see
// each other's counts, and neither uses the default registry.
func TestRegistriesAreIndependent(t *testing.T) {
	a, b := New(prometheus.NewRegistry()), New(prometheus.NewRegistry())
	a.AuthFailure("missing")
	if got := scrape(t, a, "scimd_auth_failures_total"); len(got) != 1 {
		t.Errorf("a: %q", got)
	}
	if got := scrape(t, b, "scimd_auth_failures_total"); len(got) != 0 {
		t.Errorf("b sees a's count: %q", got)
	}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "scimd_") {
			t.Errorf("the default registry has %s", mf.GetName())
		}
	}
}
