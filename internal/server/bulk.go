package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/scimd/scimd/internal/scim"
)

// Bulk limits, advertised in /ServiceProviderConfig.
const (
	bulkMaxOperations = 1000
	bulkMaxPayload    = MaxBodyBytes
)

// Bulk message URNs (RFC 7644 §3.7).
const (
	bulkRequestURN  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseURN = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

type bulkOp struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId,omitempty"`
	Version string          `json:"version,omitempty"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulk serves POST /Bulk (RFC 7644 §3.7). Each operation runs through the
// same handlers as a request of its own, in order; "bulkId:x" in a path or
// anywhere in data stands for the id of the resource that the operation
// with bulkId x created, so a user created in a request can be added to a
// group in the same request. An operation whose reference is not created
// yet waits until it is; references that never resolve (unknown, failed or
// circular) fail with 409.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return methodNotAllowed(w, "POST")
	}
	raw, err := readAll(r)
	if err != nil {
		return err
	}
	if _, err := decodeObject(raw); err != nil {
		return err
	}
	var req struct {
		Schemas      []string `json:"schemas"`
		FailOnErrors *int     `json:"failOnErrors"`
		Operations   []bulkOp `json:"Operations"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return scim.BadRequest(scim.InvalidSyntax, "invalid BulkRequest: %v", err)
	}
	if len(req.Schemas) > 0 && !containsFold(req.Schemas, bulkRequestURN) {
		return scim.BadRequest(scim.InvalidSyntax, "schemas must contain %q", bulkRequestURN)
	}
	if len(req.Operations) == 0 {
		return scim.BadRequest(scim.InvalidValue, "a BulkRequest needs at least one operation in \"Operations\"")
	}
	if len(req.Operations) > bulkMaxOperations {
		return scim.Errorf(http.StatusRequestEntityTooLarge, scim.TooMany, "the request has %d operations; the maximum is %d", len(req.Operations), bulkMaxOperations)
	}
	// A bulkId names one operation: two operations with one bulkId would
	// make every reference to it ambiguous.
	seenIDs := map[string]bool{}
	for _, op := range req.Operations {
		if op.BulkID == "" {
			continue
		}
		if seenIDs[op.BulkID] {
			return scim.BadRequest(scim.InvalidValue, "bulkId %q is used by more than one operation; each must be unique within the request", op.BulkID)
		}
		seenIDs[op.BulkID] = true
	}
	failOn := 0 // 0: process everything
	if req.FailOnErrors != nil {
		if *req.FailOnErrors < 1 {
			return scim.BadRequest(scim.InvalidValue, "failOnErrors must be a positive integer")
		}
		failOn = *req.FailOnErrors
	}
	version, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/scim/"), "/")

	ids := map[string]string{} // bulkId → created id
	failed := map[string]bool{}
	results := make([]*bulkResult, len(req.Operations))
	pending := make([]int, len(req.Operations))
	for i := range pending {
		pending[i] = i
	}
	errorsSeen := 0
	for progress := true; progress && len(pending) > 0 && (failOn == 0 || errorsSeen < failOn); {
		progress = false
		var waiting []int
		for _, i := range pending {
			if failOn > 0 && errorsSeen >= failOn {
				break
			}
			op := req.Operations[i]
			path, data, unresolved := resolveBulkIDs(op, ids)
			if unresolved != "" && !failed[unresolved] {
				waiting = append(waiting, i)
				continue
			}
			progress = true
			res := s.runBulkOp(r, version, op, path, data, unresolved)
			results[i] = res
			if code, _ := strconv.Atoi(res.Status); code >= 400 {
				errorsSeen++
				if op.BulkID != "" {
					failed[op.BulkID] = true
				}
			} else if op.BulkID != "" && strings.EqualFold(op.Method, http.MethodPost) {
				ids[op.BulkID] = res.Location[strings.LastIndexByte(res.Location, '/')+1:]
			}
		}
		pending = waiting
	}
	for _, i := range pending {
		if failOn > 0 && errorsSeen >= failOn {
			break
		}
		// References that never resolved: unknown or circular bulkIds.
		op := req.Operations[i]
		_, _, ref := resolveBulkIDs(op, ids)
		results[i] = bulkError(op, scim.Errorf(http.StatusConflict, "", "bulkId %q is not created by any operation of this request (unknown or circular reference)", ref))
		errorsSeen++
	}
	out := make([]*bulkResult, 0, len(results))
	for _, res := range results {
		if res != nil {
			out = append(out, res)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{bulkResponseURN}, "Operations": out})
	return nil
}

// runBulkOp runs one operation through the SCIM routes.
func (s *Server) runBulkOp(r *http.Request, version string, op bulkOp, path string, data []byte, failedRef string) *bulkResult {
	if failedRef != "" {
		return bulkError(op, scim.Errorf(http.StatusConflict, "", "bulkId %q refers to an operation that failed", failedRef))
	}
	method := strings.ToUpper(op.Method)
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return bulkError(op, scim.BadRequest(scim.InvalidValue, "method must be POST, PUT, PATCH or DELETE, got %q", op.Method))
	}
	path = cleanPath(path) // //Users and /Users/ are /Users, as on their own
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/Bulk") || strings.ContainsAny(path, "?#") {
		return bulkError(op, scim.BadRequest(scim.InvalidValue, "path must be a resource path such as /Users or /Groups/{id}, got %q", op.Path))
	}
	if method == http.MethodPost && strings.Count(path, "/") != 1 {
		return bulkError(op, scim.BadRequest(scim.InvalidValue, "POST path must be a collection such as /Users, got %q", op.Path))
	}
	sub, err := http.NewRequestWithContext(r.Context(), method, "/scim/"+version+path, bytes.NewReader(data))
	if err != nil || sub.URL.Path != "/scim/"+version+path {
		return bulkError(op, scim.BadRequest(scim.InvalidValue, "path %q is not a valid resource path", op.Path))
	}
	sub.RequestURI = sub.URL.RequestURI()
	sub.Header.Set("Content-Type", scim.ContentType)
	sub.Header.Set("User-Agent", r.UserAgent())
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	// Each operation is recorded in the activity log as a request of its
	// own, with its own changes; the /Bulk request is recorded too.
	var act *activity
	if parent, ok := r.Context().Value(activityKey{}).(*activity); ok {
		act = &activity{tenant: parent.tenant, path: "/scim/" + version + path}
		sub = sub.WithContext(context.WithValue(sub.Context(), activityKey{}, act))
		sub = s.pendActivity(sub, act, infoFrom(r.Context()).keyID)
	}
	start := s.now()
	rec := httptest.NewRecorder()
	s.scim.ServeHTTP(rec, sub)
	if rec.Code >= 300 && rec.Code < 400 {
		// The router redirects a path it would clean ("/Users/./x"): no
		// operation answers with a redirect, which a Bulk client cannot
		// follow.
		rec = httptest.NewRecorder()
		writeError(rec, sub, scim.BadRequest(scim.InvalidValue, "path %q is not a valid resource path", op.Path))
	}
	s.endActivity(act, sub, infoFrom(r.Context()), rec.Code, start)
	res := &bulkResult{Method: method, BulkID: op.BulkID, Status: strconv.Itoa(rec.Code), Version: rec.Header().Get("ETag")}
	switch {
	case rec.Code >= 400:
		res.Response = bytes.TrimSpace(rec.Body.Bytes())
	case rec.Header().Get("Location") != "":
		res.Location = rec.Header().Get("Location")
	default:
		res.Location = infoFrom(r.Context()).base + path
	}
	return res
}

func bulkError(op bulkOp, e *scim.Error) *bulkResult {
	body, _ := json.Marshal(e)
	return &bulkResult{Method: strings.ToUpper(op.Method), BulkID: op.BulkID, Status: strconv.Itoa(e.Status), Response: body}
}

// resolveBulkIDs substitutes created ids for "bulkId:x" references in the
// operation's path and data. It returns the first reference it cannot
// resolve yet, if any.
func resolveBulkIDs(op bulkOp, ids map[string]string) (path string, data []byte, unresolved string) {
	path = op.Path
	if i := strings.Index(path, "bulkId:"); i >= 0 {
		ref := path[i+len("bulkId:"):]
		ref, _, _ = strings.Cut(ref, "/")
		id, ok := ids[ref]
		if !ok {
			return "", nil, ref
		}
		path = strings.Replace(path, "bulkId:"+ref, id, 1)
	}
	if len(op.Data) == 0 || !bytes.Contains(op.Data, []byte("bulkId:")) {
		return path, op.Data, ""
	}
	dec := json.NewDecoder(bytes.NewReader(op.Data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return path, op.Data, "" // the handler reports the syntax error
	}
	v = replaceRefs(v, ids, &unresolved)
	if unresolved != "" {
		return "", nil, unresolved
	}
	data, _ = json.Marshal(v)
	return path, data, ""
}

func replaceRefs(v any, ids map[string]string, unresolved *string) any {
	switch x := v.(type) {
	case string:
		if ref, ok := strings.CutPrefix(x, "bulkId:"); ok {
			if id, ok := ids[ref]; ok {
				return id
			}
			if *unresolved == "" {
				*unresolved = ref
			}
		}
	case map[string]any:
		for k, e := range x {
			x[k] = replaceRefs(e, ids, unresolved)
		}
	case []any:
		for i, e := range x {
			x[i] = replaceRefs(e, ids, unresolved)
		}
	}
	return v
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}
