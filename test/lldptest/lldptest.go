// Package lldptest builds LLDP frames for tests, valid and broken, byte by
// byte, so that tests do not depend on the decoder they test.
package lldptest

import (
	"encoding/binary"
	"net"
)

// Dest is the nearest-bridge group address LLDP frames are sent to.
var Dest = net.HardwareAddr{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// TLV encodes one TLV: 7 bits of type, 9 bits of length, the value. The
// length is cut to 9 bits, as on the wire.
func TLV(typ int, value []byte) []byte {
	h := uint16(typ)<<9 | uint16(len(value))&0x1ff
	return append(binary.BigEndian.AppendUint16(nil, h), value...)
}

// Org encodes an organisationally specific TLV.
func Org(oui uint32, subtype byte, info []byte) []byte {
	return TLV(127, append([]byte{byte(oui >> 16), byte(oui >> 8), byte(oui), subtype}, info...))
}

// ChassisMAC is a chassis ID TLV of subtype MAC address.
func ChassisMAC(mac net.HardwareAddr) []byte { return TLV(1, append([]byte{4}, mac...)) }

// PortName is a port ID TLV of subtype interface name.
func PortName(name string) []byte { return TLV(2, append([]byte{5}, name...)) }

// TTL is a time to live TLV.
func TTL(s uint16) []byte { return TLV(3, binary.BigEndian.AppendUint16(nil, s)) }

// End is the End of LLDPDU TLV.
func End() []byte { return TLV(0, nil) }

// String is a TLV with a text value (4 port description, 5 system name,
// 6 system description).
func String(typ int, s string) []byte { return TLV(typ, []byte(s)) }

// MgmtIPv4 is a management address TLV with an IPv4 address and an
// ifIndex interface number.
func MgmtIPv4(ip net.IP, ifindex uint32) []byte {
	v := []byte{5, 1}
	v = append(v, ip.To4()...)
	v = append(v, 2)
	v = binary.BigEndian.AppendUint32(v, ifindex)
	v = append(v, 0)
	return TLV(8, v)
}

// PortVLAN is the 802.1 port VLAN ID TLV.
func PortVLAN(vid uint16) []byte { return Org(0x0080c2, 1, binary.BigEndian.AppendUint16(nil, vid)) }

// VLANName is the 802.1 VLAN name TLV.
func VLANName(vid uint16, name string) []byte {
	v := binary.BigEndian.AppendUint16(nil, vid)
	v = append(v, byte(len(name)))
	return Org(0x0080c2, 3, append(v, name...))
}

// LinkAgg8023 is the (older) 802.3 link aggregation TLV.
func LinkAgg8023(capable, aggregated bool, port uint32) []byte {
	var status byte
	if capable {
		status |= 1
	}
	if aggregated {
		status |= 2
	}
	return Org(0x00120f, 3, binary.BigEndian.AppendUint32([]byte{status}, port))
}

// MTU is the 802.3 maximum frame size TLV.
func MTU(size uint16) []byte { return Org(0x00120f, 4, binary.BigEndian.AppendUint16(nil, size)) }

// Frame wraps an LLDPDU made of tlvs in an Ethernet frame from src.
func Frame(src net.HardwareAddr, tlvs ...[]byte) []byte {
	f := append(append([]byte{}, Dest...), src...)
	f = append(f, 0x88, 0xcc)
	for _, t := range tlvs {
		f = append(f, t...)
	}
	return f
}
