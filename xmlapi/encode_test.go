package xmlapi

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/beevik/etree"

	"github.com/hostnetd/hostnetd/netconf"
)

// marshalEtree is how MarshalXML rendered a tree before it wrote XML
// itself: through an etree document. It is the oracle the direct writer
// must match byte for byte.
func marshalEtree(n *Node) []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8" standalone="yes"`)
	doc.SetRoot(etreeElement(n))
	doc.Indent(2)
	doc.WriteSettings.CanonicalText = true
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func etreeElement(n *Node) *etree.Element {
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
		e.AddChild(etreeElement(c))
	}
	return e
}

func sameAsEtree(t *testing.T, what string, n *Node) {
	t.Helper()
	if got, want := MarshalXML(n), marshalEtree(n); !bytes.Equal(got, want) {
		t.Errorf("%s: MarshalXML differs from etree's rendering:\n got: %q\nwant: %q", what, got, want)
	}
}

// Every document of testdata, parsed and rendered again, and trees with
// what needs escaping, come out as etree wrote them.
func TestMarshalXMLMatchesEtree(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	requests, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.xml"))
	for _, f := range append(files, requests...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := ParseXML(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sameAsEtree(t, f, n)
	}
	tricky := []string{"", " ", "\t\n", "a&b<c>d", `"quoted" 'single'`, "cr\r\nlf", "\x00\x01bad", "\xff\xfeinvalid", "é ü \u2028 \U0001F600", "]]>"}
	for _, s := range tricky {
		sameAsEtree(t, "text "+s, Elem("root", Text("t", s), Elem("e")))
		sameAsEtree(t, "attribute "+s, &Node{Name: "root", Attrs: []Attr{{Name: "a", Value: s}}, Text: s})
	}
	sameAsEtree(t, "repeated attributes", &Node{Name: "r", Attrs: []Attr{{Name: "id", Value: "1"}, {Name: "x", Value: "2"}, {Name: "id", Value: "3"}}})
	sameAsEtree(t, "prefixed names", &Node{Name: "ns:r", Attrs: []Attr{{Name: "xmlns:ns", Value: "u"}, {Name: ":odd", Value: "1"}},
		Children: []*Node{{Name: ":local", Text: "x"}, {Name: "a:b:c"}}})
	sameAsEtree(t, "text beside children", &Node{Name: "r", Text: "dropped", Children: []*Node{Elem("c", Elem("d", Text("e", "f")))}})
}

// FuzzMarshalXML renders whatever the parser accepts, and any text, both
// ways.
func FuzzMarshalXML(f *testing.F) {
	f.Add([]byte(`<action><a id="x&amp;y">t&lt;</a><b/></action>`), "text\r\"'")
	f.Add([]byte(`<r xmlns:p="u"><p:c p:a="1"> </p:c></r>`), "\xff")
	f.Fuzz(func(t *testing.T, doc []byte, text string) {
		if n, err := ParseXML(doc); err == nil {
			sameAsEtree(t, "parsed", n)
		}
		sameAsEtree(t, "text", &Node{Name: "r", Attrs: []Attr{{Name: "a", Value: text}}, Children: []*Node{{Name: "t", Text: text}}})
	})
}

// TestXMLSizeIsExactWithoutEscapes: the size MarshalXML reserves is the
// size it writes when nothing is escaped, so the buffer grows once.
func TestXMLSizeIsExactWithoutEscapes(t *testing.T) {
	doc := Elem("host_nics")
	for i := range 50 {
		nic := Elem("host_nic", Text("name", "eth"+strconv.Itoa(i)), Elem("ip", Text("address", "192.0.2.1")), Elem("empty"))
		nic.Attrs = append(nic.Attrs, Attr{Name: "id", Value: "id-" + strconv.Itoa(i)})
		doc.Add(nic)
	}
	const prolog = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	if got, want := len(MarshalXML(doc)), len(prolog)+xmlSize(doc, 1)+1; got != want {
		t.Errorf("MarshalXML wrote %d bytes; xmlSize said %d", got, want)
	}
}

// writeCounter records the writes it is given.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestWriteXMLIsMarshalXMLInParts checks that the streamed answer is
// MarshalXML's, byte for byte, written in parts of about xmlFlushSize.
func TestWriteXMLIsMarshalXMLInParts(t *testing.T) {
	st, c := scaleState(300)
	links := make([]*netconf.Link, 0, len(st.Links))
	for i := range st.Links {
		links = append(links, &st.Links[i])
	}
	doc := HostNics(c, st, links)
	want := MarshalXML(doc)
	var w writeCounter
	if err := WriteXML(&w, doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("WriteXML wrote %d bytes that differ from MarshalXML's %d", w.Len(), len(want))
	}
	if min := len(want) / (2 * xmlFlushSize); w.writes < min {
		t.Errorf("WriteXML wrote %d bytes in %d writes; want at least %d", len(want), w.writes, min)
	}
	t.Logf("%d bytes in %d writes", len(want), w.writes)
}

// TestWriteStringIsEncodingJSON checks writeString's shortcut for plain
// strings against encoding/json, byte by byte and on a few strings.
func TestWriteStringIsEncodingJSON(t *testing.T) {
	cases := []string{"", "bond0.100", "/ovirt-engine/api/hosts/h/nics/x", "a\"b", `a\b`, "<&>", "é", "\u2028", "\xff", "\x7f\x1f\t\n"}
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		var buf bytes.Buffer
		writeString(&buf, s)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("writeString(%q) = %s; encoding/json writes %s", s, buf.Bytes(), want)
		}
	}
}
