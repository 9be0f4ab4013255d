//go:build !vmtest

package integration

import (
	"iter"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The cases of the bad-input catalogue (catalogue_test.go), generated
// family by family: every body-level hazard on every write endpoint; every
// numeric field with text, negative, huge, fractional and empty values;
// every interface-name field with hostile names; the addressing, bond,
// property and name-server rules; duplicated and empty elements; ids and
// names that disagree; wrong paths and methods. Setupnetworks cases run in
// both dialects, and most have a JSON twin.

// Fault codes of the HTTP layer (agent/fault.go).
const (
	cMalformed = "MALFORMED_REQUEST"
	cInvalid   = "INVALID_VALUE"
)

func catAttachment(netID, nic, ips string) string {
	s := `<network_attachment><network id="` + netID + `"/>`
	if nic != "" {
		s += `<host_nic><name>` + nic + `</name></host_nic>`
	}
	if ips != "" {
		s += `<ip_address_assignments>` + ips + `</ip_address_assignments>`
	}
	return s + `</network_attachment>`
}

func catStatic(addr, mask, gw string) string { return ipAssignmentXML("static", "v4", addr, mask, gw) }

// catDialect writes setupnetworks in the v4 or the design page's form.
type catDialect struct {
	name  string
	path  string // the setupnetworks path
	bonds string // the list of modified bonds
	atts  string // the list of modified attachments
	agg   string // the bond's bonding element
}

func (d catDialect) action(inner ...string) string {
	return `<action>` + strings.Join(inner, "") + `</action>`
}

func (d catDialect) modified(atts ...string) string {
	return d.action(`<` + d.atts + `>` + strings.Join(atts, "") + `</` + d.atts + `>`)
}

func (d catDialect) bondList(bonds ...string) string {
	return `<` + d.bonds + `>` + strings.Join(bonds, "") + `</` + d.bonds + `>`
}

// bond is a bond element in the dialect's form (see bondXML).
func (d catDialect) bond(name, options string, slaves ...string) string {
	return bondXML(d.agg, name, options, slaves...)
}

// static is a static IPv4 assignment in the dialect's form, for use
// inside an attachment.
func (d catDialect) static(addr, mask, gw string) string {
	if d.name == "v4" {
		return `<ip_address_assignments>` + catStatic(addr, mask, gw) + `</ip_address_assignments>`
	}
	s := `<ip_configuration><ipv4s><ipv4><boot_protocol>static</boot_protocol>`
	for _, f := range [][2]string{{"address", addr}, {"netmask", mask}, {"gateway", gw}} {
		if f[1] != "" {
			s += `<` + f[0] + `>` + f[1] + `</` + f[0] + `>`
		}
	}
	return s + `</ipv4></ipv4s></ip_configuration>`
}

// att is an attachment of a network (by id) to a NIC (by name), with
// extra inner elements.
func att(netID, nic string, inner ...string) string {
	s := `<network_attachment>`
	if netID != "" {
		s += `<network id="` + netID + `"/>`
	}
	if nic != "" {
		s += `<host_nic><name>` + nic + `</name></host_nic>`
	}
	return s + strings.Join(inner, "") + `</network_attachment>`
}

func attID(id string, inner ...string) string {
	return `<network_attachment id="` + id + `">` + strings.Join(inner, "") + `</network_attachment>`
}

// tagOf is the name of the first element in s.
func tagOf(s string) string {
	s = strings.TrimPrefix(s, "<")
	return s[:strings.IndexAny(s, " />")]
}

func bridgeOpts(v string) string {
	return `<properties><property><name>bridge_opts</name><value>` + v + `</value></property></properties>`
}

func nameServers(s ...string) string {
	out := `<dns_resolver_configuration><name_servers>`
	for _, x := range s {
		out += `<name_server>` + x + `</name_server>`
	}
	return out + `</name_servers></dns_resolver_configuration>`
}

// Values a numeric field must refuse.
var badNumbers = map[string]string{
	"text": "abc", "negative": "-1", "huge": "99999999999999999999", "fraction": "1.5", "hex": "0x10", "exponent": "1e3",
}

// Interface names no request may use (the kernel's rules, loopback, and
// devices that are not NICs).
var badNICNames = map[string]string{
	"slash": "eth0/..", "dotdot": "..", "space": "eth 2", "tab": "eth\t2", "non-ascii": "ethé",
	"sixteen-bytes": "eth0123456789abc", "loopback": "lo", "unmanaged-bridge": "br9", "managed-bridge": "net_a", "missing": "missing0",
}

// inOrder iterates a map in the order of its keys: the catalogue must list
// its cases in the same order every time it is built.
func inOrder(m map[string]string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

func catalogue(h *catHost) []badCase {
	host := h.ag.HostPath()
	const networks = "/ovirt-engine/api/networks"
	eth0, eth2 := h.nicID["eth0"], h.nicID["eth2"]
	var out []badCase
	add := func(name, method, path, body string, status int, code string) {
		out = append(out, badCase{name: name, method: method, path: path, body: body, status: status, code: code})
	}
	// addJSON adds the case and its JSON twin.
	addJSON := func(name, method, path, body string, status int, code string) {
		add(name, method, path, body, status, code)
		out = append(out, badCase{name: name + "/json", method: method, path: path, body: jsonTwin(body), ctype: "application/json", status: status, code: code})
	}
	dialects := []catDialect{
		{name: "v4", path: host + "/setupnetworks", bonds: "modified_bonds", atts: "modified_network_attachments", agg: "bonding"},
		{name: "design", path: "/api/hosts/" + h.ag.HostID() + "/setupnetworks", bonds: "bonds", atts: "network_attachments", agg: "link_aggregation"},
	}

	// 1. Body-level hazards on every write endpoint that takes a body.
	endpoints := []struct{ name, method, path, root string }{
		{"setupnetworks", http.MethodPost, host + "/setupnetworks", "action"},
		{"setupnetworks-design", http.MethodPost, dialects[1].path, "action"},
		{"post-network", http.MethodPost, networks, "network"},
		{"put-network", http.MethodPut, networks + "/" + catFree, "network"},
		{"post-attachment", http.MethodPost, host + "/networkattachments", "network_attachment"},
		{"post-nic-attachment", http.MethodPost, host + "/nics/" + eth2 + "/networkattachments", "network_attachment"},
		{"put-attachment", http.MethodPut, host + "/networkattachments/" + h.attA, "network_attachment"},
		{"put-nic-attachment", http.MethodPut, host + "/nics/" + eth0 + "/networkattachments/" + h.attA, "network_attachment"},
		{"post-bond", http.MethodPost, host + "/nics", "host_nic"},
	}
	for _, ep := range endpoints {
		r := ep.root
		other := "action"
		if r == "action" {
			other = "network"
		}
		attrs := ""
		for i := range 17 {
			attrs += ` a` + strconv.Itoa(i) + `="x"`
		}
		syntax := []struct {
			name, body, ctype string
			status            int
			code              string
		}{
			{"empty-body", "", "", 400, cMalformed},
			{"whitespace-body", " \n\t", "", 400, cMalformed},
			{"not-well-formed", `<` + r + `><name>x</` + r + `>`, "", 400, cMalformed},
			{"unclosed", `<` + r + `><name>x</name>`, "", 400, cMalformed},
			{"doctype-entity", `<!DOCTYPE ` + r + ` [<!ENTITY a "b">]><` + r + `>&a;</` + r + `>`, "", 400, cMalformed},
			{"billion-laughs", `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><` + r + `>&c;</` + r + `>`, "", 400, cMalformed},
			{"external-entity", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><` + r + `><name>&e;</name></` + r + `>`, "", 400, cMalformed},
			{"undefined-entity", `<` + r + `><name>&boom;</name></` + r + `>`, "", 400, cMalformed},
			{"entity-inside", `<` + r + `><!ENTITY x "y"></` + r + `>`, "", 400, cMalformed},
			{"too-deep", `<` + r + `>` + strings.Repeat("<a>", 32) + strings.Repeat("</a>", 32) + `</` + r + `>`, "", 400, cMalformed},
			{"too-many-elements", `<` + r + `>` + strings.Repeat("<a/>", 50_000) + `</` + r + `>`, "", 400, cMalformed},
			{"too-many-attributes", `<` + r + attrs + `/>`, "", 400, cMalformed},
			{"attribute-too-long", `<` + r + ` id="` + strings.Repeat("x", 1025) + `"/>`, "", 400, cMalformed},
			{"text-too-long", `<` + r + `><name>` + strings.Repeat("x", 16<<10+1) + `</name></` + r + `>`, "", 400, cMalformed},
			{"name-too-long", `<` + r + `><` + strings.Repeat("n", 129) + `/></` + r + `>`, "", 400, cMalformed},
			{"second-root", `<` + r + `/><` + r + `/>`, "", 400, cMalformed},
			{"text-after-root", `<` + r + `/>garbage`, "", 400, cMalformed},
			{"mixed-content", `<` + r + `>x<name>y</name></` + r + `>`, "", 400, cMalformed},
			{"duplicated-attribute", `<` + r + ` id="a" id="b"/>`, "", 400, cMalformed},
			{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><` + r + `/>`, "", 400, cMalformed},
			{"control-character", `<` + r + `><name>&#1;</name></` + r + `>`, "", 400, cMalformed},
			{"empty-attribute-name", `<` + r + ` :="x"/>`, "", 400, cMalformed},
			{"json-sent-as-xml", `{"name":"x"}`, "", 400, cMalformed},
			{"xml-sent-as-json", `<` + r + `/>`, "application/json", 400, cMalformed},
			{"json-duplicated-field", `{"name":"a","name":"b"}`, "application/json", 400, cMalformed},
			{"json-field-not-a-name", `{"link":{"a b":1}}`, "application/json", 400, cMalformed},
			{"json-control-character", `{"name":"a\u0001"}`, "application/json", 400, cMalformed},
			{"json-nested-array", `{"name":[["x"]]}`, "application/json", 400, cMalformed},
			{"json-array-body", `[{"name":"x"}]`, "application/json", 400, cMalformed},
			{"json-truncated", `{"name":"x"`, "application/json", 400, cMalformed},
			{"json-too-deep", strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33), "application/json", 400, cMalformed},
			{"json-object-id", `{"id":{"x":1}}`, "application/json", 400, cMalformed},
			{"wrong-root", `<frobnicate/>`, "", 400, cInvalid},
			{"root-of-another-body", `<` + other + `/>`, "", 400, cInvalid},
			{"text-plain", `<` + r + `/>`, "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"broken-content-type", `<` + r + `/>`, "application/", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"form-data", "name=x&mtu=1500", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"body-too-large", `<` + r + `>` + strings.Repeat(" ", 1<<20) + `</` + r + `>`, "", 413, "REQUEST_BODY_TOO_LARGE"},
		}
		for _, s := range syntax {
			out = append(out, badCase{name: ep.name + "/" + s.name, method: ep.method, path: ep.path, body: s.body, ctype: s.ctype, status: s.status, code: s.code})
		}
	}

	// 2. The network catalogue.
	post := func(name, inner string, status int, code string) {
		addJSON("network/"+name, http.MethodPost, networks, `<network>`+inner+`</network>`, status, code)
	}
	put := func(name, id, inner string, status int, code string) {
		addJSON("network-put/"+name, http.MethodPut, networks+"/"+id, `<network>`+inner+`</network>`, status, code)
	}
	for kind, v := range inOrder(badNumbers) {
		post("mtu-"+kind, `<name>n1</name><mtu>`+v+`</mtu>`, 400, "MTU_VALUE_INVALID")
		put("mtu-"+kind, catFree, `<mtu>`+v+`</mtu>`, 400, "MTU_VALUE_INVALID")
		post("vlan-"+kind, `<name>n1</name><vlan id="`+v+`"/>`, 400, "NETWORK_VLAN_OUT_OF_RANGE")
		put("vlan-"+kind, catFree, `<vlan id="`+v+`"/>`, 400, "NETWORK_VLAN_OUT_OF_RANGE")
	}
	for _, v := range []string{"67", "70000", "", "1500 1500"} {
		post("mtu-"+v, `<name>n1</name><mtu>`+v+`</mtu>`, 400, "MTU_VALUE_INVALID")
	}
	for _, v := range []string{"4095", "4096"} {
		post("vlan-"+v, `<name>n1</name><vlan id="`+v+`"/>`, 400, "NETWORK_VLAN_OUT_OF_RANGE")
		put("vlan-"+v, catFree, `<vlan id="`+v+`"/>`, 400, "NETWORK_VLAN_OUT_OF_RANGE")
	}
	for _, v := range []string{"maybe", "1", "yes", ""} {
		post("stp-"+v, `<name>n1</name><stp>`+v+`</stp>`, 400, "BAD_PARAMS_STP")
	}
	for _, v := range []string{"frobnicate", ""} {
		post("usage-"+v, `<name>n1</name><usages><usage>`+v+`</usage></usages>`, 400, "BAD_PARAMS_NETWORK_USAGE")
	}
	for kind, v := range inOrder(map[string]string{
		"slash": "a/b", "dotdot": "..", "dot": ".", "space": "a b", "tab": "a\tb", "non-ascii": "netzé",
		"sixteen-bytes": strings.Repeat("n", 16), "leading-dash": "-n", "colon": "a:b", "with-dot": "a.b", "empty": "",
	}) {
		post("name-"+kind, `<name>`+v+`</name>`, 400, "BAD_BRIDGE_NAME")
	}
	put("name-slash", catFree, `<name>a/b</name>`, 400, "BAD_BRIDGE_NAME")
	put("name-sixteen-bytes", catFree, `<name>`+strings.Repeat("n", 16)+`</name>`, 400, "BAD_BRIDGE_NAME")
	put("attached-vm-network-renamed-like-a-nic", catNetA, `<name>eth3</name>`, 400, "BAD_BRIDGE_NAME")
	put("attached-vm-network-renamed-lo", catNetA, `<name>lo</name>`, 400, "BAD_BRIDGE_NAME")
	post("name-in-use", `<name>net_a</name>`, 409, "NETWORK_NAME_IN_USE")
	put("rename-to-a-used-name", catFree, `<name>vm2</name>`, 409, "NETWORK_NAME_IN_USE")
	addJSON("network/id-in-use", http.MethodPost, networks, `<network id="`+catFree+`"><name>n1</name></network>`, 409, "NETWORK_NAME_IN_USE")
	addJSON("network/id-with-slash", http.MethodPost, networks, `<network id="../../etc"><name>n1</name></network>`, 400, cInvalid)
	post("empty", ``, 400, cInvalid)
	addJSON("network-put/body-id-differs", http.MethodPut, networks+"/"+catFree, `<network id="`+catVM2+`"><name>free</name></network>`, 400, cInvalid)
	for kind, v := range inOrder(map[string]string{"not-an-ip": "not-an-ip", "v4-zone": "192.0.2.53%eth0", "zone-with-newline": "fe80::1%eth0&#10;search evil", "zone-with-space": "fe80::1%a b"}) {
		post("nameserver-"+kind, `<name>n1</name>`+nameServers(v), 400, "BAD_ADDR_NAMESERVER")
	}
	for _, el := range []string{"<name>n1</name>", "<mtu>1500</mtu>", "<stp>false</stp>", `<vlan id="5"/>`, "<description>d</description>", "<usages/>"} {
		tag := tagOf(el)
		post("duplicated-"+tag, `<name>n2</name>`+el+el, 400, cInvalid)
	}
	post("unknown-element", `<name>n1</name><frobnicate/>`, 400, cInvalid)
	post("text-in-vlan", `<name>n1</name><vlan>100</vlan>`, 400, cInvalid)
	post("child-of-a-leaf", `<name><first>n1</first></name>`, 400, cInvalid)
	add("network-delete/attached", http.MethodDelete, networks+"/"+catNetA, "", 409, "NETWORK_IS_ATTACHED")

	// 3. Attachments and action options, in both dialects.
	for _, d := range dialects {
		sn := func(name, body string, status int, code string) {
			addJSON("setupnetworks-"+d.name+"/"+name, http.MethodPost, d.path, body, status, code)
		}
		mod := d.modified
		sn("unknown-network-id", mod(att("nope", "eth2")), 400, "NETWORK_HAVING_ID_NOT_EXISTS")
		sn("unknown-network-name", mod(`<network_attachment><network><name>nope</name></network><host_nic><name>eth2</name></host_nic></network_attachment>`), 400, "NETWORK_HAVING_NAME_NOT_EXISTS")
		sn("network-id-and-name-disagree", mod(`<network_attachment><network id="`+catFree+`"><name>vm2</name></network><host_nic><name>eth2</name></host_nic></network_attachment>`), 400, "NETWORK_ATTACHMENT_REFERENCES_NETWORK_INCOHERENTLY")
		sn("nic-id-and-name-disagree", mod(`<network_attachment><network id="`+catFree+`"/><host_nic id="`+eth2+`"><name>eth3</name></host_nic></network_attachment>`), 400, "NETWORK_ATTACHMENT_REFERENCES_NICS_INCOHERENTLY")
		for kind, nic := range inOrder(badNICNames) {
			sn("nic-"+kind, mod(att(catFree, nic)), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST")
		}
		sn("nic-missing-bond", mod(att(catFree, "bond9")), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST")
		sn("nic-unknown-id", mod(`<network_attachment><network id="`+catFree+`"/><host_nic id="nope"/></network_attachment>`), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST")
		sn("no-nic", mod(att(catFree, "")), 400, "HOST_NETWORK_INTERFACE_DOES_NOT_HAVE_NAME_SET")
		sn("vlan-without-nic", mod(att(catV100, "")), 400, "BAD_VLAN_NO_SOUTHBOUND")
		sn("empty-attachment", mod(`<network_attachment/>`), 400, "NULL_PASSED_AS_NETWORK_ATTACHMENT")
		sn("no-network", mod(att("", "eth2")), 400, "NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET")
		sn("unknown-attachment-id", mod(attID("nope", `<host_nic><name>eth2</name></host_nic>`)), 400, "MODIFIED_NETWORK_ATTACHMENT_DOES_NOT_EXISTS")
		sn("change-attached-network", mod(attID(h.attA, `<network id="`+catFree+`"/>`)), 400, "CANNOT_CHANGE_ATTACHED_NETWORK")
		sn("same-network-twice", mod(att(catFree, "eth2"), att(catFree, "eth3")), 400, "ACTION_TYPE_FAILED_NETWORK_ATTACHMENTS_REFERENCES_SAME_NETWORK_DUPLICATELY")
		sn("network-attached-twice", mod(att(catNetA, "eth2"), attID(h.attA, `<host_nic><name>eth3</name></host_nic>`)), 400, "ACTION_TYPE_FAILED_NETWORK_ATTACHMENTS_REFERENCES_SAME_NETWORK_DUPLICATELY")
		sn("two-untagged", mod(att(catFree, "eth0")), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK")
		sn("two-untagged-in-request", mod(att(catFree, "eth2"), att(catVM2, "eth2")), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK")
		sn("mtu-differences", mod(att(catJumbo, "eth2"), att(catV100, "eth2")), 409, "NETWORK_MTU_DIFFERENCES")
		sn("vm-network-named-like-a-nic", mod(att(catNICNet, "eth2")), 400, "BAD_BRIDGE_NAME")
		sn("two-default-routes", mod(att(catDflt, "eth2", d.static("192.0.2.20", "24", ""))), 400, "BAD_PARAMS_MULTIPLE_DEFAULT_ROUTE")
		if d.name == "v4" {
			sn("default-route-without-address", mod(attID(h.attM, `<ip_address_assignments>`+ipAssignmentXML("none", "v4", "", "", "")+`</ip_address_assignments>`)), 409, "ACTION_TYPE_FAILED_ROLE_NETWORK_HAS_NO_BOOT_PROTOCOL")
		} else {
			sn("default-route-without-address", mod(attID(h.attM, `<ip_configuration><ipv4s><boot_protocol>none</boot_protocol></ipv4s></ip_configuration>`)), 409, "ACTION_TYPE_FAILED_ROLE_NETWORK_HAS_NO_BOOT_PROTOCOL")
		}
		for kind, a := range inOrder(map[string]string{
			"octet-256": "1.2.3.256", "octets-300": "300.1.1.1", "three-octets": "1.2.3", "five-octets": "1.2.3.4.5", "text": "abc",
			"ipv6": "2001:db8::1", "with-prefix": "192.0.2.1/24", "v4-mapped": "::ffff:192.0.2.1", "huge": "99999999999999999999",
		}) {
			sn("address-"+kind, mod(att(catFree, "eth2", d.static(a, "24", ""))), 400, "BAD_ADDR_INVALID")
		}
		for kind, m := range inOrder(map[string]string{
			"non-contiguous": "255.0.255.0", "octet-256": "256.255.0.0", "33": "33", "negative": "-1", "text": "abc",
			"huge": "99999999999999999999", "fraction": "1.5", "hex": "0x18", "ipv6-prefix": "64",
		}) {
			sn("netmask-"+kind, mod(att(catFree, "eth2", d.static("192.0.2.1", m, ""))), 400, "BAD_ADDR_INVALID")
		}
		for kind, gw := range inOrder(map[string]string{
			"word": "gw", "three-octets": "192.0.2", "with-prefix": "192.0.2.1/24", "ipv6": "2001:db8::1", "zone": "192.0.2.1%eth0",
		}) {
			sn("gateway-"+kind, mod(att(catFree, "eth2", d.static("192.0.2.1", "24", gw))), 400, "BAD_ADDR_INVALID")
		}
		sn("static-without-netmask", mod(att(catFree, "eth2", d.static("192.0.2.1", "", ""))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS")
		sn("static-without-address", mod(att(catFree, "eth2", d.static("", "24", ""))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS")
		for _, p := range []string{"hello_time=99", "hello_time=1001", "max_age=599", "max_age=4001", "priority=65536", "vlan_filtering=2",
			"multicast_router=3", "multicast_snooping=2", "group_fwd_mask=1", "group_fwd_mask=4", "group_fwd_mask=65536", "forward_delay=abc",
			"forward_delay=-1", "frobnicate=1", "forward_delay", "ageing_time=4294967296"} {
			sn("bridge-opts-"+p, mod(att(catVM2, "eth2", bridgeOpts(p))), 400, "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT")
		}
		sn("bridge-opts-on-non-vm-network", mod(att(catFree, "eth2", bridgeOpts("priority=1"))), 400, "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT")
		sn("unknown-property", mod(att(catVM2, "eth2", `<properties><property><name>frobnicate</name><value>1</value></property></properties>`)), 400, "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT")
		sn("duplicated-property", mod(att(catVM2, "eth2", `<properties><property><name>bridge_opts</name><value>priority=1</value></property><property><name>bridge_opts</name><value>priority=2</value></property></properties>`)), 400, cInvalid)
		for kind, v := range inOrder(map[string]string{"not-an-ip": "not-an-ip", "v4-zone": "192.0.2.53%eth0", "zone-with-newline": "fe80::1%eth0&#10;search evil", "zone-with-space": "fe80::1%a b"}) {
			sn("nameserver-"+kind, mod(attID(h.attM, nameServers(v))), 400, "BAD_ADDR_NAMESERVER")
		}
		sn("nameservers-not-default-route", mod(att(catFree, "eth2", d.static("192.0.2.1", "24", ""), nameServers("192.0.2.53"))), 400, "BAD_PARAMS_NAMESERVERS_NOT_DEFAULT_ROUTE")
		for kind, v := range inOrder(badNumbers) {
			sn("connectivity-timeout-"+kind, d.action(`<connectivity_timeout>`+v+`</connectivity_timeout>`), 400, "VALIDATION_CONNECTIVITY_TIMEOUT_INVALID")
		}
		for _, v := range []string{"0", "121"} {
			sn("connectivity-timeout-"+v, d.action(`<check_connectivity>true</check_connectivity><connectivity_timeout>`+v+`</connectivity_timeout>`), 400, "VALIDATION_CONNECTIVITY_TIMEOUT_INVALID")
		}
		for _, el := range []string{"check_connectivity", "commit_on_success", "async"} {
			for _, v := range []string{"yes", "1", ""} {
				sn(el+"-"+v, d.action(`<`+el+`>`+v+`</`+el+`>`), 400, cInvalid)
			}
			sn("duplicated-"+el, d.action(`<`+el+`>true</`+el+`><`+el+`>true</`+el+`>`), 400, cInvalid)
		}
		sn("duplicated-connectivity-timeout", d.action(`<connectivity_timeout>5</connectivity_timeout><connectivity_timeout>5</connectivity_timeout>`), 400, cInvalid)
		sn("override-maybe", mod(attID(h.attA, `<override_configuration>maybe</override_configuration>`)), 400, cInvalid)
		sn("unknown-action-element", d.action(`<frobnicate/>`), 400, cInvalid)
		sn("text-in-a-list", d.action(`<`+d.atts+`>x</`+d.atts+`>`), 400, cInvalid)
		label := func(id, nic string) string {
			return `<modified_labels><network_label id="` + id + `"><host_nic><name>` + nic + `</name></host_nic></network_label></modified_labels>`
		}
		sn("label-without-nic", d.action(`<modified_labels><network_label id="l"/></modified_labels>`), 400, cInvalid)
		sn("label-without-id", d.action(`<removed_labels><network_label/></removed_labels>`), 400, cInvalid)
		sn("label-bad-format", d.action(label("a-b", "eth2")), 400, "NETWORK_LABEL_FORMAT_INVALID")
		sn("label-unknown-nic", d.action(label("l", "eth9")), 400, "INTERFACE_ON_NIC_LABEL_NOT_EXIST")
		sn("label-twice", d.action(label("l", "eth2")+`<removed_labels><network_label id="l"/></removed_labels>`), 400, "PARAMS_CONTAIN_DUPLICATE_LABELS")
		sn("remove-unknown-label", d.action(`<removed_labels><network_label id="l"/></removed_labels>`), 400, "LABEL_NOT_EXIST_IN_HOST")
		sn("remove-unknown-attachment", d.action(`<removed_network_attachments>`+attID("nope")+`</removed_network_attachments>`), 400, "NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS")
		sn("remove-unattached-network", d.action(`<removed_network_attachments>`+att(catFree, "")+`</removed_network_attachments>`), 400, "NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS")
		sn("remove-management", d.action(`<removed_network_attachments>`+attID(h.attM)+`</removed_network_attachments>`), 400, "NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK")
		sn("modified-and-removed", d.action(`<`+d.atts+`>`+attID(h.attA, `<host_nic><name>eth2</name></host_nic>`)+`</`+d.atts+`><removed_network_attachments>`+attID(h.attA)+`</removed_network_attachments>`), 400, "NETWORK_ATTACHMENT_IN_BOTH_LISTS")
		sn("sync-unknown-attachment", d.action(`<synchronized_network_attachments>`+attID("nope")+`</synchronized_network_attachments>`), 404, "ENTITY_NOT_FOUND")
		for _, el := range []string{`<network id="` + catFree + `"/>`, `<host_nic><name>eth2</name></host_nic>`, `<override_configuration>true</override_configuration>`, bridgeOpts("priority=1"), d.static("192.0.2.1", "24", "")} {
			tag := tagOf(el)
			sn("attachment-duplicated-"+tag, mod(`<network_attachment>`+el+el+`</network_attachment>`), 400, cInvalid)
		}
		sn("attachment-unknown-element", mod(att(catFree, "eth2", `<frobnicate/>`)), 400, cInvalid)
		sn("ip-assignments-and-ip-configuration", mod(att(catFree, "eth2", `<ip_address_assignments/><ip_configuration/>`)), 400, cInvalid)
	}
	// Only the v4 form carries IPv6, methods and versions.
	v4 := dialects[0]
	sn := func(name, body string, status int, code string) {
		addJSON("setupnetworks-v4/"+name, http.MethodPost, v4.path, body, status, code)
	}
	ips := func(a ...string) string {
		return `<ip_address_assignments>` + strings.Join(a, "") + `</ip_address_assignments>`
	}
	for kind, a := range inOrder(map[string]string{"ipv4": "192.0.2.1", "bad-group": "2001:db8::g", "zone": "fe80::1%eth2", "three-colons": ":::"}) {
		sn("ipv6-address-"+kind, v4.modified(att(catFree, "eth2", ips(ipAssignmentXML("static", "v6", a, "64", "")))), 400, "BAD_ADDR_INVALID")
	}
	for kind, p := range inOrder(map[string]string{"129": "129", "negative": "-1", "dotted": "255.255.255.0", "text": "abc", "huge": "99999999999999999999"}) {
		sn("ipv6-prefix-"+kind, v4.modified(att(catFree, "eth2", ips(ipAssignmentXML("static", "v6", "2001:db8::1", p, "")))), 400, "BAD_ADDR_INVALID")
	}
	sn("ipv6-gateway-ipv4", v4.modified(att(catDflt, "eth2", ips(ipAssignmentXML("static", "v6", "2001:db8::1", "64", "192.0.2.1")))), 400, "BAD_ADDR_INVALID")
	sn("ipv6-gateway-not-default-route", v4.modified(att(catFree, "eth2", ips(ipAssignmentXML("static", "v6", "2001:db8::1", "64", "2001:db8::fe")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_IPV6_GATEWAY_ON_NON_DEFAULT_ROUTE_ROLE")
	sn("ipv6-with-small-mtu", v4.modified(att(catSmall, "eth2", ips(ipAssignmentXML("static", "v6", "2001:db8::1", "64", "")))), 400, "MTU_VALUE_INVALID")
	sn("version-v5", v4.modified(att(catFree, "eth2", ips(ipAssignmentXML("static", "v5", "192.0.2.1", "24", "")))), 400, "BAD_ADDR_INVALID")
	for _, m := range []string{"frobnicate", "autoconf", "poly_dhcp_autoconf"} {
		sn("ipv4-method-"+m, v4.modified(att(catFree, "eth2", ips(ipAssignmentXML(m, "v4", "", "", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS")
	}
	sn("no-method", v4.modified(att(catFree, "eth2", ips(ipAssignmentXML("", "v4", "192.0.2.1", "24", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_MISSING_BOOT_PROTOCOL")
	sn("empty-method", v4.modified(att(catFree, "eth2", ips(`<ip_address_assignment><assignment_method/></ip_address_assignment>`))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_MISSING_BOOT_PROTOCOL")
	sn("dhcp-with-address", v4.modified(att(catFree, "eth2", ips(ipAssignmentXML("dhcp", "v4", "192.0.2.1", "24", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS")
	sn("static-and-dhcp", v4.modified(att(catFree, "eth2", ips(catStatic("192.0.2.1", "24", ""), ipAssignmentXML("dhcp", "v4", "", "", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS")
	sn("two-gateways", v4.modified(att(catFree, "eth2", ips(catStatic("192.0.2.1", "24", "192.0.2.254"), catStatic("192.0.2.2", "24", "192.0.2.253")))), 400, "BAD_ADDR_INVALID")
	for _, el := range []string{"<assignment_method>static</assignment_method>", "<ip><address>192.0.2.1</address></ip>"} {
		tag := tagOf(el)
		sn("assignment-duplicated-"+tag, v4.modified(att(catFree, "eth2", ips(`<ip_address_assignment>`+el+el+`</ip_address_assignment>`))), 400, cInvalid)
	}
	for _, f := range []string{"address", "netmask", "gateway", "version"} {
		el := `<` + f + `>x</` + f + `>`
		sn("ip-duplicated-"+f, v4.modified(att(catFree, "eth2", ips(`<ip_address_assignment><assignment_method>static</assignment_method><ip>`+el+el+`</ip></ip_address_assignment>`))), 400, cInvalid)
	}
	sn("text-in-ip", v4.modified(att(catFree, "eth2", ips(`<ip_address_assignment><ip>192.0.2.1</ip></ip_address_assignment>`))), 400, cInvalid)
	// Only the design form has several ipv4 entries and a primary flag.
	design := dialects[1]
	dsn := func(name, body string, status int, code string) {
		addJSON("setupnetworks-design/"+name, http.MethodPost, design.path, body, status, code)
	}
	ipv4s := func(inner string) string { return `<ip_configuration><ipv4s>` + inner + `</ipv4s></ip_configuration>` }
	dsn("two-primaries", design.modified(att(catFree, "eth2", ipv4s(`<ipv4><primary>true</primary></ipv4><ipv4><primary>true</primary></ipv4>`))), 400, cInvalid)
	dsn("no-primary", design.modified(att(catFree, "eth2", ipv4s(`<ipv4/><ipv4/>`))), 400, cInvalid)
	dsn("primary-maybe", design.modified(att(catFree, "eth2", ipv4s(`<ipv4><primary>maybe</primary></ipv4>`))), 400, cInvalid)
	dsn("boot-protocols-disagree", design.modified(att(catFree, "eth2", ipv4s(`<boot_protocol>dhcp</boot_protocol><ipv4><boot_protocol>static</boot_protocol></ipv4>`))), 400, cInvalid)
	dsn("move-form-unknown-attachment", design.action(`<network_attachments id="nope"><host_nic><name>eth2</name></host_nic></network_attachments>`), 400, "MODIFIED_NETWORK_ATTACHMENT_DOES_NOT_EXISTS")
	dsn("two-attachment-lists", design.action(`<network_attachments/><modified_network_attachments/>`), 400, cInvalid)

	// 4. Bonds: through setupnetworks in both dialects and POST /nics.
	for _, d := range dialects {
		bondCase := func(name, bond string, status int, code string) {
			addJSON("setupnetworks-"+d.name+"/bond-"+name, http.MethodPost, d.path, d.action(d.bondList(bond)), status, code)
			if d.name == "v4" {
				addJSON("post-bond/"+name, http.MethodPost, host+"/nics", bond, status, code)
			}
		}
		for kind, n := range inOrder(map[string]string{
			"bare": "bond", "space": "bond bad", "not-bond-prefix": "jamesbond007", "sixteen-bytes": "bond012345678901", "nic": "eth2",
			"non-ascii": "bondé", "slash": "bond/0", "dots": "bond..", "bonding-masters": "bonding_masters", "upper-case": "Bond0", "tab": "bond\t0",
		}) {
			bondCase("name-"+kind, d.bond(n, "mode=1", "eth2", "eth3"), 400, "NETWORK_BOND_NAME_BAD_FORMAT")
		}
		bondCase("named-like-a-bridge", d.bond("bondbr", "mode=1", "eth2", "eth3"), 409, "NETWORK_INTERFACE_IS_NOT_BOND")
		bondCase("no-name", d.bond("", "mode=1", "eth2", "eth3"), 400, "BOND_DOES_NOT_HAVE_NEITHER_ID_NOR_NAME_SPECIFIED")
		bondCase("unknown-id", strings.Replace(d.bond("", "", "eth2", "eth3"), "<host_nic>", `<host_nic id="nope">`, 1), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_DOES_NOT_EXIST")
		bondCase("id-and-name-disagree", strings.Replace(d.bond("bond7", "", "eth2", "eth3"), "<host_nic>", `<host_nic id="`+eth2+`">`, 1), 400, "BOND_REFERENCES_NICS_INCOHERENTLY")
		for kind, s := range inOrder(map[string]string{"unmanaged-bridge": "br9", "managed-bridge": "net_a"}) {
			bondCase("slave-"+kind, d.bond("bond1", "mode=1", "eth2", s), 409, "NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE")
		}
		for kind, s := range inOrder(map[string]string{"loopback": "lo", "missing": "missing0", "slash": "eth0/..", "sixteen-bytes": "eth0123456789abc", "non-ascii": "ethé"}) {
			bondCase("slave-"+kind, d.bond("bond1", "mode=1", "eth2", s), 400, "HOST_NETWORK_INTERFACE_HAVING_NAME_DOES_NOT_EXIST")
		}
		bondCase("slave-unknown-id", strings.Replace(d.bond("bond1", "mode=1", "eth2"), "</slaves>", `<host_nic id="nope"/></slaves>`, 1), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_DOES_NOT_EXIST")
		bondCase("slave-twice", d.bond("bond1", "mode=1", "eth2", "eth2", "eth3"), 409, "NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES")
		bondCase("one-slave", d.bond("bond1", "mode=1", "eth2"), 400, "NETWORK_BONDS_INVALID_SLAVE_COUNT")
		bondCase("no-slaves", d.bond("bond1", "mode=1"), 400, "NETWORK_BONDS_INVALID_SLAVE_COUNT")
		bondCase("empty-slaves", strings.Replace(d.bond("bond1", "mode=1"), "</"+d.agg+">", "<slaves/></"+d.agg+">", 1), 400, "NETWORK_BONDS_INVALID_SLAVE_COUNT")
		bondCase("slave-carries-a-network", d.bond("bond1", "mode=1", "eth0", "eth2"), 409, "NETWORK_INTERFACE_ATTACHED_TO_NETWORK_CANNOT_BE_SLAVE")
		for kind, v := range inOrder(map[string]string{"nine": "9", "negative": "-1", "text": "frobnicate", "empty": "", "huge": "99999999999999999999"}) {
			bondCase("mode-"+kind, d.bond("bond1", "mode="+v, "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
		}
		bondCase("unknown-option", d.bond("bond1", "mode=1 frobnicate=1", "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
		bondCase("option-twice", d.bond("bond1", "mode=1 miimon=100 miimon=200", "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
		bondCase("option-without-name", d.bond("bond1", "mode=1 =5", "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
		bondCase("xmit-hash-policy-9", d.bond("bond1", "mode=2 xmit_hash_policy=9", "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
		for kind, v := range inOrder(map[string]string{"octet-300": "192.0.2.300", "ipv6": "2001:db8::1", "seventeen": strings.TrimSuffix(strings.Repeat("192.0.2.1,", 17), ",")}) {
			bondCase("arp-ip-target-"+kind, d.bond("bond1", "mode=1 arp_interval=100 arp_ip_target="+v, "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
		}
		bondCase("lacp-rate-in-mode-1", d.bond("bond1", "mode=1 lacp_rate=1", "eth2", "eth3"), 400, "BAD_BONDING_OPTION_FOR_MODE")
		bondCase("miimon-and-arp", d.bond("bond1", "mode=1 miimon=100 arp_interval=100", "eth2", "eth3"), 400, "BAD_BONDING_OPTION_FOR_MODE")
		bondCase("primary-not-a-slave", d.bond("bond1", "mode=1 primary=eth4", "eth2", "eth3"), 400, "BAD_BONDING_OPTION_FOR_MODE")
		bondCase("duplicated-name", strings.Replace(d.bond("bond1", "mode=1", "eth2", "eth3"), "<name>bond1</name>", "<name>bond1</name><name>bond1</name>", 1), 400, cInvalid)
		bondCase("duplicated-"+d.agg, `<host_nic><name>bond1</name><`+d.agg+`/><`+d.agg+`/></host_nic>`, 400, cInvalid)
		bondCase("bonding-and-link-aggregation", `<host_nic><name>bond1</name><bonding/><link_aggregation/></host_nic>`, 400, cInvalid)
		bondCase("duplicated-options", `<host_nic><name>bond1</name><`+d.agg+`><options/><options/></`+d.agg+`></host_nic>`, 400, cInvalid)
		bondCase("duplicated-slaves", `<host_nic><name>bond1</name><`+d.agg+`><slaves/><slaves/></`+d.agg+`></host_nic>`, 400, cInvalid)
		bondCase("option-name-twice", `<host_nic><name>bond1</name><`+d.agg+`><options><option><name>mode</name><name>mode</name></option></options></`+d.agg+`></host_nic>`, 400, cInvalid)
		bondCase("unknown-element", `<host_nic><name>bond1</name><frobnicate/></host_nic>`, 400, cInvalid)
		sn := func(name, body string, status int, code string) {
			addJSON("setupnetworks-"+d.name+"/"+name, http.MethodPost, d.path, body, status, code)
		}
		sn("slave-in-two-new-bonds", d.action(d.bondList(d.bond("bond1", "mode=1", "eth2", "eth3"), d.bond("bond2", "mode=1", "eth3", "eth4"))), 409, "NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES")
		sn("slave-gets-a-network", d.action(d.bondList(d.bond("bond1", "mode=1", "eth2", "eth3")), `<`+d.atts+`>`+att(catFree, "eth2")+`</`+d.atts+`>`), 409, "NETWORK_INTERFACE_ADDED_TO_BOND_AND_NETWORK_IS_ATTACHED_TO_IT_AT_THE_SAME_TIME")
		sn("vm-network-on-balance-rr", d.action(d.bondList(d.bond("bond1", "mode=0", "eth2", "eth3")), `<`+d.atts+`>`+att(catVM2, "bond1")+`</`+d.atts+`>`), 400, "INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK")
		sn("vm-network-named-like-a-new-bond", d.action(d.bondList(d.bond("bond3", "mode=1", "eth2", "eth3")), `<`+d.atts+`>`+att(catBondNet, "bond3")+`</`+d.atts+`>`), 400, "BAD_BRIDGE_NAME")
		sn("remove-unknown-bond", d.action(`<removed_bonds><host_nic><name>bond9</name></host_nic></removed_bonds>`), 400, "NETWORK_BOND_RECORDS_DOES_NOT_EXISTS")
		sn("remove-nic-as-bond", d.action(`<removed_bonds><host_nic><name>eth2</name></host_nic></removed_bonds>`), 400, "NETWORK_BOND_RECORDS_DOES_NOT_EXISTS")
		sn("removed-bond-without-name", d.action(`<removed_bonds><host_nic/></removed_bonds>`), 400, "BOND_DOES_NOT_HAVE_NEITHER_ID_NOR_NAME_SPECIFIED")
		sn("bonds-and-alias", d.action(`<modified_bonds/><bonds/>`), 400, cInvalid)
	}
	// The numeric bond options, through POST /nics.
	for _, opt := range []string{"miimon", "updelay", "downdelay", "min_links", "arp_interval"} {
		for kind, v := range inOrder(badNumbers) {
			addJSON("post-bond/"+opt+"-"+kind, http.MethodPost, host+"/nics", dialects[0].bond("bond1", "mode=1 "+opt+"="+v, "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
		}
		addJSON("post-bond/"+opt+"-empty", http.MethodPost, host+"/nics", dialects[0].bond("bond1", "mode=1 "+opt+"=", "eth2", "eth3"), 400, "BAD_BONDING_OPTION")
	}

	// 5. Per-resource attachments.
	atts := host + "/networkattachments"
	addJSON("post-attachment/attached-network", http.MethodPost, atts, att(catNetA, "eth2"), 400, "ATTACHMENT_IS_NOT_REUSED")
	addJSON("post-attachment/with-id", http.MethodPost, atts, attID("x", `<network id="`+catFree+`"/><host_nic><name>eth2</name></host_nic>`), 400, cInvalid)
	addJSON("post-attachment/no-network", http.MethodPost, atts, att("", "eth2"), 400, "NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET")
	addJSON("post-attachment/empty", http.MethodPost, atts, `<network_attachment/>`, 400, "NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET")
	addJSON("post-attachment/to-loopback", http.MethodPost, atts, att(catFree, "lo"), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST")
	addJSON("post-attachment/bad-address", http.MethodPost, atts, att(catFree, "eth2", `<ip_address_assignments>`+catStatic("192.0.2.1", "255.0.255.0", "")+`</ip_address_assignments>`), 400, "BAD_ADDR_INVALID")
	addJSON("post-nic-attachment/two-untagged", http.MethodPost, host+"/nics/"+eth0+"/networkattachments", att(catFree, ""), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK")
	addJSON("put-attachment/body-id-differs", http.MethodPut, atts+"/"+h.attA, attID(h.attM), 400, cInvalid)
	addJSON("put-attachment/change-network", http.MethodPut, atts+"/"+h.attA, att(catFree, ""), 400, "CANNOT_CHANGE_ATTACHED_NETWORK")
	addJSON("put-attachment/move-to-loopback", http.MethodPut, atts+"/"+h.attA, att("", "lo"), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST")
	addJSON("put-attachment/move-to-a-bridge", http.MethodPut, atts+"/"+h.attA, att("", "br9"), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST")
	addJSON("put-attachment/move-onto-mgmt", http.MethodPut, atts+"/"+h.attA, att("", "eth1"), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK")
	addJSON("put-attachment/nameserver-injection", http.MethodPut, atts+"/"+h.attM, att("", "", nameServers("fe80::1%eth1&#10;nameserver 203.0.113.66")), 400, "BAD_ADDR_NAMESERVER")
	addJSON("put-attachment/bridge-opts-out-of-range", http.MethodPut, atts+"/"+h.attA, att("", "", bridgeOpts("hello_time=5")), 400, "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT")

	// 6. Paths and methods.
	for _, c := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"put-unknown-attachment", http.MethodPut, atts + "/nope", 404, "ENTITY_NOT_FOUND"},
		{"delete-unknown-attachment", http.MethodDelete, atts + "/nope", 404, "ENTITY_NOT_FOUND"},
		{"put-unknown-network", http.MethodPut, networks + "/nope", 404, "ENTITY_NOT_FOUND"},
		{"delete-unknown-network", http.MethodDelete, networks + "/nope", 404, "ENTITY_NOT_FOUND"},
		{"setupnetworks-other-host", http.MethodPost, "/ovirt-engine/api/hosts/other/setupnetworks", 404, "ENTITY_NOT_FOUND"},
		{"post-bond-other-host", http.MethodPost, "/ovirt-engine/api/hosts/other/nics", 404, "ENTITY_NOT_FOUND"},
		{"put-unknown-nic", http.MethodPut, host + "/nics/nope", 404, "ENTITY_NOT_FOUND"},
		{"post-attachment-unknown-nic", http.MethodPost, host + "/nics/nope/networkattachments", 404, "ENTITY_NOT_FOUND"},
		{"put-nic-not-a-bond", http.MethodPut, host + "/nics/" + eth2, 409, "NETWORK_INTERFACE_IS_NOT_BOND"},
		{"delete-nic-not-a-bond", http.MethodDelete, host + "/nics/" + eth2, 409, "NETWORK_INTERFACE_IS_NOT_BOND"},
		{"delete-loopback", http.MethodDelete, host + "/nics/lo", 404, "ENTITY_NOT_FOUND"},
		{"attach-on-the-loopback-path", http.MethodPost, host + "/nics/lo/networkattachments", 404, "ENTITY_NOT_FOUND"},
		{"delete-management-attachment", http.MethodDelete, atts + "/" + h.attM, 400, "NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK"},
		{"patch-network", http.MethodPatch, networks + "/" + catFree, 405, "METHOD_NOT_ALLOWED"},
		{"delete-networks", http.MethodDelete, networks, 405, "METHOD_NOT_ALLOWED"},
		{"put-setupnetworks", http.MethodPut, host + "/setupnetworks", 405, "METHOD_NOT_ALLOWED"},
		{"traversal", http.MethodPost, "/ovirt-engine/api/../../etc/passwd", 404, "ENTITY_NOT_FOUND"},
	} {
		add("path/"+c.name, c.method, c.path, `<network_attachment/>`, c.status, c.code)
	}
	out = append(out, qosCases(h, dialects)...)
	out = append(out, badCase{name: "path/html-only", method: http.MethodPost, path: networks, body: `<network><name>n1</name></network>`, accept: "text/html", status: 406, code: "NOT_ACCEPTABLE"})
	return out
}
