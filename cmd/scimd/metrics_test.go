package main

import (
	"io"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var adminLine = regexp.MustCompile(`scimd admin listening on (http://\S+)`)

// adminAddr is the admin listener's URL that serve printed.
func adminAddr(t *testing.T, stdout *syncBuffer) string {
	t.Helper()
	m := adminLine.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve did not print the admin listener's address:\n%s", stdout)
	}
	return m[1]
}

func get(t *testing.T, url string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestMetricsEndpoint runs serve with an admin listener, sends a known
// sequence of SCIM requests and checks the metrics scraped from /metrics:
// the families exported, and the value of every request, authentication
// and activity series.
func TestMetricsEndpoint(t *testing.T) {
	env := newEnv(t)
	key := newTenant(t, env, "acme")
	addr, stdout := startServe(t, env, "--admin-listen", "127.0.0.1:0")
	admin := adminAddr(t, stdout)
	base := addr + "/t/acme/scim/v2"
	const okta, entra = "Okta SCIM Client 1.0.0", "Azure AD SCIM Client"
	for _, rq := range []struct {
		method, url, authz, ua, body string
		want                         int
	}{
		{"GET", base + "/Users?startIndex=1&count=1", "Basic " + key.Basic, okta, "", 200},
		{"POST", base + "/Users", "Basic " + key.Basic, okta, userBody("ada@example.com"), 201},
		{"POST", base + "/Users", "Basic " + key.Basic, okta, userBody("ADA@example.com"), 409},
		{"PATCH", base + "/Groups/nope", "Basic " + key.Basic, okta, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"displayName","value":"x"}]}`, 404},
		{"GET", base + "/Users", "", entra, "", 401},                                   // missing
		{"GET", base + "/Users", "Bearer " + key.APIKey + "x", entra, "", 401},         // malformed
		{"GET", addr + "/t/nobody/scim/v2/Users", "Basic " + key.Basic, okta, "", 401}, // unknown tenant
		{"GET", base + "/ServiceProviderConfig", "Basic " + key.Basic, "", "", 200},
		{"GET", addr + "/healthz", "", "", "", 200}, // not SCIM: not counted
	} {
		req, err := http.NewRequest(rq.method, rq.url, strings.NewReader(rq.body))
		if err != nil {
			t.Fatal(err)
		}
		if rq.authz != "" {
			req.Header.Set("Authorization", rq.authz)
		}
		req.Header.Set("User-Agent", rq.ua)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != rq.want {
			t.Fatalf("%s %s: %d, want %d: %s", rq.method, rq.url, resp.StatusCode, rq.want, b)
		}
	}
	reqs := map[string]int{
		`client="Entra",method="GET",resource="User",status_class="4xx"`:                  2,
		`client="Okta",method="GET",resource="User",status_class="2xx"`:                   1,
		`client="Okta",method="GET",resource="User",status_class="4xx"`:                   1,
		`client="Okta",method="PATCH",resource="Group",status_class="4xx"`:                1,
		`client="Okta",method="POST",resource="User",status_class="2xx"`:                  1,
		`client="Okta",method="POST",resource="User",status_class="4xx"`:                  1,
		`client="other",method="GET",resource="ServiceProviderConfig",status_class="2xx"`: 1,
	}
	var want []string
	for labels, n := range reqs {
		want = append(want, "scimd_scim_requests_total{"+labels+"} "+strconv.Itoa(n),
			"scimd_scim_request_duration_seconds_count{"+labels+"} "+strconv.Itoa(n))
	}
	want = append(want,
		`scimd_activity_dropped_total{reason="queue_full"} 0`,
		`scimd_activity_dropped_total{reason="unauthenticated_sampled"} 1`, // of the two 401s at acme, one is recorded
		`scimd_activity_dropped_total{reason="write_failed"} 0`,
		`scimd_auth_failures_total{reason="malformed"} 1`,
		`scimd_auth_failures_total{reason="missing"} 1`,
		`scimd_auth_failures_total{reason="unknown_tenant"} 1`,
		`scimd_limit_rejections_total{limit="concurrency"} 0`,
		`scimd_limit_rejections_total{limit="rate"} 0`,
		`scimd_limit_rejections_total{limit="signin"} 0`,
		`scimd_store_pool_max_connections{pool="sqlite_auth"} 2`,
		`scimd_store_pool_max_connections{pool="sqlite_read"} `+strconv.Itoa(max(4, runtime.GOMAXPROCS(0))),
	)
	slices.Sort(want)
	checked := regexp.MustCompile(`^scimd_(scim_requests_total|scim_request_duration_seconds_count|activity_dropped_total|auth_failures_total|limit_rejections_total|store_pool_max_connections)[{ ]`)

	// The counts of a request are made after its response: scrape until
	// they are all there.
	var got []string
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for {
		var status int
		status, body = get(t, admin+"/metrics")
		if status != 200 {
			t.Fatalf("/metrics: %d %s", status, body)
		}
		got = got[:0]
		for line := range strings.SplitSeq(body, "\n") {
			if checked.MatchString(line) {
				got = append(got, line)
			}
		}
		slices.Sort(got)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}

	var families []string
	for line := range strings.SplitSeq(body, "\n") {
		if f, ok := strings.CutPrefix(line, "# TYPE scimd_"); ok {
			families = append(families, "scimd_"+f)
		}
	}
	wantFamilies := []string{
		"scimd_activity_dropped_total counter",
		"scimd_activity_queue_length gauge",
		"scimd_activity_written_total counter",
		"scimd_auth_failures_total counter",
		"scimd_build_info gauge",
		"scimd_events_pending gauge",
		"scimd_limit_rejections_total counter",
		"scimd_scim_request_duration_seconds histogram",
		"scimd_scim_requests_total counter",
		"scimd_store_commit_duration_seconds histogram",
		"scimd_store_pool_connections gauge",
		"scimd_store_pool_max_connections gauge",
		"scimd_store_pool_wait_seconds_total counter",
		"scimd_store_pool_waits_total counter",
		"scimd_store_write_batch_size histogram",
		"scimd_store_write_queue_depth gauge",
		"scimd_webhook_attempts_total counter",
		"scimd_webhook_delivery_lag_seconds histogram",
	}
	if diff := cmp.Diff(wantFamilies, families); diff != "" {
		t.Errorf("metric families (-want +got):\n%s", diff)
	}
	for _, f := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_resident_memory_bytes ", "process_open_fds "} {
		if !strings.Contains(body, "\n"+f) {
			t.Errorf("/metrics has no %s", f)
		}
	}
	// The public port serves neither metrics nor pprof.
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		if status, _ := get(t, addr+p); status != 404 {
			t.Errorf("public %s: %d, want 404", p, status)
		}
	}
	// pprof is opt-in.
	if status, _ := get(t, admin+"/debug/pprof/"); status != 404 {
		t.Errorf("admin /debug/pprof/ without --pprof: %d, want 404", status)
	}
}

func TestPprofOptIn(t *testing.T) {
	env := newEnv(t)
	_, stdout := startServe(t, env, "--admin-listen", "127.0.0.1:0", "--pprof")
	admin := adminAddr(t, stdout)
	if !strings.Contains(stdout.String(), "(/metrics, /debug/pprof/)") {
		t.Errorf("serve does not say it serves pprof:\n%s", stdout)
	}
	for _, tc := range []struct{ path, want string }{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/cmdline", ""},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile:"},
		{"/metrics", "scimd_build_info"},
	} {
		status, body := get(t, admin+tc.path)
		if status != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 200 with %q", tc.path, status, tc.want)
		}
	}
	if _, err := runCLI(t, newEnv(t), "serve", "--pprof"); err == nil || !strings.Contains(err.Error(), "--pprof needs --admin-listen") {
		t.Errorf("serve --pprof without --admin-listen: %v", err)
	}
}
