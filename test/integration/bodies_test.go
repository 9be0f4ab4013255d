package integration

import "strings"

// Request bodies shared by the namespace and the VM suites.

// ipAssignmentXML is one v4-form ip_address_assignment; empty fields are
// left out.
func ipAssignmentXML(method, version, addr, mask, gw string) string {
	s := `<ip_address_assignment>`
	if method != "" {
		s += `<assignment_method>` + method + `</assignment_method>`
	}
	s += `<ip>`
	for _, f := range [][2]string{{"address", addr}, {"netmask", mask}, {"gateway", gw}, {"version", version}} {
		if f[1] != "" {
			s += `<` + f[0] + `>` + f[1] + `</` + f[0] + `>`
		}
	}
	return s + `</ip></ip_address_assignment>`
}

// bondXML is a host_nic bond element whose bonding element is agg
// (bonding, or the design page's link_aggregation); options is
// "mode=1 miimon=100" (empty: no options element), nil slaves no slaves
// element, an empty name no name element.
func bondXML(agg, name, options string, slaves ...string) string {
	s := `<host_nic>`
	if name != "" {
		s += `<name>` + name + `</name>`
	}
	s += `<` + agg + `>`
	if options != "" {
		s += `<options>`
		for _, kv := range strings.Fields(options) {
			k, v, _ := strings.Cut(kv, "=")
			s += `<option><name>` + k + `</name><value>` + v + `</value></option>`
		}
		s += `</options>`
	}
	if slaves != nil {
		s += `<slaves>`
		for _, sl := range slaves {
			s += `<host_nic><name>` + sl + `</name></host_nic>`
		}
		s += `</slaves>`
	}
	return s + `</` + agg + `></host_nic>`
}
