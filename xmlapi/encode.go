package xmlapi

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// MarshalXML renders n as an XML document with a prolog, indented by two
// spaces per level, escaping only what XML requires (so details read
// "name", not &quot;name&quot;). It writes the tree directly: going through
// an etree document cost a copy of every element, which for the echo of a
// setupnetworks of a thousand networks is most of its answer's time. The
// output is etree's, byte for byte (encode_test.go compares them).
func MarshalXML(n *Node) []byte {
	// Sized once: growing by doubling copies and clears a large answer
	// (3 MB for GET /nics of a thousand VLAN networks) several times.
	out := xmlOut{buf: make([]byte, 0, 64+xmlSize(n, 1))}
	out.document(n)
	return out.buf
}

// WriteXML writes what MarshalXML returns to w, a part at a time: a
// large answer (13 MB for GET /nics of 4000 VLAN networks) is never held
// whole.
func WriteXML(w io.Writer, n *Node) error {
	out := newXMLOut(w)
	out.document(n)
	out.flush()
	out.release()
	return out.err
}

// xmlFlushSize is how much of a document WriteXML gathers before it
// writes: an element at a time, once this much is waiting.
const xmlFlushSize = 64 << 10

// xmlOut is where a document is written: buf, and when w is set, w, to
// which buf is flushed between elements. buf is a plain slice, appended
// to: a bytes.Buffer's checks on every write were a tenth of GET /nics.
type xmlOut struct {
	buf []byte
	// pooled is where buf came from, when it came from xmlBuffers.
	pooled *[]byte
	w      io.Writer
	err    error
}

// xmlBuffers keeps the buffers of written documents for the next: a new
// 128 KB buffer, cleared, for every answer was a fifth of the bytes a
// setupnetworks that changes nothing allocated.
var xmlBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 2*xmlFlushSize)
	return &b
}}

// newXMLOut starts a document written to w, in a buffer from xmlBuffers
// that release gives back.
func newXMLOut(w io.Writer) xmlOut {
	p := xmlBuffers.Get().(*[]byte)
	return xmlOut{w: w, buf: (*p)[:0], pooled: p}
}

// release gives the buffer back once the document is flushed; a buffer
// an element grew far beyond the flush size is left to the collector.
func (o *xmlOut) release() {
	if o.pooled != nil && cap(o.buf) <= 4*xmlFlushSize {
		*o.pooled = o.buf[:0]
		xmlBuffers.Put(o.pooled)
	}
	o.pooled, o.buf = nil, nil
}

func (o *xmlOut) document(n *Node) {
	o.prolog()
	o.element(n, 1)
	o.buf = append(o.buf, '\n')
}

func (o *xmlOut) prolog() {
	o.buf = append(o.buf, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"...)
}

func (o *xmlOut) flush() {
	if o.w == nil || len(o.buf) == 0 {
		return
	}
	if o.err == nil {
		_, o.err = o.w.Write(o.buf)
	}
	o.buf = o.buf[:0]
}

// element writes n, whose children are indented at depth.
func (o *xmlOut) element(n *Node, depth int) {
	name := o.open(n)
	switch {
	case len(n.Children) > 0:
		o.buf = append(o.buf, '>')
		for _, c := range n.Children {
			o.child(c, depth)
		}
		o.close(name, depth)
	case n.Text != "":
		o.buf = escapeXML(append(o.buf, '>'), n.Text, false)
		o.close(name, 0)
	default:
		o.buf = append(o.buf, "/>"...)
	}
}

// open writes n's start tag but its end, and returns n's name as written.
func (o *xmlOut) open(n *Node) string {
	name := xmlName(n.Name)
	buf := append(o.buf, '<')
	buf = append(buf, name...)
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
		buf = append(buf, ' ')
		buf = append(buf, key...)
		buf = append(buf, `="`...)
		buf = escapeXML(buf, value, true)
		buf = append(buf, '"')
	}
	o.buf = buf
	return name
}

// child writes c, a child of an element whose children are indented at
// depth, on a line of its own.
func (o *xmlOut) child(c *Node, depth int) {
	o.buf = appendIndent(append(o.buf, '\n'), depth)
	o.element(c, depth+1)
	if o.w != nil && len(o.buf) >= xmlFlushSize {
		o.flush()
	}
}

// close writes the end tag of an element whose children were indented
// at depth, or that has text (depth 0).
func (o *xmlOut) close(name string, depth int) {
	buf := o.buf
	if depth > 0 {
		buf = appendIndent(append(buf, '\n'), depth-1)
	}
	buf = append(buf, "</"...)
	buf = append(buf, name...)
	o.buf = append(buf, '>')
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

func appendIndent(buf []byte, depth int) []byte {
	const spaces = "                                " // 16 levels
	for ; depth > len(spaces)/2; depth -= len(spaces) / 2 {
		buf = append(buf, spaces...)
	}
	return append(buf, spaces[:2*depth]...)
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
func escapeXML(buf []byte, s string, attr bool) []byte {
	i := 0
	for i < len(s) && !needsCare[s[i]] {
		i++ // most of a document: names, ids, addresses
	}
	if i == len(s) {
		return append(buf, s...)
	}
	last := 0
	for i < len(s) {
		if !needsCare[s[i]] {
			i++
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
		buf = append(buf, s[last:i-width]...)
		buf = append(buf, esc...)
		last = i
	}
	return append(buf, s[last:]...)
}

// needsCare marks the bytes escapeXML must look at: those it may escape
// (& < > ' " CR), the control characters XML cannot carry, and every byte
// of a multibyte character.
var needsCare = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 && c != '\t' && c != '\n' || c >= utf8.RuneSelf || strings.IndexByte(`&<>'"`+"\r", byte(c)) >= 0
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
	if len(n.Children) > smallObject {
		writeJSONGroups(buf, n.Children, field)
	} else {
		// Grouped by looking back: cheaper than a map for the few
		// fields of most objects, of which GET /nics writes thousands.
		for i, c := range n.Children {
			if seenName(n.Children[:i], c.Name) {
				continue
			}
			var few [8]*Node
			group := append(few[:0], c)
			for _, later := range n.Children[i+1:] {
				if later.Name == c.Name {
					group = append(group, later)
				}
			}
			field(c.Name)
			writeJSONGroup(buf, group)
		}
	}
	buf.WriteByte('}')
}

// smallObject is the most children writeJSONObject groups by looking
// back, without a map.
const smallObject = 32

func seenName(before []*Node, name string) bool {
	for _, c := range before {
		if c.Name == name {
			return true
		}
	}
	return false
}

// writeJSONGroups writes children grouped by name, in the order of each
// name's first occurrence, in one pass: a document may be wide.
func writeJSONGroups(buf *bytes.Buffer, children []*Node, field func(string)) {
	groups := make(map[string][]*Node)
	var order []string
	for _, c := range children {
		if _, ok := groups[c.Name]; !ok {
			order = append(order, c.Name)
		}
		groups[c.Name] = append(groups[c.Name], c)
	}
	for _, name := range order {
		field(name)
		writeJSONGroup(buf, groups[name])
	}
}

// writeJSONGroup writes the value of a field whose elements are items: an
// array if the first is repeated, else the first alone.
func writeJSONGroup(buf *bytes.Buffer, items []*Node) {
	if !items[0].Repeated {
		writeJSONValue(buf, items[0])
		return
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
	if jsonPlain(s) {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // strings always marshal
	}
	buf.Write(b)
}

// jsonPlain reports whether encoding/json writes s as it is between
// quotes: printable ASCII but for the quote, the backslash and the
// characters it escapes for HTML (< > &). Nearly every string is; the
// others are left to encoding/json.
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
