package xmlapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Document limits. A request that exceeds one is malformed. They are
// checked while the body is read, element by element, so a hostile document
// is refused as soon as it crosses one, without an intermediate tree:
// hostnetd's largest real request, a setupnetworks for 1000 networks
// (about 15,000 elements, 400 KiB), stays far below each of them.
const (
	// MaxDepth bounds the nesting of elements (JSON objects).
	MaxDepth = 32
	// MaxElements bounds the elements (JSON values) of a document.
	MaxElements = 50_000
	// MaxAttrs bounds the attributes of one element; oVirt documents
	// use at most three (id, href, rel).
	MaxAttrs = 16
	// MaxNameBytes bounds an element, attribute or JSON field name.
	MaxNameBytes = 128
	// MaxAttrBytes bounds an attribute value (ids, hrefs).
	MaxAttrBytes = 1024
	// MaxTextBytes bounds the text of one element (descriptions,
	// bridge_opts); the engine's longest field takes 4000 characters.
	MaxTextBytes = 16 << 10
)

// ErrMalformed wraps every parse error, so callers answer 400 for all of them.
var ErrMalformed = errors.New("malformed document")

var utf8BOM = []byte("\ufeff")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// ParseXML parses an XML request body into a Node tree. Text is trimmed.
// It refuses what no oVirt request contains and what could make the parse
// expensive: DOCTYPE, entity and other declarations anywhere, content
// outside the root element, mixed text and elements, duplicated
// attributes, encodings other than UTF-8, and documents over the limits.
func ParseXML(body []byte) (*Node, error) {
	s := newXMLScanner(bytes.TrimPrefix(body, utf8BOM))
	if err := s.parse(); err != nil {
		return nil, err
	}
	return s.root, nil
}

// ParseJSON parses a JSON request body into a Node tree named root. The
// fields id, href and rel become attributes, arrays become repeated
// children, and numbers and booleans become their text. Fields of an
// object are taken in name order. The same limits as for XML apply, and
// every name and text must be one XML can carry, since answers echo
// requests in either encoding.
func ParseJSON(body []byte, root string) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	dec.UseNumber()
	p := jsonParser{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("%v", err)
	}
	if tok != json.Delim('{') {
		return nil, malformed("the body is not a JSON object")
	}
	n, err := p.value(root, tok, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("data after the JSON value")
	}
	return n, nil
}

type jsonParser struct {
	dec   *json.Decoder
	count int
}

func (p *jsonParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, malformed("unexpected end of the JSON document")
	}
	if err != nil {
		return nil, malformed("%v", err)
	}
	return tok, nil
}

// value builds the node name from the value that starts with tok.
func (p *jsonParser) value(name string, tok json.Token, depth int) (*Node, error) {
	if depth > MaxDepth {
		return nil, malformed("nesting deeper than %d levels", MaxDepth)
	}
	if p.count++; p.count > MaxElements {
		return nil, malformed("more than %d values", MaxElements)
	}
	n := &Node{Name: name}
	switch t := tok.(type) {
	case json.Delim:
		if t != '{' {
			return nil, malformed("unexpected %v in %q", t, name)
		}
		return n, p.object(n, depth)
	case string:
		s, err := jsonText(name, t, MaxTextBytes)
		n.Text = s
		return n, err
	case json.Number:
		s, err := jsonText(name, t.String(), MaxTextBytes)
		n.Text, n.Scalar = s, Number
		return n, err
	case bool:
		n.Text, n.Scalar = fmt.Sprint(t), Boolean
	case nil:
	}
	return n, nil
}

// object reads the fields of an object whose '{' was read, up to its '}'.
func (p *jsonParser) object(n *Node, depth int) error {
	keys := map[string]bool{}
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return err
		}
		k, _ := tok.(string) // the decoder allows only strings as keys
		if !isXMLName(k) {
			return malformed("field %s of %q is not a name XML can carry", quote(k), n.Name)
		}
		if keys[k] {
			return malformed("field %q of %q is given twice", k, n.Name)
		}
		keys[k] = true
		if err := p.field(n, k, depth); err != nil {
			return err
		}
	}
	if _, err := p.token(); err != nil { // '}'
		return err
	}
	slices.SortStableFunc(n.Attrs, func(a, b Attr) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(n.Children, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

func (p *jsonParser) field(n *Node, k string, depth int) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if isAttrName(k) {
		if len(n.Attrs) >= MaxAttrs {
			return malformed("%q has more than %d attributes", n.Name, MaxAttrs)
		}
		switch v := tok.(type) {
		case string:
			s, err := jsonText(k, v, MaxAttrBytes)
			n.Attrs = append(n.Attrs, Attr{Name: k, Value: s})
			return err
		case json.Number:
			s, err := jsonText(k, v.String(), MaxAttrBytes)
			n.Attrs = append(n.Attrs, Attr{Name: k, Value: s, Scalar: Number})
			return err
		}
		return malformed("%q must be a string or a number", k)
	}
	if tok != json.Delim('[') {
		c, err := p.value(k, tok, depth+1)
		if err == nil {
			n.Children = append(n.Children, c)
		}
		return err
	}
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if tok == json.Delim('[') {
			return malformed("unexpected array in %q", k)
		}
		c, err := p.value(k, tok, depth+1)
		if err != nil {
			return err
		}
		c.Repeated = true
		n.Children = append(n.Children, c)
	}
	_, err = p.token() // ']'
	return err
}

func isAttrName(k string) bool { return k == "id" || k == "href" || k == "rel" }

// jsonText trims a JSON string and refuses one that is too long or holds
// a character XML cannot carry (control characters other than tab and
// newlines).
func jsonText(field, s string, limit int) (string, error) {
	if len(s) > limit {
		return "", malformed("%q is longer than %d bytes", field, limit)
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return "", malformed("%q holds the character %U, which XML cannot carry", field, r)
		}
	}
	return strings.TrimSpace(s), nil
}

// isXMLChar is XML 1.0's Char production.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= utf8.MaxRune
}

// isXMLName accepts the names oVirt uses, in XML and JSON alike: an ASCII
// letter or '_', then letters, digits, '_', '-' and '.', at most
// MaxNameBytes.
func isXMLName(s string) bool {
	if s == "" || len(s) > MaxNameBytes {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}
