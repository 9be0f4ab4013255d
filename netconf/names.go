package netconf

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// MaxDeviceName is the longest kernel device name (IFNAMSIZ - 1).
const MaxDeviceName = 15

var bondName = regexp.MustCompile(`^bond\w+$`)

// checkDeviceName applies the kernel's rules to a device name hostnetd
// would create: 1..15 bytes, none of ': . / space tab' or control
// characters, no leading '-', printable ASCII only.
func checkDeviceName(name string) bool {
	if name == "" || len(name) > MaxDeviceName || strings.HasPrefix(name, "-") || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(":./", r) {
			return false
		}
	}
	return true
}

// CheckBridgeName refuses a network name that cannot be a bridge name.
func CheckBridgeName(name string) error {
	if !checkDeviceName(name) {
		return ruleErr(CodeBadBridgeName, "network name %q cannot be a device name: it must have 1 to 15 ASCII letters, digits, '_' or '-', without ':', '.', spaces, and not start with '-'", name)
	}
	return nil
}

// CheckBondName refuses a bond name that is not bond<word>, or that is
// bonding_masters, the bonding driver's control file among the devices
// of /sys/class/net.
func CheckBondName(name string) error {
	if !bondName.MatchString(name) || len(name) > MaxDeviceName || name == "bonding_masters" {
		return ruleErr(CodeBondNameBadFormat, "bond name %q is invalid: it must match bond followed by letters, digits or '_', at most 15 bytes", name)
	}
	return nil
}

// checkNameservers refuses a name server that is not an IP address. An
// IPv6 address may carry a zone, which must then be a device name: the
// servers are written to resolv.conf as they are.
func checkNameservers(network string, servers []string) error {
	for _, ns := range servers {
		a, err := netip.ParseAddr(ns)
		if err != nil || a.Zone() != "" && !checkDeviceName(a.Zone()) {
			return ruleErr(CodeBadNameserver, "network %s: name server %q is not an IP address", network, ns)
		}
	}
	return nil
}

// VLANDeviceName is the name of VLAN vid on base: base.vid.
func VLANDeviceName(base string, vid int) string {
	return base + "." + strconv.Itoa(vid)
}
