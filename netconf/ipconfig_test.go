package netconf

import (
	"errors"
	"testing"
)

// TestImpossibleStaticAddressingIsRefused: addresses and gateways no host
// can use are refused at validation (BAD_ADDR_INVALID), before any kernel
// write, rather than failing the transaction (FAILED_IFUP) or being
// installed.
func TestImpossibleStaticAddressingIsRefused(t *testing.T) {
	static := func(addr, mask, gw string) []RawIPAssignment {
		return []RawIPAssignment{{Method: "static", Address: addr, Netmask: mask, Gateway: gw}}
	}
	bad := map[string][]RawIPAssignment{
		"unspecified":             static("0.0.0.0", "24", ""),
		"loopback":                static("127.0.0.2", "8", ""),
		"multicast":               static("224.0.0.1", "4", ""),
		"broadcast":               static("255.255.255.255", "32", ""),
		"ipv4 link-local":         static("169.254.1.1", "16", ""),
		"prefix /0":               static("192.0.2.10", "0", ""),
		"mask 0.0.0.0":            static("192.0.2.10", "0.0.0.0", ""),
		"network address":         static("192.0.2.0", "24", ""),
		"subnet broadcast":        static("192.0.2.255", "24", ""),
		"gateway outside":         static("192.0.2.10", "24", "198.51.100.1"),
		"gateway unspecified":     static("192.0.2.10", "24", "0.0.0.0"),
		"gateway is own address":  static("192.0.2.10", "24", "192.0.2.10"),
		"gateway loopback":        static("192.0.2.10", "24", "127.0.0.1"),
		"gateway broadcast":       static("192.0.2.10", "24", "192.0.2.255"),
		"ipv6 unspecified":        {{Method: "static", Version: "v6", Address: "::", Netmask: "64"}},
		"ipv6 loopback":           {{Method: "static", Version: "v6", Address: "::1", Netmask: "128"}},
		"ipv6 multicast":          {{Method: "static", Version: "v6", Address: "ff02::1", Netmask: "64"}},
		"ipv6 /0":                 {{Method: "static", Version: "v6", Address: "2001:db8::10", Netmask: "0"}},
		"ipv6 gateway outside":    {{Method: "static", Version: "v6", Address: "2001:db8::10", Netmask: "64", Gateway: "2001:db8:1::1"}},
		"ipv6 gateway own":        {{Method: "static", Version: "v6", Address: "2001:db8::10", Netmask: "64", Gateway: "2001:db8::10"}},
		"ipv6 gateway multicast":  {{Method: "static", Version: "v6", Address: "2001:db8::10", Netmask: "64", Gateway: "ff02::2"}},
		"second address loopback": append(static("192.0.2.10", "24", "192.0.2.1"), static("127.0.0.5", "8", "")...),
	}
	for name, raw := range bad {
		_, _, err := parseIPAssignments("n0", raw)
		var re *RuleError
		if !errors.As(err, &re) || re.Code != CodeBadAddr {
			t.Errorf("%s: %v; want %s", name, err, CodeBadAddr)
		}
	}
	good := map[string][]RawIPAssignment{
		"plain":                 static("192.0.2.10", "255.255.255.0", "192.0.2.1"),
		"no gateway":            static("10.1.2.3", "8", ""),
		"point to point /31":    static("192.0.2.0", "31", ""),
		"host route /32":        static("192.0.2.7", "32", ""),
		"ipv6 link-local gw":    {{Method: "static", Version: "v6", Address: "2001:db8::10", Netmask: "64", Gateway: "fe80::1"}},
		"ipv6 in-subnet gw":     {{Method: "static", Version: "v6", Address: "2001:db8::10", Netmask: "64", Gateway: "2001:db8::1"}},
		"several, one gateway":  append(static("192.0.2.10", "24", "192.0.2.1"), static("198.51.100.10", "24", "")...),
		"gateway at subnet end": static("192.0.2.10", "24", "192.0.2.254"),
	}
	for name, raw := range good {
		if _, _, err := parseIPAssignments("n0", raw); err != nil {
			t.Errorf("%s: %v; want it accepted", name, err)
		}
	}
}
