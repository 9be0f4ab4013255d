package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// A plan's link and address writes go to the kernel in batches: the
// requests of consecutive steps are sent in one sendmsg on the
// namespace's raw socket (see rtnl), devices are named by the index an
// ioctl resolves instead of a full RTM_GETLINK, and a bridge is created
// with its options in one request. A batch ends where a step needs the
// index of a device created or deleted earlier in it, and before a step
// that is not a batched write (bond, route, rule, sysctl). IPv6 settings
// in a row are written in one visit of the namespace.

// batcher accumulates the requests of a plan's steps.
type batcher struct {
	ns   *Namespace
	plan netconf.Plan
	reqs []request
	// steps are the plan indexes of reqs; ignore says which error a step
	// tolerates.
	steps  []int
	ignore []func(error) bool
	// index caches resolved device indexes; changed are the devices the
	// pending requests create or delete, whose index is known only after
	// they ran.
	index   map[string]int
	changed map[string]bool
}

// batched reports whether a step is a batched write.
func batched(s netconf.Step) bool {
	switch s.Op {
	case netconf.OpLinkAdd:
		return s.Device.Kind == netconf.KindVLAN || s.Device.Kind == netconf.KindBridge
	case netconf.OpLinkDel, netconf.OpSetMaster, netconf.OpNoMaster, netconf.OpSetMTU, netconf.OpSetUp,
		netconf.OpSetDown, netconf.OpAddrAdd, netconf.OpAddrDel, netconf.OpBridgeSet, netconf.OpSetMAC:
		return true
	}
	return false
}

// Apply executes the plan in order and returns how many steps completed.
// It stops at the first failure, which it returns as an *ApplyError; undoing
// the completed prefix is the caller's decision. Steps of the same batch
// after the failed one may have been executed too: the kernel runs every
// request of a sendmsg. A caller rolls back from the kernel as it reads it,
// never by undoing steps one by one, so this only widens what it restores.
func Apply(ctx context.Context, ns *Namespace, plan netconf.Plan) (int, error) {
	b := &batcher{ns: ns, plan: plan, index: map[string]int{}, changed: map[string]bool{}}
	for i := 0; i < len(plan); {
		s := plan[i]
		if j := deletionRun(plan, i); j-i >= bulkDeleteMin {
			if err := b.deleteBulk(ctx, i, j); err != nil {
				return b.failed(err)
			}
			i = j
			continue
		}
		if batched(s) {
			if err := b.add(ctx, i); err != nil {
				return b.failed(err)
			}
			i++
			continue
		}
		if err := b.flush(ctx); err != nil {
			return b.failed(err)
		}
		if err := ctx.Err(); err != nil {
			return i, &ApplyError{Step: s, Err: err}
		}
		if s.Op == netconf.OpSysctl {
			j := i
			for j < len(plan) && plan[j].Op == netconf.OpSysctl {
				j++
			}
			if k, err := writeSysctls(ns, plan[i:j]); err != nil {
				return i + k, &ApplyError{Step: plan[i+k], Err: err}
			}
			i = j
			continue
		}
		if err := applyStep(ns, s); err != nil {
			return i, &ApplyError{Step: s, Err: err}
		}
		if s.Op == netconf.OpLinkAdd {
			delete(b.index, s.Link)
		}
		i++
	}
	if err := b.flush(ctx); err != nil {
		return b.failed(err)
	}
	return len(plan), nil
}

// failed turns a flush error into Apply's results.
func (b *batcher) failed(err error) (int, error) {
	var ae *ApplyError
	if errors.As(err, &ae) {
		return ae.index, ae
	}
	return 0, err
}

// add encodes step i and queues it, sending what is queued first when the
// step needs the index of a device the queue creates or deletes.
func (b *batcher) add(ctx context.Context, i int) error {
	s := b.plan[i]
	req, ignore, err := b.encode(ctx, s)
	if err != nil {
		if ferr := b.flush(ctx); ferr != nil {
			return ferr
		}
		return &ApplyError{Step: s, Err: err, index: i}
	}
	b.reqs, b.steps, b.ignore = append(b.reqs, req), append(b.steps, i), append(b.ignore, ignore)
	if s.Op == netconf.OpLinkAdd || s.Op == netconf.OpLinkDel {
		b.changed[s.Link] = true
		delete(b.index, s.Link)
	}
	return nil
}

// flush sends the queued requests and returns the first failure as an
// *ApplyError.
func (b *batcher) flush(ctx context.Context) error {
	if len(b.reqs) == 0 {
		return nil
	}
	reqs, steps, ignore := b.reqs, b.steps, b.ignore
	b.reqs, b.steps, b.ignore = nil, nil, nil
	clear(b.changed)
	if err := ctx.Err(); err != nil {
		return &ApplyError{Step: b.plan[steps[0]], Err: err, index: steps[0]}
	}
	sock, err := b.ns.rtnl()
	if err != nil {
		return &ApplyError{Step: b.plan[steps[0]], Err: err, index: steps[0]}
	}
	for k, err := range sock.exchange(reqs) {
		if err != nil && (ignore[k] == nil || !ignore[k](err)) {
			return &ApplyError{Step: b.plan[steps[k]], Err: err, index: steps[k]}
		}
	}
	return nil
}

// resolve returns a device's index, sending the queue first if the device
// is created or deleted in it.
func (b *batcher) resolve(ctx context.Context, name string) (int, error) {
	if b.changed[name] {
		if err := b.flush(ctx); err != nil {
			return 0, err
		}
	}
	if i, ok := b.index[name]; ok {
		return i, nil
	}
	i, err := b.ns.ifindex(name)
	if err != nil {
		return 0, fmt.Errorf("finding %s: %w", name, err)
	}
	b.index[name] = i
	return i, nil
}

// encode builds the request of a batched step, and the error it tolerates.
func (b *batcher) encode(ctx context.Context, s netconf.Step) (request, func(error) bool, error) {
	if s.Op == netconf.OpLinkAdd {
		req, err := b.encodeLinkAdd(ctx, s.Device)
		return req, nil, err
	}
	idx, err := b.resolve(ctx, s.Link)
	if err != nil {
		return request{}, nil, err
	}
	info := nl.NewIfInfomsg(unix.AF_UNSPEC)
	info.Index = int32(idx)
	switch s.Op {
	case netconf.OpLinkDel:
		return request{typ: unix.RTM_DELLINK, body: info.Serialize()}, nil, nil
	case netconf.OpSetUp, netconf.OpSetDown:
		info.Change = unix.IFF_UP
		if s.Op == netconf.OpSetUp {
			info.Flags = unix.IFF_UP
		}
		return request{typ: unix.RTM_NEWLINK, body: info.Serialize()}, nil, nil
	case netconf.OpSetMTU:
		return request{typ: unix.RTM_SETLINK, body: serialize(info, nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(s.MTU))))}, nil, nil
	case netconf.OpSetMAC:
		hw, err := net.ParseMAC(s.Device.MAC)
		if err != nil {
			return request{}, nil, err
		}
		return request{typ: unix.RTM_SETLINK, body: serialize(info, nl.NewRtAttr(unix.IFLA_ADDRESS, hw))}, nil, nil
	case netconf.OpSetMaster, netconf.OpNoMaster:
		master := 0
		if s.Op == netconf.OpSetMaster {
			if master, err = b.resolve(ctx, s.Master); err != nil {
				return request{}, nil, err
			}
		}
		return request{typ: unix.RTM_SETLINK, body: serialize(info, nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(master))))}, nil, nil
	case netconf.OpBridgeSet:
		data, err := bridgeData(s.BridgeOpts)
		if err != nil {
			return request{}, nil, err
		}
		return request{typ: unix.RTM_NEWLINK, body: serialize(info, linkInfo("bridge", data))}, nil, nil
	case netconf.OpAddrAdd:
		return request{typ: unix.RTM_NEWADDR, flags: unix.NLM_F_CREATE | unix.NLM_F_EXCL, body: addrBody(idx, s)}, nil, nil
	case netconf.OpAddrDel:
		// Disabling IPv6 takes a device's IPv6 addresses away with it.
		return request{typ: unix.RTM_DELADDR, body: addrBody(idx, s)}, func(err error) bool { return errors.Is(err, unix.EADDRNOTAVAIL) }, nil
	}
	return request{}, nil, fmt.Errorf("operation %q is not batched", s.Op)
}

// encodeLinkAdd builds the creation of a VLAN or a bridge (with its
// options).
func (b *batcher) encodeLinkAdd(ctx context.Context, d *netconf.Device) (request, error) {
	var attrs []*nl.RtAttr
	var info *nl.RtAttr
	switch d.Kind {
	case netconf.KindVLAN:
		base, err := b.resolve(ctx, d.VLAN.Base)
		if err != nil {
			return request{}, fmt.Errorf("VLAN base: %w", err)
		}
		attrs = append(attrs, nl.NewRtAttr(unix.IFLA_LINK, nl.Uint32Attr(uint32(base))))
		data := nl.NewRtAttr(nl.IFLA_INFO_DATA, nil)
		data.AddRtAttr(nl.IFLA_VLAN_ID, nl.Uint16Attr(uint16(d.VLAN.ID)))
		data.AddRtAttr(nl.IFLA_VLAN_PROTOCOL, htons(unix.ETH_P_8021Q))
		info = linkInfo("vlan", data)
	case netconf.KindBridge:
		data, err := bridgeData(creationOptions(d.BridgeOpts))
		if err != nil {
			return request{}, err
		}
		info = linkInfo("bridge", data)
	}
	attrs = append(attrs, nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(d.Name)))
	if d.MTU > 0 {
		attrs = append(attrs, nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(d.MTU))))
	}
	if d.MAC != "" {
		if mac, err := net.ParseMAC(d.MAC); err == nil {
			attrs = append(attrs, nl.NewRtAttr(unix.IFLA_ADDRESS, mac))
		}
	}
	parts := []nl.NetlinkRequestData{nl.NewIfInfomsg(unix.AF_UNSPEC)}
	for _, a := range append(attrs, info) {
		parts = append(parts, a)
	}
	return request{typ: unix.RTM_NEWLINK, flags: unix.NLM_F_CREATE | unix.NLM_F_EXCL, body: serialize(parts...)}, nil
}

// addrBody is the body of an address request, as the library builds it:
// the local and peer address, IPv4's broadcast, IPv6 without duplicate
// address detection, and a dynamic address's lifetimes.
func addrBody(idx int, s netconf.Step) []byte {
	a := toNetlinkAddr(s)
	family := nl.GetIPFamily(a.IP)
	msg := nl.NewIfAddrmsg(family)
	msg.Index = uint32(idx)
	ones, bits := a.Mask.Size()
	msg.Prefixlen = uint8(ones)
	msg.Flags = uint8(a.Flags)
	local := a.IP.To16()
	if family == netlink.FAMILY_V4 {
		local = a.IP.To4()
	}
	parts := []nl.NetlinkRequestData{msg, nl.NewRtAttr(unix.IFA_LOCAL, local), nl.NewRtAttr(unix.IFA_ADDRESS, local)}
	if family == netlink.FAMILY_V4 && ones < 31 {
		brd := make(net.IP, bits/8)
		for i := range local {
			brd[i] = local[i] | ^a.Mask[i]
		}
		parts = append(parts, nl.NewRtAttr(unix.IFA_BROADCAST, brd))
	}
	if a.ValidLft > 0 || a.PreferedLft > 0 {
		ci := nl.IfaCacheInfo{IfaCacheinfo: unix.IfaCacheinfo{Valid: uint32(a.ValidLft), Prefered: uint32(a.PreferedLft)}}
		parts = append(parts, nl.NewRtAttr(unix.IFA_CACHEINFO, ci.Serialize()))
	}
	return serialize(parts...)
}

func linkInfo(kind string, data *nl.RtAttr) *nl.RtAttr {
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated(kind))
	info.AddChild(data)
	return info
}

func serialize(parts ...nl.NetlinkRequestData) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p.Serialize()...)
	}
	return out
}

func htons(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

// ifindex resolves a device name with the SIOCGIFINDEX ioctl on the
// namespace's socket: a lookup, where RTM_GETLINK builds and parses the
// whole link.
func (ns *Namespace) ifindex(name string) (int, error) {
	if ns.ethtoolFD < 0 {
		l, err := ns.Handle.LinkByName(name)
		if err != nil {
			return 0, err
		}
		return l.Attrs().Index, nil
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(ns.ethtoolFD, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}

// writeSysctls writes a run of IPv6 settings in one visit of the
// namespace and returns how many it wrote before a failure.
func writeSysctls(ns *Namespace, steps []netconf.Step) (int, error) {
	done := 0
	err := ns.Do(func() error {
		for _, s := range steps {
			if err := writeSysctlHere(s.Link, s.Key, s.Value); err != nil {
				return err
			}
			done++
		}
		return nil
	})
	return done, err
}

// writeSysctlHere writes one IPv6 setting in the calling thread's
// namespace.
func writeSysctlHere(dev, key, value string) error {
	err := os.WriteFile(sysctlPath(dev, key), []byte(value), 0o644)
	if errors.Is(err, os.ErrNotExist) && key == "disable_ipv6" && value == "1" {
		return nil // no IPv6 on the device at all (MTU below 1280)
	}
	return err
}
