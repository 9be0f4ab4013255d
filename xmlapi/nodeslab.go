package xmlapi

import "strconv"

// nodeSlab hands out the Nodes of a large answer a slab at a time: a
// thousand NICs are some twenty thousand elements, and allocating each
// alone was most of GET /nics' time and of the garbage it leaves. A slab
// lives as long as any of its Nodes, which is the answer's life.
type nodeSlab struct {
	free []Node
	size int
}

// alone is the nil slab: it allocates each Node by itself. The exported
// constructors of node.go build their Nodes from it, so that an element
// is made in one place whether it comes from a slab or not.
var alone *nodeSlab

func newNodeSlab(size int) *nodeSlab { return &nodeSlab{size: size} }

func (s *nodeSlab) node(n Node) *Node {
	if s == nil {
		p := new(Node) // not &n: n would then escape on the slab's path too
		*p = n
		return p
	}
	if len(s.free) == 0 {
		s.free = make([]Node, s.size)
	}
	p := &s.free[0]
	*p = n
	s.free = s.free[1:]
	return p
}

func (s *nodeSlab) elem(name string, capacity int) *Node {
	return s.node(Node{Name: name, Children: make([]*Node, 0, capacity)})
}

func (s *nodeSlab) text(name, value string) *Node { return s.node(Node{Name: name, Text: value}) }

func (s *nodeSlab) int(name string, v int64) *Node {
	return s.node(Node{Name: name, Text: strconv.FormatInt(v, 10), Scalar: Number})
}

func (s *nodeSlab) uint(name string, v uint64) *Node {
	return s.node(Node{Name: name, Text: strconv.FormatUint(v, 10), Scalar: Number})
}

func (s *nodeSlab) bool(name string, v bool) *Node {
	return s.node(Node{Name: name, Text: strconv.FormatBool(v), Scalar: Boolean})
}

func (s *nodeSlab) link(rel, href string) *Node {
	return s.node(Node{Name: "link", Repeated: true, Attrs: []Attr{{Name: "href", Value: href}, {Name: "rel", Value: rel}}})
}

func (s *nodeSlab) ref(name, id, href string) *Node {
	if href == "" {
		return s.node(Node{Name: name, Attrs: []Attr{{Name: "id", Value: id}}})
	}
	return s.node(Node{Name: name, Attrs: []Attr{{Name: "href", Value: href}, {Name: "id", Value: id}}})
}
