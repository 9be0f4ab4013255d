//go:build !vmtest

package integration

import (
	"net/http"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// qosCases are the catalogue's host network QoS cases: inline overrides on
// attachments in both dialects, the QoS catalogue's writes, and a network
// naming a QoS that does not exist. On a kernel without HFSC (the
// development kernel) a valid QoS is refused too.
func qosCases(h *catHost, dialects []catDialect) []badCase {
	var out []badCase
	add := func(name, method, path, body string, status int, code string) {
		out = append(out, badCase{name: name, method: method, path: path, body: body, status: status, code: code},
			badCase{name: name + "/json", method: method, path: path, body: jsonTwin(body), ctype: "application/json", status: status, code: code})
	}
	qos := func(inner string) string { return `<qos><type>hostnetwork</type>` + inner + `</qos>` }
	ls := func(v string) string { return `<outbound_average_linkshare>` + v + `</outbound_average_linkshare>` }
	ul := func(v string) string { return `<outbound_average_upperlimit>` + v + `</outbound_average_upperlimit>` }
	rt := func(v string) string { return `<outbound_average_realtime>` + v + `</outbound_average_realtime>` }
	bad := map[string]string{
		"missing-linkshare": qos(ul("10")),
		"linkshare-0":       qos(ls("0")), "linkshare-101": qos(ls("101")), "linkshare-text": qos(ls("x")),
		"linkshare-negative": qos(ls("-1")), "linkshare-fraction": qos(ls("1.5")), "linkshare-huge": qos(ls("99999999999999999999")),
		"upperlimit-over-hfsc": qos(ls("1") + ul("4295")), "realtime-0": qos(ls("1") + rt("0")),
		"realtime-above-upperlimit": qos(ls("1") + ul("10") + rt("11")),
		"type-storage":              `<qos><type>storage</type>` + ls("1") + `</qos>`,
	}
	codes := map[string]string{
		"missing-linkshare": netconf.CodeQoSSetupNetworksMissingValues, "realtime-above-upperlimit": netconf.CodeQoSInconsistentValues,
		"type-storage": netconf.CodeQoSTypeNotSupported,
	}
	codeOf := func(name string) string {
		if c, ok := codes[name]; ok {
			return c
		}
		return netconf.CodeQoSOutOfRange
	}
	for _, d := range dialects {
		for name, body := range inOrder(bad) {
			add("qos-"+d.name+"/"+name, http.MethodPost, d.path, d.modified(att(catFree, "eth2", body)), 400, codeOf(name))
		}
		add("qos-"+d.name+"/unknown-element", http.MethodPost, d.path, d.modified(att(catFree, "eth2", qos(ls("1")+`<max_iops>1</max_iops>`))), 400, cInvalid)
		if kernel.QoSSupported(h.ns) != nil {
			add("qos-"+d.name+"/no-hfsc", http.MethodPost, d.path, d.modified(att(catFree, "eth2", qos(ls("10")))), 400, netconf.CodeQoSNotSupported)
		}
	}
	qoss := "/ovirt-engine/api/datacenters/" + xmlapi.DataCenterID + "/qoss"
	named := func(inner string) string { return `<qos><name>q</name><type>hostnetwork</type>` + inner + `</qos>` }
	for name, body := range inOrder(map[string]string{
		"missing-linkshare": named(ul("10")), "linkshare-101": named(ls("101")), "no-name": qos(ls("1")),
		"inconsistent": named(ls("1") + ul("1") + rt("2")), "type-storage": `<qos><name>q</name><type>storage</type>` + ls("1") + `</qos>`,
	}) {
		code := map[string]string{"missing-linkshare": netconf.CodeQoSMissingValues, "linkshare-101": netconf.CodeQoSOutOfRange,
			"no-name": netconf.CodeQoSMissingValues, "inconsistent": netconf.CodeQoSInconsistentValues, "type-storage": netconf.CodeQoSTypeNotSupported}[name]
		add("qoss/"+name, http.MethodPost, qoss, body, 400, code)
	}
	add("qoss/network-names-unknown-qos", http.MethodPost, "/ovirt-engine/api/networks", `<network><name>qn</name><qos id="nope"/></network>`, 400, netconf.CodeQoSNotFound)
	for _, c := range []struct{ name, method, path string }{
		{"other-data-center", http.MethodPost, "/ovirt-engine/api/datacenters/other/qoss"},
		{"put-unknown-qos", http.MethodPut, qoss + "/nope"},
		{"delete-unknown-qos", http.MethodDelete, qoss + "/nope"},
	} {
		out = append(out, badCase{name: "qoss/" + c.name, method: c.method, path: c.path, body: named(ls("1")), status: 404, code: "ENTITY_NOT_FOUND"})
	}
	return out
}
