// Package kernel is hostnetd's side of the Linux kernel: it opens network
// namespaces, reads the host's interfaces, addresses and routes through
// netlink into the netconf model, and (from the setupnetworks engine on)
// applies plans to them.
//
// Everything goes through a *netlink.Handle bound to one namespace, so the
// daemon manages a namespace other than its own without switching threads.
// It never shells out to ip(8).
package kernel
