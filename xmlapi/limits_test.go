package xmlapi

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// nested is depth elements <a> nested in each other.
func nested(depth int) string {
	return strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth)
}

// flat is a root with n-1 empty children: n elements in all.
func flat(n int) string { return "<action>" + strings.Repeat("<a/>", n-1) + "</action>" }

// withAttrs is an element with n attributes.
func withAttrs(n int) string {
	var b strings.Builder
	b.WriteString("<network")
	for i := range n {
		b.WriteString(" a" + strconv.Itoa(i) + `="x"`)
	}
	b.WriteString("/>")
	return b.String()
}

// jsonNested is depth JSON objects nested in each other.
func jsonNested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
}

// jsonFlat is an object with n-1 values in an array: n values in all.
func jsonFlat(n int) string {
	return `{"a":[` + strings.TrimSuffix(strings.Repeat("1,", n-1), ",") + `]}`
}

// Each limit is tested at its value (accepted) and one past it (refused).
func TestParseXMLLimits(t *testing.T) {
	tests := []struct {
		name     string
		ok, over string
		want     string
	}{
		{"depth", nested(MaxDepth), nested(MaxDepth + 1), "deeper than"},
		{"elements", flat(MaxElements), flat(MaxElements + 1), "more than"},
		{"attributes", withAttrs(MaxAttrs), withAttrs(MaxAttrs + 1), "attributes"},
		{"attribute-value", `<network id="` + strings.Repeat("x", MaxAttrBytes) + `"/>`,
			`<network id="` + strings.Repeat("x", MaxAttrBytes+1) + `"/>`, "longer than"},
		{"text", "<name>" + strings.Repeat("x", MaxTextBytes) + "</name>",
			"<name>" + strings.Repeat("x", MaxTextBytes+1) + "</name>", "longer than"},
		{"text-in-pieces", "<name>" + strings.Repeat("x&amp;", MaxTextBytes/2) + "</name>",
			"<name>" + strings.Repeat("x&amp;", MaxTextBytes/2) + "x</name>", "longer than"},
		{"element-name", "<" + strings.Repeat("n", MaxNameBytes) + "/>", "<" + strings.Repeat("n", MaxNameBytes+1) + "/>", "name longer"},
		{"attribute-name", "<network " + strings.Repeat("n", MaxNameBytes) + `="1"/>`,
			"<network " + strings.Repeat("n", MaxNameBytes+1) + `="1"/>`, "name longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseXML([]byte(tt.ok)); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			_, err := ParseXML([]byte(tt.over))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("over the limit: err = %v; want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseXMLRefusesHostileDocuments(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"entity-declaration", `<!ENTITY x "y"><action/>`, "<!ENTITY>"},
		{"doctype-inside", `<action><!DOCTYPE x></action>`, "<!DOCTYPE>"},
		{"external-entity", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><action>&e;</action>`, "<!DOCTYPE>"},
		{"billion-laughs", `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><action>&b;</action>`, "<!DOCTYPE>"},
		{"second-root", `<action/><action/>`, "after the root"},
		{"text-after-root", `<action/>garbage`, "outside the root"},
		{"text-before-root", `garbage<action/>`, "outside the root"},
		{"mixed-content", `<host_nic>x<name>bond0</name></host_nic>`, "mixes text"},
		{"mixed-content-after", `<host_nic><name>bond0</name>x</host_nic>`, "mixes text"},
		{"duplicated-attribute", `<network id="a" id="b"/>`, "twice"},
		{"prefixed-duplicate", `<network xmlns:x="u" id="a" x:id="b"/>`, "twice"},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><action/>`, "ISO-8859-1"},
		{"control-character", "<action>\x01</action>", "illegal character"},
		{"control-character-reference", "<action>&#1;</action>", "illegal character"},
		{"mismatched", `<action></network>`, "closed by"},
		{"unclosed", `<action><name>x</name>`, "unexpected"},
		{"stray-end", `</action>`, "unexpected"},
		{"empty-attribute-name", `<o:action :=""></o:action>`, "does not read"},
		{"empty-element-name", `<a:>x</a:>`, "not one hostnetd reads"},
		{"attribute-name-a-digit", `<o:network xmlNs:0="00000"/>`, "does not read"},
		{"non-ascii-element-name", `<action><é/></action>`, "not one hostnetd reads"},
		{"whitespace-only", " \n ", "no root"},
		{"comment-only", "<!-- x -->", "no root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseXML([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseXML = %v, %v; want ErrMalformed mentioning %q", n, err, tt.want)
			}
		})
	}
}

func TestParseXMLAccepts(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"bom", "\ufeff<action/>", "action\n"},
		{"prolog-comments-pi", `<?xml version="1.0" encoding="utf-8"?><!-- c --><action><?pi x?><!-- c --></action><!-- c -->`, "action\n"},
		{"cdata", `<name><![CDATA[ a<b ]]></name>`, "name = a<b\n"},
		{"text-around-a-comment", `<name>ab<!-- c -->cd</name>`, "name = abcd\n"},
		{"namespace", `<o:action xmlns:o="urn:x"><o:async>true</o:async></o:action>`, "action\n  async = true\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseXML([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Canonical(); got != tt.want {
				t.Errorf("tree:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestParseJSONLimits(t *testing.T) {
	tests := []struct {
		name     string
		ok, over string
		want     string
	}{
		{"depth", jsonNested(MaxDepth), jsonNested(MaxDepth + 1), "deeper than"},
		{"values", jsonFlat(MaxElements), jsonFlat(MaxElements + 1), "more than"},
		{"string", `{"name":"` + strings.Repeat("x", MaxTextBytes) + `"}`, `{"name":"` + strings.Repeat("x", MaxTextBytes+1) + `"}`, "longer than"},
		{"number", `{"mtu":` + strings.Repeat("9", MaxTextBytes) + `}`, `{"mtu":` + strings.Repeat("9", MaxTextBytes+1) + `}`, "longer than"},
		{"id", `{"id":"` + strings.Repeat("x", MaxAttrBytes) + `"}`, `{"id":"` + strings.Repeat("x", MaxAttrBytes+1) + `"}`, "longer than"},
		{"field-name", `{"` + strings.Repeat("n", MaxNameBytes) + `":1}`, `{"` + strings.Repeat("n", MaxNameBytes+1) + `":1}`, "not a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseJSON([]byte(tt.ok), "action"); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			_, err := ParseJSON([]byte(tt.over), "action")
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("over the limit: err = %v; want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseJSONRefusesHostileDocuments(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"duplicated-field", `{"name":"a","name":"b"}`, "twice"},
		{"field-not-a-name", `{"link":{"a b":1}}`, "not a name"},
		{"empty-field-name", `{"":1}`, "not a name"},
		{"control-character", `{"description":"a\u0001b"}`, "U+0001"},
		{"nul", `{"name":"\u0000"}`, "U+0000"},
		{"nested-array", `{"a":[[1]]}`, "unexpected array"},
		{"array-root", `[1,2]`, "not a JSON object"},
		{"two-values", `{"a":1} {"b":2}`, "after the JSON value"},
		{"truncated", `{"a":{"b":1}`, "unexpected end"},
		{"object-id", `{"id":{"x":1}}`, "string or a number"},
		{"bool-id", `{"id":true}`, "string or a number"},
		{"not-json", `<action/>`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseJSON([]byte(tt.body), "action")
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseJSON = %v, %v; want ErrMalformed mentioning %q", n, err, tt.want)
			}
		})
	}
}

// TestParseJSONKeepsNameOrder checks that fields are taken in name order,
// whatever order the sender wrote them in.
func TestParseJSONKeepsNameOrder(t *testing.T) {
	a, err := ParseJSON([]byte(`{"rel":"r","id":"x","b":[1,2],"a":null}`), "action")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseJSON([]byte("\ufeff"+`{"a":null,"b":[1,2],"id":"x","rel":"r"}`), "action")
	if err != nil {
		t.Fatal(err)
	}
	if string(MarshalJSON(a)) != string(MarshalJSON(b)) || a.Children[0].Name != "a" || a.Attrs[0].Name != "id" {
		t.Errorf("field order depends on the sender:\n%s\n%s", MarshalJSON(a), MarshalJSON(b))
	}
}
