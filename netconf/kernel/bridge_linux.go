package kernel

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// The bridge options hostnetd manages are IFLA_BR_* attributes, most of
// which vishvananda/netlink's Bridge type does not carry: ReadState parses
// them from its raw link dump, and they are written in the bridge's
// creation or in one RTM_NEWLINK (see batch_linux.go). ReadBridgeOptions,
// one RTM_GETLINK per bridge, is an independent read-back for tests.

type bridgeAttr struct {
	id   int
	size int // bytes: 1, 2 or 4
}

// bridgeAttrs maps bridge_opts names (sysfs's, which oVirt uses) to
// attributes. Times are in centiseconds, as in sysfs.
var bridgeAttrs = map[string]bridgeAttr{
	"forward_delay":      {nl.IFLA_BR_FORWARD_DELAY, 4},
	"hello_time":         {nl.IFLA_BR_HELLO_TIME, 4},
	"max_age":            {nl.IFLA_BR_MAX_AGE, 4},
	"ageing_time":        {nl.IFLA_BR_AGEING_TIME, 4},
	"stp_state":          {nl.IFLA_BR_STP_STATE, 4},
	"priority":           {nl.IFLA_BR_PRIORITY, 2},
	"vlan_filtering":     {nl.IFLA_BR_VLAN_FILTERING, 1},
	"group_fwd_mask":     {nl.IFLA_BR_GROUP_FWD_MASK, 2},
	"multicast_router":   {nl.IFLA_BR_MCAST_ROUTER, 1},
	"multicast_snooping": {nl.IFLA_BR_MCAST_SNOOPING, 1},
}

// ReadBridgeOptions reads the managed options of the named bridges; names
// that are not bridges, or do not exist, are left out.
func ReadBridgeOptions(ns *Namespace, names []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	err := ns.Do(func() error {
		for _, name := range names {
			req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_ACK)
			req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
			req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
			msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
			if err != nil || len(msgs) == 0 {
				continue // gone; the planner creates it
			}
			if opts := parseBridgeOptions(msgs[0]); opts != nil {
				out[name] = opts
			}
		}
		return nil
	})
	return out, err
}

func parseBridgeOptions(msg []byte) map[string]string {
	if len(msg) < unix.SizeofIfInfomsg {
		return nil
	}
	attrs, err := nl.ParseRouteAttr(msg[unix.SizeofIfInfomsg:])
	if err != nil {
		return nil
	}
	for _, a := range attrs {
		if a.Attr.Type != unix.IFLA_LINKINFO {
			continue
		}
		info, err := nl.ParseRouteAttr(a.Value)
		if err != nil {
			return nil
		}
		var kind string
		var data []byte
		for _, i := range info {
			switch i.Attr.Type {
			case nl.IFLA_INFO_KIND:
				kind = string(i.Value[:clen(i.Value)])
			case nl.IFLA_INFO_DATA:
				data = i.Value
			}
		}
		if kind != "bridge" {
			return nil
		}
		fields, err := nl.ParseRouteAttr(data)
		if err != nil {
			return nil
		}
		opts := map[string]string{}
		for name, spec := range bridgeAttrs {
			for _, f := range fields {
				if int(f.Attr.Type) == spec.id && len(f.Value) >= spec.size {
					opts[name] = strconv.FormatUint(readUint(f.Value, spec.size), 10)
				}
			}
		}
		return opts
	}
	return nil
}

func clen(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

func readUint(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.NativeEndian.Uint16(b))
	}
	return uint64(binary.NativeEndian.Uint32(b))
}

// creationDefaults are bridge options at the value every new bridge has,
// left out when one is created: a kernel built without bridge VLAN
// filtering reports vlan_filtering 0 but refuses to be told so
// (EOPNOTSUPP), and a rollback re-creating a bridge from its snapshot
// (which holds every option read) must not fail on it.
var creationDefaults = map[string]string{"vlan_filtering": "0"}

// creationOptions is opts without the options at their creation default.
func creationOptions(opts map[string]string) map[string]string {
	var out map[string]string
	for k, v := range opts {
		if def, ok := creationDefaults[k]; ok {
			if n, err := strconv.ParseUint(v, 0, 32); err == nil && strconv.FormatUint(n, 10) == def {
				continue
			}
		}
		if out == nil {
			out = make(map[string]string, len(opts))
		}
		out[k] = v
	}
	return out
}

// bridgeData encodes bridge options as the IFLA_INFO_DATA of a bridge's
// RTM_NEWLINK.
func bridgeData(opts map[string]string) (*nl.RtAttr, error) {
	data := nl.NewRtAttr(nl.IFLA_INFO_DATA, nil)
	for key, value := range opts {
		spec, ok := bridgeAttrs[key]
		if !ok {
			return nil, fmt.Errorf("bridge option %s is not supported", key)
		}
		v, err := strconv.ParseUint(value, 0, 32)
		if err != nil {
			return nil, fmt.Errorf("bridge option %s=%s: %w", key, value, err)
		}
		switch spec.size {
		case 1:
			data.AddRtAttr(spec.id, nl.Uint8Attr(uint8(v)))
		case 2:
			data.AddRtAttr(spec.id, nl.Uint16Attr(uint16(v)))
		default:
			data.AddRtAttr(spec.id, nl.Uint32Attr(uint32(v)))
		}
	}
	return data, nil
}
