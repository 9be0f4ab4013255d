package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// Host network QoS is written and read through rtnetlink's traffic
// control messages: qdiscs and HFSC classes with the library, the filters
// that steer a VLAN's frames to its class (tc's "basic match
// 'meta(vlan eq N)'", an ematch the library does not know) and their
// dump with hostnetd's own messages on the namespace's raw socket.

// Filter and ematch attributes of linux/pkt_cls.h, linux/tc_ematch/.
const (
	tcaBasicClassID    = 1
	tcaBasicEmatches   = 2
	tcaEmatchTreeHdr   = 1
	tcaEmatchTreeList  = 2
	tcfEmMeta          = 4
	tcaEmMetaHdr       = 1
	tcaEmMetaRValue    = 3
	tcfMetaTypeInt     = 1
	tcfMetaIDValue     = 0
	tcfMetaIDVLANTag   = 46
	tcfEmOpndEq        = 0
	tcaU32ClassID      = 1
	qosFilterProto     = unix.ETH_P_ALL
	metaVLANKind       = tcfMetaTypeInt<<12 | tcfMetaIDVLANTag
	metaValueKind      = tcfMetaTypeInt<<12 | tcfMetaIDValue
	tcFilterInfoShift  = 16
	tcMsgLen           = nl.SizeofTcMsg
	ematchHdrLen       = 8
	metaHdrLen         = 8
	unknownFilterMatch = -2
)

var qosRoot = netlink.MakeHandle(netconf.QoSRootMajor, 0)

func qosClassHandle(id uint16) uint32 { return netlink.MakeHandle(netconf.QoSRootMajor, id) }

// ReadQoS reads the traffic control of the named devices: the root qdisc,
// and under hostnetd's HFSC root its classes with their queues and its
// filters. A device that does not exist is left out.
func ReadQoS(ns *Namespace, names []string) (map[string]*netconf.QoSState, error) {
	out := make(map[string]*netconf.QoSState, len(names))
	for _, name := range names {
		link, err := ns.Handle.LinkByName(name)
		if err != nil {
			continue
		}
		st, err := readQoS(ns, link)
		if err != nil {
			return out, fmt.Errorf("reading the traffic control of %s: %w", name, err)
		}
		out[name] = st
	}
	return out, nil
}

func readQoS(ns *Namespace, link netlink.Link) (*netconf.QoSState, error) {
	h := ns.Handle
	qdiscs, err := retryDump("qdiscs", func() ([]netlink.Qdisc, error) { return h.QdiscList(link) })
	if err != nil {
		return nil, err
	}
	st := &netconf.QoSState{}
	leaves := map[uint32]string{}
	for _, q := range qdiscs {
		a := q.Attrs()
		if a.Parent != netlink.HANDLE_ROOT {
			leaves[a.Parent] = q.Type()
			continue
		}
		st.RootKind, st.RootHandle = q.Type(), a.Handle
		if hf, ok := q.(*netlink.Hfsc); ok {
			st.DefaultClass = hf.Defcls
		}
	}
	if !st.Ours() {
		return st, nil
	}
	classes, err := retryDump("classes", func() ([]netlink.Class, error) { return h.ClassList(link, qosRoot) })
	if err != nil {
		return nil, err
	}
	for _, c := range classes {
		hc, ok := c.(*netlink.HfscClass)
		a := c.Attrs()
		if !ok || a.Handle&0xffff == 0 {
			continue // the root class
		}
		_, _, ls := hc.Fsc.Attrs()
		_, _, ul := hc.Usc.Attrs()
		_, _, rt := hc.Rsc.Attrs()
		st.Classes = append(st.Classes, netconf.QoSClass{ID: uint16(a.Handle), LS: ls, UL: ul, RT: rt, Leaf: leaves[a.Handle]})
	}
	sortClasses(st.Classes)
	st.Filters, err = readQoSFilters(ns, link.Attrs().Index)
	return st, err
}

func sortClasses(cs []netconf.QoSClass) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].ID < cs[j-1].ID; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// tcMsg is a struct tcmsg.
func tcMsg(ifindex int, handle, parent, info uint32) []byte {
	b := make([]byte, tcMsgLen)
	binary.NativeEndian.PutUint32(b[4:8], uint32(ifindex))
	binary.NativeEndian.PutUint32(b[8:12], handle)
	binary.NativeEndian.PutUint32(b[12:16], parent)
	binary.NativeEndian.PutUint32(b[16:20], info)
	return b
}

func filterInfo(pref uint16) uint32 {
	return uint32(pref)<<tcFilterInfoShift | uint32(binary.NativeEndian.Uint16(htons(qosFilterProto)))
}

// readQoSFilters dumps the filters of the HFSC root: by preference, the
// class each sends to and the VLAN it matches (QoSMatchAll for u32).
func readQoSFilters(ns *Namespace, ifindex int) ([]netconf.QoSFilter, error) {
	r, err := ns.rtnl()
	if err != nil {
		return nil, err
	}
	msgs, err := retryDump("filters", func() ([][]byte, error) {
		return r.dump(unix.RTM_GETTFILTER, tcMsg(ifindex, 0, qosRoot, 0))
	})
	if err != nil {
		return nil, err
	}
	var out []netconf.QoSFilter
	for _, m := range msgs {
		if len(m) < tcMsgLen {
			continue
		}
		pref := uint16(binary.NativeEndian.Uint32(m[16:20]) >> tcFilterInfoShift)
		if f, ok := parseQoSFilter(pref, parseAttrs(m[tcMsgLen:])); ok {
			out = append(out, f)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Pref < out[j-1].Pref; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// parseQoSFilter reads one filter message; u32's hash table entries, which
// send nowhere, are not filters of their own.
func parseQoSFilter(pref uint16, attrs []attr) (netconf.QoSFilter, bool) {
	var kind string
	var opts []attr
	for _, a := range attrs {
		switch a.typ {
		case unix.TCA_KIND:
			kind = cstring(a.value)
		case unix.TCA_OPTIONS:
			opts = parseAttrs(a.value)
		}
	}
	f := netconf.QoSFilter{Pref: pref, VLAN: unknownFilterMatch}
	found := false
	for _, o := range opts {
		switch {
		case kind == "u32" && o.typ == tcaU32ClassID && len(o.value) >= 4,
			kind == "basic" && o.typ == tcaBasicClassID && len(o.value) >= 4:
			f.Class, found = uint16(binary.NativeEndian.Uint32(o.value)), true
		case kind == "basic" && o.typ == tcaBasicEmatches:
			f.VLAN = parseMetaVLAN(o.value)
		}
	}
	if kind == "u32" {
		f.VLAN = netconf.QoSMatchAll
	}
	return f, found
}

// parseMetaVLAN reads the VLAN of a one-ematch tree meta(vlan eq N).
func parseMetaVLAN(b []byte) int {
	for _, t := range parseAttrs(b) {
		if t.typ != tcaEmatchTreeList {
			continue
		}
		for _, em := range parseAttrs(t.value) {
			if len(em.value) < ematchHdrLen || binary.NativeEndian.Uint16(em.value[2:4]) != tcfEmMeta {
				continue
			}
			var left, right uint16
			vlan := unknownFilterMatch
			for _, a := range parseAttrs(em.value[ematchHdrLen:]) {
				switch {
				case a.typ == tcaEmMetaHdr && len(a.value) >= metaHdrLen:
					left, right = binary.NativeEndian.Uint16(a.value[0:2]), binary.NativeEndian.Uint16(a.value[4:6])
				case a.typ == tcaEmMetaRValue && len(a.value) >= 4:
					vlan = int(binary.NativeEndian.Uint32(a.value))
				}
			}
			if left == metaVLANKind && right == metaValueKind {
				return vlan
			}
		}
	}
	return unknownFilterMatch
}

// applyQoS writes one qos-* step.
func applyQoS(ns *Namespace, s netconf.Step) error {
	h := ns.Handle
	link, err := h.LinkByName(s.Link)
	if err != nil {
		return fmt.Errorf("finding %s: %w", s.Link, err)
	}
	idx := link.Attrs().Index
	switch s.Op {
	case netconf.OpQoSRootAdd:
		q := netlink.NewHfsc(netlink.QdiscAttrs{LinkIndex: idx, Handle: qosRoot, Parent: netlink.HANDLE_ROOT})
		q.Defcls = netconf.QoSDefaultClass
		return h.QdiscAdd(q)
	case netconf.OpQoSRootDel:
		q := netlink.NewHfsc(netlink.QdiscAttrs{LinkIndex: idx, Handle: qosRoot, Parent: netlink.HANDLE_ROOT})
		if err := h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			return err
		}
		return nil
	case netconf.OpQoSClassAdd, netconf.OpQoSClassChange:
		c := hfscClass(idx, *s.Class)
		if s.Op == netconf.OpQoSClassAdd {
			return h.ClassAdd(c)
		}
		return h.ClassChange(c)
	case netconf.OpQoSClassDel:
		return h.ClassDel(hfscClass(idx, *s.Class))
	case netconf.OpQoSLeafAdd:
		attrs := netlink.QdiscAttrs{LinkIndex: idx, Parent: qosClassHandle(s.Class.ID), Handle: netlink.MakeHandle(s.Class.ID, 0)}
		if s.Class.Leaf != netconf.QoSLeafKind {
			return fmt.Errorf("unknown queue kind %q", s.Class.Leaf)
		}
		return h.QdiscAdd(netlink.NewFqCodel(attrs))
	case netconf.OpQoSFilterAdd:
		return addQoSFilter(ns, idx, *s.Filter)
	case netconf.OpQoSFilterDel:
		return delQoSFilter(ns, idx, s.Filter.Pref)
	}
	return fmt.Errorf("unknown operation %q", s.Op)
}

func hfscClass(idx int, c netconf.QoSClass) *netlink.HfscClass {
	hc := netlink.NewHfscClass(netlink.ClassAttrs{LinkIndex: idx, Parent: qosRoot, Handle: qosClassHandle(c.ID)})
	hc.SetLS(0, 0, c.LS)
	hc.SetUL(0, 0, c.UL)
	hc.SetRsc(0, 0, c.RT)
	return hc
}

// tcRequest sends one traffic control request on the namespace's raw
// socket.
func tcRequest(ns *Namespace, typ, flags uint16, body []byte) error {
	r, err := ns.rtnl()
	if err != nil {
		return err
	}
	return r.exchange([]request{{typ: typ, flags: flags, body: body}})[0]
}

// addQoSFilter adds VDSM's filter: for a VLAN, basic with the ematch
// meta(vlan eq N); for every frame, u32 match u8 0 0.
func addQoSFilter(ns *Namespace, idx int, f netconf.QoSFilter) error {
	opts := nl.NewRtAttr(unix.TCA_OPTIONS, nil)
	kind := "u32"
	if f.VLAN == netconf.QoSMatchAll {
		sel := nl.TcU32Sel{Flags: nl.TC_U32_TERMINAL, Nkeys: 1, Keys: []nl.TcU32Key{{}}}
		opts.AddRtAttr(nl.TCA_U32_SEL, sel.Serialize())
		opts.AddRtAttr(tcaU32ClassID, nl.Uint32Attr(qosClassHandle(f.Class)))
	} else {
		kind = "basic"
		opts.AddRtAttr(tcaBasicClassID, nl.Uint32Attr(qosClassHandle(f.Class)))
		opts.AddRtAttr(tcaBasicEmatches, metaVLANTree(f.VLAN))
	}
	body := tcMsg(idx, 0, qosRoot, filterInfo(f.Pref))
	body = append(body, nl.NewRtAttr(unix.TCA_KIND, nl.ZeroTerminated(kind)).Serialize()...)
	body = append(body, opts.Serialize()...)
	return tcRequest(ns, unix.RTM_NEWTFILTER, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// metaVLANTree is the ematch tree of meta(vlan eq vlan).
func metaVLANTree(vlan int) []byte {
	hdr := make([]byte, 4)
	binary.NativeEndian.PutUint16(hdr[0:2], 1) // one match
	meta := make([]byte, metaHdrLen)
	binary.NativeEndian.PutUint16(meta[0:2], metaVLANKind)
	meta[3] = tcfEmOpndEq
	binary.NativeEndian.PutUint16(meta[4:6], metaValueKind)
	em := make([]byte, ematchHdrLen)
	binary.NativeEndian.PutUint16(em[2:4], tcfEmMeta)
	em = append(em, nl.NewRtAttr(tcaEmMetaHdr, meta).Serialize()...)
	em = append(em, nl.NewRtAttr(tcaEmMetaRValue, nl.Uint32Attr(uint32(vlan))).Serialize()...)
	list := nl.NewRtAttr(tcaEmatchTreeList, nil)
	list.AddRtAttr(1, em)
	tree := append(nl.NewRtAttr(tcaEmatchTreeHdr, hdr).Serialize(), list.Serialize()...)
	return tree
}

// delQoSFilter deletes the filters of a preference.
func delQoSFilter(ns *Namespace, idx int, pref uint16) error {
	err := tcRequest(ns, unix.RTM_DELTFILTER, 0, tcMsg(idx, 0, qosRoot, filterInfo(pref)))
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}
