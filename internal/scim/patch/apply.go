package patch

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
)

// Apply applies ops in order to attrs, the canonical attributes of a
// resource of type rt (see store.User.Attrs), and returns the new
// attributes. attrs is not modified and the result shares no maps or
// slices with it or with the operations' values. A password set by an
// operation is not put in the result: it is returned separately so the
// caller can hash it (nil when no operation sets one). On error, which is
// an *Error, nothing is returned: no operation takes effect.
func Apply(rt *schema.ResourceType, attrs map[string]any, ops []Operation) (result map[string]any, password *string, err error) {
	out, err := ApplyWith(rt, attrs, ops, Options{})
	if err != nil {
		return nil, nil, err
	}
	return out.Attrs, out.Password, nil
}

// Options are the leniencies a client needs, decided per request.
type Options struct {
	// CreateOnReplace makes a replace whose value filter matches no
	// element create one, as add does, instead of failing with noTarget
	// (RFC 7644 §3.5.2.3). Entra ID sends Replace of
	// addresses[type eq "work"].formatted to users without a work address
	// and expects it created; test case "entra/replace work address
	// formatted and add department".
	CreateOnReplace bool
}

// Outcome is what ApplyWith returns.
type Outcome struct {
	Attrs    map[string]any // the new attributes
	Password *string        // the password the operations set, or nil
	// Lenient says, one line each, where a leniency of the Options was
	// needed (so that the activity log can say so).
	Lenient []string
}

// ApplyWith is Apply with the leniencies opts allows.
func ApplyWith(rt *schema.ResourceType, attrs map[string]any, ops []Operation, opts Options) (Outcome, error) {
	a := &applier{rt: rt, res: copyMap(attrs), opts: opts}
	for i, op := range ops {
		a.op = op
		if err := a.apply(op); err != nil {
			return Outcome{}, opError(i, op, err)
		}
	}
	return Outcome{Attrs: a.res, Password: a.password, Lenient: a.lenient}, nil
}

// opError prefixes err's message with the operation it comes from.
func opError(i int, op Operation, err *Error) *Error {
	what := strings.ToLower(op.Op)
	if p := strings.TrimSpace(op.Path); p != "" {
		what += " " + short(p)
	}
	return errorf(err.ScimType, "operation %d (%s): %s", i+1, what, err.Msg)
}

// applier holds the state of one Apply call: res is Apply's private copy
// of the attributes, changed in place.
type applier struct {
	rt       *schema.ResourceType
	res      map[string]any
	password *string
	opts     Options
	op       Operation // the operation being applied
	lenient  []string
}

// noMatch decides what a kind of operation does when its value filter
// matches no element: add creates one; replace fails with noTarget (RFC
// 7644 §3.5.2.3), unless the request's client needs it created (see
// Options.CreateOnReplace), which is noted.
func (a *applier) noMatch(kind string, t *target) *Error {
	if kind != opReplace {
		return nil
	}
	if !a.opts.CreateOnReplace {
		return errorf(scim.NoTarget, "no value of %q matches the path, and replace changes only values that exist (use add to create one)", t.attr.Name)
	}
	path := a.op.Path
	if path == "" {
		path = t.name() + " (in a value without a path)"
	}
	a.lenient = append(a.lenient, fmt.Sprintf("replace of %s matched no value of %s; created one, as the client expects", short(path), t.attr.Name))
	return nil
}

// target is a resolved path.
type target struct {
	schema *schema.Schema    // the schema attr belongs to
	attr   *schema.Attribute // the top-level attribute
	filter filter.Expr       // the value filter, or nil
	sub    *schema.Attribute // the sub-attribute, or nil
}

// name is the target's canonical name for messages, e.g. "emails.value".
func (t *target) name() string {
	if t.sub != nil {
		return t.attr.Name + "." + t.sub.Name
	}
	return t.attr.Name
}

func (a *applier) apply(op Operation) *Error {
	kind := strings.ToLower(op.Op)
	switch kind {
	case opAdd, opRemove, opReplace:
	default:
		return errorf(scim.InvalidSyntax, `op %s is not supported: use "add", "remove" or "replace"`, quote(op.Op))
	}
	path := strings.TrimSpace(op.Path)
	if path == "" {
		if kind == opRemove {
			return errorf(scim.NoTarget, "remove needs a path")
		}
		obj, ok := op.Value.(map[string]any)
		if !ok {
			return errorf(scim.InvalidValue, "%s without a path needs an object value, got %s", kind, describe(op.Value))
		}
		return a.applyObject(kind, nil, obj)
	}
	if s := a.schemaNamed(path); s != nil {
		return a.applySchema(kind, s, op.Value)
	}
	t, err := a.resolve(path, "")
	if err != nil {
		return err
	}
	return a.applyTarget(kind, t, op.Value, false)
}

// schemaNamed returns the schema of a.rt whose URN is name, or nil.
func (a *applier) schemaNamed(name string) *schema.Schema {
	if strings.EqualFold(name, a.rt.Core.ID) {
		return a.rt.Core
	}
	return a.rt.Extension(name)
}

// applySchema applies an operation whose path, or a key of whose value, is
// a schema URN: the value is an object of that schema's attributes.
func (a *applier) applySchema(kind string, s *schema.Schema, v any) *Error {
	if kind == opRemove || v == nil {
		if s == a.rt.Core {
			return errorf(scim.InvalidPath, "the core schema %s cannot be removed", s.ID)
		}
		delete(a.res, s.ID)
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errorf(scim.InvalidValue, "the value for schema %s must be an object, got %s", s.ID, describe(v))
	}
	return a.applyObject(kind, s, obj)
}

// applyObject applies add or replace of an object of attributes: the value
// of an operation without a path (s nil), or the object under a schema URN.
// Each key is a path relative to s and is applied as its own operation;
// keys are taken in sorted order so the outcome does not depend on map
// order (and "name" comes before "name.givenName").
func (a *applier) applyObject(kind string, s *schema.Schema, obj map[string]any) *Error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := obj[k]
		// Okta and Entra ID echo "schemas" in values (test case "value/ignores
		// id meta schemas groups"), and a strict client library in the
		// value of path = an extension's URN (test case "extension
		// path/ignores schemas"): it names the schemas, it is no attribute.
		if strings.EqualFold(k, "schemas") {
			continue
		}
		urn := ""
		if s != nil {
			urn = s.ID
		} else {
			// An extension object under its URN; test case
			// "value/nested extension object".
			if sc := a.schemaNamed(k); sc != nil {
				if err := a.applySchema(kind, sc, v); err != nil {
					return err
				}
				continue
			}
			// A schema this resource type does not have (another
			// vendor's extension, Entra's ADSCIM group URI, B.6): ignore
			// (R10); test case "value/ignores unknown extension".
			if _, _, known := a.rt.SplitURN(k); !known && isSchemaURI(k) {
				continue
			}
		}
		t, err := a.resolve(k, urn)
		if err != nil {
			return err
		}
		if err := a.applyTarget(kind, t, v, true); err != nil {
			return err
		}
	}
	return nil
}

// isSchemaURI reports whether k is a schema URI rather than an attribute
// name: attribute names never contain ':' or '/'.
func isSchemaURI(k string) bool {
	return len(k) >= 4 && strings.EqualFold(k[:4], "urn:") || strings.Contains(k, "://")
}

// resolve parses path and looks it up in a.rt. urn, when not empty, is the
// schema a relative path (a key of an extension object) belongs to.
func (a *applier) resolve(path, urn string) (*target, *Error) {
	p, err := filter.ParsePath(path)
	if err != nil {
		return nil, errorf(scim.InvalidPath, "invalid path %s: %s", quote(path), err.Error())
	}
	if urn != "" {
		if p.URN != "" {
			return nil, errorf(scim.InvalidPath, "no such attribute %s in schema %s", quote(path), urn)
		}
		p.URN = urn
	}
	s, attr, sub := a.rt.Lookup(p.URN, p.Attr, p.Sub)
	if s == nil {
		return nil, errorf(scim.InvalidPath, "unknown schema %s in %s", quote(p.URN), quote(path))
	}
	if attr == nil && p.URN == "" {
		// An extension attribute without its URN: Entra documents
		// {"op":"Add","path":"manager",...} (B.3); test case
		// "entra/manager documented form".
		for _, ext := range a.rt.Extensions {
			if es, ea, esub := a.rt.Lookup(ext.ID, p.Attr, p.Sub); ea != nil {
				s, attr, sub = es, ea, esub
				break
			}
		}
	}
	if attr == nil {
		return nil, errorf(scim.InvalidPath, "no such attribute %s", quote(path))
	}
	if p.Sub != "" && sub == nil {
		return nil, errorf(scim.InvalidPath, "attribute %q has no sub-attribute %s", attr.Name, quote(p.Sub))
	}
	t := &target{schema: s, attr: attr, filter: p.Filter, sub: sub}
	if p.Filter != nil {
		if !attr.MultiValued || attr.Type != schema.Complex {
			return nil, errorf(scim.InvalidPath, "attribute %q is not multi-valued and complex: a value filter cannot select from it", attr.Name)
		}
		if err := checkFilter(attr, p.Filter); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checkFilter reports an error unless every attribute the value filter e
// names is a sub-attribute of attr, so that a misspelt filter fails instead
// of silently matching nothing.
func checkFilter(attr *schema.Attribute, e filter.Expr) *Error {
	var p filter.Path
	switch x := e.(type) {
	case *filter.And:
		if err := checkFilter(attr, x.Left); err != nil {
			return err
		}
		return checkFilter(attr, x.Right)
	case *filter.Or:
		if err := checkFilter(attr, x.Left); err != nil {
			return err
		}
		return checkFilter(attr, x.Right)
	case *filter.Not:
		return checkFilter(attr, x.X)
	case *filter.Compare:
		p = x.Path
	case *filter.Present:
		p = x.Path
	default:
		return errorf(scim.InvalidPath, "the value filter of %q is too complex", attr.Name)
	}
	if p.URN != "" || p.Sub != "" || p.Filter != nil || attr.Sub(p.Attr) == nil {
		return errorf(scim.InvalidPath, "attribute %q has no sub-attribute %s", attr.Name, quote(p.Attr))
	}
	return nil
}

// applyTarget applies one operation to a resolved target. inValue says the
// target is a key of a value object rather than the operation's path.
func (a *applier) applyTarget(kind string, t *target, v any, inValue bool) *Error {
	if t.attr.Mutability == schema.ReadOnly || t.sub != nil && t.sub.Mutability == schema.ReadOnly {
		if inValue {
			// Okta sends id in group renames (A.6) and Okta PUT-style
			// bodies carry meta and groups (R10): ignore them; test
			// cases "okta/group rename" and "value/ignores id meta
			// schemas groups".
			return nil
		}
		return errorf(scim.Mutability, "attribute %q is read-only", t.name())
	}
	if t.sub != nil && t.sub.Mutability == schema.Immutable {
		return errorf(scim.Mutability, "attribute %q is immutable", t.name())
	}
	if t.schema == a.rt.Core && t.attr.Name == "password" {
		return a.setPassword(kind, v)
	}
	remove := kind == opRemove || v == nil
	cont := a.container(t.schema, !remove)
	if cont == nil {
		return nil // removing from an extension the resource does not have
	}
	var err *Error
	switch {
	case t.attr.MultiValued:
		err = a.applyMulti(kind, t, cont, v)
	case t.sub != nil:
		err = applySub(remove, t, cont, v)
	default:
		err = applySingle(remove, t, cont, v)
	}
	if t.schema != a.rt.Core && len(cont) == 0 {
		delete(a.res, t.schema.ID)
	}
	return err
}

// container returns the map holding the attributes of schema s: the
// resource itself for the core schema, else the extension object, created
// when create is set (else nil when absent).
func (a *applier) container(s *schema.Schema, create bool) map[string]any {
	if s == a.rt.Core {
		return a.res
	}
	m, ok := a.res[s.ID].(map[string]any)
	if !ok && create {
		m = map[string]any{}
		a.res[s.ID] = m
	}
	return m
}

// setPassword records a new password. Removing it is refused: a user
// without a password is a decision for the administrator, not something a
// null in a provisioning PATCH should do silently.
func (a *applier) setPassword(kind string, v any) *Error {
	if kind == opRemove || v == nil {
		return errorf(scim.InvalidValue, "the password cannot be removed, only replaced")
	}
	s, ok := v.(string)
	if !ok {
		return errorf(scim.InvalidValue, "the password must be a string")
	}
	if s == "" {
		return errorf(scim.InvalidValue, "the password must not be empty")
	}
	a.password = &s
	return nil
}

// applySingle applies an operation to a singular attribute as a whole.
func applySingle(remove bool, t *target, cont map[string]any, v any) *Error {
	name := t.attr.Name
	if remove {
		delete(cont, name)
		return nil
	}
	if t.attr.Type != schema.Complex {
		x, err := simpleValue(t.attr, name, unwrapLegacy(v))
		if err != nil {
			return err
		}
		cont[name] = x
		return nil
	}
	m, err := complexValue(t.attr, v)
	if err != nil {
		return err
	}
	if isRef(t.attr) {
		// A reference is replaced whole.
		if m == nil {
			delete(cont, name)
		} else {
			cont[name] = m
		}
		return nil
	}
	// RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged (A.3
	// "Nested objects in a pathless replace merge sub-attributes"); test
	// case "okta/profile update pathless".
	old, _ := cont[name].(map[string]any)
	if old == nil {
		old = map[string]any{}
	}
	for k, x := range m {
		if x == nil {
			delete(old, k)
		} else {
			old[k] = x
		}
	}
	setOrDelete(cont, name, old)
	return nil
}

// unwrapLegacy turns the value form of Entra's legacy customappsso dialect
// for a singular simple attribute, [{"$ref":null,"value":"x"}], into "x"
// (B.3); test case "entra/legacy displayName list". A list is never valid
// for a singular attribute otherwise.
func unwrapLegacy(v any) any {
	if l, ok := v.([]any); ok && len(l) == 1 {
		if m, ok := l[0].(map[string]any); ok {
			if x, ok := m["value"]; ok {
				return x
			}
		}
	}
	return v
}

// applySub applies an operation to a sub-attribute of a singular complex
// attribute (name.givenName, manager.value).
func applySub(remove bool, t *target, cont map[string]any, v any) *Error {
	name, sub := t.attr.Name, t.sub.Name
	old, _ := cont[name].(map[string]any)
	// A reference without a value is no reference: removing or replacing
	// manager.value removes or replaces the whole manager.
	refValue := isRef(t.attr) && sub == "value"
	if remove {
		if refValue {
			delete(cont, name)
		} else if old != nil {
			delete(old, sub)
			setOrDelete(cont, name, old)
		}
		return nil
	}
	x, err := simpleValue(t.sub, t.name(), v)
	if err != nil {
		return err
	}
	switch {
	case refValue && x == "":
		delete(cont, name)
	case refValue:
		cont[name] = map[string]any{"value": x}
	default:
		if old == nil {
			old = map[string]any{}
			cont[name] = old
		}
		old[sub] = x
	}
	return nil
}

// applyMulti applies an operation to a multi-valued attribute, as a whole
// or to the elements a filter selects, or to a sub-attribute of them.
func (a *applier) applyMulti(kind string, t *target, cont map[string]any, v any) *Error {
	name := t.attr.Name
	if v == nil {
		kind = opRemove
	}
	list, _ := cont[name].([]any)
	primary := -1 // index of the element that was last made primary
	if t.filter == nil && t.sub == nil {
		switch {
		case kind == opRemove && v == nil:
			delete(cont, name)
			return nil
		case kind == opRemove:
			// Entra ID default mode, OneLogin and JumpCloud remove
			// members with path "members" and a value listing them
			// (R8, B.6, C.1): remove those, never all; test cases
			// "entra/remove members default mode" and "onelogin/remove
			// members".
			var err *Error
			if list, err = removeListed(t.attr, list, v); err != nil {
				return err
			}
		default:
			elems, err := elements(t.attr, v)
			if err != nil {
				return err
			}
			if kind == opReplace {
				list = nil
			}
			// Elements are found by key (elemKey), so that adding n values
			// costs O(n), not a comparison of every pair.
			index := make(map[string]int, len(list)+len(elems))
			for i, x := range list {
				if k, ok := elemKey(t.attr, x); ok {
					if _, dup := index[k]; !dup {
						index[k] = i
					}
				}
			}
			for _, e := range elems {
				k, ok := elemKey(t.attr, e)
				i, found := index[k]
				if !ok || !found {
					list = append(list, e)
					i = len(list) - 1
					if ok {
						index[k] = i
					}
				}
				if isPrimary(e) {
					primary = i
				}
			}
		}
		setList(cont, name, list, primary)
		return nil
	}

	var matched []int
	caseExact := func(p filter.Path) bool {
		s := t.attr.Sub(p.Attr)
		return s != nil && s.CaseExact
	}
	for i, x := range list {
		if m, ok := x.(map[string]any); ok && (t.filter == nil || filter.Match(t.filter, m, caseExact)) {
			matched = append(matched, i)
		}
	}
	switch {
	case kind == opRemove && t.sub == nil:
		// No match is not an error (RFC 7644 §3.5.2.2 removes what
		// matches); test case "remove/filter matches nothing".
		list = deleteIndexes(list, matched)
	case kind == opRemove:
		// Entra ID clears a work email with remove of
		// emails[type eq "work"].value carrying the old value (B.3): the
		// value is ignored. An element left without its value, or
		// empty, is removed; test case "entra/remove with value clears".
		var emptied []int
		for _, i := range matched {
			m := list[i].(map[string]any)
			delete(m, t.sub.Name)
			if t.sub.Name == "value" || len(m) == 0 {
				emptied = append(emptied, i)
			}
		}
		list = deleteIndexes(list, emptied)
	case t.sub != nil:
		x, err := simpleValue(t.sub, t.name(), v)
		if err != nil {
			return err
		}
		if len(matched) == 0 {
			if err := a.noMatch(kind, t); err != nil {
				return err
			}
			e, err := newElement(t)
			if err != nil {
				return err
			}
			list = append(list, e)
			matched = []int{len(list) - 1}
		}
		for _, i := range matched {
			m := list[i].(map[string]any)
			m[t.sub.Name] = x
			if isPrimary(m) {
				primary = i
			}
		}
	default:
		obj, ok := v.(map[string]any)
		if !ok {
			return errorf(scim.InvalidValue, "the value for selected elements of %q must be an object, got %s", name, describe(v))
		}
		e, err := subValues(t.attr, obj)
		if err != nil {
			return err
		}
		dropNils(e)
		if len(e) == 0 {
			// Nothing to add; replacing by nothing removes.
			if kind == opReplace {
				list = deleteIndexes(list, matched)
			}
			break
		}
		created := len(matched) == 0
		if created {
			if err := a.noMatch(kind, t); err != nil {
				return err
			}
			base, err := newElement(t)
			if err != nil {
				return err
			}
			list = append(list, base)
			matched = []int{len(list) - 1}
		}
		for _, i := range matched {
			m := list[i].(map[string]any)
			if kind == opReplace && !created {
				m = copyMap(e)
				list[i] = m
			} else {
				for k, x := range e {
					m[k] = x
				}
			}
			if _, ok := m["value"]; !ok && isRef(t.attr) {
				return errorf(scim.InvalidValue, "an element of %q needs a %q", name, "value")
			}
			if isPrimary(m) {
				primary = i
			}
		}
	}
	setList(cont, name, list, primary)
	return nil
}

// newElement returns the element an add or replace creates when its filter
// matches nothing: Entra ID provisions a work email with
// {"op":"Add","path":"emails[type eq \"work\"].value",...} on a user that
// has none, expecting it to be created (B.3); test case "entra/add work
// email creates element". This works for filters made of equality
// comparisons joined by "and", whose values the element takes; for other
// filters there is no target (RFC 7644 §3.5.2.3).
func newElement(t *target) (map[string]any, *Error) {
	e := map[string]any{}
	if t.filter == nil || !equalities(t.attr, t.filter, e) {
		return nil, errorf(scim.NoTarget, "no value of %q matches the path", t.attr.Name)
	}
	return e, nil
}

// equalities adds the sub-attribute values x's equality comparisons require
// to e, reporting false when x is not such a filter.
func equalities(attr *schema.Attribute, x filter.Expr, e map[string]any) bool {
	switch x := x.(type) {
	case *filter.And:
		return equalities(attr, x.Left, e) && equalities(attr, x.Right, e)
	case *filter.Compare:
		sub := attr.Sub(x.Path.Attr)
		if x.Op != filter.Eq || sub == nil || x.Value == nil {
			return false
		}
		lit := x.Value
		if n, ok := lit.(filter.Number); ok {
			lit = json.Number(n)
		}
		v, err := simpleValue(sub, sub.Name, lit)
		if err != nil {
			return false
		}
		if old, ok := e[sub.Name]; ok && !equalValue(sub, old, v) {
			return false
		}
		e[sub.Name] = v
		return true
	}
	return false
}

// elements returns the elements an add or replace of a whole multi-valued
// attribute gives: a list, or one element on its own.
func elements(attr *schema.Attribute, v any) ([]any, *Error) {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	out := make([]any, 0, len(items))
	for _, x := range items {
		if x == nil {
			continue
		}
		var e any
		var err *Error
		if attr.Type == schema.Complex {
			obj, ok := x.(map[string]any)
			if !ok {
				return nil, errorf(scim.InvalidValue, "the elements of %q must be objects, got %s", attr.Name, describe(x))
			}
			var m map[string]any
			if m, err = element(attr, obj); m != nil {
				e = m
			}
		} else {
			e, err = simpleValue(attr, attr.Name, x)
		}
		if err != nil {
			return nil, err
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// element normalises one element of a multi-valued complex attribute:
// canonical sub-attribute names, checked types, nulls dropped (Entra sends
// "$ref": null, B.6; test case "entra/add members"). It returns nil for an
// element with nothing left.
func element(attr *schema.Attribute, obj map[string]any) (map[string]any, *Error) {
	m, err := subValues(attr, obj)
	if err != nil {
		return nil, err
	}
	dropNils(m)
	if len(m) == 0 {
		return nil, nil
	}
	if _, ok := m["value"]; !ok && isRef(attr) {
		return nil, errorf(scim.InvalidValue, "an element of %q needs a %q", attr.Name, "value")
	}
	return m, nil
}

// removeListed removes from list the elements v lists (an array or one
// element). A listed element with a "value" selects the elements with that
// value; one without selects the elements having all its sub-attributes.
func removeListed(attr *schema.Attribute, list []any, v any) ([]any, *Error) {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var sels []any
	for _, x := range items {
		var sel any
		var err *Error
		if attr.Type == schema.Complex {
			obj, ok := x.(map[string]any)
			if !ok {
				return nil, errorf(scim.InvalidValue, "the elements of %q to remove must be objects, got %s", attr.Name, describe(x))
			}
			var m map[string]any
			if m, err = element(attr, obj); err == nil && m == nil {
				err = errorf(scim.InvalidValue, "an element of %q to remove must give a sub-attribute to select by", attr.Name)
			}
			if id, ok := m["value"]; ok {
				m = map[string]any{"value": id}
			}
			sel = m
		} else if x != nil {
			sel, err = simpleValue(attr, attr.Name, x)
		}
		if err != nil {
			return nil, err
		}
		if sel != nil {
			sels = append(sels, sel)
		}
	}
	// The selectors are grouped by the sub-attributes they name, and each
	// group's keys are looked up: O(len(list) × groups), not
	// O(len(list) × len(sels)).
	type group struct {
		subs []string // sorted; nil for a simple value
		keys map[string]bool
	}
	var groups []*group
	for _, sel := range sels {
		var subs []string
		if m, ok := sel.(map[string]any); ok {
			subs = slices.Sorted(maps.Keys(m))
		}
		var g *group
		for _, h := range groups {
			if slices.Equal(h.subs, subs) {
				g = h
			}
		}
		if g == nil {
			g = &group{subs: subs, keys: map[string]bool{}}
			groups = append(groups, g)
		}
		if k, ok := selKey(attr, g.subs, sel); ok {
			g.keys[k] = true
		}
	}
	return slices.DeleteFunc(list, func(e any) bool {
		for _, g := range groups {
			if k, ok := selKey(attr, g.subs, e); ok && g.keys[k] {
				return true
			}
		}
		return false
	}), nil
}

// selKey is the key of x restricted to the sub-attributes subs (x itself,
// a simple value, when subs is nil), such that an element selected by a
// selector naming subs has the selector's key; false when x lacks one of
// them or is not of the right kind.
func selKey(attr *schema.Attribute, subs []string, x any) (string, bool) {
	if subs == nil {
		if _, ok := x.(map[string]any); ok {
			return "", false
		}
		return valueKey(attr, x), true
	}
	m, ok := x.(map[string]any)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, k := range subs {
		v, ok := m[k]
		if !ok {
			return "", false
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(valueKey(attr.Sub(k), v)))
		b.WriteByte(';')
	}
	return b.String(), true
}

// selects reports whether sel, an element to remove, selects element e.
func selects(attr *schema.Attribute, sel, e any) bool {
	s, ok := sel.(map[string]any)
	if !ok {
		return equalValue(attr, sel, e)
	}
	m, ok := e.(map[string]any)
	if !ok {
		return false
	}
	for k, x := range s {
		if y, ok := m[k]; !ok || !equalValue(attr.Sub(k), x, y) {
			return false
		}
	}
	return true
}

// setList stores list as attribute name of cont, or removes the attribute
// when the list is empty. When primary is an index, that element keeps
// primary true and all others lose it: "primary" may be true for one value
// only and the value set last wins (RFC 7643 §2.4); test cases
// named "primary/…".
func setList(cont map[string]any, name string, list []any, primary int) {
	if primary >= 0 {
		for i, x := range list {
			if m, ok := x.(map[string]any); ok && i != primary && m["primary"] == true {
				m["primary"] = false
			}
		}
	}
	if len(list) == 0 {
		delete(cont, name)
	} else {
		cont[name] = list
	}
}

func isPrimary(x any) bool {
	m, ok := x.(map[string]any)
	return ok && m["primary"] == true
}

// deleteIndexes returns list without the elements at the ascending
// indexes idx.
func deleteIndexes(list []any, idx []int) []any {
	if len(idx) == 0 {
		return list
	}
	out := list[:0]
	for i, x := range list {
		if len(idx) > 0 && idx[0] == i {
			idx = idx[1:]
			continue
		}
		out = append(out, x)
	}
	clear(list[len(out):])
	return out
}

func setOrDelete(cont map[string]any, name string, m map[string]any) {
	if len(m) == 0 {
		delete(cont, name)
	} else {
		cont[name] = m
	}
}

func dropNils(m map[string]any) {
	for k, x := range m {
		if x == nil {
			delete(m, k)
		}
	}
}
