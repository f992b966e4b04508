package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/secevent"
	"github.com/scimd/scimd/internal/store"
)

// worker delivers for one endpoint while this process holds its lease.
type worker struct {
	s    *Service
	id   string
	wake chan struct{}
	// leaseUntil is when the lease this worker last took or renewed
	// expires (unix nanoseconds): no attempt starts that could still run
	// after it.
	leaseUntil atomic.Int64
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run takes the endpoint's lease, delivers while it holds it, and
// releases it.
func (w *worker) run(ctx context.Context) {
	s := w.s
	now := s.cfg.Now()
	if _, err := s.ws.LeaseWebhook(ctx, w.id, s.cfg.Instance, now, now.Add(s.cfg.Lease)); err != nil {
		if !errors.Is(err, store.ErrWebhookLease) && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			s.log.Error("webhooks: taking a lease failed", "endpoint", w.id, "err", err)
		}
		return
	}
	w.leaseUntil.Store(now.Add(s.cfg.Lease).UnixNano())
	s.log.Info("webhooks: delivering for endpoint", "endpoint", w.id, "instance", s.cfg.Instance)
	wctx, cancel := context.WithCancel(ctx)
	var lost atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() { w.renew(wctx, cancel, &lost) })
	w.deliver(wctx)
	cancel()
	wg.Wait()
	if !lost.Load() {
		rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		if err := s.ws.ReleaseWebhook(rctx, w.id, s.cfg.Instance); err != nil {
			s.log.Warn("webhooks: releasing a lease failed; another instance takes over when it expires", "endpoint", w.id, "err", err)
		}
	}
}

// renew renews the lease every Renew until ctx ends; when the lease is
// lost, or has expired without a renewal, it cancels the worker.
func (w *worker) renew(ctx context.Context, cancel func(), lost *atomic.Bool) {
	s := w.s
	t := time.NewTicker(s.cfg.Renew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.cfg.Now()
		_, err := s.ws.LeaseWebhook(ctx, w.id, s.cfg.Instance, now, now.Add(s.cfg.Lease))
		switch {
		case err == nil:
			w.leaseUntil.Store(now.Add(s.cfg.Lease).UnixNano())
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrWebhookLease) || errors.Is(err, store.ErrNotFound):
			if errors.Is(err, store.ErrWebhookLease) {
				s.log.Warn("webhooks: another instance took the endpoint's lease over", "endpoint", w.id)
			}
			lost.Store(true)
			cancel()
			return
		default:
			s.log.Warn("webhooks: renewing a lease failed", "endpoint", w.id, "err", err)
			if now.UnixNano() >= w.leaseUntil.Load() {
				lost.Store(true) // expired: another instance may hold it now
				cancel()
				return
			}
		}
	}
}

// sleep waits for d, a poke, ctx's end, or (when not nil) ch.
func (w *worker) sleep(ctx context.Context, d time.Duration, ch <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-w.wake:
	case <-ch:
	}
}

// after is the EventQuery.After of a position: nil (the oldest retained
// event) for the zero position.
func after(p store.EventPosition) *store.EventPosition {
	if p == (store.EventPosition{}) {
		return nil
	}
	return &p
}

// deliver is the delivery loop: read the endpoint's state, wait for its
// next attempt, read the next events after its position, deliver them in
// order until one fails. Every change of state is written to the
// database, so that a restart or another instance resumes where it
// stopped.
func (w *worker) deliver(ctx context.Context) {
	s := w.s
	for ctx.Err() == nil {
		notify := s.st.EventsNotify() // before reading: no commit is missed
		e, err := s.ws.Webhook(ctx, w.id)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("webhooks: reading an endpoint failed", "endpoint", w.id, "err", err)
			}
			w.sleep(ctx, s.cfg.Poll, nil)
			continue
		}
		if e.State != store.WebhookActive || e.LeaseHolder != s.cfg.Instance {
			return
		}
		if wait := e.NextAttempt.Sub(s.cfg.Now()); wait > 0 {
			w.sleep(ctx, min(wait, s.cfg.Poll), nil)
			continue
		}
		types := e.Types
		if e.Format == store.WebhookSET && types == nil {
			types = secevent.Types // the events that have a token
		}
		page, err := s.st.ReadEvents(ctx, store.EventQuery{After: after(e.Position), TenantIDs: e.TenantIDs, Types: types, Limit: batchSize})
		if errors.Is(err, store.ErrEventsExpired) {
			w.record(ctx, e.Position, nil, store.WebhookProgress{Position: e.Position, LastError: err.Error(), State: store.WebhookFailing,
				StateReason: "events after its position were deleted by the retention period before they were delivered: " +
					"enable it to resume from the oldest retained event, or replay it --since a time"})
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("webhooks: reading the event log failed", "endpoint", w.id, "err", err)
			}
			w.sleep(ctx, s.cfg.Poll, nil)
			continue
		}
		if len(page.Events) == 0 {
			if page.Next != nil && *page.Next != e.Position {
				// Events that are not for the endpoint: move past them.
				w.record(ctx, e.Position, nil, store.WebhookProgress{Position: *page.Next, LastError: e.LastError})
				continue
			}
			w.sleep(ctx, s.cfg.Poll, notify)
			continue
		}
		w.deliverPage(ctx, e, page)
	}
}

// deliverPage delivers a page of events in order, stopping at the first
// that fails (the loop then waits for its retry).
func (w *worker) deliverPage(ctx context.Context, e store.WebhookEndpoint, page store.EventPage) {
	s := w.s
	from := e.Position
	for i, ev := range page.Events {
		if ctx.Err() != nil {
			return
		}
		if time.Unix(0, w.leaseUntil.Load()).Sub(s.cfg.Now()) < s.cfg.Timeout+time.Second/2 {
			// The attempt could outlive the lease: wait for its renewal.
			w.sleep(ctx, s.cfg.Renew/4, nil)
			return
		}
		body, ctype, err := s.encode(ctx, e, ev)
		if errors.Is(err, secevent.ErrNoSET) {
			// No token for this event (a tenant's or a key's): nothing to
			// send, the endpoint moves past it.
			p := store.WebhookProgress{Position: ev.Position, LastSuccess: e.LastSuccess, LastError: e.LastError}
			if !w.record(ctx, from, nil, p) {
				return
			}
			from, e.Position = p.Position, p.Position
			continue
		}
		if err != nil {
			s.log.Error("webhooks: encoding an event failed", "endpoint", e.ID, "event", ev.ID, "err", err)
			return
		}
		attempt := e.Attempts + 1
		res := s.send(ctx, e, ev.ID, body, ctype)
		now := s.cfg.Now()
		a := &store.WebhookAttempt{Time: res.start, EventID: ev.ID, EventType: ev.Type, Attempt: attempt, Status: res.status,
			Latency: res.latency, Error: res.err}
		s.observe(res, now.Sub(ev.Time))
		var p store.WebhookProgress
		if res.refused {
			// The receiver refused the token for good (RFC 8935 §2.4): it
			// will not take it again, and the endpoint goes on.
			p = store.WebhookProgress{Position: ev.Position, LastSuccess: e.LastSuccess, LastError: res.err}
			s.log.Warn("webhooks: the receiver refused a Security Event Token", "endpoint", e.ID, "event", ev.ID, "err", res.err)
		} else if res.ok() {
			p = store.WebhookProgress{Position: ev.Position, LastSuccess: now}
			if i == len(page.Events)-1 && page.Next != nil && ev.Position.Less(*page.Next) {
				p.Position = *page.Next // and past the events skipped after it
			}
		} else {
			if ctx.Err() != nil {
				return // shutting down (or the lease is lost): not the receiver's failure
			}
			p = s.failure(e, ev, res, now, attempt)
		}
		if !w.record(ctx, from, a, p) || !res.ok() && !res.refused {
			return
		}
		from, e.Position = p.Position, p.Position
		e.Attempts, e.FailingSince, e.LastError = 0, time.Time{}, ""
	}
}

// record stores an attempt and the endpoint's progress, even while the
// worker stops (a delivered event must not be sent again for want of a
// write), and reports whether the worker may go on.
func (w *worker) record(ctx context.Context, from store.EventPosition, a *store.WebhookAttempt, p store.WebhookProgress) bool {
	s := w.s
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.ws.RecordWebhook(rctx, w.id, s.cfg.Instance, from, a, p)
	switch {
	case err == nil:
		if p.State != "" {
			s.log.Warn("webhooks: endpoint stopped", "endpoint", w.id, "state", p.State, "reason", p.StateReason)
		}
		return true
	case errors.Is(err, store.ErrWebhookMoved), errors.Is(err, store.ErrWebhookLease), errors.Is(err, store.ErrNotFound):
		return false // replayed, taken over or removed meanwhile: reload
	}
	s.log.Error("webhooks: recording a delivery failed", "endpoint", w.id, "err", err)
	w.sleep(ctx, s.cfg.Poll, nil)
	return false
}

// failure is the endpoint's state after a failed attempt: a retry after
// the schedule's next delay, or, once GiveUpAfter has passed since the
// event's first failure, failing; disabled at once on 410 Gone.
func (s *Service) failure(e store.WebhookEndpoint, ev store.Event, res result, now time.Time, attempt int) store.WebhookProgress {
	since := e.FailingSince
	if since.IsZero() {
		since = res.start // this attempt was the first to fail
	}
	p := store.WebhookProgress{Position: e.Position, Attempts: attempt, FailingSince: since, LastError: res.err}
	switch {
	case res.status == http.StatusGone:
		p.State = store.WebhookDisabled
		p.StateReason = "the receiver answered 410 Gone at " + now.UTC().Format(time.RFC3339) + ": enable the endpoint to deliver to it again"
	case res.start.Sub(since) >= s.cfg.GiveUpAfter: // the final attempt, made when the schedule ended
		p.State = store.WebhookFailing
		p.StateReason = fmt.Sprintf("event %s was not delivered in %s (%d attempts; last: %s): enable or replay the endpoint once it is fixed",
			ev.ID, s.cfg.GiveUpAfter, attempt, res.err)
	default:
		ceiling := s.cfg.Schedule[min(attempt-1, len(s.cfg.Schedule)-1)]
		next := now.Add(s.cfg.Jitter(ceiling))
		if last := since.Add(s.cfg.GiveUpAfter); next.After(last) {
			next = last // the final attempt, when the schedule ends
		}
		p.NextAttempt = next
		s.log.Warn("webhooks: delivery failed", "endpoint", e.ID, "event", ev.ID, "attempt", attempt, "status", res.status,
			"err", res.err, "retry_at", next.UTC().Format(time.RFC3339))
	}
	return p
}

// result is the outcome of one attempt.
type result struct {
	start   time.Time
	status  int // 0 when no answer came
	latency time.Duration
	err     string // "" when delivered
	// refused: a Security Event Token the receiver will never take (a
	// 400 with an RFC 8935 error), which is not retried.
	refused bool
}

func (r result) ok() bool { return r.err == "" }

// observe reports an attempt's outcome to Config.Observe.
func (s *Service) observe(res result, lag time.Duration) {
	if s.cfg.Observe == nil {
		return
	}
	switch {
	case res.refused:
		s.cfg.Observe("refused", 0)
	case res.ok():
		s.cfg.Observe("delivered", lag)
	default:
		s.cfg.Observe("failed", 0)
	}
}

// encode is the body of event ev for endpoint e, and its content type.
func (s *Service) encode(ctx context.Context, e store.WebhookEndpoint, ev store.Event) ([]byte, string, error) {
	if e.Format == store.WebhookSET {
		if s.cfg.SET == nil {
			return nil, "", errors.New("no Security Event Token signing key in this process")
		}
		return s.cfg.SET.Encode(ctx, ev, e.URL)
	}
	body, err := json.Marshal(events.Public(ev))
	return body, "application/json", err
}

// send POSTs one signed message to the endpoint: a Standard Webhooks
// message, or (format set) an RFC 8935 push, which succeeds with 202.
func (s *Service) send(ctx context.Context, e store.WebhookEndpoint, id string, body []byte, contentType string) result {
	res := result{start: s.cfg.Now()}
	u, err := CheckURL(e.URL, s.cfg.AllowInsecure)
	if err != nil {
		res.err = err.Error()
		return res
	}
	secrets, err := s.secrets(ctx, e)
	if err != nil {
		res.err = "signing: " + err.Error()
		return res
	}
	sig, err := Sign(secrets, id, res.start, body)
	if err != nil {
		res.err = "signing: " + err.Error()
		return res
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if u.Scheme == "http" {
		actx = context.WithValue(actx, insecureKey{}, true)
	}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		res.err = err.Error()
		return res
	}
	h := req.Header
	h.Set("Content-Type", contentType)
	h.Set("User-Agent", userAgent)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(res.start.Unix(), 10))
	h.Set(HeaderSignature, sig)
	t0 := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		res.latency = time.Since(t0)
		res.err = s.describe(err)
		return res
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	resp.Body.Close()
	res.latency = time.Since(t0)
	res.status = resp.StatusCode
	switch {
	case e.Format == store.WebhookSET && resp.StatusCode != http.StatusGone:
		if err := secevent.CheckPushResponse(resp.StatusCode, snippet); err != nil {
			res.err = err.Error()
			var pe *secevent.PushError
			res.refused = errors.As(err, &pe) && pe.Permanent
		}
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.err = fmt.Sprintf("HTTP %d: redirect to %q not followed (webhook URLs must answer themselves)", resp.StatusCode, printable(resp.Header.Get("Location")))
	default:
		res.err = "HTTP " + strconv.Itoa(resp.StatusCode)
		if t := printable(string(snippet)); t != "" {
			res.err += ": " + t
		}
	}
	return res
}

// secrets returns the endpoint's signing secrets: the current one, and the
// previous one while it still signs.
func (s *Service) secrets(ctx context.Context, e store.WebhookEndpoint) ([]string, error) {
	cur, err := s.seal.open(ctx, e.ID, e.Secret)
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if len(e.PrevSecret) > 0 && s.cfg.Now().Before(e.PrevSecretUntil) {
		prev, err := s.seal.open(ctx, e.ID, e.PrevSecret)
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}

// describe is the error text of a request that got no answer.
func (s *Service) describe(err error) string {
	var blocked *BlockedError
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s", s.cfg.Timeout)
	case errors.As(err, &ue):
		return ue.Err.Error()
	}
	return err.Error()
}

// printable is s with control characters replaced, on one line, at most
// maxErrorBody bytes.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorBody {
		s = strings.ToValidUTF8(s[:maxErrorBody], "") + "…"
	}
	return s
}
