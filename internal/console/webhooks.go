package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/webhook"
)

// The operator's Webhooks pages: the endpoints with their state, position
// and backlog, each endpoint's last deliveries, and the buttons "send a
// test event", "retry now", enable and disable. Endpoints are added,
// given new secrets, replayed and removed with `scimd webhooks` (a
// secret is shown once, which a terminal does better than a page).

// webhookRow is an endpoint as the pages show it.
type webhookRow struct {
	webhook.Status
	Position string // the cursor, or "start"
	Behind   string
	Last     *attemptRow // the newest attempt, if any
}

// attemptRow is one delivery attempt as the pages show it.
type attemptRow struct {
	store.WebhookAttempt
	StatusText string // "204", or "no answer"
	LatencyMs  string
	OK         bool
}

func webhookRowOf(st webhook.Status, last []store.WebhookAttempt) webhookRow {
	r := webhookRow{Status: st, Position: st.Cursor, Behind: fmt.Sprint(st.Backlog)}
	if r.Position == "" {
		r.Position = "start"
	}
	if st.BacklogMore {
		r.Behind += "+"
	}
	if len(last) > 0 {
		a := attemptOf(last[0])
		r.Last = &a
	}
	return r
}

func attemptOf(a store.WebhookAttempt) attemptRow {
	r := attemptRow{WebhookAttempt: a, StatusText: fmt.Sprint(a.Status), LatencyMs: fmtLatency(a.Latency), OK: a.Error == ""}
	if a.Status == 0 {
		r.StatusText = "no answer"
	}
	return r
}

func fmtLatency(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// webhooks returns the service, or a page saying webhooks are off.
func (c *Console) webhooks() (*webhook.Service, error) {
	if c.wh == nil {
		return nil, errorf(http.StatusNotFound, "Webhooks are not available with this database backend.")
	}
	return c.wh, nil
}

// webhookErr turns the service's errors into pages: an unknown endpoint
// is 404, an operator's mistake 400, anything else a 500.
func webhookErr(err error) error {
	var we *webhook.Error
	switch {
	case errors.Is(err, webhook.ErrUnknown):
		return errorf(http.StatusNotFound, "There is no such webhook endpoint.")
	case errors.As(err, &we):
		return errorf(http.StatusBadRequest, "%s", we.Msg)
	}
	return err
}

func (c *Console) opWebhooks(w http.ResponseWriter, r *http.Request, q *req) error {
	wh, err := c.webhooks()
	if err != nil {
		return err
	}
	sts, err := wh.List(r.Context())
	if err != nil {
		return err
	}
	rows := make([]webhookRow, 0, len(sts))
	for _, st := range sts {
		last, err := wh.Attempts(r.Context(), st.ID, 1)
		if err != nil {
			return webhookErr(err)
		}
		rows = append(rows, webhookRowOf(st, last))
	}
	v := c.view(q, "Webhooks", rows)
	v.Flash = r.URL.Query().Get("flash")
	c.render(w, http.StatusOK, "opwebhooks", v)
	return nil
}

type opWebhookData struct {
	W        webhookRow
	Attempts []attemptRow
}

func (c *Console) opWebhook(w http.ResponseWriter, r *http.Request, q *req) error {
	wh, err := c.webhooks()
	if err != nil {
		return err
	}
	st, err := wh.StatusOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return webhookErr(err)
	}
	as, err := wh.Attempts(r.Context(), st.ID, store.MaxWebhookAttempts)
	if err != nil {
		return webhookErr(err)
	}
	d := opWebhookData{W: webhookRowOf(st, as)}
	for _, a := range as {
		d.Attempts = append(d.Attempts, attemptOf(a))
	}
	v := c.view(q, "Webhook "+st.ID, d)
	v.Flash = r.URL.Query().Get("flash")
	c.render(w, http.StatusOK, "opwebhook", v)
	return nil
}

// webhookAction runs an action on the endpoint of the request's path and
// shows its page with a message.
func (c *Console) webhookAction(w http.ResponseWriter, r *http.Request, q *req, do func(wh *webhook.Service, id string) (string, error)) error {
	wh, err := c.webhooks()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	msg, err := do(wh, id)
	if err != nil {
		return webhookErr(err)
	}
	return redirect(w, r, q, "/webhooks/"+id+"?flash="+url.QueryEscape(msg))
}

func (c *Console) opWebhookTest(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.webhookAction(w, r, q, func(wh *webhook.Service, id string) (string, error) {
		res, err := wh.SendTest(r.Context(), id, store.ActorFrom(r.Context()))
		if err != nil {
			return "", err
		}
		c.log.Info("console: webhook test event sent", "endpoint", id, "status", res.Status, "operator", q.op.Email)
		if res.Error != "" {
			return fmt.Sprintf("Test event %s failed after %s: %s", res.EventID, fmtLatency(res.Latency), res.Error), nil
		}
		return fmt.Sprintf("Test event %s delivered: HTTP %d in %s.", res.EventID, res.Status, fmtLatency(res.Latency)), nil
	})
}

func (c *Console) opWebhookRetry(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.webhookAction(w, r, q, func(wh *webhook.Service, id string) (string, error) {
		if _, err := wh.RetryNow(r.Context(), id); err != nil {
			return "", err
		}
		c.log.Info("console: webhook retried now", "endpoint", id, "operator", q.op.Email)
		return "The next delivery is attempted now.", nil
	})
}

func (c *Console) opWebhookEnable(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.webhookAction(w, r, q, func(wh *webhook.Service, id string) (string, error) {
		_, note, err := wh.Enable(r.Context(), id)
		if err != nil {
			return "", err
		}
		c.log.Info("console: webhook enabled", "endpoint", id, "operator", q.op.Email)
		return strings.TrimSpace("Endpoint enabled. " + note), nil
	})
}

func (c *Console) opWebhookDisable(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.webhookAction(w, r, q, func(wh *webhook.Service, id string) (string, error) {
		if _, err := wh.Disable(r.Context(), id); err != nil {
			return "", err
		}
		c.log.Info("console: webhook disabled", "endpoint", id, "operator", q.op.Email)
		return "Endpoint disabled.", nil
	})
}
