// Package lldp decodes the LLDPDUs (IEEE 802.1AB) a host receives into the
// elements oVirt reports for a NIC: one element per TLV, with the name,
// type, OUI, subtype and properties that VDSM reports (and the engine
// serves as link_layer_discovery_protocol_element), so that clients written
// against an engine read hostnetd the same way.
//
// The frame, its TLV framing, the mandatory TLVs and the 802.1 and 802.3
// organisationally specific TLVs are decoded by gopacket's layers; this
// package checks what gopacket leaves unchecked (the order of the
// mandatory TLVs, the size limit, repeated TLVs) and formats the values.
// It knows nothing of sockets, XML or HTTP.
package lldp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// MaxLLDPDU is the largest LLDPDU accepted, in bytes: IEEE 802.1AB limits
// an LLDPDU to the 1500 bytes of an untagged Ethernet payload. A larger
// frame is oversized and dropped.
const MaxLLDPDU = 1500

// MaxFrame is the largest Ethernet frame (without FCS) that carries an
// acceptable LLDPDU.
const MaxFrame = 14 + MaxLLDPDU

// OUIs of the organisationally specific TLVs decoded by name.
const (
	OUI8021 = 0x0080c2 // IEEE 802.1
	OUI8023 = 0x00120f // IEEE 802.3
)

// TypeOrgSpecific is the TLV type of organisationally specific TLVs.
const TypeOrgSpecific = 127

// Errors of Decode.
var (
	ErrMalformed = errors.New("malformed LLDPDU")
	ErrOversized = errors.New("oversized LLDPDU")
)

// Property is one name and value of an element, as VDSM names them.
type Property struct {
	Name, Value string
}

// Element is one TLV of a neighbour's LLDPDU. OUI and Subtype are set
// (HasOUI) for organisationally specific TLVs only.
type Element struct {
	Name       string
	Type       int
	HasOUI     bool
	OUI        uint32
	Subtype    uint8
	Properties []Property
}

// Neighbor is what one LLDPDU says about the neighbour that sent it.
type Neighbor struct {
	// Key identifies the neighbour on a link (its MSAP identifier: the
	// chassis ID and port ID TLVs, byte for byte).
	Key string
	// ChassisID and PortID are the formatted identifiers, for messages.
	ChassisID, PortID string
	// SystemName is empty when the neighbour does not send one.
	SystemName string
	// TTL is how long, in seconds, the information stays valid; 0 means
	// the neighbour is shutting down and its information is to be removed.
	TTL uint16
	// Elements are the TLVs in the order they came, the End TLV excepted.
	Elements []Element
}

// Decode decodes one Ethernet frame carrying an LLDPDU. A frame whose
// LLDPDU is over MaxLLDPDU fails with ErrOversized; one that breaks the
// TLV framing, misses or misorders a mandatory TLV or carries a TLV shorter
// than its type needs fails with ErrMalformed. Decode never panics on any
// input.
func Decode(frame []byte) (n *Neighbor, err error) {
	if len(frame) < 14 {
		return nil, fmt.Errorf("%w: a %d-byte frame", ErrMalformed, len(frame))
	}
	if et := binary.BigEndian.Uint16(frame[12:14]); et != uint16(layers.EthernetTypeLinkLayerDiscovery) {
		return nil, fmt.Errorf("%w: EtherType %#04x", ErrMalformed, et)
	}
	if len(frame)-14 > MaxLLDPDU {
		return nil, fmt.Errorf("%w: %d bytes", ErrOversized, len(frame)-14)
	}
	defer func() {
		// gopacket recovers its own panics; this guards the formatting.
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%w: %v", ErrMalformed, r)
		}
	}()
	if err := checkFraming(frame[14:]); err != nil {
		return nil, err
	}
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	if el := p.ErrorLayer(); el != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, el.Error())
	}
	du, _ := p.Layer(layers.LayerTypeLinkLayerDiscovery).(*layers.LinkLayerDiscovery)
	info, _ := p.Layer(layers.LayerTypeLinkLayerDiscoveryInfo).(*layers.LinkLayerDiscoveryInfo)
	if du == nil || info == nil {
		return nil, fmt.Errorf("%w: no LLDPDU", ErrMalformed)
	}
	return neighbor(du, info)
}

// checkFraming walks the TLV headers: the first three TLVs must be the
// chassis ID, port ID and TTL (802.1AB 9.2.7.7.1 discards an LLDPDU
// otherwise), none of them repeated, and the End TLV must come before
// the data ends.
func checkFraming(du []byte) error {
	seen := map[int]bool{}
	for i := 0; ; i++ {
		if len(du) < 2 {
			return fmt.Errorf("%w: no End TLV", ErrMalformed)
		}
		typ := int(du[0] >> 1)
		length := int(du[0]&1)<<8 | int(du[1])
		if len(du) < 2+length {
			return fmt.Errorf("%w: TLV %d of %d bytes beyond the end of the LLDPDU", ErrMalformed, typ, length)
		}
		if i < 3 && typ != i+1 {
			return fmt.Errorf("%w: TLV %d where the mandatory TLV %d belongs", ErrMalformed, typ, i+1)
		}
		switch typ {
		case 0:
			if i < 3 {
				return fmt.Errorf("%w: End TLV before the mandatory TLVs", ErrMalformed)
			}
			return nil
		case 1, 2, 3, 4, 5, 6, 7:
			if seen[typ] {
				return fmt.Errorf("%w: TLV %d repeated", ErrMalformed, typ)
			}
			seen[typ] = true
		}
		du = du[2+length:]
	}
}

func neighbor(du *layers.LinkLayerDiscovery, info *layers.LinkLayerDiscoveryInfo) (*Neighbor, error) {
	chassisSub, chassis := chassisID(du.ChassisID)
	portSub, port := portID(du.PortID)
	n := &Neighbor{
		Key:        hex.EncodeToString([]byte{byte(du.ChassisID.Subtype)}) + hex.EncodeToString(du.ChassisID.ID) + "/" + hex.EncodeToString([]byte{byte(du.PortID.Subtype)}) + hex.EncodeToString(du.PortID.ID),
		ChassisID:  chassis,
		PortID:     port,
		TTL:        du.TTL,
		SystemName: text(info.SysName),
	}
	n.Elements = append(n.Elements,
		Element{Name: "Chassis ID", Type: 1, Properties: []Property{{"chassis ID subtype", chassisSub}, {"chassis ID", chassis}}},
		Element{Name: "Port ID", Type: 2, Properties: []Property{{"port ID subtype", portSub}, {"port ID", port}}},
		Element{Name: "Time to Live", Type: 3, Properties: []Property{{"time to live", strconv.Itoa(int(du.TTL))}}},
	)
	for _, v := range du.Values {
		e, err := element(v, info)
		if err != nil {
			return nil, err
		}
		n.Elements = append(n.Elements, e)
	}
	return n, nil
}

func element(v layers.LinkLayerDiscoveryValue, info *layers.LinkLayerDiscoveryInfo) (Element, error) {
	e := Element{Type: int(v.Type)}
	switch v.Type {
	case layers.LLDPTLVPortDescription:
		e.Name, e.Properties = "Port Description", []Property{{"port description", text(string(v.Value))}}
	case layers.LLDPTLVSysName:
		e.Name, e.Properties = "System Name", []Property{{"system name", text(string(v.Value))}}
	case layers.LLDPTLVSysDescription:
		e.Name, e.Properties = "System Description", []Property{{"system description", text(string(v.Value))}}
	case layers.LLDPTLVSysCapabilities:
		// One per LLDPDU (checkFraming), so gopacket's decoding is this one.
		e.Name = "System Capabilities"
		e.Properties = []Property{
			{"system capabilities", capabilities(info.SysCapabilities.SystemCap)},
			{"enabled capabilities", capabilities(info.SysCapabilities.EnabledCap)},
		}
	case layers.LLDPTLVMgmtAddress:
		// gopacket keeps only the last of several management addresses;
		// each is decoded here, with the same checks.
		props, err := managementAddress(v.Value)
		if err != nil {
			return e, err
		}
		e.Name, e.Properties = "Management Address", props
	case layers.LLDPTLVOrgSpecific:
		return orgSpecific(v)
	default:
		e.Name, e.Properties = "Unknown", []Property{{"value", hex.EncodeToString(v.Value)}}
	}
	return e, nil
}

func orgSpecific(v layers.LinkLayerDiscoveryValue) (Element, error) {
	if len(v.Value) < 4 {
		return Element{}, fmt.Errorf("%w: organisationally specific TLV of %d bytes", ErrMalformed, len(v.Value))
	}
	o := layers.LLDPOrgSpecificTLV{OUI: layers.IEEEOUI(uint32(v.Value[0])<<16 | uint32(v.Value[1])<<8 | uint32(v.Value[2])), SubType: v.Value[3], Info: v.Value[4:]}
	e := Element{Name: "Organizationally Specific", Type: TypeOrgSpecific, HasOUI: true, OUI: uint32(o.OUI), Subtype: o.SubType}
	one := &layers.LinkLayerDiscoveryInfo{OrgTLVs: []layers.LLDPOrgSpecificTLV{o}}
	bad := func(err error) (Element, error) {
		return Element{}, fmt.Errorf("%w: TLV %06x/%d: %v", ErrMalformed, uint32(o.OUI), o.SubType, err)
	}
	switch {
	case o.OUI == OUI8021 && o.SubType == layers.LLDP8021SubtypePortVLANID:
		d, err := one.Decode8021()
		if err != nil {
			return bad(err)
		}
		e.Name, e.Properties = "Port VLAN ID", []Property{{"Port VLAN ID", strconv.Itoa(int(d.PVID))}}
	case o.OUI == OUI8021 && o.SubType == layers.LLDP8021SubtypeVLANName:
		// VLAN ID (2), name length (1), name: gopacket does not check the
		// length byte.
		if len(o.Info) < 3 || int(o.Info[2]) != len(o.Info)-3 || len(o.Info) > 3+32 {
			return bad(fmt.Errorf("VLAN name TLV of %d bytes", len(o.Info)))
		}
		d, err := one.Decode8021()
		if err != nil || len(d.VLANNames) != 1 {
			return bad(err)
		}
		e.Name = "VLAN Name"
		e.Properties = []Property{{"VLAN ID", strconv.Itoa(int(d.VLANNames[0].ID))}, {"VLAN Name", text(d.VLANNames[0].Name)}}
	case o.OUI == OUI8021 && o.SubType == layers.LLDP8021SubtypeLinkAggregation,
		o.OUI == OUI8023 && o.SubType == layers.LLDP8023SubtypeLinkAggregation:
		var la layers.LLDPLinkAggregation
		if o.OUI == OUI8021 {
			d, err := one.Decode8021()
			if err != nil {
				return bad(err)
			}
			la = d.LinkAggregation
		} else {
			d, err := one.Decode8023()
			if err != nil {
				return bad(err)
			}
			la = d.LinkAggregation
		}
		// The 802.3 TLV moved to 802.1 (802.1AX, 802.1AB-2009) with the
		// same content; VDSM reports both as the 802.1 one, and so do we,
		// so that clients (the engine's LLDP labeler) find it.
		e.Name, e.OUI, e.Subtype = "Link Aggregation", OUI8021, layers.LLDP8021SubtypeLinkAggregation
		e.Properties = []Property{
			{"Aggregation capable", pyBool(la.Supported)},
			{"Currently aggregated", pyBool(la.Enabled)},
			{"Aggregated Port ID", strconv.FormatUint(uint64(la.PortID), 10)},
		}
	case o.OUI == OUI8023 && o.SubType == layers.LLDP8023SubtypeMTU:
		d, err := one.Decode8023()
		if err != nil {
			return bad(err)
		}
		e.Name, e.Properties = "MTU", []Property{{"mtu", strconv.Itoa(int(d.MTU))}}
	default:
		e.Properties = []Property{{"value", hex.EncodeToString(o.Info)}}
	}
	return e, nil
}

// managementAddress decodes a management address TLV (802.1AB 8.5.9):
// address string length (1, counting the subtype), address subtype (1),
// address, interface numbering subtype (1), interface number (4), OID
// string length (1), OID.
func managementAddress(b []byte) ([]Property, error) {
	bad := func(what string) ([]Property, error) {
		return nil, fmt.Errorf("%w: management address TLV: %s", ErrMalformed, what)
	}
	if len(b) < 9 {
		return bad("too short")
	}
	alen := int(b[0])
	if alen < 2 || alen > 32 || len(b) < 1+alen+5+1 {
		return bad("bad address length")
	}
	family, addr := layers.IANAAddressFamily(b[1]), b[2:1+alen]
	rest := b[1+alen:]
	ifSub, ifNum := rest[0], binary.BigEndian.Uint32(rest[1:5])
	olen := int(rest[5])
	if olen > 128 || len(rest) != 6+olen {
		return bad("bad OID length")
	}
	sub, val := networkAddress(family, addr)
	props := []Property{
		{"management address subtype", sub},
		{"management address", val},
		{"interface numbering subtype", interfaceNumbering(ifSub)},
		{"interface numbering", strconv.FormatUint(uint64(ifNum), 10)},
	}
	if olen > 0 {
		props = append(props, Property{"object identifier", hex.EncodeToString(rest[6:])})
	}
	return props, nil
}

func interfaceNumbering(sub byte) string {
	switch layers.LLDPInterfaceSubtype(sub) {
	case layers.LLDPInterfaceSubtypeUnknown:
		return "Unknown"
	case layers.LLDPInterfaceSubtypeifIndex:
		return "Ifindex"
	case layers.LLDPInterfaceSubtypeSysPort:
		return "System port number"
	}
	return "Subtype " + strconv.Itoa(int(sub))
}

// networkAddress formats an address of an IANA family as lldptool does.
func networkAddress(family layers.IANAAddressFamily, addr []byte) (subtype, value string) {
	switch {
	case family == layers.IANAAddressFamilyIPV4 && len(addr) == 4:
		return "IPv4", netip.AddrFrom4([4]byte(addr)).String()
	case family == layers.IANAAddressFamilyIPV6 && len(addr) == 16:
		return "IPv6", netip.AddrFrom16([16]byte(addr)).String()
	case family == layers.IANAAddressFamily802 && len(addr) == 6:
		return "AFI 802", net.HardwareAddr(addr).String()
	}
	return "AFI " + strconv.Itoa(int(family)), hex.EncodeToString(addr)
}

var chassisSubtypes = map[layers.LLDPChassisIDSubType]string{
	layers.LLDPChassisIDSubTypeChassisComp: "Chassis Component",
	layers.LLDPChassisIDSubtypeIfaceAlias:  "IfAlias",
	layers.LLDPChassisIDSubTypePortComp:    "Port Component",
	layers.LLDPChassisIDSubTypeMACAddr:     "MAC",
	layers.LLDPChassisIDSubtypeIfaceName:   "Ifname",
	layers.LLDPChassisIDSubTypeLocal:       "Local",
}

func chassisID(c layers.LLDPChassisID) (subtype, value string) {
	switch c.Subtype {
	case layers.LLDPChassisIDSubTypeMACAddr:
		if len(c.ID) == 6 {
			return "MAC", net.HardwareAddr(c.ID).String()
		}
	case layers.LLDPChassisIDSubTypeNetworkAddr:
		if len(c.ID) > 1 {
			return networkAddress(layers.IANAAddressFamily(c.ID[0]), c.ID[1:])
		}
	default:
		if name, ok := chassisSubtypes[c.Subtype]; ok {
			return name, text(string(c.ID))
		}
	}
	return "Subtype " + strconv.Itoa(int(c.Subtype)), hex.EncodeToString(c.ID)
}

var portSubtypes = map[layers.LLDPPortIDSubType]string{
	layers.LLDPPortIDSubtypeIfaceAlias: "Interface Alias",
	layers.LLDPPortIDSubtypePortComp:   "Port Component",
	layers.LLDPPortIDSubtypeIfaceName:  "Ifname",
	layers.LLDPPortIDSubtypeLocal:      "Local",
}

func portID(p layers.LLDPPortID) (subtype, value string) {
	switch p.Subtype {
	case layers.LLDPPortIDSubtypeMACAddr:
		if len(p.ID) == 6 {
			return "MAC", net.HardwareAddr(p.ID).String()
		}
	case layers.LLDPPortIDSubtypeNetworkAddr:
		if len(p.ID) > 1 {
			return networkAddress(layers.IANAAddressFamily(p.ID[0]), p.ID[1:])
		}
	case layers.LLDPPortIDSubtypeAgentCircuitID:
		return "Agent Circuit ID", hex.EncodeToString(p.ID)
	default:
		if name, ok := portSubtypes[p.Subtype]; ok {
			return name, text(string(p.ID))
		}
	}
	return "Subtype " + strconv.Itoa(int(p.Subtype)), hex.EncodeToString(p.ID)
}

// capabilities lists the set capabilities by lldptool's names.
func capabilities(c layers.LLDPCapabilities) string {
	var names []string
	for _, f := range []struct {
		set  bool
		name string
	}{
		{c.Other, "Other"}, {c.Repeater, "Repeater"}, {c.Bridge, "Bridge"}, {c.WLANAP, "WLAN Access Point"},
		{c.Router, "Router"}, {c.Phone, "Telephone"}, {c.DocSis, "DOCSIS cable device"},
		{c.StationOnly, "Station Only"}, {c.CVLAN, "C-VLAN"}, {c.SVLAN, "S-VLAN"}, {c.TMPR, "TPMR"},
	} {
		if f.set {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

// pyBool is how VDSM spells a boolean property.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// text makes a TLV's string fit for any document: invalid UTF-8 and control
// characters (which XML 1.0 cannot carry) become U+FFFD, and trailing NULs
// that some switches send are cut.
func text(s string) string {
	s = strings.TrimRight(s, "\x00")
	if utf8.ValidString(s) && !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b bytes.Buffer
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if isControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || r == 0xFFFE || r == 0xFFFF
}

// Same says whether two LLDPDUs of a neighbour carry the same information,
// the TTL aside (each LLDPDU restarts it).
func Same(a, b *Neighbor) bool {
	if len(a.Elements) != len(b.Elements) {
		return false
	}
	for i := range a.Elements {
		if a.Elements[i].Type == 3 && b.Elements[i].Type == 3 {
			continue
		}
		if !sameElement(a.Elements[i], b.Elements[i]) {
			return false
		}
	}
	return true
}

func sameElement(a, b Element) bool {
	if a.Name != b.Name || a.Type != b.Type || a.HasOUI != b.HasOUI || a.OUI != b.OUI || a.Subtype != b.Subtype || len(a.Properties) != len(b.Properties) {
		return false
	}
	for i := range a.Properties {
		if a.Properties[i] != b.Properties[i] {
			return false
		}
	}
	return true
}

// Changes names the elements that differ between two LLDPDUs of a
// neighbour, the TTL aside, for an event.
func Changes(old, cur *Neighbor) []string {
	count := func(n *Neighbor) map[string][]Element {
		m := map[string][]Element{}
		for _, e := range n.Elements {
			if e.Type != 3 {
				m[e.Name] = append(m[e.Name], e)
			}
		}
		return m
	}
	o, c := count(old), count(cur)
	var names []string
	seen := map[string]bool{}
	for _, n := range []*Neighbor{old, cur} {
		for _, e := range n.Elements {
			if e.Type == 3 || seen[e.Name] {
				continue
			}
			seen[e.Name] = true
			a, b := o[e.Name], c[e.Name]
			same := len(a) == len(b)
			for i := 0; same && i < len(a); i++ {
				same = sameElement(a[i], b[i])
			}
			if !same {
				names = append(names, strings.ToLower(e.Name))
			}
		}
	}
	return names
}
