package xmlapi

import (
	"net/netip"
	"strconv"
	"strings"
	"unsafe"
)

// nodeSlab hands out the Nodes of a large answer a slab at a time: a
// thousand NICs are some twenty thousand elements, and allocating each
// alone was most of GET /nics' time and of the garbage it leaves. Their
// children and attribute slices, and the strings made for them (hrefs,
// numbers, addresses), come from slabs of their own for the same reason.
// A slab lives as long as any of its Nodes, which is the answer's life.
type nodeSlab struct {
	free  []Node
	ptrs  []*Node
	attrs []Attr
	// The slabs in use from their start, for reset.
	nodesAll []Node
	ptrsAll  []*Node
	attrsAll []Attr
	// strs holds the strings made for the answer, back to back: bytes
	// once written are not written again, and a full chunk is left to
	// its strings, but for reuseStrings.
	strs []byte
	// size is how many Nodes a slab holds, ptrSize how many child
	// pointers, strSize how many bytes of strings.
	size, ptrSize, strSize int
	// reuseStrings has reset take the strings back too, writing the next
	// item's strings over them. Only a Collection sets it: it writes each
	// item whole before it renders the next, and its writers copy what
	// they write, so no string of an item is read after its reset. The
	// hrefs of GET /nics were otherwise 3 MB of garbage per answer at
	// 4000 VLAN networks, and the collections they brought on were the
	// tail of its latency.
	reuseStrings bool
}

// alone is the nil slab: it allocates each Node by itself. The exported
// constructors of node.go build their Nodes from it, so that an element
// is made in one place whether it comes from a slab or not.
var alone *nodeSlab

func newNodeSlab(size int) *nodeSlab {
	return &nodeSlab{size: size, ptrSize: 4 * size, strSize: 64 * size}
}

func (s *nodeSlab) node(n Node) *Node {
	if s == nil {
		p := new(Node) // not &n: n would then escape on the slab's path too
		*p = n
		return p
	}
	if len(s.free) == 0 {
		s.nodesAll = make([]Node, s.size)
		s.free = s.nodesAll
	}
	p := &s.free[0]
	*p = n
	s.free = s.free[1:]
	return p
}

// reset takes back every Node and slice handed out, to hand them out
// again: whatever was built from them must be dead. A slab that overflowed
// keeps only its last. Strings are not taken back (they cannot be
// overwritten): their builder keeps filling.
func (s *nodeSlab) reset() {
	s.free, s.ptrs, s.attrs = s.nodesAll, s.ptrsAll, s.attrsAll
	if s.reuseStrings {
		// Zeroed, so that a string read after its item was written
		// shows as NULs in any test of the answer, not as a neighbour.
		clear(s.strs)
		s.strs = s.strs[:0]
	}
}

// children is an empty slice with room for capacity children; appending
// more moves it out of the slab rather than over a neighbour's.
func (s *nodeSlab) children(capacity int) []*Node {
	if s == nil {
		return make([]*Node, 0, capacity)
	}
	if len(s.ptrs) < capacity {
		s.ptrsAll = make([]*Node, max(capacity, s.ptrSize))
		s.ptrs = s.ptrsAll
	}
	c := s.ptrs[:0:capacity]
	s.ptrs = s.ptrs[capacity:]
	return c
}

func (s *nodeSlab) attrList(attrs ...Attr) []Attr {
	if s == nil {
		return append([]Attr(nil), attrs...)
	}
	if len(s.attrs) < len(attrs) {
		s.attrsAll = make([]Attr, max(len(attrs), s.size/2))
		s.attrs = s.attrsAll
	}
	a := s.attrs[:len(attrs):len(attrs)]
	copy(a, attrs)
	s.attrs = s.attrs[len(attrs):]
	return a
}

// reserve makes room for n more bytes of strings without growing the
// chunk, which would move what it holds.
func (s *nodeSlab) reserve(n int) {
	if cap(s.strs)-len(s.strs) < n {
		s.strs = make([]byte, 0, max(n, s.strSize))
	}
}

// since is the string of the chunk's bytes from start on.
func (s *nodeSlab) since(start int) string {
	b := s.strs[start:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// concat joins parts into one string.
func (s *nodeSlab) concat(parts ...string) string {
	if s == nil {
		return strings.Join(parts, "")
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	s.reserve(n)
	start := len(s.strs)
	for _, p := range parts {
		s.strs = append(s.strs, p...)
	}
	return s.since(start)
}

// bytes is b as a string.
func (s *nodeSlab) bytes(b []byte) string {
	if s == nil {
		return string(b)
	}
	s.reserve(len(b))
	start := len(s.strs)
	s.strs = append(s.strs, b...)
	return s.since(start)
}

func (s *nodeSlab) addr(a netip.Addr) string {
	if s == nil {
		return a.String()
	}
	var scratch [64]byte
	return s.bytes(a.AppendTo(scratch[:0]))
}

func (s *nodeSlab) elem(name string, capacity int) *Node {
	return s.node(Node{Name: name, Children: s.children(capacity)})
}

func (s *nodeSlab) text(name, value string) *Node { return s.node(Node{Name: name, Text: value}) }

func (s *nodeSlab) int(name string, v int64) *Node {
	if s == nil {
		return s.node(Node{Name: name, Text: strconv.FormatInt(v, 10), Scalar: Number})
	}
	var scratch [20]byte
	return s.node(Node{Name: name, Text: s.bytes(strconv.AppendInt(scratch[:0], v, 10)), Scalar: Number})
}

func (s *nodeSlab) uint(name string, v uint64) *Node {
	if s == nil {
		return s.node(Node{Name: name, Text: strconv.FormatUint(v, 10), Scalar: Number})
	}
	var scratch [20]byte
	return s.node(Node{Name: name, Text: s.bytes(strconv.AppendUint(scratch[:0], v, 10)), Scalar: Number})
}

func (s *nodeSlab) bool(name string, v bool) *Node {
	return s.node(Node{Name: name, Text: strconv.FormatBool(v), Scalar: Boolean})
}

func (s *nodeSlab) link(rel, href string) *Node {
	return s.node(Node{Name: "link", Repeated: true, Attrs: s.attrList(Attr{Name: "href", Value: href}, Attr{Name: "rel", Value: rel})})
}

func (s *nodeSlab) ref(name, id, href string) *Node {
	if href == "" {
		return s.node(Node{Name: name, Attrs: s.attrList(Attr{Name: "id", Value: id})})
	}
	return s.node(Node{Name: name, Attrs: s.attrList(Attr{Name: "href", Value: href}, Attr{Name: "id", Value: id})})
}
