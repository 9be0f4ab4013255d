package xmlapi

import (
	"bytes"
	"io"
)

// Collection is a collection answer rendered an item at a time as it is
// written, each item into the memory of the one before: GET /nics of a
// thousand VLAN networks is some fifty thousand elements, and building them
// all before writing any cost most of the answer's time and garbage. Every
// write renders from what the Collection was made of; nothing is kept
// between writes.
type Collection struct {
	name string
	len  int
	// item renders the i-th item, of one name for all, from s.
	item func(s *nodeSlab, i int) *Node
}

// Node is the whole collection as one tree, as the encoders would write it.
func (l *Collection) Node() *Node {
	n := &Node{Name: l.name, Children: make([]*Node, 0, l.len)}
	s := newNodeSlab(512)
	for i := range l.len {
		item := l.item(s, i)
		item.Repeated = true
		n.Children = append(n.Children, item)
	}
	return n
}

// items calls each with every item in turn; an item lives until each
// returns.
func (l *Collection) items(each func(*Node)) {
	s := newNodeSlab(64)
	s.strSize, s.reuseStrings = 4<<10, true
	for i := range l.len {
		s.reset()
		item := l.item(s, i)
		item.Repeated = true
		each(item)
	}
}

// WriteXML writes what MarshalXML(l.Node()) returns to w, a part at a time.
func (l *Collection) WriteXML(w io.Writer) error {
	o := newXMLOut(w)
	o.prolog()
	root := Node{Name: l.name}
	name := o.open(&root)
	if l.len == 0 {
		o.buf = append(o.buf, "/>"...)
	} else {
		o.buf = append(o.buf, '>')
		l.items(func(item *Node) { o.child(item, 1) })
		o.close(name, 1)
	}
	o.buf = append(o.buf, '\n')
	o.flush()
	o.release()
	return o.err
}

// WriteJSON writes what MarshalJSON(l.Node()) returns to w, a part at a
// time.
func (l *Collection) WriteJSON(w io.Writer) error {
	var buf bytes.Buffer
	var err error
	flush := func() {
		if err == nil {
			_, err = w.Write(buf.Bytes())
		}
		buf.Reset()
	}
	buf.WriteByte('{')
	first := true
	l.items(func(item *Node) {
		if first {
			writeString(&buf, item.Name)
			buf.WriteString(":[")
			first = false
		} else {
			buf.WriteByte(',')
		}
		writeJSONValue(&buf, item)
		if buf.Len() >= xmlFlushSize {
			flush()
		}
	})
	if !first {
		buf.WriteByte(']')
	}
	buf.WriteString("}\n")
	flush()
	return err
}
