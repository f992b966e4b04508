package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// StatusClientClosedRequest is the status logged (and recorded in the
// activity log) for a request whose client went away before the answer.
const StatusClientClosedRequest = 499

// writeError turns a handler's error into a SCIM error response. Only
// *scim.Error details reach the client; anything unexpected becomes a 500
// "internal error" and its cause goes to the log.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	info := infoFrom(r.Context())
	var se *scim.Error
	var fe *store.FilterError
	var le *store.LimitError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(r.Context().Err(), context.DeadlineExceeded) || errors.Is(err, store.ErrTimeout):
		// The query time limit stopped the request (Config.QueryTimeout,
		// or the database's own statement limit).
		info.log.Warn("request stopped: it took too long", "request_id", info.id, "err", err)
		se = scim.Errorf(http.StatusServiceUnavailable, "", "the request took too long and was stopped; narrow the filter or ask for fewer resources")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away (also when a handler wrapped the store's
		// error as internal): nobody reads the answer, and it is no
		// server error. 499, as proxies log it.
		info.log.Info("request canceled by the client", "request_id", info.id)
		w.WriteHeader(StatusClientClosedRequest)
		return
	case errors.As(err, &se):
	case errors.As(err, &mbe):
		se = tooLarge().(*scim.Error)
	case errors.As(err, &fe):
		se = scim.BadRequest(scim.InvalidFilter, "%s", fe.Msg)
	case errors.As(err, &le):
		se = scim.BadRequest(scim.InvalidValue, "%s", le.Msg)
	case errors.Is(err, store.ErrNotFound):
		se = scim.NotFound("resource not found")
	case errors.Is(err, store.ErrConflict):
		se = scim.Errorf(http.StatusConflict, scim.Uniqueness, "a resource with the same unique attribute already exists")
	default:
		se = scim.Internal(err)
	}
	if se.Status >= 500 {
		info.log.Error("request failed", "request_id", info.id, "status", se.Status, "err", err)
	} else {
		info.log.Debug("request refused", "request_id", info.id, "status", se.Status, "scimType", se.ScimType, "detail", se.Detail)
	}
	noteError(r.Context(), se)
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="scimd", charset="UTF-8"`)
	}
	writeJSON(w, se.Status, se)
}

// writeJSON writes v as application/scim+json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.Header().Set("Content-Type", scim.ContentType)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"schemas":["` + scim.ErrorURN + `"],"status":"500","detail":"internal error"}`))
		slog.Error("encoding response failed", "err", err)
		return
	}
	writeRaw(w, status, buf.Bytes())
}

// writeRaw writes an already encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", scim.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return scim.Errorf(http.StatusMethodNotAllowed, "", "method not allowed here; allowed: %s", allow)
}
