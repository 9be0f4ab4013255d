package xmlapi

import (
	"maps"
	"slices"
	"strings"
)

// Scalar says how a leaf's text is typed in JSON.
type Scalar int

// Scalar kinds. XML carries every value as text.
const (
	String Scalar = iota
	Number
	Boolean
)

// Node is one element of an oVirt document, independent of its encoding.
type Node struct {
	Name string
	// Attrs are the XML attributes (id, href, rel); in JSON they are
	// ordinary fields of the object.
	Attrs    []Attr
	Text     string
	Scalar   Scalar
	Children []*Node
	// Repeated marks an element that JSON renders as an item of an array
	// under its name even when it occurs once: list members and links.
	Repeated bool
}

// Attr is an XML attribute.
type Attr struct {
	Name, Value string
	Scalar      Scalar
}

// Elem builds an element from its children; nil children are skipped, so
// optional fields can be written inline.
func Elem(name string, children ...*Node) *Node {
	return alone.elem(name, len(children)).Add(children...)
}

// Add appends the non-nil children.
func (n *Node) Add(children ...*Node) *Node {
	for _, c := range children {
		if c != nil {
			n.Children = append(n.Children, c)
		}
	}
	return n
}

// Text builds a string leaf.
func Text(name, value string) *Node { return alone.text(name, value) }

// OptText builds a string leaf, or nil when the value is empty.
func OptText(name, value string) *Node {
	if value == "" {
		return nil
	}
	return Text(name, value)
}

// Int builds a numeric leaf.
func Int(name string, v int64) *Node { return alone.int(name, v) }

// Uint builds a numeric leaf.
func Uint(name string, v uint64) *Node { return alone.uint(name, v) }

// Bool builds a boolean leaf.
func Bool(name string, v bool) *Node { return alone.bool(name, v) }

// Ref builds a reference to another entity: <name id="…" href="…"/>.
func Ref(name, id, href string) *Node { return alone.ref(name, id, href) }

// WithID sets the id and href attributes of an entity.
func (n *Node) WithID(id, href string) *Node {
	n.Attrs = append([]Attr{{Name: "href", Value: href}, {Name: "id", Value: id}}, n.Attrs...)
	return n
}

// Link builds <link href="…" rel="…"/>.
func Link(rel, href string) *Node { return alone.link(rel, href) }

// List builds <plural><item/>…</plural>, marking every item as an array
// member for JSON.
func List(name string, items ...*Node) *Node {
	n := &Node{Name: name}
	for _, it := range items {
		if it != nil {
			it.Repeated = true
			n.Children = append(n.Children, it)
		}
	}
	return n
}

// Attr returns the value of the named attribute.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Child returns the first child with the given name, or nil.
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All returns every child with the given name.
func (n *Node) All(name string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Canonical prints the tree one element per line with children grouped and
// sorted by name, so documents whose encodings order fields differently
// (XML and JSON) print the same.
func (n *Node) Canonical() string {
	var b strings.Builder
	n.canonical(&b, "")
	return b.String()
}

func (n *Node) canonical(b *strings.Builder, indent string) {
	b.WriteString(indent + n.Name)
	for _, a := range n.Attrs {
		b.WriteString(" " + a.Name + "=" + a.Value)
	}
	if n.Text != "" {
		b.WriteString(" = " + n.Text)
	}
	b.WriteString("\n")
	groups := map[string][]*Node{}
	for _, c := range n.Children {
		groups[c.Name] = append(groups[c.Name], c)
	}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		for _, c := range groups[name] {
			c.canonical(b, indent+"  ")
		}
	}
}

func (n *Node) rename(name string) *Node { n.Name = name; return n }
