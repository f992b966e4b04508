package filter

// Expr is a node of a parsed filter: one of [*Compare], [*Present],
// [*ValuePath], [*And], [*Or] or [*Not].
type Expr interface {
	expr()
	// String renders the expression in canonical RFC 7644 syntax; parsing
	// the result yields an equal expression.
	String() string
}

// Path names an attribute: an optional schema URN, the attribute name, an
// optional value filter (PATCH paths only, e.g. emails[type eq "work"]) and an
// optional sub-attribute. Names keep the case they were written in; attribute
// names are case-insensitive and consumers compare them with strings.EqualFold.
//
// Examples:
//
//	userName                                  {Attr: "userName"}
//	name.givenName                            {Attr: "name", Sub: "givenName"}
//	urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value
//	    {URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Attr: "manager", Sub: "value"}
//	emails[type eq "work"].value              {Attr: "emails", Filter: <type eq "work">, Sub: "value"}
type Path struct {
	URN    string
	Attr   string
	Filter Expr
	Sub    string
}

// Op is a comparison operator, always lower case.
type Op string

// The comparison operators of RFC 7644 §3.4.2.2.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
)

// Compare is "path op value". Value is a string, bool, nil (JSON null) or a
// Number.
type Compare struct {
	Path  Path
	Op    Op
	Value any
}

// Number is a JSON number literal, kept as written (e.g. "42", "1.5e3").
type Number string

// Present is "path pr".
type Present struct {
	Path Path
}

// ValuePath is "attr[filter]": true when some element of the multi-valued
// attribute Path satisfies Filter, whose paths name sub-attributes of that
// element (their Attr is the sub-attribute name).
//
// The parser also turns the form Entra ID sends, emails[type eq "work"].value eq "x",
// into a ValuePath: {Path: emails, Filter: type eq "work" and value eq "x"}.
type ValuePath struct {
	Path   Path
	Filter Expr
}

// And is "left and right".
type And struct{ Left, Right Expr }

// Or is "left or right".
type Or struct{ Left, Right Expr }

// Not is "not (x)".
type Not struct{ X Expr }

func (*Compare) expr()   {}
func (*Present) expr()   {}
func (*ValuePath) expr() {}
func (*And) expr()       {}
func (*Or) expr()        {}
func (*Not) expr()       {}

// Count returns how many comparisons (attribute presence included) e
// holds, and how many of them compare substrings (co, sw, ew), which no
// index of a store serves in general.
func Count(e Expr) (terms, substrings int) {
	switch e := e.(type) {
	case *Compare:
		if e.Op == Co || e.Op == Sw || e.Op == Ew {
			return 1, 1
		}
		return 1, 0
	case *Present:
		return 1, 0
	case *ValuePath:
		return Count(e.Filter)
	case *And:
		t1, s1 := Count(e.Left)
		t2, s2 := Count(e.Right)
		return t1 + t2, s1 + s2
	case *Or:
		t1, s1 := Count(e.Left)
		t2, s2 := Count(e.Right)
		return t1 + t2, s1 + s2
	case *Not:
		return Count(e.X)
	}
	return 0, 0
}
