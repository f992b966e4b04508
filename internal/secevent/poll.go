package secevent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// PollPath is where the RFC 8936 poll endpoint is served.
const PollPath = "/api/v1/sets/poll"

// DefaultMaxWait is how long a long poll waits for SETs at most.
const DefaultMaxWait = 30 * time.Second

// recheck is how often a long poll reads the log again: other instances'
// commits are not heard.
const recheck = 500 * time.Millisecond

// window is how many of a poller's events after its floor a poll looks at:
// the SETs it returns are the first unacknowledged ones among them. A
// poller that never acknowledges its oldest SET keeps being sent it (and
// at most window-1 after it) until it does.
const window = 1000

// Poll is the RFC 8936 poll endpoint: a receiver POSTs what it
// acknowledges and gets the next SETs of the event log. Each credential
// is a poller with its own position, kept in the database: a SET it
// acknowledged (in "ack" or "setErrs") is never sent to it again; one it
// did not is sent again on its next poll.
type Poll struct {
	Events  store.EventStore
	Pollers store.SETStore
	Format  *Format
	Auth    AppKeyAuthenticator
	// Audience is the "aud" of the SETs it serves; "" means
	// Format.Issuer + PollPath.
	Audience string
	// MaxWait bounds a long poll; 0 means DefaultMaxWait.
	MaxWait time.Duration
	// Done, when closed (the server is shutting down), ends long polls.
	Done   <-chan struct{}
	Logger *slog.Logger
}

func (p *Poll) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// pollResponse is the answer of a poll (RFC 8936 §2.5).
type pollResponse struct {
	Sets          map[string]string `json:"sets"`
	MoreAvailable bool              `json:"moreAvailable"`
}

// errExpired: the poller's unacknowledged SETs were deleted by retention.
var errExpired = errors.New("expired")

// ServeHTTP answers a poll.
func (p *Poll) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Err: "invalid_request", Description: "poll with POST (RFC 8936 §2.4)"})
		return
	}
	bearer, ok := bearerOf(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimd"`)
		writeJSON(w, http.StatusUnauthorized, errorBody{Err: "authentication_failed", Description: "send the poll key as Authorization: Bearer KEY"})
		return
	}
	tenants, all, err := p.Auth.AppKeyAuth(r.Context(), bearer)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scimd", error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Err: "authentication_failed", Description: "this key is not a poll key of this scimd"})
			return
		}
		p.internal(w, "authenticating a poll failed", err)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Err: "invalid_request", Description: "a poll request is application/json (RFC 8936 §2.4)"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPollBody+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Err: "invalid_request", Description: "the request body could not be read"})
		return
	}
	if len(body) > MaxPollBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Err: "invalid_request", Description: "a poll request is at most 1 MiB"})
		return
	}
	req, err := ParsePollRequest(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Err: "invalid_request", Description: err.Error()})
		return
	}
	poller := pollerID(bearer)
	for jti, e := range req.SetErrs {
		p.log().Warn("a SET receiver reported an error", "poller", poller, "jti", clip(jti, 64), "err", clip(e.Err, 64), "description", clip(e.Description, 256))
	}
	q := store.EventQuery{Types: Types, Limit: window}
	if !all {
		if len(tenants) == 0 {
			writeJSON(w, http.StatusOK, pollResponse{Sets: map[string]string{}}) // a key of no tenant reads nothing
			return
		}
		q.TenantIDs = tenants
	}
	resp, err := p.poll(r.Context(), poller, q, req)
	switch {
	case errors.Is(err, errExpired):
		writeJSON(w, http.StatusGone, errorBody{Err: "invalid_request", Description: "SETs this poller had not acknowledged are older than the event retention and were deleted: " +
			"resynchronize from SCIM; the next poll continues from the oldest retained event"})
	case r.Context().Err() != nil:
		// The receiver went away during a long poll: no one to answer.
	case err != nil:
		p.internal(w, "answering a poll failed", err)
	default:
		writeJSON(w, http.StatusOK, resp)
	}
}

func (p *Poll) internal(w http.ResponseWriter, msg string, err error) {
	p.log().Error(msg, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Description: "internal error"})
}

// bearerOf returns the credential of an Authorization: Bearer header.
func bearerOf(r *http.Request) (string, bool) {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return "", false
	}
	return cred, true
}

// poll applies req's acknowledgements and returns the poller's next SETs,
// waiting for some (long poll) unless req says not to.
func (p *Poll) poll(ctx context.Context, poller string, q store.EventQuery, req PollRequest) (pollResponse, error) {
	maxWait := p.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	deadline := time.NewTimer(maxWait)
	defer deadline.Stop()
	acks := req.acked()
	for {
		// Taken before reading, so that a commit between the read and the
		// wait is heard.
		notify := p.Events.EventsNotify()
		resp, err := p.once(ctx, poller, q, acks, req.MaxEvents)
		if err != nil || len(resp.Sets) > 0 || req.ReturnImmediately || req.MaxEvents == 0 {
			return resp, err
		}
		acks = nil // applied
		tick := time.NewTimer(recheck)
		select {
		case <-notify:
		case <-tick.C:
		case <-deadline.C:
			tick.Stop()
			return resp, nil
		case <-p.Done:
			tick.Stop()
			return resp, nil
		case <-ctx.Done():
			tick.Stop()
			return resp, ctx.Err()
		}
		tick.Stop()
	}
}

// once is one read of a poll: the poller's window of events, the
// acknowledgements applied (and stored, with the floor moved past what is
// done), and the first max unacknowledged events as SETs.
func (p *Poll) once(ctx context.Context, poller string, q store.EventQuery, acks map[string]bool, max int) (pollResponse, error) {
	st, err := p.Pollers.SETPoller(ctx, poller)
	if err != nil {
		return pollResponse{}, err
	}
	q.After = &st.Floor
	page, err := p.Events.ReadEvents(ctx, q)
	if errors.Is(err, store.ErrEventsExpired) {
		if err := p.Pollers.ResetSETPoller(ctx, poller); err != nil {
			return pollResponse{}, err
		}
		p.log().Warn("a SET poller fell behind the event retention: its unacknowledged SETs were deleted", "poller", poller)
		return pollResponse{}, errExpired
	}
	if err != nil {
		return pollResponse{}, err
	}
	acked := make(map[store.EventPosition]bool, len(st.Acked))
	for _, a := range st.Acked {
		acked[a] = true
	}
	var fresh []store.EventPosition // acknowledged by this request
	for _, e := range page.Events {
		if acks[e.ID] && !acked[e.Position] {
			acked[e.Position] = true
			fresh = append(fresh, e.Position)
		}
	}
	// The floor moves past the acknowledged events at the window's start
	// (and past events that are not the poller's, when all are).
	floor, all := st.Floor, true
	for _, e := range page.Events {
		if !acked[e.Position] {
			all = false
			break
		}
		floor = e.Position
	}
	if all && page.Next != nil && floor.Less(*page.Next) {
		floor = *page.Next
	}
	resp := pollResponse{Sets: map[string]string{}}
	for _, e := range page.Events {
		if acked[e.Position] {
			continue
		}
		if len(resp.Sets) == max {
			resp.MoreAvailable = true
			continue
		}
		tok, _, err := p.Format.Encode(ctx, e, p.audience())
		if errors.Is(err, ErrNoSET) {
			// Not one of Types (the query filters them): nothing to send,
			// and nothing the poller must acknowledge.
			acked[e.Position] = true
			fresh = append(fresh, e.Position)
			continue
		}
		if err != nil {
			return pollResponse{}, err
		}
		resp.Sets[e.ID] = string(tok)
	}
	if len(fresh) > 0 || floor != st.Floor {
		// The store keeps those after the floor, and forgets the older.
		if err := p.Pollers.AckSETs(ctx, poller, floor, fresh); err != nil {
			return pollResponse{}, err
		}
	}
	if !resp.MoreAvailable && page.Next != nil {
		// Anything after the window?
		after := *page.Next
		q.After, q.Limit = &after, 1
		more, err := p.Events.ReadEvents(ctx, q)
		if err != nil && !errors.Is(err, store.ErrEventsExpired) {
			return pollResponse{}, err
		}
		resp.MoreAvailable = len(more.Events) > 0
	}
	return resp, nil
}

func (p *Poll) audience() string {
	if p.Audience != "" {
		return p.Audience
	}
	return strings.TrimSuffix(p.Format.Issuer, "/") + PollPath
}
