package kernel

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// A qdisc, class or filter changed with tc sends no link notification; the
// kernel announces it to rtnetlink's traffic control group, which the
// drift of host network QoS follows.

// WatchTC calls onChange after every traffic control notification of ns
// (and after a lost one) until ctx ends.
func WatchTC(ctx context.Context, ns *Namespace, onChange func()) error {
	sock, err := subscribeIn(ns, unix.NETLINK_ROUTE, unix.RTNLGRP_TC)
	if err != nil {
		return fmt.Errorf("subscribing to traffic control notifications: %w", err)
	}
	follow(ctx, sock, onChange)
	return nil
}

// subscribeIn opens a netlink socket of the protocol inside ns, a member
// of the groups.
func subscribeIn(ns *Namespace, protocol int, groups ...uint) (*nl.NetlinkSocket, error) {
	if nsh := ns.NsHandle(); nsh != nil {
		return nl.SubscribeAt(*nsh, netns.None(), protocol, groups...)
	}
	return nl.Subscribe(protocol, groups...)
}
