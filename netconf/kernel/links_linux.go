package kernel

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// devconfIndex maps the IPv6 settings hostnetd manages to their place in
// IFLA_INET6_CONF, the kernel's per-device IPv6 configuration array
// (enum DEVCONF_* in linux/ipv6.h), which a link dump carries.
var devconfIndex = map[string]int{"accept_ra": 3, "autoconf": 5, "disable_ipv6": 26}

// rtextFilterSkipStats asks a link dump to leave the counters out
// (RTEXT_FILTER_SKIP_STATS).
const rtextFilterSkipStats = 1 << 3

// linkDump is one dump of the namespace's links: the library's parsing,
// plus what it does not parse, each link's IPv6 settings and each
// bridge's options, so that no per-device read is needed.
type linkDump struct {
	links       []netlink.Link
	ipv6Sysctls map[string]map[string]string
	bridgeOpts  map[string]map[string]string
}

func dumpLinks(ns *Namespace) (linkDump, error) {
	sock, err := ns.rtnl()
	if err != nil {
		return linkDump{}, err
	}
	// Without counters: they change without notifications, so the API
	// reads them live (ReadLinkStats), and they are most of a link's
	// message.
	msgs, err := sock.dump(unix.RTM_GETLINK, serialize(nl.NewIfInfomsg(unix.AF_UNSPEC),
		nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(rtextFilterSkipStats))))
	if err != nil {
		return linkDump{}, err
	}
	d := linkDump{
		links:       make([]netlink.Link, 0, len(msgs)),
		ipv6Sysctls: make(map[string]map[string]string, len(msgs)),
		bridgeOpts:  map[string]map[string]string{},
	}
	for _, m := range msgs {
		link, err := netlink.LinkDeserialize(nil, m)
		if err != nil {
			return linkDump{}, fmt.Errorf("parsing a link: %w", err)
		}
		link = detachLink(withBondExtras(link, m))
		name := link.Attrs().Name
		d.links = append(d.links, link)
		d.ipv6Sysctls[name] = parseIPv6Conf(m)
		if opts := parseBridgeOptions(m); opts != nil {
			d.bridgeOpts[name] = opts
		}
	}
	return d, nil
}

// parseIPv6Conf reads the managed IPv6 settings from a link message. A
// link without IPv6 configuration (the kernel removes it below an MTU of
// 1280) has IPv6 disabled.
func parseIPv6Conf(msg []byte) map[string]string {
	if len(msg) < unix.SizeofIfInfomsg {
		return nil
	}
	for _, a := range parseAttrs(msg[unix.SizeofIfInfomsg:]) {
		if a.typ != unix.IFLA_AF_SPEC {
			continue
		}
		for _, fam := range parseAttrs(a.value) {
			if fam.typ != unix.AF_INET6 {
				continue
			}
			for _, x := range parseAttrs(fam.value) {
				if x.typ != unix.IFLA_INET6_CONF {
					continue
				}
				out := make(map[string]string, len(devconfIndex))
				for key, i := range devconfIndex {
					if len(x.value) >= 4*(i+1) {
						out[key] = strconv.Itoa(int(int32(binary.NativeEndian.Uint32(x.value[4*i:]))))
					}
				}
				if len(out) == len(netconf.IPv6SysctlKeys) {
					return out
				}
			}
		}
	}
	return map[string]string{"disable_ipv6": "1"}
}
