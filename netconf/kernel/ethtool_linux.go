package kernel

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
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
