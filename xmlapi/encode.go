package xmlapi

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MarshalXML renders n as an XML document with a prolog, indented by two
// spaces per level, escaping only what XML requires (so details read
// "name", not &quot;name&quot;). It writes the tree directly: going through
// an etree document cost a copy of every element, which for the echo of a
// setupnetworks of a thousand networks is most of its answer's time. The
// output is etree's, byte for byte (encode_test.go compares them).
func MarshalXML(n *Node) []byte {
	var out xmlOut
	// Sized once: growing by doubling copies and clears a large answer
	// (3 MB for GET /nics of a thousand VLAN networks) several times.
	out.buf.Grow(64 + xmlSize(n, 1))
	out.document(n)
	return out.buf.Bytes()
}

// WriteXML writes what MarshalXML returns to w, a part at a time: a
// large answer (13 MB for GET /nics of 4000 VLAN networks) is never held
// whole.
func WriteXML(w io.Writer, n *Node) error {
	out := xmlOut{w: w}
	out.buf.Grow(2 * xmlFlushSize)
	out.document(n)
	out.flush()
	return out.err
}

// xmlFlushSize is how much of a document WriteXML gathers before it
// writes: an element at a time, once this much is waiting.
const xmlFlushSize = 64 << 10

// xmlOut is where a document is written: buf, and when w is set, w, to
// which buf is flushed between elements.
type xmlOut struct {
	buf bytes.Buffer
	w   io.Writer
	err error
}

func (o *xmlOut) document(n *Node) {
	o.prolog()
	o.element(n, 1)
	o.buf.WriteByte('\n')
}

func (o *xmlOut) prolog() {
	o.buf.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`)
	o.buf.WriteByte('\n')
}

func (o *xmlOut) flush() {
	if o.w == nil || o.buf.Len() == 0 {
		return
	}
	if o.err == nil {
		_, o.err = o.w.Write(o.buf.Bytes())
	}
	o.buf.Reset()
}

// element writes n, whose children are indented at depth.
func (o *xmlOut) element(n *Node, depth int) {
	name := o.open(n)
	switch {
	case len(n.Children) > 0:
		o.buf.WriteByte('>')
		for _, c := range n.Children {
			o.child(c, depth)
		}
		o.close(name, depth)
	case n.Text != "":
		o.buf.WriteByte('>')
		escapeXML(&o.buf, n.Text, false)
		o.close(name, 0)
	default:
		o.buf.WriteString("/>")
	}
}

// open writes n's start tag but its end, and returns n's name as written.
func (o *xmlOut) open(n *Node) string {
	buf := &o.buf
	name := xmlName(n.Name)
	buf.WriteByte('<')
	buf.WriteString(name)
	for i, a := range n.Attrs {
		key := xmlName(a.Name)
		if attrRepeated(n.Attrs[:i], key) {
			continue
		}
		value := a.Value
		for _, later := range n.Attrs[i+1:] { // the last value wins, in the first place
			if xmlName(later.Name) == key {
				value = later.Value
			}
		}
		buf.WriteByte(' ')
		buf.WriteString(key)
		buf.WriteString(`="`)
		escapeXML(buf, value, true)
		buf.WriteByte('"')
	}
	return name
}

// child writes c, a child of an element whose children are indented at
// depth, on a line of its own.
func (o *xmlOut) child(c *Node, depth int) {
	o.buf.WriteByte('\n')
	writeIndent(&o.buf, depth)
	o.element(c, depth+1)
	if o.w != nil && o.buf.Len() >= xmlFlushSize {
		o.flush()
	}
}

// close writes the end tag of an element whose children were indented
// at depth, or that has text (depth 0).
func (o *xmlOut) close(name string, depth int) {
	if depth > 0 {
		o.buf.WriteByte('\n')
		writeIndent(&o.buf, depth-1)
	}
	o.buf.WriteString("</")
	o.buf.WriteString(name)
	o.buf.WriteByte('>')
}

// xmlSize is the size element gives n when nothing needs
// escaping: the buffer's size, before escapes and repeated attributes.
func xmlSize(n *Node, depth int) int {
	size := 2*len(n.Name) + 5 + len(n.Text)
	if len(n.Children) == 0 && n.Text == "" {
		size = len(n.Name) + 3 // <name/>
	}
	for _, a := range n.Attrs {
		size += len(a.Name) + len(a.Value) + 4
	}
	for _, c := range n.Children {
		size += 1 + 2*depth + xmlSize(c, depth+1)
	}
	if len(n.Children) > 0 {
		size += 1 + 2*(depth-1)
	}
	return size
}

func writeIndent(buf *bytes.Buffer, depth int) {
	for range depth {
		buf.WriteString("  ")
	}
}

func attrRepeated(before []Attr, key string) bool {
	for _, a := range before {
		if xmlName(a.Name) == key {
			return true
		}
	}
	return false
}

// xmlName is a name as etree writes it back: split at its first colon
// into a prefix and a local name, an empty prefix dropped.
func xmlName(s string) string {
	if len(s) > 0 && s[0] == ':' { // the empty prefix: the first colon is the first byte
		return s[1:]
	}
	return s
}

// escapeXML escapes text (attr false: & < > and CR) or an attribute value
// in double quotes (attr true: & < > ' " as entities, as etree's normal
// mode); characters XML cannot carry become U+FFFD.
func escapeXML(buf *bytes.Buffer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && !asciiNeedsCare[c] {
			i++ // most of a document: names, ids, addresses
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\'':
			if !attr {
				continue
			}
			esc = "&apos;"
		case '"':
			if !attr {
				continue
			}
			esc = "&quot;"
		case '\r':
			if attr {
				continue
			}
			esc = "&#xD;"
		default:
			if !xmlChar(r) || (r == utf8.RuneError && width == 1) {
				esc = "\uFFFD"
				break
			}
			continue
		}
		buf.WriteString(s[last : i-width])
		buf.WriteString(esc)
		last = i
	}
	buf.WriteString(s[last:])
}

// asciiNeedsCare marks the ASCII bytes escapeXML must look at: those it
// may escape (& < > ' " CR) and the control characters XML cannot carry.
var asciiNeedsCare = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c < 0x20 && c != '\t' && c != '\n' || strings.IndexByte(`&<>'"`+"\r", byte(c)) >= 0
	}
	return t
}()

// xmlChar reports whether r is in XML's Char production.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// MarshalJSON renders n as oVirt JSON: the root element's name is dropped,
// attributes become fields, repeated elements become arrays under their
// singular name, and numbers and booleans are native.
func MarshalJSON(n *Node) []byte {
	var buf bytes.Buffer
	writeJSONObject(&buf, n)
	buf.WriteByte('\n')
	return buf.Bytes()
}

func writeJSONValue(buf *bytes.Buffer, n *Node) {
	if len(n.Children) == 0 && len(n.Attrs) == 0 {
		writeScalar(buf, n.Text, n.Scalar)
		return
	}
	writeJSONObject(buf, n)
}

func writeJSONObject(buf *bytes.Buffer, n *Node) {
	buf.WriteByte('{')
	first := true
	field := func(name string) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeString(buf, name)
		buf.WriteByte(':')
	}
	for _, a := range n.Attrs {
		field(a.Name)
		writeScalar(buf, a.Value, a.Scalar)
	}
	// Group the children by name in one pass: a document may be wide.
	groups := make(map[string][]*Node)
	var order []string
	for _, c := range n.Children {
		if _, ok := groups[c.Name]; !ok {
			order = append(order, c.Name)
		}
		groups[c.Name] = append(groups[c.Name], c)
	}
	for _, name := range order {
		items := groups[name]
		field(name)
		if !items[0].Repeated {
			writeJSONValue(buf, items[0])
			continue
		}
		buf.WriteByte('[')
		for i, item := range items {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONValue(buf, item)
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
}

func writeScalar(buf *bytes.Buffer, text string, kind Scalar) {
	switch kind {
	case Number:
		if _, err := strconv.ParseFloat(text, 64); err == nil {
			buf.WriteString(text)
			return
		}
	case Boolean:
		if text == "true" || text == "false" {
			buf.WriteString(text)
			return
		}
	}
	writeString(buf, text)
}

func writeString(buf *bytes.Buffer, s string) {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // strings always marshal
	}
	buf.Write(b)
}
