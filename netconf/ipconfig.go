package netconf

import (
	"net/netip"
	"strconv"
	"strings"
)

// parseIPAssignments turns the ip_address_assignments of an attachment into
// its IPv4 and IPv6 configuration. Several static entries of one family
// become several addresses, the first the primary one.
func parseIPAssignments(network string, raw []RawIPAssignment) (v4, v6 IPConfig, err error) {
	v4.Method, v6.Method = BootNone, BootNone
	var set4, set6 bool
	for _, a := range raw {
		family, err := assignmentFamily(network, a)
		if err != nil {
			return v4, v6, err
		}
		cfg, set := &v4, &set4
		if family == 6 {
			cfg, set = &v6, &set6
		}
		method, err := parseMethod(network, family, a.Method)
		if err != nil {
			return v4, v6, err
		}
		if *set && (cfg.Method != method || method != BootStatic) {
			return v4, v6, ruleErr(CodeIncompatibleBootProtocol, "network %s: IPv%d is configured twice with %s and %s", network, family, cfg.Method, method)
		}
		*set = true
		cfg.Method = method
		if err := parseAddressDetails(network, family, a, cfg); err != nil {
			return v4, v6, err
		}
	}
	return v4, v6, nil
}

func assignmentFamily(network string, a RawIPAssignment) (int, error) {
	switch strings.ToLower(a.Version) {
	case "v4", "4":
		return 4, nil
	case "v6", "6":
		return 6, nil
	case "":
		if strings.Contains(a.Address, ":") || strings.Contains(a.Gateway, ":") {
			return 6, nil
		}
		return 4, nil
	}
	return 0, ruleErr(CodeBadAddr, "network %s: IP version %q is neither v4 nor v6", network, a.Version)
}

func parseMethod(network string, family int, m string) (BootProtocol, error) {
	switch BootProtocol(strings.ToLower(m)) {
	case "":
		return "", ruleErr(CodeMissingBootProtocol, "network %s: an IPv%d address assignment has no assignment method", network, family)
	case BootNone:
		return BootNone, nil
	case BootStatic:
		return BootStatic, nil
	case BootDHCP:
		return BootDHCP, nil
	case BootAutoconf, BootPolyDHCPAutoconf:
		if family == 6 {
			return BootProtocol(strings.ToLower(m)), nil
		}
		return "", ruleErr(CodeIncompatibleBootProtocol, "network %s: %s is an IPv6 method; IPv4 takes none, dhcp or static", network, m)
	}
	return "", ruleErr(CodeIncompatibleBootProtocol, "network %s: unknown assignment method %q", network, m)
}

func parseAddressDetails(network string, family int, a RawIPAssignment, cfg *IPConfig) error {
	if cfg.Method != BootStatic {
		if a.Address != "" || a.Netmask != "" || a.Gateway != "" {
			return ruleErr(CodeIncompatibleBootProtocol, "network %s: IPv%d method %s takes no address, netmask or gateway", network, family, cfg.Method)
		}
		return nil
	}
	if a.Address == "" || a.Netmask == "" {
		return ruleErr(CodeStaticMissingDetails, "network %s: static IPv%d needs an address and a %s", network, family, map[int]string{4: "netmask", 6: "prefix"}[family])
	}
	addr, err := netip.ParseAddr(a.Address)
	if err != nil || addr.Zone() != "" || (family == 4) != addr.Is4() {
		return ruleErr(CodeBadAddr, "network %s: %q is not an IPv%d address", network, a.Address, family)
	}
	bits, ok := parseNetmask(family, a.Netmask)
	if !ok {
		return ruleErr(CodeBadAddr, "network %s: %q is not a valid IPv%d %s", network, a.Netmask, family, map[int]string{4: "netmask", 6: "prefix length"}[family])
	}
	prefix := netip.PrefixFrom(addr, bits)
	if err := checkHostAddress(network, prefix); err != nil {
		return err
	}
	cfg.Addrs = append(cfg.Addrs, prefix)
	if a.Gateway == "" {
		return nil
	}
	gw, err := netip.ParseAddr(a.Gateway)
	if err != nil || gw.Zone() != "" || (family == 4) != gw.Is4() {
		return ruleErr(CodeBadAddr, "network %s: gateway %q is not an IPv%d address", network, a.Gateway, family)
	}
	if err := checkGateway(network, prefix, gw); err != nil {
		return err
	}
	if cfg.Gateway.IsValid() && cfg.Gateway != gw {
		return ruleErr(CodeBadAddr, "network %s: two IPv%d gateways, %s and %s", network, family, cfg.Gateway, gw)
	}
	cfg.Gateway = gw
	return nil
}

// parseNetmask accepts a prefix length, or for IPv4 a dotted contiguous mask.
func parseNetmask(family int, s string) (int, bool) {
	max := 32
	if family == 6 {
		max = 128
	}
	// A dotted mask is tried first: Atoi's error for one is an allocation.
	if strings.IndexByte(s, '.') < 0 {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 0 && n <= max
	}
	if family == 6 {
		return 0, false
	}
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() {
		return 0, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for v&0x80000000 != 0 {
		ones++
		v <<= 1
	}
	return ones, v == 0
}

// checkHostAddress refuses a static address no host can use: the
// unspecified address, loopback, multicast, the IPv4 limited broadcast,
// a link-local IPv4 address, a /0 prefix (every destination on-link),
// and, below /31, the IPv4 subnet's own network or broadcast address.
// The kernel would take most of them and the host would lose its network
// (or answer for the whole Internet), or refuse them only once the
// transaction had begun.
func checkHostAddress(network string, p netip.Prefix) error {
	addr := p.Addr()
	bad := func(why string) error {
		return ruleErr(CodeBadAddr, "network %s: %s cannot be a host's address: %s", network, p, why)
	}
	switch {
	case addr.IsUnspecified():
		return bad("it is the unspecified address")
	case addr.IsLoopback():
		return bad("it is a loopback address")
	case addr.IsMulticast():
		return bad("it is a multicast address")
	case addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return bad("it is the broadcast address")
	case addr.Is4() && addr.IsLinkLocalUnicast():
		return bad("it is an IPv4 link-local (autoconfiguration) address")
	case p.Bits() == 0:
		return bad("a /0 prefix puts every destination on the link")
	}
	if addr.Is4() && p.Bits() < 31 {
		net := p.Masked().Addr()
		if addr == net {
			return bad("it is its subnet's network address")
		}
		if addr == broadcast4(p) {
			return bad("it is its subnet's broadcast address")
		}
	}
	return nil
}

// checkGateway refuses a gateway the host cannot route through: the
// unspecified, loopback, multicast or broadcast address, its own address,
// or one outside its subnet (an IPv6 link-local gateway, always on-link,
// is allowed).
func checkGateway(network string, p netip.Prefix, gw netip.Addr) error {
	bad := func(why string) error {
		return ruleErr(CodeBadAddr, "network %s: gateway %s cannot be used with %s: %s", network, gw, p, why)
	}
	switch {
	case gw.IsUnspecified():
		return bad("it is the unspecified address")
	case gw.IsLoopback():
		return bad("it is a loopback address")
	case gw.IsMulticast():
		return bad("it is a multicast address")
	case gw == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return bad("it is the broadcast address")
	case gw == p.Addr():
		return bad("it is the host's own address")
	case gw.Is6() && gw.IsLinkLocalUnicast():
		return nil
	case !p.Masked().Contains(gw):
		return bad("it is outside the subnet " + p.Masked().String())
	case gw.Is4() && p.Bits() < 31 && (gw == p.Masked().Addr() || gw == broadcast4(p)):
		return bad("it is the subnet's network or broadcast address")
	}
	return nil
}

// broadcast4 is the broadcast address of an IPv4 prefix.
func broadcast4(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
