package xmlapi

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
)

// parseWithEncodingXML is the parser ParseXML replaced, built on
// encoding/xml's tokenizer, kept as the oracle of
// FuzzParseXMLAgainstEncodingXML: the scanner must accept no document this
// refuses, and build the same tree from every document both accept.
func parseWithEncodingXML(body []byte) (*Node, error) {
	dec := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	dec.Strict = true // unknown entities are errors, none is expanded
	p := xmlParser{dec: dec}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.root, nil
}

// xmlOpen is an element being read, with its text so far.
type xmlOpen struct {
	n    *Node
	name xml.Name
	text strings.Builder
}

type xmlParser struct {
	dec   *xml.Decoder
	root  *Node
	stack []*xmlOpen
	count int
}

func (p *xmlParser) parse() error {
	for {
		tok, err := p.dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return malformed("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			err = p.start(t)
		case xml.EndElement:
			err = p.end(t)
		case xml.CharData:
			err = p.chars(t)
		case xml.Directive:
			return malformed("<!%s> is not allowed", firstWord(string(t)))
		case xml.Comment, xml.ProcInst:
			// The decoder has checked the encoding of <?xml …?>.
		}
		if err != nil {
			return err
		}
	}
	switch {
	case p.root == nil:
		return malformed("no root element")
	case len(p.stack) > 0:
		return malformed("unexpected end of the document inside <%s>", p.stack[len(p.stack)-1].n.Name)
	}
	return nil
}

func (p *xmlParser) start(t xml.StartElement) error {
	if p.root != nil && len(p.stack) == 0 {
		return malformed("an element after the root element")
	}
	if len(p.stack) >= MaxDepth {
		return malformed("nesting deeper than %d elements", MaxDepth)
	}
	if p.count++; p.count > MaxElements {
		return malformed("more than %d elements", MaxElements)
	}
	if len(t.Name.Local) > MaxNameBytes {
		return malformed("an element name longer than %d bytes", MaxNameBytes)
	}
	// The decoder takes ":", "a:" or the "0" of "x:0" for a local name,
	// which no XML writer can write back.
	if !isXMLName(t.Name.Local) {
		return malformed("element name %s is not one hostnetd reads", quote(t.Name.Local))
	}
	if len(t.Attr) > MaxAttrs {
		return malformed("<%s> has more than %d attributes", t.Name.Local, MaxAttrs)
	}
	n := &Node{Name: t.Name.Local}
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		if len(a.Name.Local) > MaxNameBytes {
			return malformed("<%s> has an attribute name longer than %d bytes", n.Name, MaxNameBytes)
		}
		if !isXMLName(a.Name.Local) {
			return malformed("<%s> has attribute name %s, which hostnetd does not read", n.Name, quote(a.Name.Local))
		}
		if len(a.Value) > MaxAttrBytes {
			return malformed("attribute %s of <%s> is longer than %d bytes", a.Name.Local, n.Name, MaxAttrBytes)
		}
		// Prefixes are dropped, so x:id and id would both be id.
		if _, dup := n.Attr(a.Name.Local); dup {
			return malformed("<%s> has attribute %s twice", n.Name, a.Name.Local)
		}
		n.Attrs = append(n.Attrs, Attr{Name: a.Name.Local, Value: strings.TrimSpace(a.Value)})
	}
	if len(p.stack) == 0 {
		p.root = n
	} else {
		parent := p.stack[len(p.stack)-1]
		if strings.TrimSpace(parent.text.String()) != "" {
			return malformed("<%s> mixes text and elements", parent.n.Name)
		}
		parent.n.Children = append(parent.n.Children, n)
	}
	p.stack = append(p.stack, &xmlOpen{n: n, name: t.Name})
	return nil
}

func (p *xmlParser) end(t xml.EndElement) error {
	if len(p.stack) == 0 {
		return malformed("unexpected </%s>", t.Name.Local)
	}
	top := p.stack[len(p.stack)-1]
	if t.Name != top.name {
		return malformed("<%s> is closed by </%s>", top.n.Name, t.Name.Local)
	}
	p.stack = p.stack[:len(p.stack)-1]
	text := strings.TrimSpace(top.text.String())
	if len(top.n.Children) == 0 {
		top.n.Text = text
	} else if text != "" {
		return malformed("<%s> mixes text and elements", top.n.Name)
	}
	return nil
}

func (p *xmlParser) chars(t xml.CharData) error {
	if len(p.stack) == 0 {
		if len(bytes.TrimSpace(t)) > 0 {
			return malformed("text outside the root element")
		}
		return nil
	}
	top := p.stack[len(p.stack)-1]
	if top.text.Len()+len(t) > MaxTextBytes {
		return malformed("the text of <%s> is longer than %d bytes", top.n.Name, MaxTextBytes)
	}
	if len(top.n.Children) > 0 && len(bytes.TrimSpace(t)) > 0 {
		return malformed("<%s> mixes text and elements", top.n.Name)
	}
	top.text.Write(t)
	return nil
}
