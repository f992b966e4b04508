package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits that protect the parser (and the recursive consumers of its trees)
// from pathological input.
const (
	// MaxLength is the longest filter or path, in bytes, that Parse and
	// ParsePath accept.
	MaxLength = 8192
	// MaxDepth is the deepest nesting of parentheses, "not (...)" and value
	// filters that Parse and ParsePath accept.
	MaxDepth = 64
)

// Error is a syntax error in a filter or attribute path. Msg is safe to show
// to API clients: it says what is wrong and at which byte offset of the
// input (counted from 0).
type Error struct {
	Msg string
}

// Error returns e.Msg.
func (e *Error) Error() string { return e.Msg }

var (
	_ Expr = (*Compare)(nil)
	_ Expr = (*Present)(nil)
	_ Expr = (*ValuePath)(nil)
	_ Expr = (*And)(nil)
	_ Expr = (*Or)(nil)
	_ Expr = (*Not)(nil)
)

// Parse parses a filter expression (the value of ?filter=).
func Parse(s string) (Expr, error) {
	if err := checkInput(s, "filter"); err != nil {
		return nil, err
	}
	p := &parser{s: s, kind: "filter"}
	e, err := p.parseOr(false)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ')':
			return nil, p.fail(p.pos, `unexpected ")" without a matching "("`)
		case ']':
			return nil, p.fail(p.pos, `unexpected "]" without a matching "["`)
		}
		return nil, p.fail(p.pos, fmt.Sprintf(`expected "and", "or" or end of filter, found %s`, p.found(p.pos)))
	}
	return e, nil
}

// ParsePath parses a PATCH path / attribute reference: attrPath, attrPath.sub,
// urn:...:attr(.sub), attr[valFilter], attr[valFilter].sub. Used also for
// sortBy and attributes= lists (no filter there, callers check).
func ParsePath(s string) (Path, error) {
	if err := checkInput(s, "path"); err != nil {
		return Path{}, err
	}
	p := &parser{s: s, kind: "path"}
	p.skipSpace()
	path, err := p.parseAttrPath(false)
	if err != nil {
		return Path{}, err
	}
	if p.pos < len(p.s) && p.s[p.pos] == '[' {
		f, err := p.parseValueFilter(path)
		if err != nil {
			return Path{}, err
		}
		path.Filter = f
		if p.pos < len(p.s) && p.s[p.pos] == '.' {
			p.pos++
			sub, err := p.parseSubName()
			if err != nil {
				return Path{}, err
			}
			path.Sub = sub
		}
	}
	p.skipSpace()
	if p.pos < len(p.s) {
		return Path{}, p.fail(p.pos, fmt.Sprintf("unexpected %s after the attribute path", p.found(p.pos)))
	}
	return path, nil
}

func checkInput(s, kind string) error {
	if len(s) > MaxLength {
		return &Error{Msg: fmt.Sprintf("%s is too long: %d bytes, the limit is %d", kind, len(s), MaxLength)}
	}
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return &Error{Msg: fmt.Sprintf("invalid UTF-8 in %s at offset %d", kind, i)}
			}
			i += n
		}
	}
	if strings.Trim(s, " \t\r\n") == "" {
		return &Error{Msg: kind + " is empty"}
	}
	return nil
}

type parser struct {
	s     string
	pos   int
	depth int // current nesting of "(", "not (" and "["
	peak  int // deepest nesting reached since the last value filter began
	kind  string
}

// fail returns an *Error whose message ends with the offset pos.
func (p *parser) fail(pos int, msg string) *Error {
	if pos >= len(p.s) {
		return &Error{Msg: fmt.Sprintf("%s at offset %d (end of %s)", msg, pos, p.kind)}
	}
	return &Error{Msg: fmt.Sprintf("%s at offset %d", msg, pos)}
}

// butFound returns ", found X" describing the input at pos for error
// messages, or "" at the end of input (fail already says so).
func (p *parser) butFound(pos int) string {
	if pos >= len(p.s) {
		return ""
	}
	return ", found " + p.found(pos)
}

// found describes the input at pos for error messages.
func (p *parser) found(pos int) string {
	if pos >= len(p.s) {
		return "end of " + p.kind
	}
	if isSpace(p.s[pos]) {
		return "white space"
	}
	end := pos + 1
	if !isDelim(p.s[pos]) {
		end = p.wordEnd(pos)
	}
	return quoteShort(p.s[pos:end])
}

// quoteShort quotes s for an error message, truncating long text.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isDelim reports whether c ends a word: white space, brackets and quotes.
func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '(', ')', '[', ']', '"':
		return true
	}
	return false
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

// wordEnd returns the end of the word starting at i.
func (p *parser) wordEnd(i int) int {
	for i < len(p.s) && !isDelim(p.s[i]) {
		i++
	}
	return i
}

// word returns the word at p.pos without consuming it.
func (p *parser) word() string { return p.s[p.pos:p.wordEnd(p.pos)] }

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > p.peak {
		p.peak = p.depth
	}
	if p.depth > MaxDepth {
		return p.fail(pos, fmt.Sprintf("%s is nested too deeply (the limit is %d levels)", p.kind, MaxDepth))
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseOr parses "and-expr *(or and-expr)". inner reports whether we are
// inside a value filter, where paths are relative.
func (p *parser) parseOr(inner bool) (Expr, error) {
	left, err := p.parseAnd(inner)
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !strings.EqualFold(p.word(), "or") {
			p.pos = save
			return left, nil
		}
		p.pos += 2
		right, err := p.parseAnd(inner)
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
}

func (p *parser) parseAnd(inner bool) (Expr, error) {
	left, err := p.parseUnary(inner)
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !strings.EqualFold(p.word(), "and") {
			p.pos = save
			return left, nil
		}
		p.pos += 3
		right, err := p.parseUnary(inner)
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
}

// parseGroup parses "(" or-expr ")" with p.pos at the "(".
func (p *parser) parseGroup(inner bool, open int) (Expr, error) {
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.pos++
	e, err := p.parseOr(inner)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos >= len(p.s) || p.s[p.pos] != ')' {
		return nil, &Error{Msg: fmt.Sprintf(`expected ")" to close the "(" at offset %d, found %s at offset %d`, open, p.found(p.pos), p.pos)}
	}
	p.pos++
	p.leave()
	return e, nil
}

func (p *parser) parseUnary(inner bool) (Expr, error) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return nil, p.fail(p.pos, `expected an attribute name, "not" or "("`)
	}
	switch p.s[p.pos] {
	case '(':
		return p.parseGroup(inner, p.pos)
	case ')', ']', '[', '"':
		return nil, p.fail(p.pos, `expected an attribute name, "not" or "("`+p.butFound(p.pos))
	}
	if w := p.word(); strings.EqualFold(w, "not") {
		j := p.pos + len(w)
		for j < len(p.s) && isSpace(p.s[j]) {
			j++
		}
		if j < len(p.s) && p.s[j] == '(' {
			p.pos = j
			x, err := p.parseGroup(inner, j)
			if err != nil {
				return nil, err
			}
			return &Not{X: x}, nil
		}
		// "not" may still be an attribute name, as in `not pr` or
		// `not[type eq "x"]`; otherwise insist on the parentheses that
		// RFC 7644 requires.
		next := p.s[j:p.wordEnd(j)]
		_, isOp := ops[strings.ToLower(next)]
		attr := isOp || strings.EqualFold(next, "pr") || (j == p.pos+len(w) && j < len(p.s) && p.s[j] == '[')
		if !attr {
			return nil, p.fail(j, `expected "(" after "not"`)
		}
	}
	return p.parseAttrExp(inner)
}

var ops = map[string]Op{
	"eq": Eq, "ne": Ne, "co": Co, "sw": Sw, "ew": Ew,
	"gt": Gt, "ge": Ge, "lt": Lt, "le": Le,
}

// parseAttrExp parses "path pr", "path op value", "attr[filter]" and the
// Entra ID form "attr[filter].sub op value".
func (p *parser) parseAttrExp(inner bool) (Expr, error) {
	start := p.pos
	path, err := p.parseAttrPath(inner)
	if err != nil {
		return nil, err
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '[' {
		return p.parseOperator(path, p.s[start:p.pos])
	}
	if inner {
		return nil, p.fail(p.pos, "value filters cannot be nested")
	}
	p.peak = p.depth
	f, err := p.parseValueFilter(path)
	if err != nil {
		return nil, err
	}
	vp := &ValuePath{Path: path, Filter: f}
	if p.pos >= len(p.s) || p.s[p.pos] != '.' {
		return vp, nil
	}
	// emails[type eq "work"].value eq "x" is rewritten to
	// emails[type eq "work" and value eq "x"]. An "or" filter gains a pair
	// of parentheses when rendered; make sure that stays within MaxDepth.
	if _, ok := f.(*Or); ok && p.peak+1 > MaxDepth {
		return nil, p.fail(start, fmt.Sprintf("%s is nested too deeply (the limit is %d levels)", p.kind, MaxDepth))
	}
	p.pos++
	sub, err := p.parseSubName()
	if err != nil {
		return nil, err
	}
	e, err := p.parseOperator(Path{Attr: sub}, p.s[start:p.pos])
	if err != nil {
		return nil, err
	}
	vp.Filter = &And{Left: f, Right: e}
	return vp, nil
}

// parseValueFilter parses "[" valFilter "]" with p.pos at the "[".
func (p *parser) parseValueFilter(path Path) (Expr, error) {
	open := p.pos
	if path.Sub != "" {
		return nil, p.fail(open, fmt.Sprintf(`a value filter must follow the attribute name, not the sub-attribute %q`, path.Sub))
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.pos++
	f, err := p.parseOr(true)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos >= len(p.s) || p.s[p.pos] != ']' {
		return nil, &Error{Msg: fmt.Sprintf(`expected "]" to close the "[" at offset %d, found %s at offset %d`, open, p.found(p.pos), p.pos)}
	}
	p.pos++
	p.leave()
	return f, nil
}

// parseOperator parses "pr" or "op value" after path, whose text is
// pathText.
func (p *parser) parseOperator(path Path, pathText string) (Expr, error) {
	p.skipSpace()
	opPos := p.pos
	w := p.word()
	lw := strings.ToLower(w)
	if lw == "pr" {
		p.pos += len(w)
		return &Present{Path: path}, nil
	}
	op, ok := ops[lw]
	if !ok {
		return nil, p.fail(opPos, fmt.Sprintf("expected a comparison operator after %s", quoteShort(pathText)))
	}
	p.pos += len(w)
	p.skipSpace()
	v, err := p.parseValue(w)
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: v}, nil
}

// parseValue parses compValue: a JSON string, number, true, false or null.
func (p *parser) parseValue(op string) (any, error) {
	start := p.pos
	if start < len(p.s) {
		c := p.s[start]
		switch {
		case c == '"':
			return p.parseString()
		case c == '-' || isDigit(c):
			return p.parseNumber()
		}
		w := p.word()
		switch strings.ToLower(w) {
		case "true":
			p.pos += len(w)
			return true, nil
		case "false":
			p.pos += len(w)
			return false, nil
		case "null":
			p.pos += len(w)
			return nil, nil
		}
	}
	return nil, p.fail(start, fmt.Sprintf(`expected a value (a "string", number, true, false or null) after %q`, op))
}

// parseNumber parses a JSON number at p.pos.
func (p *parser) parseNumber() (any, error) {
	s, start := p.s, p.pos
	i := start
	bad := func() (any, error) {
		end := p.wordEnd(start)
		return nil, p.fail(start, "invalid number "+quoteShort(s[start:end]))
	}
	digits := func() bool {
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i > j
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && isDigit(s[i]):
		digits()
	default:
		return bad()
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return bad()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return bad()
		}
	}
	if i < len(s) && !isDelim(s[i]) {
		return bad()
	}
	p.pos = i
	return Number(s[start:i]), nil
}

// parseString parses a JSON string at p.pos, which is at the opening quote.
func (p *parser) parseString() (any, error) {
	s, start := p.s, p.pos
	i := start + 1
	// Fast path: no escapes.
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i < len(s) && s[i] == '"' {
		p.pos = i + 1
		return s[start+1 : i], nil
	}
	var b strings.Builder
	b.WriteString(s[start+1 : i])
	for {
		if i >= len(s) {
			return nil, p.fail(start, "unterminated string")
		}
		c := s[i]
		switch c {
		case '"':
			p.pos = i + 1
			return b.String(), nil
		case '\\':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		esc := i
		if i+1 >= len(s) {
			return nil, p.fail(start, "unterminated string")
		}
		switch s[i+1] {
		case '"', '\\', '/':
			b.WriteByte(s[i+1])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return nil, p.fail(esc, `invalid \u escape in string: expected 4 hexadecimal digits`)
			}
			i += 6
			switch {
			case 0xD800 <= r && r < 0xDC00:
				lo, ok := rune(0), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					lo, ok = hex4(s, i+2)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return nil, p.fail(esc, fmt.Sprintf(`unpaired surrogate \u%04X in string`, r))
				}
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			case 0xDC00 <= r && r <= 0xDFFF:
				return nil, p.fail(esc, fmt.Sprintf(`unpaired surrogate \u%04X in string`, r))
			}
			b.WriteRune(r)
			continue
		default:
			_, n := utf8.DecodeRuneInString(s[i+1:])
			return nil, p.fail(esc, fmt.Sprintf("invalid escape sequence %s in string", quoteShort(s[i:i+1+n])))
		}
		i += 2
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// parseAttrPath parses [URN ":"] attr ["." sub] at p.pos. Inside a value
// filter (inner) only a bare attribute name is allowed.
func (p *parser) parseAttrPath(inner bool) (Path, error) {
	start := p.pos
	end := start
	for end < len(p.s) && !isDelim(p.s[end]) {
		end++
	}
	word := p.s[start:end]
	if word == "" {
		return Path{}, p.fail(start, "expected an attribute name"+p.butFound(start))
	}
	var path Path
	rest, restPos := word, start
	if len(word) >= 4 && strings.EqualFold(word[:4], "urn:") {
		if inner {
			return Path{}, p.fail(start, "a schema URN is not allowed inside a value filter")
		}
		k := strings.LastIndexByte(word, ':')
		urn := word[:k]
		if strings.Count(urn, ":") < 2 {
			return Path{}, p.fail(start, fmt.Sprintf("invalid schema URN %s: expected urn:<namespace>:<name>:<attribute>", quoteShort(urn)))
		}
		for i := 0; i < len(urn); i++ {
			if !isURNChar(urn[i]) {
				return Path{}, p.fail(start+i, fmt.Sprintf("invalid character %s in schema URN", p.charAt(start+i)))
			}
		}
		path.URN = urn
		rest, restPos = word[k+1:], start+k+1
	}
	attr, sub := rest, ""
	if dot := strings.IndexByte(rest, '.'); dot >= 0 {
		attr, sub = rest[:dot], rest[dot+1:]
		if err := p.checkName(attr, restPos); err != nil {
			return Path{}, err
		}
		if inner {
			return Path{}, p.fail(restPos+dot, "sub-attributes are not allowed inside a value filter")
		}
		subPos := restPos + dot + 1
		if dot2 := strings.IndexByte(sub, '.'); dot2 >= 0 {
			if err := p.checkName(sub[:dot2], subPos); err != nil {
				return Path{}, err
			}
			return Path{}, p.fail(subPos+dot2, "only one level of sub-attribute is allowed")
		}
		if err := p.checkName(sub, subPos); err != nil {
			return Path{}, err
		}
	} else if err := p.checkName(attr, restPos); err != nil {
		return Path{}, err
	}
	path.Attr, path.Sub = attr, sub
	p.pos = end
	return path, nil
}

// parseSubName parses the sub-attribute name after "].".
func (p *parser) parseSubName() (string, error) {
	start := p.pos
	end := p.wordEnd(start)
	name := p.s[start:end]
	if err := p.checkName(name, start); err != nil {
		return "", err
	}
	p.pos = end
	return name, nil
}

// checkName reports whether name, found at offset pos, is an ATTRNAME:
// ALPHA *(ALPHA / DIGIT / "-" / "_"), or "$ref".
func (p *parser) checkName(name string, pos int) error {
	if name == "" {
		if pos > 0 && p.s[pos-1] == '.' {
			return p.fail(pos, `expected an attribute name after "."`)
		}
		return p.fail(pos, "expected an attribute name"+p.butFound(pos))
	}
	if strings.EqualFold(name, "$ref") {
		return nil
	}
	if !isAlpha(name[0]) {
		return p.fail(pos, fmt.Sprintf("attribute name %s must start with a letter", quoteShort(name)))
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return p.fail(pos+i, fmt.Sprintf("invalid character %s in attribute name", p.charAt(pos+i)))
		}
	}
	return nil
}

// charAt quotes the (possibly multi-byte) character at offset i.
func (p *parser) charAt(i int) string {
	_, n := utf8.DecodeRuneInString(p.s[i:])
	return strconv.Quote(p.s[i : i+n])
}

// isURNChar reports whether c may appear in a schema URN (RFC 8141
// characters, except those that delimit filter tokens).
func isURNChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	return strings.IndexByte("-._~!$&'*+,;=:@/%?#", c) >= 0
}
