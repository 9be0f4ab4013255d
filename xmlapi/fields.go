package xmlapi

import (
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// DecodeError is a request document that is well-formed but structurally
// wrong: an unknown or duplicated element, a bad boolean, the wrong root.
// Semantic checks (addresses, VLAN ids, bond modes) are not decode errors;
// netconf.Merge judges those with its rule codes.
type DecodeError struct {
	Path string // slash-separated element path, from the root
	Msg  string
	// Code, when set, is a more specific fault code than INVALID_VALUE.
	Code string
}

func (e *DecodeError) Error() string { return "invalid value at " + e.Path + ": " + e.Msg }

// informational are the output-only elements a client may echo back; they
// are ignored on input wherever they appear.
var informational = []string{"href", "link", "status", "in_sync", "reported_configurations", "host"}

// elem is an element being decoded, with the root of its document, from
// which its path is found for an error message. The path is not carried
// along: building it for every element visited cost more than the rest of
// the decoding.
type elem struct {
	n    *Node
	root *Node
}

// path is the slash-separated path of e from the root.
func (e elem) path() string {
	if p, ok := pathTo(e.root, e.n); ok {
		return p
	}
	return e.n.Name
}

func pathTo(from, to *Node) (string, bool) {
	if from == to {
		return from.Name, true
	}
	for _, c := range from.Children {
		if p, ok := pathTo(c, to); ok {
			return from.Name + "/" + p, true
		}
	}
	return "", false
}

func root(n *Node, name string) (elem, error) {
	if n == nil {
		return elem{}, &DecodeError{Path: name, Msg: "empty document"}
	}
	if n.Name != name {
		return elem{}, &DecodeError{Path: n.Name, Msg: "unexpected root element; want " + name}
	}
	return elem{n, n}, nil
}

func (e elem) fail(msg string) error { return &DecodeError{Path: e.path(), Msg: msg} }

func (e elem) sub(c *Node) elem { return elem{c, e.root} }

// child returns the named child, if present. Call it only after check has
// refused duplicates.
func (e elem) child(name string) (elem, bool) {
	c := e.n.Child(name)
	if c == nil {
		return elem{}, false
	}
	return e.sub(c), true
}

// each yields every child with the given name.
func (e elem) each(name string) iter.Seq[elem] {
	return func(yield func(elem) bool) {
		for _, c := range e.n.Children {
			if c.Name == name && !yield(e.sub(c)) {
				return
			}
		}
	}
}

// all returns every child with the given name.
func (e elem) all(name string) []elem {
	var out []elem
	for _, c := range e.n.All(name) {
		out = append(out, e.sub(c))
	}
	return out
}

func (e elem) id() string {
	v, _ := e.n.Attr("id")
	return v
}

// check refuses text in a container, unknown children, and singular
// children that occur more than once. Informational elements and those in
// ignore are skipped.
func (e elem) check(one, many []string, ignore ...string) error {
	if len(e.n.Children) == 0 && e.n.Text != "" {
		return e.fail("unexpected text; want elements")
	}
	var seen uint64 // bit i: one[i] was seen (a map per element was a tenth of a no-op's allocations)
	for k, c := range e.n.Children {
		switch i := slices.Index(one, c.Name); {
		case slices.Contains(informational, c.Name) || slices.Contains(ignore, c.Name):
		case i >= 64:
			if slices.ContainsFunc(e.n.Children[:k], func(d *Node) bool { return d.Name == c.Name }) {
				return e.sub(c).fail("duplicated element")
			}
		case i >= 0:
			if seen&(1<<i) != 0 {
				return e.sub(c).fail("duplicated element")
			}
			seen |= 1 << i
		case slices.Contains(many, c.Name):
		default:
			return e.sub(c).fail("unknown element")
		}
	}
	return nil
}

// exclusive refuses an element that has both a and its alias b.
func (e elem) exclusive(a, b string) error {
	if e.n.Child(a) != nil && e.n.Child(b) != nil {
		return e.sub(e.n.Child(b)).fail("duplicated element (alias of " + a + ")")
	}
	return nil
}

// text returns the value of a leaf element.
func (e elem) text() (string, error) {
	if len(e.n.Children) > 0 {
		return "", e.sub(e.n.Children[0]).fail("unknown element")
	}
	return e.n.Text, nil
}

// optText returns the value of the named leaf child, or nil when absent.
func (e elem) optText(name string) (*string, error) {
	s, ok, err := e.leaf(name)
	if !ok || err != nil {
		return nil, err
	}
	return &s, nil
}

// textOf returns the value of the named leaf child, or "" when absent.
func (e elem) textOf(name string) (string, error) {
	s, _, err := e.leaf(name)
	return s, err
}

// leaf returns the value of the named leaf child and whether it is there.
func (e elem) leaf(name string) (string, bool, error) {
	c, ok := e.child(name)
	if !ok {
		return "", false, nil
	}
	s, err := c.text()
	return s, err == nil, err
}

// boolOf parses the named boolean child: true or false in any case.
func (e elem) boolOf(name string) (value, present bool, err error) {
	c, ok := e.child(name)
	if !ok {
		return false, false, nil
	}
	s, err := c.text()
	if err != nil {
		return false, false, err
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, c.fail("invalid boolean " + quote(s) + "; want true or false")
}

// quote quotes a client's value for an error message, cut to a readable
// length.
func quote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}

// ref decodes a reference to an entity: the id attribute and/or <name>.
func (e elem) ref() (netconf.Ref, error) {
	if err := e.check([]string{"name"}, nil); err != nil {
		return netconf.Ref{}, err
	}
	name, err := e.textOf("name")
	return netconf.Ref{ID: e.id(), Name: name}, err
}

// optRef decodes the named reference child, or nil when absent.
func (e elem) optRef(name string) (*netconf.Ref, error) {
	c, ok := e.child(name)
	if !ok {
		return nil, nil
	}
	r, err := c.ref()
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// dns decodes <dns_resolver_configuration>. name_servers comes nested
// (<name_servers><name_server>…) as the engine writes it, or repeated
// (<name_servers>1.1.1.1</name_servers>…) as the Go SDK writes it.
func (e elem) dns() (*[]string, error) {
	if err := e.check(nil, []string{"name_servers"}); err != nil {
		return nil, err
	}
	servers := []string{}
	for ns := range e.each("name_servers") {
		if len(ns.n.Children) == 0 {
			if ns.n.Text != "" {
				servers = append(servers, ns.n.Text)
			}
			continue
		}
		if err := ns.check(nil, []string{"name_server"}); err != nil {
			return nil, err
		}
		for s := range ns.each("name_server") {
			v, err := s.text()
			if err != nil {
				return nil, err
			}
			servers = append(servers, v)
		}
	}
	return &servers, nil
}

// optDNS decodes the dns_resolver_configuration child, or nil when absent.
func (e elem) optDNS() (*[]string, error) {
	c, ok := e.child("dns_resolver_configuration")
	if !ok {
		return nil, nil
	}
	return c.dns()
}
