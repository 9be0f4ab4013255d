package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// A change of rings, coalescing or pause sends no rtnetlink message (an
// offload change does: a link notification), but the kernel announces
// every ethtool change, through netlink or the ioctls, to the monitor group
// of the ethtool generic netlink family.

// WatchEthtool calls onChange after every ethtool notification of ns
// (and after a lost one: the socket overflowed) until ctx ends. It returns
// an error when the kernel has no ethtool netlink family.
func WatchEthtool(ctx context.Context, ns *Namespace, onChange func()) error {
	var (
		h   *netlink.Handle
		err error
	)
	if ns.Name == "" {
		h, err = netlink.NewHandle(unix.NETLINK_GENERIC)
	} else {
		h, err = netlink.NewHandleAt(ns.fd, unix.NETLINK_GENERIC)
	}
	if err != nil {
		return fmt.Errorf("opening a generic netlink handle: %w", err)
	}
	fam, err := h.GenlFamilyGet("ethtool")
	h.Close()
	if err != nil {
		return fmt.Errorf("finding the ethtool netlink family: %w", err)
	}
	group, found := uint32(0), false
	for _, g := range fam.Groups {
		if g.Name == "monitor" {
			group, found = g.ID, true
		}
	}
	if !found {
		return errors.New("the ethtool netlink family has no monitor group")
	}
	sock, err := subscribeIn(ns, unix.NETLINK_GENERIC)
	if err != nil {
		return fmt.Errorf("opening a generic netlink socket: %w", err)
	}
	// Group ids of generic netlink go past the 32 of the bind mask.
	if err := unix.SetsockoptInt(sock.GetFd(), unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(group)); err != nil {
		sock.Close()
		return fmt.Errorf("joining the ethtool monitor group: %w", err)
	}
	follow(ctx, sock, onChange)
	return nil
}

// follow calls onChange after every message sock receives, and after a
// lost one (the socket overflowed), until ctx ends; then it closes sock.
func follow(ctx context.Context, sock *nl.NetlinkSocket, onChange func()) {
	go func() {
		<-ctx.Done()
		sock.Close()
	}()
	go func() {
		for {
			msgs, _, err := sock.Receive()
			if ctx.Err() != nil {
				return
			}
			switch {
			case errors.Is(err, unix.ENOBUFS):
				onChange()
			case errors.Is(err, unix.EINTR):
			case err != nil:
				return
			case len(msgs) > 0:
				onChange()
			}
		}
	}()
}
