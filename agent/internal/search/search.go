// Package search parses and evaluates oVirt's search language, the
// search= parameter an engine accepts on its collections, as far as a
// one-host engine needs it.
//
// The grammar is the engine's (SyntaxChecker), without sorting and paging:
//
//	query      = [ entity ":" ] [ or-expr ]
//	or-expr    = and-expr { "or" and-expr }
//	and-expr   = term { "and" term }
//	term       = field operator value | value
//	operator   = "=" | "!=" | "<" | ">" | "<=" | ">="
//	value      = word | '"' characters '"'
//
// Keywords (and, or) and field names are case-insensitive, as the engine's;
// "and" binds tighter than "or", as in the SQL the engine generates. A
// value may hold * wildcards, each any run of characters, with = and !=.
// Values compare case-sensitively unless the request says
// case_sensitive=false (the engine's LIKE and ILIKE). The comparisons
// order numbers, times (RFC 3339, or a date) and event severities. A term
// without a field matches the object's name. The entity prefix ("Hosts:")
// is accepted and ignored: the collection decides what is searched.
//
// A field the searched object does not have, or a value it cannot have,
// matches nothing rather than failing: an engine query for another data
// center or cluster finds nothing on this host.
package search

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("search syntax error")

// Fields resolves a field of one object, lower-cased and dotted as written
// ("name", "host.name"), to its value; ok is false when the object has no
// such field.
type Fields func(field string) (value string, ok bool)

// Query is a parsed search.
type Query struct {
	// or holds alternatives, each a conjunction of terms; none matches all.
	or [][]term
}

type term struct {
	field string // lower-case; "" for free text
	op    string
	value string
}

// Parse parses a search. An empty search matches everything.
func Parse(s string) (*Query, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if len(toks) >= 2 && toks[0].kind == tokWord && toks[1].kind == tokColon {
		p.pos = 2 // the entity prefix
	}
	q := &Query{}
	if p.done() {
		return q, nil
	}
	group := []term{}
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		group = append(group, t)
		if p.done() {
			break
		}
		switch kw := p.keyword(); kw {
		case "and":
		case "or":
			q.or = append(q.or, group)
			group = []term{}
		default:
			return nil, p.fail("want and or or")
		}
		p.pos++
		if p.done() {
			return nil, fmt.Errorf("%w: the query ends after %q", ErrSyntax, p.toks[p.pos-1].text)
		}
	}
	q.or = append(q.or, group)
	return q, nil
}

// Match reports whether an object matches the query.
func (q *Query) Match(f Fields, caseSensitive bool) bool {
	if len(q.or) == 0 {
		return true
	}
	for _, group := range q.or {
		all := true
		for _, t := range group {
			if !t.match(f, caseSensitive) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (t term) match(f Fields, caseSensitive bool) bool {
	field := t.field
	if field == "" {
		field = "name"
	}
	v, ok := f(field)
	if !ok {
		return false
	}
	switch t.op {
	case "=":
		return Wildcard(t.value, v, caseSensitive)
	case "!=":
		return !Wildcard(t.value, v, caseSensitive)
	}
	c, ok := compare(v, t.value)
	if !ok {
		return false
	}
	switch t.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	default: // ">="
		return c >= 0
	}
}

// severities orders the event severities, as the engine's LogSeverity.
var severities = []string{"normal", "warning", "error", "alert"}

// compare orders an object's value against a query's: as numbers when both
// are, as times, as severities; other values have no order.
func compare(have, want string) (int, bool) {
	if a, err := strconv.ParseFloat(have, 64); err == nil {
		if b, err := strconv.ParseFloat(want, 64); err == nil {
			switch {
			case a < b:
				return -1, true
			case a > b:
				return 1, true
			}
			return 0, true
		}
	}
	if a, ok := parseTime(have); ok {
		if b, ok := parseTime(want); ok {
			return a.Compare(b), true
		}
	}
	a, b := rank(have), rank(want)
	if a < 0 || b < 0 {
		return 0, false
	}
	return a - b, true
}

// timeLayouts are the times a query may compare with: RFC 3339, with or
// without seconds' fractions, or a date (midnight UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func rank(s string) int {
	for i, v := range severities {
		if strings.EqualFold(s, v) {
			return i
		}
	}
	return -1
}

// Wildcard matches s against a pattern whose * stands for any run of
// characters, comparing case-insensitively unless caseSensitive.
func Wildcard(pattern, s string, caseSensitive bool) bool {
	if !caseSensitive {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) keyword() string {
	t := p.toks[p.pos]
	if t.kind != tokWord {
		return ""
	}
	return strings.ToLower(t.text)
}

func (p *parser) fail(want string) error {
	return fmt.Errorf("%w at %q: %s", ErrSyntax, p.toks[p.pos].text, want)
}

// term reads "field op value" or a bare value.
func (p *parser) term() (term, error) {
	t := p.toks[p.pos]
	if t.kind != tokWord && t.kind != tokQuoted {
		return term{}, p.fail("want a field or a value")
	}
	if t.kind == tokWord {
		if kw := strings.ToLower(t.text); kw == "and" || kw == "or" {
			return term{}, p.fail("want a field or a value")
		}
	}
	p.pos++
	if p.done() || p.toks[p.pos].kind != tokOp {
		return term{op: "=", value: t.text}, nil
	}
	if t.kind != tokWord || !validField(t.text) {
		return term{}, fmt.Errorf("%w: %q is not a field name", ErrSyntax, t.text)
	}
	op := p.toks[p.pos].text
	p.pos++
	if p.done() {
		return term{}, fmt.Errorf("%w: %s%s has no value", ErrSyntax, t.text, op)
	}
	v := p.toks[p.pos]
	if v.kind != tokWord && v.kind != tokQuoted {
		return term{}, p.fail("want a value")
	}
	p.pos++
	return term{field: strings.ToLower(t.text), op: op, value: v.text}, nil
}

func validField(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}
