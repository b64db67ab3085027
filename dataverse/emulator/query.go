package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file implements the OData query options the emulator understands: $select, $orderby,
// paging with an opaque $skiptoken, and a $filter subset (eq ne gt ge lt le, and or not,
// parentheses, contains/startswith/endswith, string/number/bool/null/GUID literals, and
// DateTimeOffset literals: unquoted ISO 8601 such as 2026-11-30T12:04:31Z, with optional
// fractional seconds and a Z or ±hh:mm offset). String comparisons ignore case, as Dataverse's
// SQL collation does; date and time comparisons compare instants.

type filterExpr interface {
	match(r record) bool
}

type cmpExpr struct {
	col string
	op  string
	lit any // string, float64, bool, time.Time or nil
}

type fnExpr struct {
	fn, col, arg string
}

type boolExpr struct {
	and  bool
	l, r filterExpr
}

type notExpr struct{ e filterExpr }

func (b boolExpr) match(r record) bool {
	if b.and {
		return b.l.match(r) && b.r.match(r)
	}
	return b.l.match(r) || b.r.match(r)
}

func (n notExpr) match(r record) bool { return !n.e.match(r) }

func (f fnExpr) match(r record) bool {
	s, ok := r[f.col].(string)
	if !ok {
		return false
	}
	s, a := strings.ToLower(s), strings.ToLower(f.arg)
	switch f.fn {
	case "contains":
		return strings.Contains(s, a)
	case "startswith":
		return strings.HasPrefix(s, a)
	case "endswith":
		return strings.HasSuffix(s, a)
	}
	return false
}

func (c cmpExpr) match(r record) bool {
	v := r[c.col]
	if c.lit == nil || v == nil {
		switch c.op {
		case "eq":
			return v == nil && c.lit == nil
		case "ne":
			return (v == nil) != (c.lit == nil)
		}
		return false
	}
	var n int
	if t, ok := c.lit.(time.Time); ok {
		s, _ := v.(string)
		rt, ok := parseDateTime(s)
		if !ok {
			return false
		}
		n = rt.Compare(t)
	} else {
		n = compareValues(v, c.lit)
	}
	switch c.op {
	case "eq":
		return n == 0
	case "ne":
		return n != 0
	case "gt":
		return n > 0
	case "ge":
		return n >= 0
	case "lt":
		return n < 0
	case "le":
		return n <= 0
	}
	return false
}

// compareValues orders two non-nil values of the same JSON type; strings ignore case.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(strings.ToLower(x), strings.ToLower(y))
	case float64:
		y, _ := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return 0
}

// compareNullable orders values with null first.
func compareNullable(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return compareValues(a, b)
}

type token struct {
	kind string // "ident", "string", "number", "guid", "datetime", "(", ")", ","
	text string
	pos  int
}

func tokenize(s string) ([]token, *apiError) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, token{kind: string(c), text: string(c), pos: i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, querySyntax(s, i, "unterminated string literal")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{kind: "string", text: b.String(), pos: i})
			i = j + 1
		case looksLikeDateTime(s[i:]):
			j := i
			for j < len(s) && strings.IndexByte("0123456789-:.+TZ", s[j]) >= 0 {
				j++
			}
			w := s[i:j]
			if _, ok := parseDateTime(w); !ok {
				return nil, querySyntax(s, i, "'"+w+"' is not a valid Edm.DateTimeOffset literal; write it like 2026-11-30T12:04:31Z or 2026-11-30T13:04:31.250+01:00")
			}
			toks = append(toks, token{kind: "datetime", text: w, pos: i})
			i = j
		case isWordByte(c) || c == '-':
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '-' || s[j] == '.') {
				j++
			}
			w := s[i:j]
			kind := "ident"
			if _, ok := parseGUID(w); ok {
				kind = "guid"
			} else if _, err := strconv.ParseFloat(w, 64); err == nil {
				kind = "number"
			} else if c == '-' || (c >= '0' && c <= '9') {
				return nil, querySyntax(s, i, "'"+w+"' is not a valid literal")
			}
			toks = append(toks, token{kind: kind, text: w, pos: i})
			i = j
		default:
			return nil, querySyntax(s, i, fmt.Sprintf("unexpected character '%c'", c))
		}
	}
	return toks, nil
}

// looksLikeDateTime reports whether s starts like a date and time: yyyy-mm-ddT.
func looksLikeDateTime(s string) bool {
	if len(s) < 11 || s[4] != '-' || s[7] != '-' || s[10] != 'T' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDateTime reads an OData DateTimeOffset: date, time to the minute or second with
// optional fractional seconds, and Z or a ±hh:mm offset (the offset is required).
func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func querySyntax(q string, pos int, why string) *apiError {
	return badRequest(codeQuerySyntax, "Syntax error at position %d in '%s': %s.", pos, q, why)
}

type filterParser struct {
	src  string
	toks []token
	i    int
	e    *entity
}

// parseFilter parses a $filter expression for entity e.
func parseFilter(e *entity, src string) (filterExpr, *apiError) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &filterParser{src: src, toks: toks, e: e}
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, querySyntax(src, p.toks[p.i].pos, "unexpected '"+p.toks[p.i].text+"'")
	}
	return x, nil
}

func (p *filterParser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *filterParser) keyword(w string) bool {
	if t := p.peek(); t != nil && t.kind == "ident" && t.text == w {
		p.i++
		return true
	}
	return false
}

func (p *filterParser) end() *apiError {
	return querySyntax(p.src, len(p.src), "unexpected end of expression")
}

func (p *filterParser) or() (filterExpr, *apiError) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = boolExpr{and: false, l: l, r: r}
	}
	return l, nil
}

func (p *filterParser) and() (filterExpr, *apiError) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = boolExpr{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *filterParser) unary() (filterExpr, *apiError) {
	if p.keyword("not") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	return p.primary()
}

func (p *filterParser) expect(kind string) (*token, *apiError) {
	t := p.peek()
	if t == nil {
		return nil, p.end()
	}
	if t.kind != kind {
		return nil, querySyntax(p.src, t.pos, fmt.Sprintf("expected '%s', found '%s'", kind, t.text))
	}
	p.i++
	return t, nil
}

func (p *filterParser) primary() (filterExpr, *apiError) {
	t := p.peek()
	if t == nil {
		return nil, p.end()
	}
	if t.kind == "(" {
		p.i++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
		return x, nil
	}
	if t.kind != "ident" {
		return nil, querySyntax(p.src, t.pos, "expected a column name, found '"+t.text+"'")
	}
	p.i++
	switch t.text {
	case "contains", "startswith", "endswith":
		if _, err := p.expect("("); err != nil {
			return nil, err
		}
		colTok, err := p.expect("ident")
		if err != nil {
			return nil, err
		}
		c, err := p.column(colTok)
		if err != nil {
			return nil, err
		}
		if c.typ != tString {
			return nil, badRequest(codeQuerySyntax, "The function '%s' is not supported for column '%s': it needs a text column.", t.text, c.name)
		}
		if _, err := p.expect(","); err != nil {
			return nil, err
		}
		arg, err := p.expect("string")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
		return fnExpr{fn: t.text, col: c.name, arg: arg.text}, nil
	}
	c, err := p.column(t)
	if err != nil {
		return nil, err
	}
	opTok, err := p.expect("ident")
	if err != nil {
		return nil, err
	}
	switch opTok.text {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		return nil, querySyntax(p.src, opTok.pos, "unknown operator '"+opTok.text+"'")
	}
	lt := p.peek()
	if lt == nil {
		return nil, p.end()
	}
	p.i++
	lit, err := p.literal(c, lt)
	if err != nil {
		return nil, err
	}
	return cmpExpr{col: c.name, op: opTok.text, lit: lit}, nil
}

func (p *filterParser) column(t *token) (*column, *apiError) {
	c, ok := p.e.columns[t.text]
	if !ok {
		return nil, badRequest(codeNoSuchProperty, "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", t.text, p.e.logicalName)
	}
	return c, nil
}

// literal checks that the literal suits the column's type, as Dataverse's OData parser does.
func (p *filterParser) literal(c *column, t *token) (any, *apiError) {
	if t.kind == "ident" && t.text == "null" {
		return nil, nil
	}
	mismatch := func(want string) *apiError {
		return badRequest(codeQuerySyntax, "A binary operator with incompatible types was detected. Found operand types 'Edm.%s' and '%s' for column '%s'.", want, t.text, c.name)
	}
	switch c.typ {
	case tString:
		if t.kind != "string" {
			return nil, mismatch("String")
		}
		return t.text, nil
	case tChoice, tInt:
		if t.kind != "number" {
			return nil, mismatch("Int32")
		}
		f, _ := strconv.ParseFloat(t.text, 64)
		return f, nil
	case tBool:
		if t.kind == "ident" && (t.text == "true" || t.text == "false") {
			return t.text == "true", nil
		}
		return nil, mismatch("Boolean")
	case tGUID, tLookup:
		if t.kind != "guid" {
			return nil, mismatch("Guid")
		}
		g, _ := parseGUID(t.text)
		return g, nil
	case tDateTime:
		if t.kind != "datetime" {
			return nil, mismatch("DateTimeOffset")
		}
		d, _ := parseDateTime(t.text)
		return d, nil
	}
	return nil, badRequest(codeQuerySyntax, "Filtering on '%s' is not supported by the emulator.", c.name)
}

type orderItem struct {
	col  string
	desc bool
}

func parseOrderBy(e *entity, s string) ([]orderItem, *apiError) {
	var out []orderItem
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		if len(f) == 0 || len(f) > 2 {
			return nil, badRequest(codeQuerySyntax, "Syntax error in $orderby '%s': expected 'column [asc|desc]'.", s)
		}
		if _, ok := e.columns[f[0]]; !ok {
			return nil, badRequest(codeNoSuchProperty, "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", f[0], e.logicalName)
		}
		it := orderItem{col: f[0]}
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				it.desc = true
			default:
				return nil, badRequest(codeQuerySyntax, "Syntax error in $orderby '%s': expected asc or desc after '%s'.", s, f[0])
			}
		}
		out = append(out, it)
	}
	return out, nil
}

func parseSelect(e *entity, s string) ([]string, *apiError) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		name := strings.TrimSpace(part)
		if _, ok := e.columns[name]; !ok {
			return nil, badRequest(codeNoSuchProperty, "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", name, e.logicalName)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// compareRecords orders two record views by the $orderby items, then by primary key (so the
// order is total and keyset paging is stable).
func compareRecords(a, b record, order []orderItem, key string) int {
	for _, o := range order {
		n := compareNullable(a[o.col], b[o.col])
		if o.desc {
			n = -n
		}
		if n != 0 {
			return n
		}
	}
	return strings.Compare(str(a, key), str(b, key))
}

// skipToken is where the previous page ended: the last record's sort values and key.
type skipToken struct {
	Values []any  `json:"v"`
	Key    string `json:"k"`
}

func encodeSkipToken(last record, order []orderItem, key string) string {
	t := skipToken{Key: str(last, key)}
	for _, o := range order {
		t.Values = append(t.Values, last[o.col])
	}
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeSkipToken rebuilds a record holding just the sort values and key.
func decodeSkipToken(s string, order []orderItem, key string) (record, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var t skipToken
	if json.Unmarshal(b, &t) != nil || len(t.Values) != len(order) {
		return nil, false
	}
	r := record{key: t.Key}
	for i, o := range order {
		r[o.col] = t.Values[i]
	}
	return r, true
}

// expandItem is one $expand item: a navigation property and the $select inside it.
type expandItem struct {
	name string
	nav  navigation
	sel  []string
}

// parseExpand reads $expand: comma-separated navigation properties, each optionally with
// ($select=...); other nested options are refused.
func parseExpand(e *entity, s string) ([]expandItem, *apiError) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []expandItem
	for _, part := range splitTopLevel(s, ',') {
		name, opts, hasOpts := strings.Cut(part, "(")
		name = strings.TrimSpace(name)
		nav, ok := e.navs[name]
		if !ok {
			return nil, badRequest(codeNoSuchProperty, "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", name, e.logicalName)
		}
		it := expandItem{name: name, nav: nav}
		if hasOpts {
			inner, ok := strings.CutSuffix(strings.TrimSpace(opts), ")")
			if !ok {
				return nil, badRequest(codeQuerySyntax, "Syntax error in $expand '%s': unbalanced parentheses.", s)
			}
			for _, o := range splitTopLevel(inner, ';') {
				k, v, _ := strings.Cut(o, "=")
				if strings.TrimSpace(k) != "$select" {
					return nil, badRequest(codeQuerySyntax, "The emulator supports only $select inside $expand; got '%s'.", strings.TrimSpace(k))
				}
				sel, err := parseSelect(nav.target, v)
				if err != nil {
					return nil, err
				}
				it.sel = sel
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// splitTopLevel splits s on sep outside parentheses.
func splitTopLevel(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// expansion is an expanded navigation property of one row: the related row (nil when the
// lookup is empty) or rows.
type expansion struct {
	expandItem
	one  record
	many []record
}

// expand resolves items for row; the caller holds the store's read lock.
func (st *store) expand(e *entity, row record, items []expandItem) []expansion {
	out := make([]expansion, 0, len(items))
	for _, it := range items {
		x := expansion{expandItem: it}
		if it.nav.many {
			id := str(row, e.key)
			for _, r := range st.tables[it.nav.target.set] {
				if str(r, it.nav.column) == id {
					x.many = append(x.many, r)
				}
			}
			slices.SortFunc(x.many, func(a, b record) int { return compareRecords(a, b, nil, it.nav.target.key) })
		} else if id := str(row, it.nav.column); id != "" {
			x.one, _ = st.get(it.nav.target.set, id)
		}
		out = append(out, x)
	}
	return out
}
