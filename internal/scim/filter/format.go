package filter

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// String renders p in canonical syntax: [URN ":"] Attr ["[" Filter "]"] ["." Sub].
func (p Path) String() string {
	var b strings.Builder
	writePath(&b, p)
	return b.String()
}

// String renders c as "path op value".
func (c *Compare) String() string { return render(c) }

// String renders p as "path pr".
func (p *Present) String() string { return render(p) }

// String renders v as "attr[filter]".
func (v *ValuePath) String() string { return render(v) }

// String renders a as "left and right", parenthesizing operands as needed.
func (a *And) String() string { return render(a) }

// String renders o as "left or right", parenthesizing operands as needed.
func (o *Or) String() string { return render(o) }

// String renders n as "not (x)".
func (n *Not) String() string { return render(n) }

func render(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writePath(b *strings.Builder, p Path) {
	if p.URN != "" {
		b.WriteString(p.URN)
		b.WriteByte(':')
	}
	b.WriteString(p.Attr)
	if p.Filter != nil {
		b.WriteByte('[')
		writeExpr(b, p.Filter)
		b.WriteByte(']')
	}
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
}

// precedence of e when it appears as an operand: or < and < everything else.
func precedence(e Expr) int {
	switch e.(type) {
	case *Or:
		return 1
	case *And:
		return 2
	}
	return 3
}

func writeOperand(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	writeExpr(b, e)
	if paren {
		b.WriteByte(')')
	}
}

func writeExpr(b *strings.Builder, e Expr) {
	switch x := e.(type) {
	case *Compare:
		writePath(b, x.Path)
		b.WriteByte(' ')
		b.WriteString(string(x.Op))
		b.WriteByte(' ')
		writeValue(b, x.Value)
	case *Present:
		writePath(b, x.Path)
		b.WriteString(" pr")
	case *ValuePath:
		writePath(b, x.Path)
		b.WriteByte('[')
		writeExpr(b, x.Filter)
		b.WriteByte(']')
	case *And:
		// Left-associative: a left operand of equal precedence needs no
		// parentheses, a right one does.
		writeOperand(b, x.Left, precedence(x.Left) < 2)
		b.WriteString(" and ")
		writeOperand(b, x.Right, precedence(x.Right) <= 2)
	case *Or:
		writeOperand(b, x.Left, false)
		b.WriteString(" or ")
		writeOperand(b, x.Right, precedence(x.Right) <= 1)
	case *Not:
		b.WriteString("not (")
		writeExpr(b, x.X)
		b.WriteByte(')')
	default:
		// nil or a foreign Expr implementation.
		if e == nil {
			b.WriteString("<nil>")
		} else {
			b.WriteString(e.String())
		}
	}
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeQuoted(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case Number:
		b.WriteString(string(x))
	case json.Number:
		b.WriteString(string(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	default:
		if data, err := json.Marshal(x); err == nil {
			b.Write(data)
		} else {
			b.WriteString("null")
		}
	}
}

const hexDigits = "0123456789abcdef"

// writeQuoted writes s as a JSON string. Only '"', '\\' and control
// characters are escaped; invalid UTF-8 becomes \ufffd.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
}
