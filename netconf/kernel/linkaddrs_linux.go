package kernel

import (
	"errors"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// openStrictRtnl opens a raw rtnetlink socket in ns that asks the kernel
// for strict checking of dump requests, under which an address dump names
// its link and the kernel reads that link's addresses only; without it
// (Linux before 4.20) every dump reads every link. It returns nil when
// strict checking is not to be had.
func openStrictRtnl(ns *Namespace) *rtnl {
	r, err := openRtnl(ns)
	if err != nil {
		return nil
	}
	if unix.SetsockoptInt(r.fd, unix.SOL_NETLINK, unix.NETLINK_GET_STRICT_CHK, 1) != nil {
		r.close()
		return nil
	}
	return r
}

// linkAddrs dumps the addresses of the link with the given index, of both
// families, in the kernel's order; a link that is gone has none. r must
// have been opened by openStrictRtnl.
func (r *rtnl) linkAddrs(index int) ([]netlink.Addr, error) {
	msg := nl.NewIfAddrmsg(unix.AF_UNSPEC)
	msg.Index = uint32(index)
	msgs, err := retryDump("the addresses of a link", func() ([][]byte, error) {
		return r.dump(unix.RTM_GETADDR, msg.Serialize())
	})
	if errors.Is(err, unix.ENODEV) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	addrs := make([]netlink.Addr, 0, len(msgs))
	for _, b := range msgs {
		if a, ok := parseAddrMsg(b); ok && a.LinkIndex == index {
			addrs = append(addrs, a)
		}
	}
	return addrs, nil
}
