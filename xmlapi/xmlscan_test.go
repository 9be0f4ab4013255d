package xmlapi

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseXMLAgainstEncodingXML holds the scanner to encoding/xml: a
// document it accepts, encoding/xml accepts too and both build the same
// tree. It may refuse more, only where XML 1.0 does and encoding/xml is
// lenient (stricterThanEncodingXML).
func FuzzParseXMLAgainstEncodingXML(f *testing.F) {
	for _, s := range samples(f) {
		if !s.json {
			f.Add(s.body)
		}
	}
	// The hostile inputs and past crashers of the XML targets.
	stored, err := filepath.Glob(filepath.Join("testdata", "fuzz", "Fuzz*", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range stored {
		if strings.Contains(file, "JSON") || strings.Contains(file, "AgainstEncodingXML") {
			continue
		}
		if body, ok := corpusBytes(f, file); ok {
			f.Add(body)
		}
	}
	for _, doc := range scannerEdgeCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseXML(body)
		want, oracleErr := parseWithEncodingXML(body)
		switch {
		case err == nil && oracleErr != nil:
			t.Fatalf("the scanner accepts what encoding/xml refuses (%v):\n%q", oracleErr, body)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("trees differ for %q:\nscanner:\n%s\nencoding/xml:\n%s", body, got.Canonical(), want.Canonical())
		case err != nil && oracleErr == nil && !stricterThanEncodingXML(body, err):
			t.Fatalf("the scanner refuses (%v) what encoding/xml accepts:\n%q", err, body)
		}
	})
}

// stricterThanEncodingXML says whether the scanner refused body, which
// encoding/xml accepts, for one of the reasons it is meant to be stricter:
// a name outside ASCII (a namespace prefix, a PI target, an xmlns
// attribute: every name hostnetd reads is ASCII), a character reference
// to a character XML forbids (encoding/xml turns a surrogate into
// U+FFFD), or one padded with zeros beyond maxReferenceBytes.
func stricterThanEncodingXML(body []byte, err error) bool {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "hostnetd reads") || strings.Contains(msg, "hostnetd does not read"):
		return bytes.ContainsFunc(body, func(r rune) bool { return r >= 0x80 })
	case strings.Contains(msg, "names illegal character U+D"):
		return true
	case strings.Contains(msg, "without a semicolon"):
		return paddedReference.Match(body)
	}
	return false
}

var paddedReference = regexp.MustCompile(`&#x?0{` + strconv.Itoa(maxReferenceBytes-8) + `,}`)

// scannerEdgeCases are documents at the corners of the grammar.
var scannerEdgeCases = []string{
	`<?xml version="1.0" encoding="utf-8"?><a/>`,
	`<?xml version='1.0' encoding='UTF-8' standalone='yes'?><a/>`,
	`<?xml version="1.1"?><a/>`,
	`<?xml?><a/>`,
	`<?pi ??><a/>`,
	`<a><?pi x?>t</a>`,
	`<!----><a/>`,
	`<!-- a --- --><a/>`,
	`<!-- a -- b --><a/>`,
	`<!--- --><a/>`,
	`<a><![CDATA[<b>&amp;]]]]></a>`,
	`<a><![CDATA[x]]>y<![CDATA[]]></a>`,
	`<a><![CDATA[x]></a>`,
	`<a>x]]>y</a>`,
	`<a b="]]>"/>`,
	`<a b="<"/>`,
	`<a b='x"y' c="x'y"/>`,
	`<a b="1"c="2"/>`,
	`<a b = "1" />`,
	`<a b=1/>`,
	`<a b/>`,
	"<a b=\"x\ry\r\nz\"/>",
	"<a>x\r\ny\rz\n\r</a>",
	"<a>\r&amp;\n</a>",
	`<a>&lt;&gt;&amp;&apos;&quot;</a>`,
	`<a>&#65;&#x41;&#x0041;&#X41;</a>`,
	`<a>&#0;</a>`,
	`<a>&#xD800;</a>`,
	`<a>&#x110000;</a>`,
	`<a>&#;&#x;</a>`,
	`<a>&#1_0;</a>`,
	`<a>&#+1;</a>`,
	`<a>&lt</a>`,
	`<a>&lt ;</a>`,
	`<a>&unknown;</a>`,
	`<a>&&&&&&&&</a>`,
	`<a>&#x0000000000000000000000000000000000000000041;</a>`,
	`<a>&#x00000000000000000000000000000000000000000000000000000000000000000041;</a>`,
	`<p:a xmlns:p="u"><p:b>x</p:b></p:a>`,
	`<p:a><q:a/></p:a>`,
	`<p:a></a>`,
	`<a></p:a>`,
	`<a:b:c/>`,
	`<:a/>`,
	`<a:/>`,
	`<a xmlns="u" xmlns:p="v" p:id="1"/>`,
	`<a xmlns:é="u"/>`,
	`<é:a/>`,
	`<a é="1"/>`,
	`<a><b/>x</a>`,
	`<a> <b/> </a>`,
	"<a>\u00a0<b/></a>",
	"\u00a0<a/>\u0085",
	"\ufeff<a/>",
	`<a/><!-- after --><?pi?> `,
	`<a/><b/>`,
	`<a></a>`,
	`<a>`,
	`<a`,
	`<`,
	`</a>`,
	`<a></a `,
	`<a></a x>`,
	`<!DOCTYPE a><a/>`,
	`<!doctype><a/>`,
	`<!><a/>`,
	`<!-x><a/>`,
	`<![CDAT[x]]><a/>`,
	"<a>\x00</a>",
	"<a>\xff</a>",
	"<a>\xed\xa0\x80</a>",
	"<a>\uFFFE</a>",
	"<a b=\"\x01\"/>",
	"<a\x00/>",
	"<a>\t\n</a>",
}

// corpusBytes reads the []byte argument of a stored fuzz input
// ("go test fuzz v1" followed by one []byte("…") line).
func corpusBytes(f *testing.F, file string) ([]byte, bool) {
	f.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") {
		return nil, false
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		f.Fatalf("%s: %v", file, err)
	}
	return []byte(s), true
}

// BenchmarkParseXML compares the scanner with the encoding/xml parser it
// replaced on the setupnetworks of the scale benchmark (docs/performance.md):
// a bond and N VLAN networks with static addresses.
func BenchmarkParseXML(b *testing.B) {
	for _, n := range []int{100, 1000} {
		body := scaleRequest(n)
		for _, p := range []struct {
			name  string
			parse func([]byte) (*Node, error)
		}{{"scanner", ParseXML}, {"encoding-xml", parseWithEncodingXML}} {
			b.Run(fmt.Sprintf("N=%d/%s", n, p.name), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.parse(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func scaleRequest(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<action><modified_bonds><host_nic><name>bond0</name><bonding><options>` +
		`<option><name>mode</name><value>4</value></option><option><name>miimon</name><value>100</value></option></options><slaves>` +
		`<host_nic><name>eth0</name></host_nic><host_nic><name>eth1</name></host_nic></slaves></bonding></host_nic></modified_bonds><modified_network_attachments>`)
	for i := range n {
		fmt.Fprintf(&b, `<network_attachment><network><name>net%04d</name></network><host_nic><name>bond0</name></host_nic>`+
			`<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>`+
			`<ip><address>10.%d.%d.1</address><netmask>255.255.255.0</netmask><version>v4</version></ip>`+
			`</ip_address_assignment></ip_address_assignments></network_attachment>`, i, i/250, i%250)
	}
	b.WriteString(`</modified_network_attachments><commit_on_success>true</commit_on_success></action>`)
	return b.Bytes()
}

// TestParseXMLSlabIsBoundedForAHostileBody: the scanner sizes its slab
// from the body's '<'s, but a body of them, refused at once, must not get
// memory in proportion once its first element is read (a Node is 96
// bytes: 48 MB for 1 MiB).
func TestParseXMLSlabIsBoundedForAHostileBody(t *testing.T) {
	body := append([]byte("<a>"), bytes.Repeat([]byte{'<'}, 1<<20)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := ParseXML(body); err == nil {
		t.Fatal("a body of '<' parsed")
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Errorf("refusing a 1 MiB body of '<' allocated %d bytes; want at most 2 MiB", got)
	}
}
