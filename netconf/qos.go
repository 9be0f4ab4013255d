package netconf

import (
	"fmt"
	"strconv"
	"strings"
)

// Host network QoS is oVirt's QoS of type hostnetwork: outbound shaping of
// a network's traffic on the NIC or bond that carries it. A network names
// an entry of the data center's QoS catalogue; an attachment may override
// it with values of its own. hostnetd applies it as VDSM does
// (lib/vdsm/network/configurators/qos.py): the device gets a root HFSC
// qdisc, handle 1389: (5001), whose default class 1389:1388 (5000) takes
// untagged traffic; each network gets a class whose minor is its VLAN id
// (an untagged network's is the default class), with an fq_codel queue
// below it for fairness inside the class, and a filter that steers its
// VLAN's frames there.

// HostNetworkQoS is one host network QoS: a catalogue entry (ID, Name and
// Description set), a network's copy of the entry it names, or an
// attachment's override (no ID). Nil values are not set.
type HostNetworkQoS struct {
	ID          string `json:",omitempty"`
	Name        string `json:",omitempty"`
	Description string `json:",omitempty"`
	// Linkshare is the network's weight (outbound_average_linkshare)
	// when the device's bandwidth is shared out.
	Linkshare *int `json:",omitempty"`
	// Upperlimit and Realtime are in Mbps: the most the network may send
	// (outbound_average_upperlimit) and what it is guaranteed
	// (outbound_average_realtime).
	Upperlimit *int `json:",omitempty"`
	Realtime   *int `json:",omitempty"`
}

// QoS limits: the engine's shares, and the rates HFSC carries (netlink
// sends a curve's rate as 32-bit bits per second).
const (
	MaxQoSLinkshare = 100
	MaxQoSMbps      = 4294
)

// QoSTypeHostNetwork is the only QoS type hostnetd manages.
const QoSTypeHostNetwork = "hostnetwork"

// RawQoS is a qos element as sent: its type and values as text, empty when
// absent.
type RawQoS struct {
	Type       string
	Linkshare  string
	Upperlimit string
	Realtime   string
}

// Empty reports whether the element carries no value: sent on an
// attachment, it removes the attachment's override.
func (r RawQoS) Empty() bool { return r.Linkshare == "" && r.Upperlimit == "" && r.Realtime == "" }

// ParseQoS validates a QoS as the engine does: a known type, whole numbers
// in range, a link share whenever anything is set (missing is the code for
// that), and a real-time rate no higher than the upper limit.
func ParseQoS(what string, r RawQoS, missing string) (*HostNetworkQoS, error) {
	if t := strings.ToLower(r.Type); t != "" && t != QoSTypeHostNetwork {
		return nil, ruleErr(CodeQoSTypeNotSupported, "%s: QoS type %q is not supported; hostnetd manages hostnetwork QoS", what, r.Type)
	}
	q := &HostNetworkQoS{}
	for _, f := range []struct {
		name string
		raw  string
		dst  **int
		max  int
	}{
		{"outbound_average_linkshare", r.Linkshare, &q.Linkshare, MaxQoSLinkshare},
		{"outbound_average_upperlimit", r.Upperlimit, &q.Upperlimit, MaxQoSMbps},
		{"outbound_average_realtime", r.Realtime, &q.Realtime, MaxQoSMbps},
	} {
		if f.raw == "" {
			continue
		}
		n, err := strconv.Atoi(f.raw)
		if err != nil || n < 1 || n > f.max {
			return nil, ruleErr(CodeQoSOutOfRange, "%s: %s %q must be a whole number from 1 to %d", what, f.name, f.raw, f.max)
		}
		*f.dst = &n
	}
	if q.Linkshare == nil {
		return nil, ruleErr(missing, "%s: a host network QoS needs outbound_average_linkshare", what)
	}
	if q.Upperlimit != nil && q.Realtime != nil && *q.Realtime > *q.Upperlimit {
		return nil, ruleErr(CodeQoSInconsistentValues, "%s: outbound_average_realtime %d exceeds outbound_average_upperlimit %d", what, *q.Realtime, *q.Upperlimit)
	}
	return q, nil
}

// SameValues reports whether two QoS shape alike (nil is none).
func (q *HostNetworkQoS) SameValues(o *HostNetworkQoS) bool {
	if q == nil || o == nil {
		return q == nil && o == nil
	}
	return eqInt(q.Linkshare, o.Linkshare) && eqInt(q.Upperlimit, o.Upperlimit) && eqInt(q.Realtime, o.Realtime)
}

func eqInt(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// Clone returns a deep copy of q (nil for nil).
func (q *HostNetworkQoS) Clone() *HostNetworkQoS {
	if q == nil {
		return nil
	}
	c := *q
	for _, p := range []**int{&c.Linkshare, &c.Upperlimit, &c.Realtime} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return &c
}

// EffectiveQoS is the QoS an attachment runs: its override, or its
// network's.
func EffectiveQoS(a Attachment, net *Network) *HostNetworkQoS {
	if a.QoS != nil {
		return a.QoS
	}
	return net.QoS
}

// The HFSC layout of VDSM.
const (
	// QoSRootMajor is the major of the root qdisc and of its classes
	// (5001, leaving 0 free).
	QoSRootMajor = 0x1389
	// QoSDefaultClass is the minor of the default class, which takes the
	// traffic no filter steers elsewhere, and the class of an untagged
	// network (5000).
	QoSDefaultClass = 0x1388
	// QoSLeafKind is the queue under each class.
	QoSLeafKind = "fq_codel"
	// QoSMatchAll is the VLAN of the filter that sends every other frame
	// to the default class.
	QoSMatchAll = -1
)

// QoSClass is one HFSC class under hostnetd's root qdisc.
type QoSClass struct {
	ID uint16 // the minor: a VLAN id, or QoSDefaultClass
	// LS, UL and RT are the m2 rates of the link-share, upper-limit and
	// real-time curves in bits/s, 0 when the class has none.
	LS, UL, RT uint32
	// Leaf is the kind of the qdisc below the class ("" for none).
	Leaf string `json:",omitempty"`
}

// QoSFilter steers frames to a class: those of a VLAN (a basic filter
// matching meta(vlan), at the VLAN id's preference), or every frame
// (QoSMatchAll: a u32 filter at preference 5000, evaluated last).
type QoSFilter struct {
	Pref  uint16
	VLAN  int
	Class uint16
}

// DeviceQoS is the HFSC configuration of one device. With no class it is
// none: the device has the kernel's default root qdisc.
type DeviceQoS struct {
	Classes []QoSClass  `json:",omitempty"` // by ID
	Filters []QoSFilter `json:",omitempty"` // by Pref
}

// Empty reports whether q configures no HFSC (nil too).
func (q *DeviceQoS) Empty() bool { return q == nil || len(q.Classes) == 0 }

// QoSState is a device's traffic control as the kernel reports it.
type QoSState struct {
	// RootKind and RootHandle are the root qdisc's; a handle of 0 is the
	// kernel's default qdisc, which deleting the root qdisc puts back.
	RootKind   string
	RootHandle uint32
	// DefaultClass is an HFSC root's default class minor.
	DefaultClass uint16
	// Classes and Filters are those under an HFSC root (not its root
	// class).
	Classes []QoSClass
	Filters []QoSFilter
}

// Ours reports whether the root qdisc is hostnetd's HFSC.
func (s *QoSState) Ours() bool {
	return s != nil && s.RootKind == "hfsc" && s.RootHandle == QoSRootMajor<<16
}

// Foreign reports whether the root qdisc was added by someone else: not the
// kernel's default (handle 0), not hostnetd's.
func (s *QoSState) Foreign() bool { return s != nil && s.RootHandle != 0 && !s.Ours() }

// Device returns what the kernel has as a target: its classes and filters
// if the root is hostnetd's, none if it is the kernel's default, nil
// (leave it alone) if it is someone else's.
func (s *QoSState) Device() *DeviceQoS {
	switch {
	case s == nil || s.Foreign():
		return nil
	case !s.Ours():
		return &DeviceQoS{}
	}
	return &DeviceQoS{Classes: append([]QoSClass(nil), s.Classes...), Filters: append([]QoSFilter(nil), s.Filters...)}
}

// Kernel rates: HFSC keeps a rate as a slope in its own units and reports
// it converted back (net/sched/sch_hfsc.c m2sm, sm2m), with PSCHED_SHIFT 6.
const (
	hfscSMShift     = 24
	hfscTicksPerSec = 1_000_000_000 >> 6
)

// kernelRate is the rate, in bits/s, the kernel reports for bits/s given:
// the byte rate, through the kernel's slope and back.
func kernelRate(bits uint64) uint32 {
	m := bits / 8
	sm := (m<<hfscSMShift + hfscTicksPerSec - 1) / hfscTicksPerSec
	return uint32((sm * hfscTicksPerSec >> hfscSMShift) * 8)
}

// qosClass is the class of one network's QoS: ls as VDSM converts a share
// (×8 bits/s), the rates from Mbps.
func qosClass(id uint16, q *HostNetworkQoS) QoSClass {
	c := QoSClass{ID: id, Leaf: QoSLeafKind}
	if q.Linkshare != nil {
		c.LS = kernelRate(uint64(*q.Linkshare) * 8)
	}
	if q.Upperlimit != nil {
		c.UL = kernelRate(uint64(*q.Upperlimit) * 1_000_000)
	}
	if q.Realtime != nil {
		c.RT = kernelRate(uint64(*q.Realtime) * 1_000_000)
	}
	return c
}

// QoSClassID is the class minor of a network: its VLAN id, or the default
// class.
func QoSClassID(net *Network) uint16 {
	if net.VLAN != nil {
		return uint16(*net.VLAN)
	}
	return QoSDefaultClass
}

// describeCurves renders a class's curves as tc takes them.
func describeCurves(c QoSClass) string {
	var b strings.Builder
	for _, x := range []struct {
		name string
		m2   uint32
	}{{"ls", c.LS}, {"ul", c.UL}, {"rt", c.RT}} {
		if x.m2 > 0 {
			fmt.Fprintf(&b, " %s m2 %dbit", x.name, x.m2)
		}
	}
	return b.String()
}

func describeFilter(dev string, f QoSFilter) string {
	match := "u32 match u8 0 0"
	if f.VLAN != QoSMatchAll {
		match = fmt.Sprintf("basic match 'meta(vlan eq %d)'", f.VLAN)
	}
	return fmt.Sprintf("tc filter add dev %s parent %x: protocol all pref %d %s flowid %x:%x", dev, QoSRootMajor, f.Pref, match, QoSRootMajor, f.Class)
}

// describeQoSStep renders a qos-* step as the tc command that does the same.
func describeQoSStep(s Step) string {
	switch s.Op {
	case OpQoSRootAdd:
		return fmt.Sprintf("tc qdisc add dev %s root handle %x: hfsc default %x", s.Link, QoSRootMajor, QoSDefaultClass)
	case OpQoSRootDel:
		return fmt.Sprintf("tc qdisc del dev %s root", s.Link)
	case OpQoSClassAdd, OpQoSClassChange:
		verb := "add"
		if s.Op == OpQoSClassChange {
			verb = "change"
		}
		return fmt.Sprintf("tc class %s dev %s parent %x: classid %x:%x hfsc%s", verb, s.Link, QoSRootMajor, QoSRootMajor, s.Class.ID, describeCurves(*s.Class))
	case OpQoSClassDel:
		return fmt.Sprintf("tc class del dev %s classid %x:%x", s.Link, QoSRootMajor, s.Class.ID)
	case OpQoSLeafAdd:
		return fmt.Sprintf("tc qdisc add dev %s parent %x:%x handle %x: %s", s.Link, QoSRootMajor, s.Class.ID, s.Class.ID, s.Class.Leaf)
	case OpQoSFilterAdd:
		return describeFilter(s.Link, *s.Filter)
	case OpQoSFilterDel:
		return fmt.Sprintf("tc filter del dev %s parent %x: pref %d", s.Link, QoSRootMajor, s.Filter.Pref)
	}
	return string(s.Op) + " " + s.Link
}

// QoSChange creates or updates an entry of the QoS catalogue; nil fields
// and empty values leave the stored ones.
type QoSChange struct {
	ID          string
	Name        *string
	Description *string
	Values      RawQoS
}

// ApplyQoSChange validates a catalogue change and returns the entry it
// describes: a new one when cur is nil (with the given id), else cur with
// the fields the change sets.
func ApplyQoSChange(cur *HostNetworkQoS, id string, ch QoSChange) (*HostNetworkQoS, error) {
	raw := ch.Values
	name, desc := "", ""
	if cur != nil {
		name, desc = cur.Name, cur.Description
		for _, f := range []struct {
			dst *string
			v   *int
		}{{&raw.Linkshare, cur.Linkshare}, {&raw.Upperlimit, cur.Upperlimit}, {&raw.Realtime, cur.Realtime}} {
			if *f.dst == "" && f.v != nil {
				*f.dst = strconv.Itoa(*f.v)
			}
		}
	}
	if ch.Name != nil {
		name = strings.TrimSpace(*ch.Name)
	}
	if ch.Description != nil {
		desc = *ch.Description
	}
	if name == "" {
		return nil, ruleErr(CodeQoSMissingValues, "a QoS needs a name")
	}
	q, err := ParseQoS("QoS "+name, raw, CodeQoSMissingValues)
	if err != nil {
		return nil, err
	}
	q.ID, q.Name, q.Description = id, name, desc
	return q, nil
}
