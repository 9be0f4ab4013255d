package xmlapi

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xmlScanner reads a request body into a Node tree straight from its
// bytes, in one pass and without an intermediate token stream: the XML a
// request may hold is small (elements, attributes, text, the five named
// entities and character references, comments, CDATA and processing
// instructions), and encoding/xml's general decoder made the parse most of
// the cost of a request (docs/performance.md). It accepts no document
// encoding/xml would refuse and builds the same tree
// (FuzzParseXMLAgainstEncodingXML): where the two differ, the scanner is
// the stricter, keeping to XML 1.0 where encoding/xml is lenient
// (character references to characters XML forbids, names outside ASCII).
type xmlScanner struct {
	b     []byte
	i     int
	root  *Node
	stack []scanOpen
	count int
	// names interns element and attribute names: a request repeats a few
	// dozen names thousands of times.
	names map[string]string
	// slab hands out the Nodes and their child lists, 64 Nodes at a time.
	slab *nodeSlab
	// kids are the children of the open elements, each element's after
	// its own entry: appending to every element's Children as it grew
	// was a quarter of a no-op setupnetworks' allocations. An element's
	// children are copied into a list of its own from slab when it
	// closes.
	kids []*Node
}

// scanOpen is an element being read: its node, its name as written
// (prefix included, which its end tag must repeat), its text so far and
// where its children start in kids.
type scanOpen struct {
	n     *Node
	raw   []byte
	text  []byte
	first int
}

// maxScanSlab bounds the Nodes of one slab of the scanner.
const maxScanSlab = 4096

func newXMLScanner(body []byte) *xmlScanner {
	// Slabs sized for the tree: an element has a start tag, so there
	// are no more elements than '<'s, and half as many when most have an
	// end tag, as in a request; every element but the root is some
	// element's child. Slabs of 64 Nodes were two hundred allocations
	// for a thousand attachments, and the collections they brought on.
	// A slab holds at most maxScanSlab Nodes (384 KB), so that a body of
	// '<'s, refused at once, does not get tens of MB first. Texts stay
	// strings of their own: the request's values go into the running
	// configuration, which would otherwise pin a chunk of every request
	// that left a value there.
	elems := min(maxScanSlab, max(64, bytes.Count(body, []byte{'<'})/2+1))
	slab := &nodeSlab{size: elems, ptrSize: elems}
	return &xmlScanner{b: body, names: make(map[string]string, 64), slab: slab}
}

func (s *xmlScanner) parse() error {
	for s.i < len(s.b) {
		if s.b[s.i] != '<' {
			text, err := s.text(0, false)
			if err != nil {
				return err
			}
			if err := s.chars(text); err != nil {
				return err
			}
			continue
		}
		s.i++
		var err error
		switch s.peek() {
		case '/':
			s.i++
			err = s.endTag()
		case '?':
			s.i++
			err = s.procInst()
		case '!':
			s.i++
			err = s.bang()
		default:
			err = s.startTag()
		}
		if err != nil {
			return err
		}
	}
	switch {
	case s.root == nil:
		return malformed("no root element")
	case len(s.stack) > 0:
		return malformed("unexpected end of the document inside <%s>", s.stack[len(s.stack)-1].n.Name)
	}
	return nil
}

// peek is the next byte, or 0 at the end.
func (s *xmlScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *xmlScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *xmlScanner) eof(where string) error {
	return malformed("unexpected end of the document in %s", where)
}

func unreadElement(name string) error {
	return malformed("element name %s is not one hostnetd reads", quote(name))
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// name reads a name as written, prefix included. Only ASCII names are
// read: every name hostnetd knows is one. what says where the name is,
// and unread how to refuse one that is not ASCII.
func (s *xmlScanner) name(what string, unread func(name string) error) ([]byte, error) {
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		if c := s.b[s.i]; c >= utf8.RuneSelf {
			ascii = false
		} else if !isNameByte(c) {
			break
		}
		s.i++
	}
	raw := s.b[start:s.i]
	switch {
	case len(raw) == 0:
		if s.i == len(s.b) {
			return nil, s.eof(what)
		}
		return nil, malformed("expected %s, found %s", what, quote(string(s.b[s.i:s.i+1])))
	case !ascii || !isNameStart(raw[0]):
		return nil, unread(string(raw))
	}
	return raw, nil
}

// isNameStart says whether an ASCII name byte may begin a name.
func isNameStart(c byte) bool { return !('0' <= c && c <= '9' || c == '-' || c == '.') }

// splitName splits prefix:local as encoding/xml does: a name with one
// colon between two non-empty parts has a prefix; any other is all local.
func splitName(raw []byte) (prefix, local []byte, ok bool) {
	i := bytes.IndexByte(raw, ':')
	switch {
	case i < 0:
		return nil, raw, true
	case bytes.IndexByte(raw[i+1:], ':') >= 0:
		return nil, nil, false
	case i == 0 || i == len(raw)-1:
		return nil, raw, true
	}
	return raw[:i], raw[i+1:], true
}

func (s *xmlScanner) intern(b []byte) string {
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	v := string(b)
	s.names[v] = v
	return v
}

func (s *xmlScanner) newNode(name string) *Node { return s.slab.node(Node{Name: name}) }

func (s *xmlScanner) startTag() error {
	raw, err := s.name("an element name", unreadElement)
	if err != nil {
		return err
	}
	if s.root != nil && len(s.stack) == 0 {
		return malformed("an element after the root element")
	}
	if len(s.stack) >= MaxDepth {
		return malformed("nesting deeper than %d elements", MaxDepth)
	}
	if s.count++; s.count > MaxElements {
		return malformed("more than %d elements", MaxElements)
	}
	_, local, ok := splitName(raw)
	if !ok {
		return malformed("element name %s has more than one colon", quote(string(raw)))
	}
	if len(local) > MaxNameBytes {
		return malformed("an element name longer than %d bytes", MaxNameBytes)
	}
	name := s.intern(local)
	if !isXMLName(name) {
		return unreadElement(name)
	}
	n := s.newNode(name)
	attrs := 0
	for {
		s.space()
		switch s.peek() {
		case 0:
			return s.eof("<" + n.Name + ">")
		case '/':
			s.i++
			if s.peek() != '>' {
				return malformed("expected /> in <%s>", n.Name)
			}
			s.i++
			if err := s.open(n, raw); err != nil {
				return err
			}
			return s.close(raw)
		case '>':
			s.i++
			return s.open(n, raw)
		}
		if attrs++; attrs > MaxAttrs {
			return malformed("<%s> has more than %d attributes", n.Name, MaxAttrs)
		}
		if err := s.attr(n); err != nil {
			return err
		}
	}
}

// attr reads one attribute of n.
func (s *xmlScanner) attr(n *Node) error {
	raw, err := s.name("an attribute name in <"+n.Name+">", func(name string) error {
		return malformed("<%s> has attribute name %s, which hostnetd does not read", n.Name, quote(name))
	})
	if err != nil {
		return err
	}
	prefix, local, ok := splitName(raw)
	if !ok {
		return malformed("<%s> has attribute name %s, which hostnetd does not read", n.Name, quote(string(raw)))
	}
	s.space()
	if s.peek() != '=' {
		return malformed("attribute %s of <%s> has no value", string(raw), n.Name)
	}
	s.i++
	s.space()
	q := s.peek()
	if q != '"' && q != '\'' {
		return malformed("attribute %s of <%s> has no quoted value", string(raw), n.Name)
	}
	s.i++
	value, err := s.text(q, false)
	if err != nil {
		return err
	}
	if string(prefix) == "xmlns" || prefix == nil && string(local) == "xmlns" {
		return nil // namespaces are not read: names are taken by their local part
	}
	if len(local) > MaxNameBytes {
		return malformed("<%s> has an attribute name longer than %d bytes", n.Name, MaxNameBytes)
	}
	name := s.intern(local)
	if !isXMLName(name) {
		return malformed("<%s> has attribute name %s, which hostnetd does not read", n.Name, quote(name))
	}
	if len(value) > MaxAttrBytes {
		return malformed("attribute %s of <%s> is longer than %d bytes", name, n.Name, MaxAttrBytes)
	}
	// Prefixes are dropped, so x:id and id would both be id.
	if _, dup := n.Attr(name); dup {
		return malformed("<%s> has attribute %s twice", n.Name, name)
	}
	n.Attrs = append(n.Attrs, Attr{Name: name, Value: string(bytes.TrimSpace(value))})
	return nil
}

// open makes n the innermost open element.
func (s *xmlScanner) open(n *Node, raw []byte) error {
	if len(s.stack) == 0 {
		s.root = n
	} else {
		parent := &s.stack[len(s.stack)-1]
		if len(bytes.TrimSpace(parent.text)) != 0 {
			return malformed("<%s> mixes text and elements", parent.n.Name)
		}
		s.kids = append(s.kids, n)
	}
	s.stack = append(s.stack, scanOpen{n: n, raw: raw, first: len(s.kids)})
	return nil
}

func (s *xmlScanner) endTag() error {
	raw, err := s.endName()
	if err != nil {
		return err
	}
	s.space()
	if s.peek() != '>' {
		if s.i == len(s.b) {
			return s.eof("</" + string(raw) + ">")
		}
		return malformed("unexpected characters between </%s and >", string(raw))
	}
	s.i++
	return s.close(raw)
}

// endName reads the name of an end tag. The usual one repeats its start
// tag's, which was checked when it was read: it is taken as it is.
func (s *xmlScanner) endName() ([]byte, error) {
	if len(s.stack) > 0 {
		open := s.stack[len(s.stack)-1].raw
		if end := s.i + len(open); bytes.HasPrefix(s.b[s.i:], open) && (end == len(s.b) || !isNameByte(s.b[end]) && s.b[end] < utf8.RuneSelf) {
			s.i = end
			return open, nil
		}
	}
	raw, err := s.name("an element name after </", unreadElement)
	if err != nil {
		return nil, err
	}
	if _, _, ok := splitName(raw); !ok {
		return nil, malformed("element name %s has more than one colon", quote(string(raw)))
	}
	return raw, nil
}

// close ends the innermost open element, whose tag must be raw.
func (s *xmlScanner) close(raw []byte) error {
	if len(s.stack) == 0 {
		_, local, _ := splitName(raw)
		return malformed("unexpected </%s>", string(local))
	}
	top := &s.stack[len(s.stack)-1]
	if !bytes.Equal(raw, top.raw) {
		_, local, _ := splitName(raw)
		return malformed("<%s> is closed by </%s>", top.n.Name, string(local))
	}
	text := bytes.TrimSpace(top.text)
	if kids := s.kids[top.first:]; len(kids) == 0 {
		top.n.Text = string(text)
	} else if len(text) != 0 {
		return malformed("<%s> mixes text and elements", top.n.Name)
	} else {
		// The list's capacity is its length: an append to it (an
		// answer's status) moves it rather than writing over another's.
		top.n.Children = append(s.slab.children(len(kids)), kids...)
		clear(kids)
		s.kids = s.kids[:top.first]
	}
	s.stack = s.stack[:len(s.stack)-1]
	return nil
}

// chars adds a run of text to the innermost open element.
func (s *xmlScanner) chars(t []byte) error {
	if len(s.stack) == 0 {
		if len(bytes.TrimSpace(t)) > 0 {
			return malformed("text outside the root element")
		}
		return nil
	}
	top := &s.stack[len(s.stack)-1]
	if len(top.text)+len(t) > MaxTextBytes {
		return malformed("the text of <%s> is longer than %d bytes", top.n.Name, MaxTextBytes)
	}
	if len(s.kids) > top.first && len(bytes.TrimSpace(t)) > 0 {
		return malformed("<%s> mixes text and elements", top.n.Name)
	}
	if top.text == nil {
		top.text = t[:len(t):len(t)] // a later append copies, never writes into the body
	} else {
		top.text = append(top.text, t...)
	}
	return nil
}

// procInst reads a processing instruction after its "<?". Only the XML
// declaration means anything: it must declare version 1.0 and UTF-8, if
// anything.
func (s *xmlScanner) procInst() error {
	target, err := s.name("a processing instruction target", func(name string) error {
		return malformed("processing instruction target %s is not one hostnetd reads", quote(name))
	})
	if err != nil {
		return err
	}
	s.space()
	end := bytes.Index(s.b[s.i:], []byte("?>"))
	if end < 0 {
		return s.eof("<?" + string(target) + "?>")
	}
	content := string(s.b[s.i : s.i+end])
	s.i += end + 2
	if string(target) != "xml" {
		return nil
	}
	if v := procInstParam("version", content); v != "" && v != "1.0" {
		return malformed("XML version %s; only 1.0 is read", quote(v))
	}
	if enc := procInstParam("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return malformed("encoding %s declared; only UTF-8 is read", quote(enc))
	}
	return nil
}

// procInstParam finds param="value" in an XML declaration as encoding/xml
// does, so that the two agree on which declarations they accept.
func procInstParam(param, s string) string {
	param += "="
	var sep byte
	i := 0
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang reads what follows "<!": a comment or a CDATA section. Every
// declaration (DOCTYPE, ENTITY, …) is refused before it is read: hostnetd
// expands no entity and reads no DTD.
func (s *xmlScanner) bang() error {
	rest := s.b[s.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("--")):
		s.i += 2
		// "--" may appear in a comment only as its end.
		dashes := bytes.Index(s.b[s.i:], []byte("--"))
		if dashes < 0 {
			return s.eof("a comment")
		}
		s.i += dashes + 2
		switch s.peek() {
		case '>':
			s.i++
			return nil
		case 0:
			return s.eof("a comment")
		}
		return malformed(`"--" inside a comment`)
	case bytes.HasPrefix(rest, []byte("[CDATA[")):
		s.i += len("[CDATA[")
		text, err := s.text(0, true)
		if err != nil {
			return err
		}
		return s.chars(text)
	case len(rest) == 0, rest[0] == '-' && len(rest) == 1, rest[0] == '[' && bytes.HasPrefix([]byte("[CDATA["), rest):
		return s.eof("<!")
	case rest[0] == '-' || rest[0] == '[':
		return malformed("invalid sequence <!%c", rest[0])
	}
	word := rest
	if end := bytes.IndexAny(word, " \t\r\n>[\"'"); end >= 0 {
		word = word[:end]
	}
	if len(word) > MaxNameBytes {
		word = word[:MaxNameBytes]
	}
	return malformed("<!%s> is not allowed", firstWord(string(word)))
}

// text reads character data up to the next '<' (or the end), a quoted
// attribute value up to its closing quote q, or a CDATA section up to its
// "]]>", consuming the terminator of the last two. It resolves character
// and entity references (not in CDATA), rewrites \r and \r\n as \n, and
// refuses characters XML does not allow. The result aliases the body when
// nothing had to be rewritten, which is the common case.
func (s *xmlScanner) text(q byte, cdata bool) ([]byte, error) {
	start := s.i
	var out []byte // nil while the text is the body's bytes as they are
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case cdata && c == ']' && bytes.HasPrefix(s.b[s.i:], []byte("]]>")):
			text := s.result(out, start)
			s.i += 3
			return text, nil
		case cdata:
		case q != 0 && c == q:
			text := s.result(out, start)
			s.i++
			return text, nil
		case c == '<':
			if q != 0 {
				return nil, malformed("unescaped < inside an attribute value")
			}
			return s.result(out, start), nil
		case q == 0 && c == ']' && bytes.HasPrefix(s.b[s.i:], []byte("]]>")):
			return nil, malformed("unescaped ]]> outside a CDATA section")
		case c == '&':
			if out == nil {
				out = append([]byte(nil), s.b[start:s.i]...)
			}
			var err error
			if out, err = s.reference(out); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case c == '\r':
			if out == nil {
				out = append([]byte(nil), s.b[start:s.i]...)
			}
			out = append(out, '\n')
			s.i++
			if s.peek() == '\n' {
				s.i++
			}
			continue
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, malformed("invalid UTF-8")
			}
			if !isXMLChar(r) {
				return nil, malformed("illegal character %U", r)
			}
			if out != nil {
				out = append(out, s.b[s.i:s.i+size]...)
			}
			s.i += size
			continue
		case c < 0x20 && c != '\t' && c != '\n':
			return nil, malformed("illegal character %U", rune(c))
		}
		if out != nil {
			out = append(out, c)
		}
		s.i++
	}
	switch {
	case cdata:
		return nil, s.eof("a CDATA section")
	case q != 0:
		return nil, s.eof("an attribute value")
	}
	return s.result(out, start), nil
}

// result is the text read since start: the body's bytes, or out.
func (s *xmlScanner) result(out []byte, start int) []byte {
	if out == nil {
		return s.b[start:s.i]
	}
	return out
}

// maxReferenceBytes bounds a character or entity reference, leading
// zeros included.
const maxReferenceBytes = 64

// reference resolves the reference at s.i ('&') and appends its character.
func (s *xmlScanner) reference(out []byte) ([]byte, error) {
	// A reference is short ("&#x10FFFF;"); looking further for its ';'
	// would make a body of lone '&'s quadratic.
	window := s.b[s.i:min(len(s.b), s.i+maxReferenceBytes)]
	end := bytes.IndexByte(window, ';')
	if end < 0 {
		return nil, malformed("an entity reference without a semicolon")
	}
	ref := s.b[s.i+1 : s.i+end]
	s.i += end + 1
	switch string(ref) {
	case "lt":
		return append(out, '<'), nil
	case "gt":
		return append(out, '>'), nil
	case "amp":
		return append(out, '&'), nil
	case "apos":
		return append(out, '\''), nil
	case "quot":
		return append(out, '"'), nil
	}
	if len(ref) < 2 || ref[0] != '#' {
		return nil, malformed("undefined entity &%s;", string(ref))
	}
	digits, base := ref[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || len(digits) == 0 {
		return nil, malformed("invalid character reference &%s;", string(ref))
	}
	if n > utf8.MaxRune || !isXMLChar(rune(n)) {
		return nil, malformed("character reference &%s; names illegal character U+%04X", string(ref), n)
	}
	return utf8.AppendRune(out, rune(n)), nil
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
