package kernel

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/safchain/ethtool"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// Link speed is the one fact hostnetd reports that rtnetlink does not carry;
// it comes from the ETHTOOL_GSET ioctl on a socket created inside the managed
// namespace, so the lookup sees that namespace's devices.

const ethtoolGSet = 0x00000001

// ethtoolCmd is struct ethtool_cmd from linux/ethtool.h.
type ethtoolCmd struct {
	Cmd           uint32
	Supported     uint32
	Advertising   uint32
	Speed         uint16
	Duplex        uint8
	Port          uint8
	PhyAddress    uint8
	Transceiver   uint8
	Autoneg       uint8
	MdioSupport   uint8
	Maxtxpkt      uint32
	Maxrxpkt      uint32
	SpeedHi       uint16
	EthTpMdix     uint8
	EthTpMdixCtrl uint8
	LpAdvertising uint32
	Reserved      [2]uint32
}

type ifreqData struct {
	Name [unix.IFNAMSIZ]byte
	Data unsafe.Pointer
	_    [16]byte
}

// openEthtoolSocket opens a datagram socket inside ns for ethtool ioctls.
func openEthtoolSocket(ns *Namespace) (int, error) {
	fd := -1
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		return err
	})
	return fd, err
}

// linkSpeed returns the speed of the named link in bits/s, or 0 when the
// driver does not know it.
func linkSpeed(fd int, name string) uint64 {
	if fd < 0 || len(name) >= unix.IFNAMSIZ {
		return 0
	}
	cmd := ethtoolCmd{Cmd: ethtoolGSet}
	var req ifreqData
	copy(req.Name[:], name)
	req.Data = unsafe.Pointer(&cmd)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&req)))
	runtime.KeepAlive(&cmd)
	if errno != 0 {
		return 0
	}
	mbps := uint32(cmd.Speed) | uint32(cmd.SpeedHi)<<16
	if mbps == 0 || mbps == 0xffff || mbps == 0xffffffff {
		return 0
	}
	return uint64(mbps) * 1_000_000
}

// The ethtool settings of ethtool_opts (offloads, rings, coalescing, pause)
// go through github.com/safchain/ethtool, whose ioctls run on a socket that
// is opened inside the managed namespace, so that device names resolve
// there.

// withEthtool runs fn with an ethtool handle whose socket was created
// inside ns.
func withEthtool(ns *Namespace, fn func(e *ethtool.Ethtool) error) error {
	var e *ethtool.Ethtool
	err := ns.Do(func() error {
		var err error
		e, err = ethtool.NewEthtool()
		return err
	})
	if err != nil {
		return fmt.Errorf("opening an ethtool socket: %w", err)
	}
	defer e.Close()
	return fn(e)
}

// ReadEthtool reads the ethtool settings of the named devices, with what
// their drivers support. A device that does not exist is left out; one whose
// features cannot be read is an error.
func ReadEthtool(ns *Namespace, names []string) (map[string]*netconf.EthtoolState, error) {
	out := make(map[string]*netconf.EthtoolState, len(names))
	err := withEthtool(ns, func(e *ethtool.Ethtool) error {
		for _, name := range names {
			if _, err := ns.Handle.LinkByName(name); err != nil {
				continue
			}
			es, err := readEthtool(e, name)
			if err != nil {
				return fmt.Errorf("reading the ethtool settings of %s: %w", name, err)
			}
			out[name] = es
		}
		return nil
	})
	return out, err
}

func readEthtool(e *ethtool.Ethtool, name string) (*netconf.EthtoolState, error) {
	feats, err := e.FeaturesWithState(name)
	if err != nil {
		return nil, err
	}
	es := &netconf.EthtoolState{Features: make(map[string]netconf.FeatureState, len(feats))}
	for k, f := range feats {
		es.Features[k] = netconf.FeatureState{Changeable: f.Available, Requested: f.Requested, Active: f.Active}
	}
	if r, err := e.GetRing(name); err == nil {
		es.Ring = map[string]uint32{"rx": r.RxPending, "rx-mini": r.RxMiniPending, "rx-jumbo": r.RxJumboPending, "tx": r.TxPending}
		es.RingMax = map[string]uint32{"rx": r.RxMaxPending, "rx-mini": r.RxMiniMaxPending, "rx-jumbo": r.RxJumboMaxPending, "tx": r.TxMaxPending}
	}
	if c, err := e.GetCoalesce(name); err == nil {
		es.Coalesce = map[string]uint32{}
		for _, k := range netconf.CoalesceKeys {
			es.Coalesce[k] = *coalesceField(&c, k)
		}
	}
	if p, err := e.GetPause(name); err == nil {
		es.Pause = map[string]bool{"autoneg": p.Autoneg != 0, "rx": p.RxPause != 0, "tx": p.TxPause != 0}
	}
	return es, nil
}

// coalesceField is the field of c that an ethtool -C name sets.
func coalesceField(c *ethtool.Coalesce, key string) *uint32 {
	switch key {
	case "adaptive-rx":
		return &c.UseAdaptiveRxCoalesce
	case "adaptive-tx":
		return &c.UseAdaptiveTxCoalesce
	case "rx-usecs":
		return &c.RxCoalesceUsecs
	case "rx-frames":
		return &c.RxMaxCoalescedFrames
	case "rx-usecs-irq":
		return &c.RxCoalesceUsecsIrq
	case "rx-frames-irq":
		return &c.RxMaxCoalescedFramesIrq
	case "tx-usecs":
		return &c.TxCoalesceUsecs
	case "tx-frames":
		return &c.TxMaxCoalescedFrames
	case "tx-usecs-irq":
		return &c.TxCoalesceUsecsIrq
	case "tx-frames-irq":
		return &c.TxMaxCoalescedFramesIrq
	case "stats-block-usecs":
		return &c.StatsBlockCoalesceUsecs
	case "pkt-rate-low":
		return &c.PktRateLow
	case "rx-usecs-low":
		return &c.RxCoalesceUsecsLow
	case "rx-frames-low":
		return &c.RxMaxCoalescedFramesLow
	case "tx-usecs-low":
		return &c.TxCoalesceUsecsLow
	case "tx-frames-low":
		return &c.TxMaxCoalescedFramesLow
	case "pkt-rate-high":
		return &c.PktRateHigh
	case "rx-usecs-high":
		return &c.RxCoalesceUsecsHigh
	case "rx-frames-high":
		return &c.RxMaxCoalescedFramesHigh
	case "tx-usecs-high":
		return &c.TxCoalesceUsecsHigh
	case "tx-frames-high":
		return &c.TxMaxCoalescedFramesHigh
	case "sample-interval":
		return &c.RateSampleInterval
	}
	var unused uint32
	return &unused
}

// applyEthtool writes one ethtool-* step: offloads resolved to the kernel
// features the device lets change; rings, coalescing and pause read,
// changed and written back whole, as ethtool does.
func applyEthtool(ns *Namespace, s netconf.Step) error {
	if s.Ethtool == nil {
		return fmt.Errorf("%s step without settings", s.Op)
	}
	return withEthtool(ns, func(e *ethtool.Ethtool) error {
		switch s.Op {
		case netconf.OpEthtoolFeatures:
			feats, err := e.FeaturesWithState(s.Link)
			if err != nil {
				return err
			}
			es := &netconf.EthtoolState{Features: map[string]netconf.FeatureState{}}
			for k, f := range feats {
				es.Features[k] = netconf.FeatureState{Changeable: f.Available, Requested: f.Requested, Active: f.Active}
			}
			change := map[string]bool{}
			for k, on := range s.Ethtool.Features {
				members := es.FeatureMembers(k)
				if len(members) == 0 {
					return fmt.Errorf("%s cannot change offload %s", s.Link, k)
				}
				for _, m := range members {
					change[m] = on
				}
			}
			return e.Change(s.Link, change)
		case netconf.OpEthtoolRing:
			r, err := e.GetRing(s.Link)
			if err != nil {
				return err
			}
			for k, v := range s.Ethtool.Ring {
				switch k {
				case "rx":
					r.RxPending = v
				case "rx-mini":
					r.RxMiniPending = v
				case "rx-jumbo":
					r.RxJumboPending = v
				case "tx":
					r.TxPending = v
				}
			}
			_, err = e.SetRing(s.Link, r)
			return err
		case netconf.OpEthtoolCoalesce:
			c, err := e.GetCoalesce(s.Link)
			if err != nil {
				return err
			}
			for k, v := range s.Ethtool.Coalesce {
				*coalesceField(&c, k) = v
			}
			_, err = e.SetCoalesce(s.Link, c)
			return err
		case netconf.OpEthtoolPause:
			p, err := e.GetPause(s.Link)
			if err != nil {
				return err
			}
			for k, on := range s.Ethtool.Pause {
				v := uint32(0)
				if on {
					v = 1
				}
				switch k {
				case "autoneg":
					p.Autoneg = v
				case "rx":
					p.RxPause = v
				case "tx":
					p.TxPause = v
				}
			}
			_, err = e.SetPause(s.Link, p)
			return err
		}
		return fmt.Errorf("unknown operation %q", s.Op)
	})
}
