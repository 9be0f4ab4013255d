package xmlapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// Document limits. A request that exceeds one is malformed: hostnetd's
// largest real request, a setupnetworks for 1000 networks, stays far below.
const (
	MaxDepth    = 32
	MaxElements = 200_000
)

// ErrMalformed wraps every parse error, so callers answer 400 for all of them.
var ErrMalformed = errors.New("malformed document")

// ParseXML parses an XML request body into a Node tree. Text is trimmed;
// DOCTYPE and entity declarations are refused.
func ParseXML(body []byte) (*Node, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if _, err := doc.ReadFrom(bytes.NewReader(body)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, tok := range doc.Child {
		if d, ok := tok.(*etree.Directive); ok {
			return nil, fmt.Errorf("%w: <!%s> is not allowed", ErrMalformed, firstWord(d.Data))
		}
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	count := 0
	return fromElement(root, 1, &count)
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

func fromElement(e *etree.Element, depth int, count *int) (*Node, error) {
	*count++
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nesting deeper than %d elements", ErrMalformed, MaxDepth)
	}
	if *count > MaxElements {
		return nil, fmt.Errorf("%w: more than %d elements", ErrMalformed, MaxElements)
	}
	n := &Node{Name: e.Tag}
	for _, a := range e.Attr {
		if a.Space == "xmlns" || a.Key == "xmlns" {
			continue
		}
		n.Attrs = append(n.Attrs, Attr{Name: a.Key, Value: strings.TrimSpace(a.Value)})
	}
	for _, c := range e.ChildElements() {
		child, err := fromElement(c, depth+1, count)
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, child)
	}
	if len(n.Children) == 0 {
		n.Text = strings.TrimSpace(e.Text())
	}
	return n, nil
}

// ParseJSON parses a JSON request body into a Node tree named root. The
// fields id, href and rel become attributes, arrays become repeated
// children, and numbers and booleans become their text.
func ParseJSON(body []byte, root string) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrMalformed)
	}
	count := 0
	return fromJSON(root, obj, 1, &count)
}

func fromJSON(name string, v any, depth int, count *int) (*Node, error) {
	*count++
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nesting deeper than %d levels", ErrMalformed, MaxDepth)
	}
	if *count > MaxElements {
		return nil, fmt.Errorf("%w: more than %d values", ErrMalformed, MaxElements)
	}
	n := &Node{Name: name}
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if err := addJSONField(n, k, t[k], depth, count); err != nil {
				return nil, err
			}
		}
	case string:
		n.Text = strings.TrimSpace(t)
	case json.Number:
		n.Text, n.Scalar = t.String(), Number
	case bool:
		n.Text, n.Scalar = fmt.Sprint(t), Boolean
	case nil:
	default:
		return nil, fmt.Errorf("%w: unexpected value for %q", ErrMalformed, name)
	}
	return n, nil
}

func addJSONField(n *Node, k string, v any, depth int, count *int) error {
	if isAttrName(k) {
		switch s := v.(type) {
		case string:
			n.Attrs = append(n.Attrs, Attr{Name: k, Value: strings.TrimSpace(s)})
			return nil
		case json.Number:
			n.Attrs = append(n.Attrs, Attr{Name: k, Value: s.String(), Scalar: Number})
			return nil
		}
		return fmt.Errorf("%w: %q must be a string or a number", ErrMalformed, k)
	}
	if arr, ok := v.([]any); ok {
		for _, item := range arr {
			c, err := fromJSON(k, item, depth+1, count)
			if err != nil {
				return err
			}
			c.Repeated = true
			n.Children = append(n.Children, c)
		}
		return nil
	}
	c, err := fromJSON(k, v, depth+1, count)
	if err != nil {
		return err
	}
	n.Children = append(n.Children, c)
	return nil
}

func isAttrName(k string) bool { return k == "id" || k == "href" || k == "rel" }
