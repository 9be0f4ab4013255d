package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// Bond attributes of Linux 5.x and 6.x that the netlink library predates:
// hostnetd writes and reads them itself (include/uapi/linux/if_link.h).
const (
	iflaBondPeerNotifDelay = 28 // u32, ms
	iflaBondAdLacpActive   = 29 // u8
	iflaBondMissedMax      = 30 // u8
)

// bondExtras are the options carried by those attributes.
var bondExtras = []struct {
	name string
	typ  uint16
	size int
}{
	{"peer_notif_delay", iflaBondPeerNotifDelay, 4},
	{"lacp_active", iflaBondAdLacpActive, 1},
	{"arp_missed_max", iflaBondMissedMax, 1},
}

// Enumerations in the kernel's numbering (the values netlink carries).
var (
	adSelectNames       = []string{"stable", "bandwidth", "count"}
	failOverMACNames    = []string{"none", "active", "follow"}
	arpValidateNames    = []string{"none", "active", "backup", "all", "filter", "filter_active", "filter_backup"}
	arpAllTargetsNames  = []string{"any", "all"}
	primaryReselectName = []string{"always", "better", "failure"}
	lacpActiveNames     = []string{"off", "on"}
)

// setBondOptions fills a bond made by NewLinkBond (every field "not sent")
// with the options the library carries; an empty arp_ip_target or primary
// clears it. setBondExtras writes the others.
func setBondOptions(h *netlink.Handle, b *netlink.Bond, opts []netconf.BondOption) error {
	for _, o := range opts {
		n, _ := strconv.Atoi(o.Value)
		switch o.Name {
		case "miimon":
			b.Miimon = n
		case "updelay":
			b.UpDelay = n
		case "downdelay":
			b.DownDelay = n
		case "use_carrier":
			b.UseCarrier = n
		case "arp_interval":
			b.ArpInterval = n
		case "arp_ip_target":
			b.ArpIpTargets = []net.IP{} // sent even when empty: it clears the list
			for _, t := range strings.Split(o.Value, ",") {
				if t != "" {
					b.ArpIpTargets = append(b.ArpIpTargets, net.ParseIP(t))
				}
			}
		case "arp_validate":
			b.ArpValidate = netlink.BondArpValidate(enumIndex(arpValidateNames, o.Value))
		case "arp_all_targets":
			b.ArpAllTargets = netlink.BondArpAllTargets(enumIndex(arpAllTargetsNames, o.Value))
		case "primary":
			if o.Value == "" {
				b.Primary = 0
				continue
			}
			p, err := h.LinkByName(o.Value)
			if err != nil {
				return fmt.Errorf("finding primary %s: %w", o.Value, err)
			}
			b.Primary = p.Attrs().Index
		case "primary_reselect":
			b.PrimaryReselect = netlink.BondPrimaryReselect(enumIndex(primaryReselectName, o.Value))
		case "fail_over_mac":
			b.FailOverMac = netlink.BondFailOverMac(enumIndex(failOverMACNames, o.Value))
		case "xmit_hash_policy":
			b.XmitHashPolicy = netlink.StringToBondXmitHashPolicy(o.Value)
		case "resend_igmp":
			b.ResendIgmp = n
		case "num_grat_arp", "num_unsol_na":
			b.NumPeerNotif = n // one setting, two names
		case "all_slaves_active":
			b.AllSlavesActive = n
		case "min_links":
			b.MinLinks = n
		case "lp_interval":
			b.LpInterval = n
		case "packets_per_slave":
			b.PacketsPerSlave = n
		case "lacp_rate":
			b.LacpRate = netlink.StringToBondLacpRate(o.Value)
		case "ad_select":
			b.AdSelect = netlink.BondAdSelect(enumIndex(adSelectNames, o.Value))
		case "ad_actor_sys_prio":
			b.AdActorSysPrio = n
		case "ad_user_port_key":
			b.AdUserPortKey = n
		case "ad_actor_system":
			mac, err := net.ParseMAC(o.Value)
			if err != nil {
				return fmt.Errorf("ad_actor_system %q: %w", o.Value, err)
			}
			b.AdActorSystem = mac
		case "tlb_dynamic_lb":
			b.TlbDynamicLb = n
		case "peer_notif_delay", "lacp_active", "arp_missed_max":
			// setBondExtras
		default:
			return fmt.Errorf("bond option %s is not supported", o.Name)
		}
	}
	return nil
}

// setBondExtras writes the options of opts that the library cannot carry,
// in one RTM_NEWLINK of the bond.
func setBondExtras(ns *Namespace, bond string, opts []netconf.BondOption) error {
	data := nl.NewRtAttr(nl.IFLA_INFO_DATA, nil)
	n := 0
	for _, x := range bondExtras {
		v, ok := netconf.BondOptionValue(opts, x.name)
		if !ok {
			continue
		}
		num, err := strconv.Atoi(v)
		if x.name == "lacp_active" {
			num, err = enumIndex(lacpActiveNames, v), nil
		}
		if err != nil {
			return fmt.Errorf("bond option %s=%q: %w", x.name, v, err)
		}
		if x.size == 4 {
			data.AddRtAttr(int(x.typ), nl.Uint32Attr(uint32(num)))
		} else {
			data.AddRtAttr(int(x.typ), nl.Uint8Attr(uint8(num)))
		}
		n++
	}
	if n == 0 {
		return nil
	}
	link, err := ns.Handle.LinkByName(bond)
	if err != nil {
		return fmt.Errorf("finding %s: %w", bond, err)
	}
	sock, err := ns.rtnl()
	if err != nil {
		return err
	}
	info := nl.NewIfInfomsg(unix.AF_UNSPEC)
	info.Index = int32(link.Attrs().Index)
	return sock.exchange([]request{{typ: unix.RTM_NEWLINK, body: serialize(info, linkInfo("bond", data))}})[0]
}

// hostBond is a bond as read, with the options the library does not parse.
type hostBond struct {
	netlink.Bond
	extras []netconf.BondOption
}

// withBondExtras wraps a bond read from msg (an RTM_NEWLINK) with the
// options of the attributes the library skips; other links pass through.
func withBondExtras(l netlink.Link, msg []byte) netlink.Link {
	b, ok := l.(*netlink.Bond)
	if !ok {
		return l
	}
	return &hostBond{Bond: *b, extras: parseBondExtras(msg)}
}

func parseBondExtras(msg []byte) []netconf.BondOption {
	if len(msg) < unix.SizeofIfInfomsg {
		return nil
	}
	var out []netconf.BondOption
	for _, a := range parseAttrs(msg[unix.SizeofIfInfomsg:]) {
		if a.typ != unix.IFLA_LINKINFO {
			continue
		}
		for _, i := range parseAttrs(a.value) {
			if i.typ != nl.IFLA_INFO_DATA {
				continue
			}
			for _, f := range parseAttrs(i.value) {
				for _, x := range bondExtras {
					if f.typ != x.typ || len(f.value) < x.size {
						continue
					}
					v := uint32(f.value[0])
					if x.size == 4 {
						v = binary.NativeEndian.Uint32(f.value)
					}
					text := strconv.FormatUint(uint64(v), 10)
					if x.name == "lacp_active" {
						text = enumName(lacpActiveNames, int(v))
					}
					out = append(out, netconf.BondOption{Name: x.name, Value: text})
				}
			}
		}
	}
	return out
}

// bondOptions lists a bond's options as the kernel reports them, in the
// notation of the configuration. The kernel reports the 802.3ad actor
// settings in that mode only, and primary and arp_ip_target when set.
func bondOptions(b *netlink.Bond, names map[int]string, extras []netconf.BondOption) []netconf.BondOption {
	var out []netconf.BondOption
	opt := func(name, value string) { out = append(out, netconf.BondOption{Name: name, Value: value}) }
	itoa := strconv.Itoa
	opt("miimon", itoa(b.Miimon))
	opt("updelay", itoa(b.UpDelay))
	opt("downdelay", itoa(b.DownDelay))
	opt("use_carrier", itoa(b.UseCarrier))
	opt("arp_interval", itoa(b.ArpInterval))
	if len(b.ArpIpTargets) > 0 {
		targets := make([]string, len(b.ArpIpTargets))
		for i, t := range b.ArpIpTargets {
			targets[i] = t.String()
		}
		opt("arp_ip_target", strings.Join(targets, ","))
	}
	opt("arp_validate", enumName(arpValidateNames, int(b.ArpValidate)))
	opt("arp_all_targets", enumName(arpAllTargetsNames, int(b.ArpAllTargets)))
	if b.Primary > 0 {
		opt("primary", names[b.Primary])
	}
	opt("primary_reselect", enumName(primaryReselectName, int(b.PrimaryReselect)))
	opt("fail_over_mac", enumName(failOverMACNames, int(b.FailOverMac)))
	opt("xmit_hash_policy", b.XmitHashPolicy.String())
	opt("resend_igmp", itoa(b.ResendIgmp))
	opt("num_grat_arp", itoa(b.NumPeerNotif))
	opt("num_unsol_na", itoa(b.NumPeerNotif))
	opt("all_slaves_active", itoa(b.AllSlavesActive))
	opt("min_links", itoa(b.MinLinks))
	opt("lp_interval", itoa(b.LpInterval))
	opt("packets_per_slave", itoa(b.PacketsPerSlave))
	opt("lacp_rate", b.LacpRate.String())
	opt("ad_select", enumName(adSelectNames, int(b.AdSelect)))
	if b.Mode == netlink.BOND_MODE_802_3AD {
		opt("ad_actor_sys_prio", itoa(b.AdActorSysPrio))
		opt("ad_user_port_key", itoa(b.AdUserPortKey))
		if len(b.AdActorSystem) == 6 {
			opt("ad_actor_system", strings.ToLower(b.AdActorSystem.String()))
		}
	}
	opt("tlb_dynamic_lb", itoa(b.TlbDynamicLb))
	out = append(out, extras...)
	slices.SortFunc(out, func(a, b netconf.BondOption) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func enumIndex(names []string, v string) int {
	if i := slices.Index(names, v); i >= 0 {
		return i
	}
	return 0
}

func enumName(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return strconv.Itoa(i)
}
