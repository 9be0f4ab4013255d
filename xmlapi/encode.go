package xmlapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/beevik/etree"
)

// MarshalXML renders n as an XML document with a prolog, indented.
func MarshalXML(n *Node) []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8" standalone="yes"`)
	doc.SetRoot(toElement(n))
	doc.Indent(2)
	// Escape only what XML requires, so details read "name" not &quot;name&quot;.
	doc.WriteSettings.CanonicalText = true
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		// Writing to a bytes.Buffer cannot fail.
		panic(err)
	}
	return buf.Bytes()
}

func toElement(n *Node) *etree.Element {
	e := etree.NewElement(n.Name)
	for _, a := range n.Attrs {
		e.CreateAttr(a.Name, a.Value)
	}
	if len(n.Children) == 0 {
		if n.Text != "" {
			e.SetText(n.Text)
		}
		return e
	}
	for _, c := range n.Children {
		e.AddChild(toElement(c))
	}
	return e
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
